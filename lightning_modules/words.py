"""A new slider set from added words: the stored image embeddings are scored with the new
words (no new renders) and a mapper is trained on the old sliders plus the new ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from semantify.errors import SemantifyError

Progress = Callable[[float, str], None]


def add_words(slider_set, text: str, out: Path | str, progress: Progress | None = None,
              **settings):
    """Train ``slider_set``'s sliders plus the words in ``text`` into folder ``out``.

    Returns (the new :class:`semantify.sets.sliders.TrainedSliders`, notes on skipped words).
    ``settings`` are training settings (see ``lightning_modules.train.settings_defaults``).
    """
    from lightning_modules.train import train
    from semantify.descriptors.new_words import parse_words

    report = progress or (lambda fraction, text: None)
    if slider_set.clip is None:
        raise SemantifyError(f"slider set {slider_set.name!r} has no CLIP words; new words need "
                             "a set built with CLIP.")
    words, notes = parse_words(text, slider_set.names)
    out = Path(out)
    if slider_set.root is not None and out.resolve() == slider_set.root.resolve():
        raise SemantifyError("the new set would replace the one it extends; choose another "
                             "--out folder.")
    dataset = slider_set.open_dataset()
    if dataset.image_embeds is None:
        raise SemantifyError(f"the dataset of slider set {slider_set.name!r} has no CLIP "
                             "embeddings; rebuild it with a CLIP model.")
    report(0.1, f"scoring {len(dataset)} stored samples with: {', '.join(words)}")
    new, _ = train(dataset.root, slider_set.names + words, out, template=slider_set.template,
                   progress=False, photo_views=slider_set.photo_views, **settings)
    report(0.9, "measuring what each slider does (receipts)")
    from semantify.sets.evaluation import evaluate

    evaluate(new, out=out / "evaluation")
    report(1.0, "done")
    return new, notes

"""Words: new sliders from typed descriptors, and a shape from a free-text prompt.

Text to shape has two methods (see ``bench/text_to_shape.py`` for how they compare):
``mapper`` scores the prompt's text embedding against each slider word as if it were a photo's
embedding, and feeds those scores to the mapper; ``retrieval`` finds the dataset samples whose
image embeddings are closest to the prompt and averages their slider values. Retrieval is the
default: on held-out samples (each sample's own image embedding as the query) it gave 70 mm
mean vertex error against 90 mm for the mapper (bench/text_to_shape.py, anny-body, 384
training samples, tiny-random CLIP). Without the set's dataset it falls back to the mapper.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch

from semantify.app import catalog, photos, resources, view
from semantify.errors import SemantifyError

MAX_WORDS = 8
MAX_WORD_CHARS = 40
MAX_PROMPT_WORDS = 60  # CLIP reads 77 tokens; about one token per word plus punctuation
TOP_K = 16
WORD_EPOCHS = 12


def parse_words(text: str, existing=()) -> tuple[list[str], list[str]]:
    """New descriptor words from comma-separated ``text`` and notices (empty, long, capped)."""
    notices = []
    words: list[str] = []
    for raw in (text or "").replace("\n", ",").split(","):
        word = " ".join(raw.split())
        if not word:
            continue
        if len(word) > MAX_WORD_CHARS:
            notices.append(f"skipped a descriptor longer than {MAX_WORD_CHARS} characters.")
        elif word in existing or word in words:
            notices.append(f"{word!r} is already a slider.")
        else:
            words.append(word)
    if not words:
        raise SemantifyError("type one or more descriptor words, separated by commas "
                             "(e.g. curvy, lanky).")
    if len(words) > MAX_WORDS:
        notices.append(f"only the first {MAX_WORDS} new words are used.")
        words = words[:MAX_WORDS]
    return words, notices


def clean_prompt(text: str) -> tuple[str, list[str]]:
    """The prompt, cut to what CLIP can read, and a notice when it was cut."""
    parts = (text or "").split()
    if not parts:
        raise SemantifyError("type a description first, e.g. 'a tall, heavy-set man'.")
    if len(parts) > MAX_PROMPT_WORDS:
        return " ".join(parts[:MAX_PROMPT_WORDS]), [
            f"the prompt was cut to its first {MAX_PROMPT_WORDS} words (CLIP reads 77 tokens)."]
    return " ".join(parts), []


def dataset_of(key: str):
    """The dataset the entry's slider set was trained on, or a one-line error."""
    from semantify.dataset import open_dataset

    sliders, _ = photos.scorer_for(key)
    if sliders.dataset is None or not Path(sliders.dataset).is_dir():
        raise SemantifyError("this slider set does not point to its dataset; rebuild it in "
                             "the Build sliders tab to use retrieval or new words.")
    dataset = open_dataset(sliders.dataset)
    if dataset.image_embeds is None:
        raise SemantifyError("the slider set's dataset has no CLIP embeddings; rebuild it "
                             "with a CLIP option.")
    return dataset


def prompt_embed(key: str, prompt: str) -> torch.Tensor:
    """(D,) normalised text embedding of ``prompt`` (used as is, no template)."""
    _, scorer = photos.scorer_for(key)
    return scorer.encode_text([prompt], "{}")[0]


def by_mapper(key: str, embed: torch.Tensor, current) -> list[float]:
    """Slider values: the prompt embedding scored against each word, like a photo's."""
    return photos.values_from_embeds(key, embed[None], current)


def nearest(dataset, embed: torch.Tensor, k: int = TOP_K) -> torch.Tensor:
    """(k,) indices of the samples whose view-averaged image embeddings best match ``embed``."""
    images = torch.nn.functional.normalize(dataset.image_embeds.float().mean(1), dim=-1)
    similarity = images @ torch.nn.functional.normalize(embed.float(), dim=-1)
    return similarity.topk(min(k, len(similarity))).indices


def by_retrieval(key: str, embed: torch.Tensor, k: int = TOP_K) -> list[float]:
    """Slider values: the mean descriptor values of the top-``k`` retrieved samples."""
    from semantify.descriptors import descriptor_values

    dataset = dataset_of(key)
    controls = view.panel(key).controls
    sliders, scorer = photos.scorer_for(key)
    values = descriptor_values(dataset, [c.name for c in controls], scorer, sliders.template)
    return view.panel(key).clip_values(values[nearest(dataset, embed, k)].mean(0).tolist())


def text_to_values(key: str, text: str, method: str, current) -> tuple[list[float], list[str]]:
    """Slider values for a free-text prompt by ``method``, and notices."""
    prompt, notices = clean_prompt(text)
    embed = prompt_embed(key, prompt)
    if method == "retrieval":
        try:
            return by_retrieval(key, embed), notices
        except SemantifyError as error:
            notices.append(f"used the mapper instead of retrieval: {error}")
    return by_mapper(key, embed, current), notices


def add_words(key: str, text: str, report: Callable[[float, str], None]) -> tuple[Path, list]:
    """Train a slider set with the entry's sliders plus new words; its folder and notices."""
    from lightning_modules.train import train

    existing = [c.name for c in view.panel(key).controls]
    words, notices = parse_words(text, existing)
    dataset = dataset_of(key)
    sliders = resources.slider_set(view.panel(key).entry.sliders)
    report(0.1, f"scoring {len(dataset)} stored samples with: {', '.join(words)}")
    name = f"{Path(sliders.root).name}+{len(words)}words-{time.strftime('%Y%m%d-%H%M%S')}"
    out = catalog.built_dir() / name
    report(0.3, "training the mapper")
    train(dataset.root, existing + words, out, max_epochs=WORD_EPOCHS,
          template=sliders.template, progress=False)
    report(1.0, "done")
    return out, notices

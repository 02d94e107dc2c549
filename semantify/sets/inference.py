"""What a slider set can do beyond moving sliders: fit photos, read a prompt, draw at random.

Each takes a :class:`semantify.sets.sliders.SliderSet`, returns a
:class:`semantify.sets.sliders.Shape` (whose ``notes`` say what happened) and raises one-line
:class:`SemantifyError` s. The app and the CLI (``semantify fit``, ``semantify text``) call
these; so can Python::

    shape = SliderSet.load("sliders/anny-words").fit_photos(["me.jpg"])
    shape = SliderSet.load("sliders/anny-words").from_text("a tall, heavy-set man")

Text to shape has two methods (``bench/text_to_shape.py`` compares them): ``mapper`` scores the
prompt's text embedding against each word slider as if it were a photo's embedding and feeds
those scores to the mapper; ``retrieval`` finds the dataset samples whose image embeddings are
closest to the prompt and averages their slider values. Retrieval is the default (58.5 mm
against 89.5 mm mean vertex error in that bench); without the set's dataset it falls back to
the mapper, and says so.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Mapping

import torch

from semantify import limits
from semantify.errors import SemantifyError

METHODS = ("retrieval", "mapper")
TOP_K = 16


def _start(slider_set, start: Mapping | None) -> dict[str, float]:
    """Slider values to begin from: the defaults, overridden by ``start``."""
    values = dict(zip(slider_set.names, slider_set.defaults))
    values.update({k: float(v) for k, v in (start or {}).items() if k in values})
    return values


def _words_only(slider_set, what: str) -> None:
    if not slider_set.word_names:
        raise SemantifyError(f"{what} needs word sliders (CLIP); slider set "
                             f"{slider_set.name!r} has none. Pick or build a set with words.")


def _with_word_scores(slider_set, word_scores: torch.Tensor, start, notes) -> object:
    """The shape whose word sliders have the (K,) raw ``word_scores`` (only words convert to
    slider units) and whose other sliders keep ``start``."""
    values = _start(slider_set, start)
    values.update(zip(slider_set.word_names, word_scores.tolist()))
    clamped, moved = slider_set.values(slider_set.in_slider_units(
        torch.tensor([list(values.values())], dtype=torch.float64)))
    return slider_set.shape_of(clamped[0], moved, notes)


def fit_photos(slider_set, photos, crops=None, start: Mapping | None = None):
    """The shape fitted to ``photos`` (paths, PIL images or
    :class:`semantify.pictures.photos.Photo`), each letterboxed whole into CLIP's square (never
    centre-cropped) after its crop box."""
    from semantify.pictures.photos import Box, as_photo, is_box_like

    _words_only(slider_set, "fitting a photo")
    photos = list(photos) if isinstance(photos, (list, tuple)) else [photos]
    if not photos:
        raise SemantifyError("no photo given; pass one or more JPEG, PNG or WebP photos.")
    if len(photos) > limits.MAX_PHOTOS:
        raise SemantifyError(f"{len(photos)} photos given; fit at most {limits.MAX_PHOTOS} at "
                             "once.")
    if crops is None or isinstance(crops, (Box, str)) or is_box_like(crops):
        crops = [crops]  # one box, for the first photo
    if len(crops) > len(photos):
        raise SemantifyError(f"{len(crops)} crop boxes for {len(photos)} photos; give at most "
                             "one crop per photo, in the same order.")
    crops = [None if box is None else Box.of(box) for box in crops]
    crops += [None] * (len(photos) - len(crops))
    read = [as_photo(item, i) for i, item in enumerate(photos)]
    scorer = slider_set.scorer
    embeds = torch.stack([scorer.encode_photo(photo.cropped(box))
                          for photo, box in zip(read, crops)])
    notes = [note for photo in read for note in photo.notes]
    cropped = sum(box is not None for box in crops)
    notes.append(f"fitted to {len(read)} photo(s)" + (f", {cropped} cropped" if cropped else "")
                 + ".")
    return _with_word_scores(slider_set, _photo_scores(slider_set, embeds, notes), start, notes)


def _photo_scores(slider_set, embeds: torch.Tensor, notes: list[str]) -> torch.Tensor:
    """(K,) raw word scores of (N, D) photo ``embeds``: the mean of their scores, or, for a
    set that photographed its bodies and photos of other sides than it was trained on, what
    the sides present predict (:mod:`semantify.sets.photo_views`)."""
    from semantify.clip import scores

    views = slider_set.photo_views  # a set with words: a TrainedSliders
    if views is None:
        return scores(embeds, slider_set.word_embeds).mean(0)
    if views.photos.shape[-1] != embeds.shape[-1]:
        raise SemantifyError(f"slider set {slider_set.name!r} photographed its bodies with "
                             "another encoder; rebuild the set.")
    combined, more = views.word_scores(embeds, slider_set.word_embeds)
    notes.extend(more)
    return combined


def clean_prompt(text: str) -> str:
    """The prompt with its whitespace tidied, or a one-line error if empty or too long."""
    if not isinstance(text, str) or not text.strip():
        raise SemantifyError("type a description first, e.g. 'a tall, heavy-set man'.")
    if len(text) > limits.MAX_TEXT_CHARS:
        raise SemantifyError(f"the description is {len(text)} characters; keep it under "
                             f"{limits.MAX_TEXT_CHARS} (CLIP reads about 60 words).")
    return " ".join(text.split())


def from_text(slider_set, prompt: str, method: str = "retrieval", start=None):
    """The shape ``prompt`` describes, by ``method`` (see the module docstring)."""
    if method not in METHODS:
        raise SemantifyError(f"unknown text method {str(method)[:30]!r}; use "
                             f"{' or '.join(METHODS)}.")
    _words_only(slider_set, "shaping from text")
    prompt = clean_prompt(prompt)
    embed, fitted = slider_set.scorer.embed_prompt(prompt)
    notes = [] if fitted else ["the prompt is longer than CLIP reads (77 tokens); only its "
                               "beginning counts."]
    if method == "retrieval":
        try:
            values = _retrieved(slider_set, embed)
        except SemantifyError as error:
            notes.append(f"used the mapper instead of retrieval: {error}")
        else:
            clamped, moved = slider_set.values(values)
            return slider_set.shape_of(clamped[0], moved, notes + ["shape from text "
                                                                   "(retrieval)."])
    from semantify.clip import scores

    return _with_word_scores(slider_set, scores(embed[None], slider_set.word_embeds)[0], start,
                             notes + ["shape from text (mapper)."])


def _retrieved(slider_set, embed: torch.Tensor, k: int = TOP_K) -> list[float]:
    """Mean slider values of the ``k`` dataset samples whose images best match ``embed``."""
    images, values = _retrieval_index(slider_set)
    similarity = images @ torch.nn.functional.normalize(embed.float(), dim=-1)
    top = similarity.topk(min(k, len(similarity))).indices
    return values[top].mean(0).tolist()


@functools.lru_cache(maxsize=8)
def _retrieval_index(slider_set) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, D) normalised view-averaged image embeddings and (N, K) slider values of the set's
    dataset (computed once per set)."""
    from semantify.descriptors import descriptor_values

    dataset = slider_set.open_dataset()
    if dataset.image_embeds is None:
        raise SemantifyError(f"the dataset of slider set {slider_set.name!r} has no CLIP "
                             "embeddings; rebuild it with a CLIP model.")
    images = torch.nn.functional.normalize(dataset.image_embeds.float().mean(1), dim=-1)
    values = descriptor_values(dataset, slider_set.names, slider_set.scorer,
                               slider_set.template)
    return images, slider_set.in_slider_units(values.double())


def random_shape(slider_set, seed: int):
    """A body (face, animal) drawn from the model's sampling prior with ``seed``, described in
    this set's sliders: measured, and rendered and scored for words."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise SemantifyError(f"seed {str(seed)[:20]!r} is not a whole number 0 or more; pass "
                             "e.g. random(7).")
    coefficients = slider_set.model.sample([0], seed=int(seed))
    values = slider_set.described(coefficients)
    clamped, _ = slider_set.values(values.double())  # a sample beyond p1..p99 is brought in
    return slider_set.shape_of(clamped[0], (), [f"random shape (seed {seed})."])

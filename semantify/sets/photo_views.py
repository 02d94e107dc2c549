"""How a set reads photos taken from other sides than it was trained on: its own bodies,
photographed.

A set's word sliders are trained on the scores of its renders (clay, 224 px, the recipe's
views, averaged). A photo of the side it was trained on is read as it is: its scores are the
sliders' values, as the paper does. But photos from other sides see different things (a side
view shows depths, not the gap between the legs), so the plain average of a front and a side
photo blurs what only one of them shows: at 2000 samples it cost the BMI of a photo fit 0.019
of Pearson r against the front photo alone (``docs/WORD_RECIPES.md``).

So a set photographs some of its own training bodies as a user would (skin, 512 px, from the
front and the side) when it is trained, and keeps their embeddings (:class:`PhotoViews`, a
``photo_views-HASH.safetensors`` in the set) with the embeddings of its training renders. A
fit gives each photo the side it most resembles (a diagonal Gaussian per side, over those
photographs' embeddings). Photos of the sides the set was trained on are read as they are;
any other sides (a lone side photo for a front-trained set, front and side together) have
their word scores mapped to the training scores by a ridge regression learned on the
photographed bodies, for that combination of sides and the set's words (so words added later
get it too). Nothing here depends on the encoder: it holds for real CLIP as for the geometry
test encoder.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from semantify.errors import SemantifyError

VIEWS = ("front", "side")  # the sides a photo is read as
SIZE, APPEARANCE = 512, "skin"  # how the bodies are photographed (a photo, not a render)
BODIES = 128  # training bodies photographed; 0.991 BMI r at 128 and at 256 (2000 samples)
RIDGE = 1.0  # on standardised scores, so a word a side cannot show gets no wild weight
FLOOR = 1e-3  # the least spread of an embedding component, so constant ones stay comparable


@dataclasses.dataclass(frozen=True)
class PhotoViews:
    """``photos``: (M, len(views), D) embeddings of M training bodies photographed from each of
    ``views``; ``trained``: (M, D) the mean of their training renders' embeddings (each
    normalised), whose scores are the scores the sliders were trained on, from the sides
    ``trained_views``."""

    views: tuple[str, ...]
    photos: torch.Tensor
    trained: torch.Tensor
    trained_views: tuple[str, ...]

    def __post_init__(self):
        m, v, d = self.photos.shape if self.photos.dim() == 3 else (0, 0, 0)
        if v != len(self.views) or self.trained.shape != (m, d) or m < 2 or \
                not self.trained_views or \
                not torch.isfinite(self.photos).all() or not torch.isfinite(self.trained).all():
            raise SemantifyError("the set's photographed bodies are damaged; rebuild the set.")

    def views_of(self, embeds: torch.Tensor) -> list[str]:
        """The side each of (N, D) photo ``embeds`` most resembles."""
        photos = self.photos.double().numpy()
        mean, spread = photos.mean(0), np.maximum(photos.std(0), FLOOR)  # (V, D)
        x = embeds.double().numpy()[:, None]
        fit = -0.5 * (((x - mean) / spread) ** 2).sum(-1) - np.log(spread).sum(-1)
        return [self.views[i] for i in fit.argmax(1)]

    def word_scores(self, embeds: torch.Tensor, words: torch.Tensor) -> tuple[torch.Tensor,
                                                                               list[str]]:
        """(K,) raw word scores for (N, D) photo ``embeds`` against (K, D) ``words``, and notes:
        the mean of the photos' scores where they show the sides the set was trained on (as
        the paper reads photos), else the training scores that the sides' mean scores
        predict."""
        from semantify.clip import scores

        photo_scores = scores(embeds, words)  # (N, K)
        sides = self.views_of(embeds)
        present = [v for v in self.views if v in sides]
        if set(present) == set(self.trained_views):
            return photo_scores.mean(0), []
        x = torch.cat([photo_scores[[s == v for s in sides]].mean(0) for v in present])
        index = [self.views.index(v) for v in present]
        known = scores(self.photos[:, index], words, reduce="none").flatten(1)  # (M, P*K)
        weights, centre, scale, intercept = _ridge(known.double().numpy(),
                                                  scores(self.trained, words).double().numpy())
        predicted = ((x.double().numpy() - centre) / scale) @ weights + intercept
        counted = " and ".join(f"{sides.count(v)} {v}" for v in present)
        return torch.from_numpy(predicted).float(), [
            f"read the photos as {counted} view(s) (the set was trained on "
            f"{' and '.join(self.trained_views)}); mapped as {len(self.photos)} of its own "
            "bodies photographed from those sides showed."]

    def to_tensors(self) -> dict[str, torch.Tensor]:
        return {"photos": self.photos.half().contiguous(),
                "trained": self.trained.half().contiguous()}

    @classmethod
    def from_tensors(cls, views, trained_views, tensors) -> PhotoViews:
        if set(tensors) != {"photos", "trained"}:
            raise SemantifyError("the set's photographed bodies are damaged; rebuild the set.")
        return cls(tuple(views), tensors["photos"].float(), tensors["trained"].float(),
                   tuple(trained_views))


def photographed(samples: int) -> int:
    """How many bodies a set trained on ``samples`` photographs: the dataset's first."""
    return min(samples, BODIES)


def photographs(samples: int) -> int:
    """Images a set trained on ``samples`` encodes for its photographed bodies (256: 10 s
    with ViT-B-32 on a 2-core CPU)."""
    return photographed(samples) * len(VIEWS)


def _ridge(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """Weights, centre, scale and intercept of the ridge regression of (M, K) ``y`` on (M, P)
    ``x``, standardised."""
    centre, scale = x.mean(0), np.maximum(x.std(0), 1e-9)
    z = (x - centre) / scale
    weights = np.linalg.solve(z.T @ z + RIDGE * np.eye(z.shape[1]), z.T @ (y - y.mean(0)))
    return weights, centre, scale, y.mean(0)


def photograph(slider_set, dataset) -> PhotoViews | None:
    """The first :func:`photographed` of ``dataset``'s samples photographed as a user would,
    with their training renders' embeddings; None where the dataset kept no embeddings."""
    from PIL import Image

    from semantify.clip import images as image_ops
    from semantify.pictures.renderers import batch_renderer
    from semantify.poses import posed_vertices, resolve_pose

    if dataset.image_embeds is None or len(dataset) < 2:
        return None
    rows = photographed(len(dataset))
    model, scorer = dataset.model_ref.load(), slider_set.scorer
    render = dataset.manifest.render
    pose = resolve_pose(model, render.pose if render is not None else "rest")
    renderer = batch_renderer(model, list(VIEWS), size=SIZE, appearance=APPEARANCE, pose=pose)
    photos = []
    for start in range(0, rows, 16):
        coefficients = dataset.coefficients[start:min(start + 16, rows)].float()
        with torch.no_grad():
            vertices = model(coefficients)
            shown = vertices if pose.is_rest else posed_vertices(model, coefficients, pose)
        images = renderer.render(shown)  # (B, V, SIZE, SIZE, 3), read as fit_photos reads
        squares = np.stack([image_ops.prepare_photo(Image.fromarray(image), scorer.image_size)
                            for image in images.reshape(-1, *images.shape[2:])])
        photos.append(scorer.encode_images(squares).reshape(len(images), len(VIEWS), -1))
    trained = torch.nn.functional.normalize(dataset.image_embeds[:rows].float(), dim=-1)
    return PhotoViews(VIEWS, torch.cat(photos), trained.mean(1), tuple(dataset.manifest.views))

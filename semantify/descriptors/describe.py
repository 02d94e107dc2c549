"""Describe meshes as a slider set's descriptors: measurements measured, words rendered and
scored with the set's CLIP. Evaluation checks sliders with it; a random shape gets its slider
values from it."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from semantify.data.generation import DEFAULT_VIEWS
from semantify.errors import SemantifyError

VIEWS = DEFAULT_VIEWS  # the views a set's words are scored from when its data is not here
SIZE = 224


class DescriptorMeter:
    """(B, V, 3) meshes -> (B, K) float32 values of ``slider_set``'s descriptors, in its
    sliders' units (word sliders in percentiles where the set has a word scale)."""

    def __init__(self, slider_set, views: Sequence[str] = VIEWS):
        self.names = slider_set.names
        self.in_slider_units = slider_set.in_slider_units
        self.metric = slider_set.metric_names
        self.words = slider_set.word_names
        self.meter = self.renderer = None
        model = slider_set.model
        if self.metric:
            if slider_set.anthropometer is None:
                raise SemantifyError(f"{model.id} cannot be measured, but slider set "
                                     f"{slider_set.name!r} has measurement sliders; retrain it.")
            self.meter = slider_set.anthropometer
        if self.words:
            from semantify.pictures.renderers import batch_renderer

            self.scorer = slider_set.scorer
            self.text = slider_set.word_embeds
            self.renderer = batch_renderer(model, list(views), size=SIZE)

    def __call__(self, vertices: torch.Tensor) -> torch.Tensor:
        columns: dict[str, torch.Tensor] = {}
        if self.meter is not None:
            values = self.meter.measure(vertices)
            for name in self.metric:
                columns[name] = values[name].float().cpu()
        if self.renderer is not None:
            from semantify.clip import scores

            images = self.renderer.render(vertices)  # (B, n_views, SIZE, SIZE, 3)
            b, n_views = images.shape[:2]
            embeds = self.scorer.encode_images(images.reshape(b * n_views, *images.shape[2:]))
            for name, column in zip(self.words, scores(embeds.view(b, n_views, -1), self.text).T):
                columns[name] = column
        return self.in_slider_units(torch.stack([columns[name] for name in self.names], dim=1))

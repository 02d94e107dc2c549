"""From slider values to what the page shows: the mesh, its render and its measurements."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import torch

from semantify.app import heatmap, resources
from semantify.app.catalog import entry_for
from semantify.app.controls import Panel, panel_for
from semantify.app.session import Session


@functools.lru_cache(maxsize=64)
def panel(key: str) -> Panel:
    return panel_for(entry_for(key))


def shape(key: str, values) -> tuple[torch.Tensor, np.ndarray]:
    """(C,) coefficients and (V, 3) float32 mesh for slider ``values`` (K,) of entry ``key``."""
    coefficients = panel(key).coefficients(values)
    with torch.no_grad():
        mesh = resources.model(entry_for(key).model_id)(coefficients[None])[0].numpy()
    return coefficients, mesh


def with_values(session: Session, values) -> Session:
    """A copy of ``session`` with new slider ``values`` and the mesh they give."""
    values = panel(session.key).clip_values(values)
    coefficients, mesh = shape(session.key, values)
    moved = heatmap.displacement(session.vertices, mesh)
    return dataclasses.replace(session, values=values, coefficients=coefficients.tolist(),
                               vertices=mesh, displacement=moved)


def open_entry(key: str, values=None) -> Session:
    """A fresh session on entry ``key`` at its defaults (or at ``values``)."""
    session = Session(key=key)
    current = panel(key).defaults if values is None else values
    session = with_values(session, current)
    session.displacement = np.zeros(len(session.vertices), np.float32)
    return session


def camera(session: Session):
    from viewer.camera import OrbitCamera

    return OrbitCamera(azimuth=session.azimuth, elevation=session.elevation,
                       distance=1.0 / max(session.zoom, 1e-3))


def render(session: Session) -> np.ndarray:
    """(H, W, 3) uint8 image of the session's mesh (heatmap colours when enabled)."""
    colors = None
    if session.heatmap and session.displacement is not None:
        colors = heatmap.colors(session.displacement)
    model_id = entry_for(session.key).model_id
    return resources.renderer(model_id).render(session.vertices, camera(session), colors=colors)


def measurements(session: Session) -> list[list]:
    """Rows [label, value, unit] of the body's measurements (empty for non-body models)."""
    measurer = resources.anthropometer(entry_for(session.key).model_id)
    if measurer is None:
        return []
    return [[label, round(float(value), 1), unit]
            for label, value, unit in measurer.measure_table(session.vertices)]


def coefficient_record(session: Session) -> dict:
    """{"sliders": {name: value}, "coefficients": {name: value}} behind the current view."""
    current = panel(session.key)
    names = resources.model(current.entry.model_id).coefficient_names
    return {"model": current.entry.model_id, "slider_set": current.entry.sliders,
            "sliders": {c.name: round(v, 4) for c, v in zip(current.controls, session.values)},
            "coefficients": {n: round(v, 4) for n, v in zip(names, session.coefficients)}}

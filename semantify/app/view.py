"""From a session and its runtime to what the page shows: the mesh, its frame, its numbers."""

from __future__ import annotations

import dataclasses

import numpy as np

from semantify.app import frames, heatmap
from semantify.app.runtime import Runtime
from semantify.app.session import Session


def with_values(session: Session, runtime: Runtime, values, notes=()) -> tuple[Session, object]:
    """A copy of ``session`` showing the shape of page ``values`` (K,), and that shape."""
    shape = runtime.shape(values, notes)
    moved = heatmap.displacement(session.vertices, shape.vertices)
    return dataclasses.replace(
        session, values=shape.values, coefficients=tuple(shape.coefficients.tolist()),
        vertices=shape.vertices, displacement=moved), shape


def opened(session: Session, runtime: Runtime, values=None) -> Session:
    """``session`` switched to ``runtime``'s entry, at its defaults (or at ``values``)."""
    slider_set = runtime.slider_set
    start = slider_set.defaults if values is None else values
    fresh = dataclasses.replace(session, entry=runtime.entry.id, vertices=None,
                                displacement=None)
    fresh, _ = with_values(fresh, runtime, start)
    return dataclasses.replace(fresh, displacement=np.zeros(len(fresh.vertices), np.float32))


def camera(session: Session):
    from viewer.camera import OrbitCamera

    c = session.camera
    return OrbitCamera(azimuth=c.azimuth, elevation=c.elevation, distance=1.0 / c.zoom)


def frame(session: Session, runtime: Runtime) -> str:
    """The session's render as a JPEG data URL (heatmap colours when enabled)."""
    colors = None
    if session.heatmap and session.displacement is not None:
        colors = heatmap.colors(session.displacement)
    return frames.jpeg_data_url(runtime.render(session.vertices, camera(session), colors))


def record(session: Session, runtime: Runtime) -> dict:
    """The params of what is on show (the same record the export writes)."""
    from semantify.params import Params

    slider_set = runtime.slider_set
    names = slider_set.model.coefficient_names
    return Params(slider_set.model_ref, tuple(zip(names, session.coefficients)),
                  () if slider_set.is_raw else tuple(zip(slider_set.names, session.values)),
                  None if slider_set.is_raw else slider_set.name).to_dict()

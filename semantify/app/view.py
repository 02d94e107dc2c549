"""From a session and its runtime to what the page shows: the mesh, its frame, its numbers.

Frames go through the app's :class:`~semantify.app.viewport.FrameService`: it holds each
page's camera (the page orbits, zooms and pans it) and draws both the frames the page asks for
while moving and those the app's own events send.
"""

from __future__ import annotations

import dataclasses

import gradio as gr
import numpy as np
import torch

from semantify.app import heatmap
from semantify.app.runtime import Runtime
from semantify.app.session import Session
from semantify.app.viewport import FrameService, Scene


def with_values(session: Session, runtime: Runtime, values, notes=(),
                set_names=None) -> tuple[Session, object]:
    """A copy of ``session`` showing the shape of page ``values`` (K,), and that shape.
    ``set_names``: the sliders set (None: every slider); on a set with a body model the
    others are free, and the session takes the body's own values for them."""
    shape = runtime.shape(values, notes, set_names)
    moved = heatmap.displacement(session.vertices, shape.vertices)
    return dataclasses.replace(
        session, values=shape.values, coefficients=tuple(shape.coefficients.tolist()),
        vertices=shape.vertices, displacement=moved,
        set_names=None if set_names is None else tuple(set_names)), shape


def set_after(session: Session, runtime: Runtime, values) -> tuple[str, ...] | None:
    """The sliders set once page ``values`` (K,) replace the session's: those set before
    and those whose value the page changed (a free slider moved becomes set); None (all set)
    on a set without a body model."""
    slider_set = runtime.slider_set
    if slider_set.body_model is None:
        return None
    # a page snaps a free slider's value to its step grid: only a move of a step or more sets it
    moved = {s.name for s, old, new in zip(slider_set.sliders, session.values, values)
             if abs(float(new) - float(old)) > 0.6 * s.step}
    kept = set(session.set_names or ()) | moved
    return tuple(name for name in slider_set.names if name in kept)


def opened(session: Session, runtime: Runtime, values=None) -> Session:
    """``session`` switched to ``runtime``'s entry, at its defaults (or at ``values``), in a
    pose the model has."""
    from semantify.poses import offered_poses

    slider_set = runtime.slider_set
    start = slider_set.defaults if values is None else values
    offered = [p.name for p in offered_poses(slider_set.model)]
    pose = session.pose if session.pose in offered else "rest"
    fresh = dataclasses.replace(session, entry=runtime.entry.id, vertices=None,
                                displacement=None, pose=pose)
    free = values is None and slider_set.body_model is not None  # the most likely person
    fresh, _ = with_values(fresh, runtime, start, set_names=() if free else None)
    return dataclasses.replace(fresh, displacement=np.zeros(len(fresh.vertices), np.float32))


def shown_vertices(session: Session, runtime: Runtime, coefficients=None,
                   rest: np.ndarray | None = None) -> np.ndarray:
    """(V, 3) vertices on show: the session's shape (or ``coefficients``, ``rest``) posed."""
    from semantify.poses import posed_vertices

    rest = session.vertices if rest is None else rest
    if session.pose == "rest":
        return rest
    coefficients = session.coefficients if coefficients is None else coefficients
    with torch.no_grad():
        return posed_vertices(runtime.slider_set.model,
                              torch.as_tensor(coefficients, dtype=torch.float32)[None],
                              session.pose)[0].numpy()


def scene(session: Session, runtime: Runtime, vertices: np.ndarray, moved=None) -> Scene:
    """The scene of posed ``vertices`` in the session's look (heatmap of ``moved``)."""
    from semantify.pictures.appearance import material_for
    from semantify.pictures.renderers import framing_for

    model = runtime.slider_set.model
    colors = None
    if session.heatmap and moved is not None:
        colors = heatmap.colors(moved)
    return Scene(runtime.renderer, vertices, material_for(model, session.appearance),
                 framing_for(model, session.pose), colors)


def follow(session: Session, runtime: Runtime):
    """The view's builder for slider drags ({slot: value}, quick) -> Scene: the session's
    values with the page's sliders moved; ``quick`` skips metric refinement. On a set with a
    body model the scene carries the free sliders' values (the body's own) for the page to
    show while the drag goes on."""
    slider_set, panel = runtime.slider_set, runtime.panel

    def build(by_slot: dict[int, float], quick: bool) -> Scene:
        values = panel.placed(session.values, by_slot)
        set_names = set_after(session, runtime, values)
        if quick:
            asked = values if set_names is None else {
                n: v for n, v in zip(slider_set.names, values) if n in set_names}
            coefficients = slider_set.coefficients(asked, refine=False)[0]
            with torch.no_grad():
                rest = slider_set.model(coefficients[None])[0].numpy()
            shown = values if set_names is None else slider_set.person_fit.expected(
                torch.tensor([values], dtype=torch.float64), set_names)[0].tolist()
        else:
            shape = runtime.shape(values, (), set_names)
            coefficients, rest, shown = shape.coefficients, shape.vertices, shape.values
        moved = heatmap.displacement(session.vertices, rest) if session.heatmap else None
        built = scene(session, runtime, shown_vertices(session, runtime, coefficients, rest),
                      moved)
        final = not (quick and slider_set.refines)
        shown = runtime.rounded(shown)  # as the page shows them
        free = () if set_names is None else tuple(
            (slot, shown[index]) for index, slot in panel.slots.items()
            if slider_set.names[index] not in set_names)
        return dataclasses.replace(built, final=final, sliders=free)

    return build


def frame(session: Session, runtime: Runtime,
          frames: FrameService) -> tuple[Session, str | gr.HTML]:
    """Show the session in its view: the session (with the view it was shown in) and the
    viewer's update, the frame, a JPEG data URL (what API clients read), with the view id when
    the page does not know it yet. A session whose view was forgotten (the service keeps the
    most recent ones) gets a new one, at the default camera."""
    if frames.camera(session.view) is None:
        session = dataclasses.replace(session, view=frames.open(session.token, session.address))
    frames.show(session.view, scene(session, runtime, shown_vertices(session, runtime),
                                    session.displacement))
    frames.follow(session.view, follow(session, runtime))
    image = frames.render(session.view)
    if session.announced == session.view:
        return session, image
    return dataclasses.replace(session, announced=session.view), gr.HTML(value=image,
                                                                          view=session.view)


def colour_key(session: Session) -> str:
    """The heatmap's colour key (empty when the heatmap is off)."""
    if not session.heatmap or session.displacement is None:
        return ""
    return heatmap.colour_key(float(session.displacement.max()))


def params(session: Session, runtime: Runtime):
    """The :class:`semantify.sets.params.Params` of what is on show (what the export writes)."""
    return runtime.slider_set.params(session.coefficients, session.values, session.pose,
                                     session.set_names)


def record(session: Session, runtime: Runtime) -> dict:
    """The params of what is on show as the page's JSON shows them."""
    return params(session, runtime).to_dict()

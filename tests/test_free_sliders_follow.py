"""Free metric sliders follow a drag: the frames drawn from a page's slider values carry the
values of the sliders it did not move, so the page shows them move without an app event."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from semantify.app.frames import jpeg_data_url
from semantify.app.viewport import FrameService, Scene

METRIC = Path(__file__).resolve().parents[1] / "sliders" / "anny-body-metric"


@pytest.fixture(scope="module")
def metric():
    """The shipped metric set's runtime and a session showing its most likely person. (Its
    renderer is the process's shared one, ``runtime.renderer_for``: never released here, or
    every app server of this process would draw with a dead GL object.)"""
    from semantify.app import view
    from semantify.app.catalog import Entry
    from semantify.app.runtime import Runtime
    from semantify.app.session import Session
    from semantify.sets.sliders import SliderSet

    slider_set = SliderSet.load(METRIC)
    rt = Runtime(Entry("metric", "metric", slider_set.model_ref, METRIC))
    session = view.opened(Session(), rt)  # every slider free
    return rt, session


def test_a_drag_frame_carries_the_free_sliders_values(metric):
    from semantify.app import view

    rt, session = metric
    names, slots = rt.slider_set.names, rt.panel.slots
    height, mass = slots[names.index("height_cm")], slots[names.index("mass_kg")]
    build = view.follow(session, rt)
    quick = build({height: 185.0}, True)
    free = dict(quick.sliders)
    assert set(free) == {slot for index, slot in slots.items() if names[index] != "height_cm"}
    assert free[mass] > session.values[names.index("mass_kg")] + 5  # taller: heavier
    refined = build({height: 185.0}, False)
    shape = rt.shape(rt.panel.placed(session.values, {height: 185.0}), (),
                     view.set_after(session, rt, rt.panel.placed(session.values,
                                                                 {height: 185.0})))
    expected = rt.rounded(shape.values)
    assert dict(refined.sliders) == {slot: expected[index] for index, slot in slots.items()
                                     if names[index] != "height_cm"}
    assert abs(free[mass] - dict(refined.sliders)[mass]) < 2.5  # the quick guess: what it aims at


def test_the_frame_reply_passes_the_scenes_slider_values_after_a_drag(metric):
    rt, session = metric
    service = FrameService(jpeg_data_url)
    view_id = service.open()
    vertices = np.asarray(session.vertices)
    service.show(view_id, Scene(rt.renderer, vertices, sliders=((9, 1.5),)))
    service.follow(view_id, lambda by_slot, quick: Scene(rt.renderer, vertices,
                                                         sliders=((2, 80.5), (4, 70.0))))
    camera = {"view": view_id, "quality": "draft"}
    assert "sliders" not in service.frame({**camera, "seq": 1})  # no values sent: no drag
    reply = service.frame({**camera, "seq": 2, "values": [[0, 170.0]]})
    assert reply["image"] and reply["sliders"] == [[2, 80.5], [4, 70.0]]

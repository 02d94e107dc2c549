"""Frames finished through the lock-free GL calls (viewer.unlocked) are the frames moderngl's
own calls give, pixel for pixel, at every quality and at sizes whose rows are not 4-byte
aligned; and other threads run while a frame is drawn."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import viewer.batch
import viewer.interactive
from viewer import BatchRenderer, Framing, InteractiveRenderer, OrbitCamera
from viewer.context import unlocked_calls


def _sphere(n: int = 60):
    u, v = np.meshgrid(np.linspace(0.1, np.pi - 0.1, n), np.linspace(0, 2 * np.pi, n))
    vertices = np.stack([np.sin(u) * np.cos(v), np.cos(u) * 2, np.sin(u) * np.sin(v)], -1)
    grid = np.arange(n * n).reshape(n, n)
    a, b, c, d = grid[:-1, :-1], grid[:-1, 1:], grid[1:, :-1], grid[1:, 1:]
    faces = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3),
                            np.stack([b, d, c], -1).reshape(-1, 3)])
    return vertices.reshape(-1, 3).astype(np.float32), faces.astype(np.int64)


@pytest.fixture(scope="module")
def sphere():
    return _sphere()


def test_the_lock_free_calls_are_found_on_egl():
    assert unlocked_calls() is not None  # CI's Mesa EGL has them; else every frame holds the lock


@pytest.mark.parametrize("quality", ["full", "draft"])
@pytest.mark.parametrize("size", [302, 512])
def test_interactive_frames_match_moderngl(sphere, monkeypatch, quality, size):
    vertices, faces = sphere
    renderer = InteractiveRenderer(faces, Framing.from_vertices(vertices), size=size)
    camera = OrbitCamera(30, 10, None, (0, 0))
    unlocked = renderer.render(vertices, camera, quality=quality, size=size + 2)
    monkeypatch.setattr(viewer.interactive, "unlocked_calls", lambda: None)
    plain = renderer.render(vertices, camera, quality=quality, size=size + 2)
    renderer.release()
    assert unlocked.std() > 10  # something drawn
    np.testing.assert_array_equal(unlocked, plain)


@pytest.mark.parametrize("samples", [0, 4])
def test_batch_tiles_match_moderngl(sphere, monkeypatch, samples):
    vertices, faces = sphere
    renderer = BatchRenderer(faces, Framing.from_vertices(vertices), "front,side", size=150,
                             samples=samples, background=(0.2, 0.3, 0.4))
    batch = np.stack([vertices, vertices * 0.9])
    unlocked = renderer.render(batch)
    monkeypatch.setattr(viewer.batch, "unlocked_calls", lambda: None)
    plain = renderer.render(batch)
    renderer.release()
    np.testing.assert_array_equal(unlocked, plain)


def test_other_threads_run_while_frames_are_drawn(sphere):
    """A thread doing Python work keeps going while another draws large MSAA frames (moderngl's
    own calls held the interpreter's lock through the whole draw)."""
    vertices, faces = _sphere(160)
    renderer = InteractiveRenderer(faces, Framing.from_vertices(vertices), size=1024)
    done, ticks = threading.Event(), []

    def draw():
        for azimuth in range(6):
            renderer.render(vertices, OrbitCamera(azimuth * 10, 10, None, (0, 0)))
        done.set()

    drawer = threading.Thread(target=draw)
    drawer.start()
    while not done.is_set():
        ticks.append(1)
        threading.Event().wait(0.001)
    drawer.join()
    stats = dict(renderer.stats)
    renderer.release()
    # a 1 ms wait returns many times a frame (holding the lock, it returned once a frame)
    assert len(ticks) > 0.1 * 1000 * (stats["draw"] + stats["readback"]), (len(ticks), stats)

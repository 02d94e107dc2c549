"""The headless renderer on real Anny meshes: what ends up on the image, and bad input."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from semantify.errors import SemantifyError
from semantify.models import load_model
from semantify.pictures.renderers import batch_renderer, framing_for, interactive_renderer
from viewer import (BatchRenderer, Framing, InteractiveRenderer, OrbitCamera, ViewerError,
                    parse_views, save_png, side_by_side)

SIZE = 128


@pytest.fixture(scope="module")
def model():
    return load_model("anny-body")


@pytest.fixture(scope="module")
def batch(model):
    renderer = batch_renderer(model, "front,side", size=SIZE)
    yield renderer
    renderer.release()


@pytest.fixture(scope="module")
def interactive(model):
    renderer = interactive_renderer(model, size=SIZE)
    yield renderer
    renderer.release()


def body(model, **phenotypes) -> torch.Tensor:
    coefficients = model.default_coefficients()
    for name, value in phenotypes.items():
        coefficients[model.coefficient_names.index(name)] = value
    with torch.no_grad():
        return model(coefficients[None])[0]


def silhouette(image: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels that are not the black batch background."""
    return image.max(axis=-1) > 0


def test_batch_front_view_shows_a_centred_body(model, batch):
    images = batch.render(body(model)[None])
    assert images.shape == (1, 2, SIZE, SIZE, 3) and images.dtype == np.uint8
    mask = silhouette(images[0, 0])
    area = mask.mean()
    assert 0.03 < area < 0.5
    columns = np.nonzero(mask)[1]
    assert abs(columns.mean() - SIZE / 2) < SIZE * 0.05
    rows = np.nonzero(mask.any(axis=1))[0]
    assert rows.min() > 0 and rows.max() < SIZE - 1  # whole body in frame


def test_taller_body_fills_more_rows_with_the_same_framing(model, batch):
    images = batch.render(torch.stack([body(model, height=0.0), body(model, height=1.0)]))
    short, tall = (silhouette(images[i, 0]).any(axis=1).sum() for i in range(2))
    assert tall > short * 1.4


def test_side_view_is_narrower_than_front(model, batch):
    front, side = batch.render(body(model).numpy()[None])[0]
    width = [silhouette(image).any(axis=0).sum() for image in (front, side)]
    assert width[1] < width[0] * 0.6


def test_front_view_looks_at_the_front_of_the_model(model, interactive):
    # Azimuth 0 puts the camera on +Z, where the model faces: paint the front half red.
    vertices = body(model).numpy()
    colors = np.full_like(vertices, 0.5)
    colors[vertices[:, 2] > np.median(vertices[:, 2])] = (1.0, 0.0, 0.0)

    def red_share(azimuth):
        image = interactive.render(vertices, OrbitCamera(azimuth, 0), colors=colors, floor=False)
        image = image.astype(int)
        return ((image[..., 0] > 120) & (image[..., 1] < 60)).mean()

    front, back = red_share(0), red_share(180)
    assert front > 0.005 and front > 5 * back, (front, back)


def test_batch_renders_are_deterministic_and_match_torch_input(model, batch):
    vertices = body(model)[None]
    assert np.array_equal(batch.render(vertices), batch.render(vertices.numpy()))


def test_vertex_colours_show_in_interactive_render(model, interactive):
    vertices = body(model).numpy()
    colors = np.full_like(vertices, 0.7)
    colors[vertices[:, 0] > 0] = (1.0, 0.0, 0.0)  # the model's left half red
    image = interactive.render(vertices, OrbitCamera(0, 0), colors=colors).astype(int)
    red = (image[..., 0] > 120) & (image[..., 1] < 60) & (image[..., 2] < 60)
    assert red.sum() > 100
    assert np.nonzero(red)[1].mean() > SIZE / 2  # the model's left is the image's right


def test_wireframe_and_floor_change_the_interactive_render(model, interactive):
    vertices = body(model)
    plain = interactive.render(vertices)
    assert plain.shape == (SIZE, SIZE, 3) and plain.std() > 5
    assert not np.array_equal(plain, interactive.render(vertices, wireframe=True))
    assert not np.array_equal(plain, interactive.render(vertices, floor=False))
    moved = interactive.render(vertices, OrbitCamera(azimuth=90, distance=1.5, pan=(0.2, 0)))
    assert not np.array_equal(plain, moved)


def test_threads_render_identical_images(model, batch):
    vertices = body(model, weight=0.8)[None]
    results = [None] * 4

    def work(slot):
        results[slot] = batch.render(vertices)

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(result is not None and np.array_equal(result, results[0]) for result in results)
    assert silhouette(results[0][0, 0]).any()


def test_parse_views():
    views = parse_views("front,30:10")
    assert [(v.name, v.azimuth, v.elevation) for v in views] == [
        ("front", 0.0, 0.0), ("30:10", 30.0, 10.0)]
    assert parse_views(["side"])[0].azimuth == 90.0
    with pytest.raises(ViewerError, match="unknown view 'sideways'.*front"):
        parse_views("front,sideways")
    with pytest.raises(ViewerError, match="elevation"):
        parse_views("0:120")


@pytest.mark.parametrize("size", [0, 10**6, 2.5])
def test_bad_sizes_raise(model, size):
    with pytest.raises(ViewerError, match="size"):
        BatchRenderer(model.faces, framing_for(model), "front", size=size)
    with pytest.raises(SemantifyError, match="size"):
        interactive_renderer(model, size=size)


def test_bad_meshes_raise(model, batch, interactive):
    vertices = body(model).numpy()
    broken = vertices.copy()
    broken[5] = np.nan
    with pytest.raises(ViewerError, match="NaN"):
        batch.render(broken[None])
    with pytest.raises(ViewerError, match="NaN"):
        interactive.render(broken)
    with pytest.raises(ViewerError, match="vertices"):
        batch.render(vertices[:100][None])
    with pytest.raises(ViewerError, match="faces"):
        BatchRenderer(np.array([[0, 1]]), framing_for(model), "front")
    with pytest.raises(ViewerError, match="out of frame"):
        batch.render((vertices + [0.0, 50.0, 0.0])[None])


def test_unwritable_path_raises(tmp_path):
    image = side_by_side([np.zeros((4, 4, 3), np.uint8), np.ones((4, 2, 3), np.uint8)])
    assert image.shape == (4, 6, 3)
    save_png(tmp_path / "ok.png", image)
    assert (tmp_path / "ok.png").exists() and not list(tmp_path.glob(".*tmp"))
    with pytest.raises(ViewerError, match="cannot write"):
        save_png(tmp_path / "missing" / "x.png", image)


def test_generic_mesh_renders_with_its_own_framing():
    # A tetrahedron: the viewer knows nothing of models.
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
    faces = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
    renderer = InteractiveRenderer(faces, Framing.from_vertices(vertices), size=64, samples=0,
                                   background=(1.0, 1.0, 1.0))
    image = renderer.render(vertices, floor=False)
    renderer.release()
    assert (image.min(axis=-1) < 250).mean() > 0.05


def test_draft_quality_is_half_size_without_msaa(model, interactive):
    vertices = body(model).numpy()
    full = interactive.render(vertices)
    draft = interactive.render(vertices, quality="draft")
    assert full.shape == (SIZE, SIZE, 3) and draft.shape == (SIZE // 2, SIZE // 2, 3)
    assert draft.std() > 5
    with pytest.raises(ViewerError, match="unknown quality 'best'.*draft"):
        interactive.render(vertices, quality="best")


def test_coarser_faces_are_a_quarter_of_a_closed_mesh_over_its_own_vertices():
    """Drafts draw a decimated copy of the mesh's triangles that indexes the same vertices:
    a quarter of them, none degenerate, the surface still closed (every edge in two faces);
    a small mesh is drawn whole."""
    import trimesh

    from viewer.lod import DRAFT_SHARE, MIN_FACES, coarser_faces

    sphere = trimesh.creation.icosphere(subdivisions=5)  # 20,480 faces
    coarse = coarser_faces(sphere.vertices, sphere.faces)
    assert abs(len(coarse) / len(sphere.faces) - DRAFT_SHARE) < 0.02
    assert coarse.min() >= 0 and coarse.max() < len(sphere.vertices)
    assert (np.sort(coarse, axis=1)[:, 1:] != np.sort(coarse, axis=1)[:, :-1]).all()
    edges = np.sort(np.concatenate([coarse[:, [0, 1]], coarse[:, [1, 2]], coarse[:, [2, 0]]]),
                    axis=1)
    assert (np.unique(edges, axis=0, return_counts=True)[1] == 2).all()
    small = trimesh.creation.icosphere(subdivisions=2)
    assert len(small.faces) < MIN_FACES
    assert np.array_equal(coarser_faces(small.vertices, small.faces), small.faces)


def test_draft_frames_draw_coarse_triangles_that_follow_the_body(model):
    """A draft of Anny draws a quarter of its triangles over the same vertices: it shows the
    same body as the full frame scaled down, and a heavier body covers more pixels (the coarse
    triangles follow the vertices they index)."""
    renderer = interactive_renderer(model, size=256)
    try:
        slim, broad = body(model, weight=0.1).numpy(), body(model, weight=1.0).numpy()
        full = renderer.render(slim, floor=False)
        draft = renderer.render(slim, quality="draft", floor=False)
        assert renderer._coarse_index.size // 12 < 0.3 * len(renderer.uv_layout.faces)
        scaled = full.reshape(128, 2, 128, 2, 3).mean(axis=(1, 3))
        assert np.abs(scaled - draft).mean() < 3.0
        broad_draft = renderer.render(broad, quality="draft", floor=False)
        area = [(np.abs(image.astype(int) - image[:, :1]).max(-1) > 30).sum()
                for image in (draft, broad_draft)]  # the backdrop is the same along a row
        assert area[1] > 1.05 * area[0], area
    finally:
        renderer.release()


@pytest.mark.parametrize("camera", [
    OrbitCamera(float("nan"), float("nan"), float("nan"), (float("nan"), float("inf"))),
    OrbitCamera(1e308, -1e308, 1e308, (1e308, -1e308)),
    OrbitCamera("left", None, -5.0, "up"),
    OrbitCamera(0.0, 90.0, 0.0, (0.0, 0.0)),
])
def test_wild_cameras_are_clamped_not_fatal(model, interactive, camera):
    image = interactive.render(body(model).numpy(), camera)
    assert image.shape == (SIZE, SIZE, 3)
    safe = camera.clamped()
    assert -180 <= safe.azimuth < 180 and -89 <= safe.elevation <= 89
    assert 0.1 <= safe.distance <= 10 and all(abs(p) <= 3 for p in safe.pan)


def test_nan_camera_falls_back_to_the_default_view(model, interactive):
    vertices = body(model).numpy()
    nan = float("nan")
    assert np.array_equal(interactive.render(vertices, OrbitCamera(nan, nan, nan, (nan, nan))),
                          interactive.render(vertices, OrbitCamera()))


@pytest.mark.parametrize("camera", [OrbitCamera(0, 10, 0.5, (0, 0.25)),
                                    OrbitCamera(30, 10, 0.5, (0, 0.25)),
                                    OrbitCamera(-60, 0, 0.5, (0, 0.25)),
                                    OrbitCamera(0, 0, 0.2, (0, 0.75))])
def test_no_dark_speckles_along_the_silhouette(model, camera):
    """A silhouette pixel blends the body's shading next to it with the background, so it is
    never darker than both. The old shader flipped smooth normals that faced slightly away at
    the rim, and shaded shoulders, arms and jaw with dark dots (2-18 % of rim pixels here)."""
    vertices = body(model).numpy()
    renderer = interactive_renderer(model, size=512, background=(0.75, 0.78, 0.82))
    image = renderer.render(vertices, camera, floor=False).astype(float)
    empty = renderer.render(vertices + 100.0, camera, floor=False).astype(float)
    renderer.release()
    luminance, background = image @ [0.299, 0.587, 0.114], empty @ [0.299, 0.587, 0.114]
    covered = np.abs(image - empty).max(axis=-1) > 0
    solid = covered.copy()  # covered pixels whose four neighbours are covered too
    for axis in (0, 1):
        for shift in (-1, 1):
            solid &= np.roll(covered, shift, axis=axis)
    darkest = np.full(luminance.shape, np.inf)  # the darkest solid body pixel within 2 px
    body_only = np.where(solid, luminance, np.inf)
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            darkest = np.minimum(darkest, np.roll(np.roll(body_only, dy, 0), dx, 1))
    rim = covered & ~solid & np.isfinite(darkest)
    dark = rim & (luminance < np.minimum(darkest, background) - 20)
    assert rim.sum() > 200
    assert dark.sum() < 0.01 * rim.sum(), f"{dark.sum()} dark of {rim.sum()} rim pixels"


def test_uv_layout_splits_seams_and_keeps_faces():
    from viewer import UVLayout

    faces = np.array([[0, 1, 2], [0, 2, 3]])
    uv = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]], np.float32)
    layout = UVLayout.from_corners(faces, uv, np.array([[0, 1, 2], [4, 2, 3]]))
    assert len(layout.source) == 5  # vertex 0 has two texture coordinates
    assert np.array_equal(layout.source[layout.faces], faces)
    with pytest.raises(ViewerError, match="texture coordinates"):
        UVLayout.from_corners(faces, uv, np.array([[0, 1, 2]]))


def test_skin_and_clay_differ_and_the_face_texture_shows(model):
    from semantify.pictures.appearance import material_for

    skin, clay = material_for(model, "skin"), material_for(model, "clay")
    assert skin.texture is not None and skin.texture.shape[2] == 4 and clay.texture is None
    vertices = body(model).numpy()
    renderer = interactive_renderer(model, size=256)
    face = OrbitCamera(0, 0, 0.12, (0, 0.48))  # the face fills the frame
    with_skin = renderer.render(vertices, face, material=skin).astype(int)
    with_clay = renderer.render(vertices, face, material=clay).astype(int)
    renderer.release()
    assert np.abs(with_skin - with_clay).mean() > 2

    def redness(image):
        return (image[..., 0] - image[..., 1] > 70).mean()

    assert redness(with_skin) > redness(with_clay) + 0.002  # lips


def test_batch_renders_skin(model):
    clay = batch_renderer(model, "front", size=64)
    skin = batch_renderer(model, "front", size=64, appearance="skin")
    vertices = body(model)[None]
    a, b = clay.render(vertices).astype(int), skin.render(vertices).astype(int)
    clay.release()
    skin.release()
    assert np.abs(a - b).mean() > 1 and (silhouette(a[0, 0]) == silhouette(b[0, 0])).all()

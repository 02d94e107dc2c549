"""Skin and clay on the way out: GLB materials, turntable files, and ``semantify render``."""

from __future__ import annotations

import imageio.v2 as imageio
import imageio.v3 as iio
import numpy as np
import pytest
import torch
import trimesh
from PIL import Image

from semantify.pictures.appearance import (SHOWN_CLAY, check_appearance, clip_material_for,
                                          material_for)
from semantify.cli import main
from semantify.errors import SemantifyError
from semantify.export import export_mesh
from semantify.models import load_model
from semantify.pictures.turntable import write_turntable


@pytest.fixture(scope="module")
def model():
    return load_model("anny-body")


def _glb_mesh(path):
    scene = trimesh.load(path, file_type="glb", process=False)
    return next(iter(scene.geometry.values()))


def test_glb_carries_the_skin_texture(model, tmp_path):
    with torch.no_grad():
        vertices = model(model.default_coefficients()[None])[0].numpy()
    skin = material_for(model, "skin")
    path = export_mesh(tmp_path / "skin.glb", vertices, model.faces.numpy(), model.uv_map, skin)
    mesh = _glb_mesh(path)
    material = mesh.visual.material
    assert material.name == "skin" and material.baseColorTexture is not None
    assert material.baseColorTexture.size == skin.texture.shape[1::-1]
    assert mesh.visual.uv.shape == (len(mesh.vertices), 2)
    assert len(mesh.vertices) >= len(vertices)  # repeated on texture seams
    assert abs(mesh.vertices[:, 1].max() - vertices[:, 1].max()) < 1e-5


def test_glb_carries_the_clay_colour_and_keeps_vertex_order(model, tmp_path):
    with torch.no_grad():
        vertices = model(model.default_coefficients()[None])[0].numpy()
    path = export_mesh(tmp_path / "clay.glb", vertices, model.faces.numpy(), model.uv_map,
                       material_for(model, "clay"))
    mesh = _glb_mesh(path)
    color = np.asarray(mesh.visual.material.baseColorFactor, dtype=float)
    color = color / 255.0 if color.max() > 1 else color
    assert np.allclose(color[:3], [c ** 2.2 for c in SHOWN_CLAY.albedo], atol=0.01)
    assert np.allclose(mesh.vertices, vertices, atol=1e-6)


def test_clay_is_clearly_not_skin_and_clips_images_keep_their_clay(model):
    """Clay is a cool grey (blue above red), skin warm (red well above blue); the images CLIP
    scores are still rendered in viewer.CLAY, so trained sets keep their meaning."""
    import viewer

    red, _, blue = material_for(model, "clay").albedo
    assert blue > red
    texture = material_for(model, "skin").texture[..., :3].reshape(-1, 3).astype(float)
    skin_red, _, skin_blue = texture.mean(axis=0) / 255
    assert skin_red - skin_blue > 0.15
    assert clip_material_for(model, "clay") is viewer.CLAY
    assert clip_material_for(model, "skin") is material_for(model, "skin")


def test_turntables_are_valid_files(model, tmp_path):
    coefficients = model.default_coefficients()
    mp4 = write_turntable(tmp_path / "spin.mp4", model, coefficients, "walking", "skin",
                          size=100, frames=8, fps=8)
    reader = imageio.get_reader(mp4)
    frames = [frame for frame in reader]
    assert reader.get_meta_data()["codec"] == "h264" and len(frames) == 8
    assert frames[0].shape == (112, 112, 3)  # rounded up to H.264 blocks
    assert np.abs(frames[0].astype(int) - frames[2].astype(int)).mean() > 1  # it turns
    gif = write_turntable(tmp_path / "spin.gif", model, coefficients, "sitting", size=64,
                          frames=6)
    images = iio.imread(gif, index=None)
    assert images.shape[:3] == (6, 64, 64)
    assert not list(tmp_path.glob(".*"))  # no temporary files left


def test_turntable_bad_input_is_one_line(model, tmp_path):
    coefficients = model.default_coefficients()
    for kwargs, fragment in (({"path": tmp_path / "x.avi"}, "use one of .mp4, .gif"),
                             ({"path": tmp_path / "x.gif", "frames": 1}, "frames must be"),
                             ({"path": tmp_path / "x.gif", "size": 10**5}, "size must be"),
                             ({"path": tmp_path / "no" / "x.gif"}, "not a folder")):
        path = kwargs.pop("path")
        with pytest.raises(SemantifyError, match=fragment):
            write_turntable(path, model, coefficients, **kwargs)
    with pytest.raises(SemantifyError, match="unknown appearance 'chrome'; use one of skin"):
        check_appearance("chrome")


def test_render_cli_poses_skin_and_turntables(tmp_path, capsys):
    png = tmp_path / "walk.png"
    assert main(["render", "anny-body", "--pose", "walking", "--appearance", "skin",
                 "--views", "front,side", "--size", "96", "--out", str(png)]) == 0
    image = np.asarray(Image.open(png).convert("RGB"))
    assert image.shape == (96, 192, 3)
    rest = tmp_path / "rest.png"
    assert main(["render", "anny-body", "--views", "front,side", "--size", "96", "--out",
                 str(rest)]) == 0
    assert np.abs(image.astype(int) - np.asarray(Image.open(rest).convert("RGB"))).mean() > 1
    gif = tmp_path / "spin.gif"
    assert main(["render", "anny-body", "--pose", "sitting", "--frames", "4", "--size", "64",
                 "--out", str(gif)]) == 0
    assert iio.imread(gif, index=None).shape[0] == 4
    capsys.readouterr()
    assert main(["render", "anny-body", "--pose", "dancing", "--out", str(png)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "valid poses: rest" in error and "walking" in error
    assert main(["render", "anny-body", "--out", str(tmp_path / "x.webm")]) == 2
    assert ".png" in capsys.readouterr().err

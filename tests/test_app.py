"""The web app, served for real on a free localhost port and driven with gradio_client."""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

gradio_client = pytest.importorskip("gradio_client")

# Outputs of the view endpoints (the session State is not returned to clients).
IMAGE, MEASURES, RECORD, INFO = 0, 1, 2, 3


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import os

    cache = tmp_path_factory.mktemp("cache")
    old = os.environ.get("SEMANTIFY_CACHE_DIR")
    os.environ["SEMANTIFY_CACHE_DIR"] = str(cache)
    from semantify.app import build_app

    demo = build_app()
    demo.launch(server_name="127.0.0.1", server_port=None, prevent_thread_lock=True,
                quiet=True, max_file_size="20mb")
    yield demo.local_url
    demo.close()
    if old is None:
        os.environ.pop("SEMANTIFY_CACHE_DIR", None)
    else:
        os.environ["SEMANTIFY_CACHE_DIR"] = old


@pytest.fixture(scope="module")
def client(server):
    client = gradio_client.Client(server, verbose=False)
    client.predict(api_name="/start")
    client.predict("raw:anny-body", api_name="/open")  # sliders/ ships a metric set, opened first
    return client


def pixels(payload) -> np.ndarray:
    """(H, W, 3) pixels of a render, which arrives inline as a JPEG data URL."""
    from semantify.app.frames import decode_data_url

    assert payload["url"].startswith("data:image/jpeg;base64,") and payload["path"] is None
    return np.asarray(decode_data_url(payload["url"]).convert("RGB"), dtype=np.int16)


def test_slider_move_changes_image_and_measurements(client):
    before = client.predict(3, 0.5, api_name="/move")
    after = client.predict(3, 0.95, api_name="/move")  # slot 3 of anny-body: weight
    assert np.abs(pixels(after[IMAGE]) - pixels(before[IMAGE])).mean() > 0.1
    rows = {row[0]: row[1] for row in after[MEASURES]["data"]}
    assert {"Height", "Waist", "Mass"} <= set(rows)
    heavier = {row[0]: row[1] for row in before[MEASURES]["data"]}
    assert rows["Mass"] > heavier["Mass"]
    assert after[RECORD]["sliders"]["weight"] == pytest.approx(0.95)


def test_sessions_are_independent(server, client):
    other = gradio_client.Client(server, verbose=False)
    other.predict(api_name="/start")
    other.predict("raw:anny-body", api_name="/open")
    client.predict(4, 0.9, api_name="/move")  # height
    theirs = other.predict(4, 0.1, api_name="/move")
    mine = client.predict(3, 0.5, api_name="/move")
    assert mine[RECORD]["sliders"]["height"] == pytest.approx(0.9)
    assert theirs[RECORD]["sliders"]["height"] == pytest.approx(0.1)


def test_cli_rejects_a_folder_that_is_not_a_slider_set(tmp_path, capsys):
    from semantify.cli import main

    assert main(["app", "--sliders", str(tmp_path)]) == 2
    assert "not a slider set" in capsys.readouterr().err


def test_heatmap_and_ramp_animation(client):
    plain = client.predict(3, 0.3, api_name="/move")
    heat = client.predict(True, api_name="/heatmap")
    assert np.abs(pixels(heat[0]) - pixels(plain[IMAGE])).mean() > 0.1
    client.predict(False, api_name="/heatmap")
    gif, _ = client.predict("weight", api_name="/ramp")
    gif = gif["value"] if isinstance(gif, dict) else gif  # a visibility update with its value
    gif = gif["path"] if isinstance(gif, dict) else gif
    frames = Image.open(gif)
    assert frames.format == "GIF" and frames.n_frames > 10


def test_export_is_a_mesh_with_the_model_vertex_count(client):
    import trimesh

    from semantify.models import load_model

    files, glb, _ = client.predict(api_name="/export")
    paths = {p.rsplit(".", 1)[-1]: p for p in files}
    assert set(paths) == {"obj", "ply", "glb", "json"}
    count = load_model("anny-body").num_vertices
    for kind in ("ply", "glb"):
        mesh = trimesh.load(paths[kind], process=False, force="mesh")
        assert len(mesh.vertices) == count and len(mesh.faces) > 0, kind
    lines = open(paths["obj"]).read().splitlines()  # trimesh would split vertices at UV seams
    assert sum(line.startswith("v ") for line in lines) == count
    assert any(line.startswith("vt ") for line in lines)
    assert glb.endswith(".glb")


def test_load_params_restores_the_sliders(client):
    moved = client.predict(3, 0.8, api_name="/move")
    files, _, _ = client.predict(api_name="/export")
    params = next(p for p in files if p.endswith(".json"))
    client.predict(3, 0.2, api_name="/move")
    restored = client.predict(gradio_client.handle_file(params), api_name="/load_params")
    assert restored[RECORD]["sliders"] == moved[RECORD]["sliders"]
    assert json.load(open(params))["model"] == "anny-body"


def _bad_files(folder) -> dict[str, str]:
    """name -> expected fragment of the message."""
    Image.new("RGB", (32, 32), (90, 20, 20)).save(folder / "good.jpg", quality=95)
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.png").write_text("not an image at all")
    data = (folder / "good.jpg").read_bytes()
    (folder / "corrupt.jpg").write_bytes(data[:200] + b"\0" * 50)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    (folder / "huge.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                                      + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                                      + chunk(b"IEND", b""))
    frames = [Image.new("RGB", (24, 24), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:])
    Image.new("CMYK", (24, 24), (0, 50, 90, 10)).save(folder / "cmyk.jpg")
    Image.fromarray(np.full((24, 24), 40000, np.uint16)).save(folder / "deep.png")
    Image.new("RGBA", (24, 24), (0, 0, 0, 0)).save(folder / "alpha.png")
    return {"empty.png": "empty", "notes.png": "not an image", "corrupt.jpg": "corrupt",
            "huge.png": "too large", "animated.gif": "first frame", "cmyk.jpg": "CMYK",
            "deep.png": "16-bit", "alpha.png": "transparency"}


def test_every_bad_upload_gets_a_message_and_the_server_keeps_serving(client, tmp_path):
    for name, fragment in _bad_files(tmp_path).items():
        result = client.predict([gradio_client.handle_file(str(tmp_path / name))],
                                api_name="/photos")
        info = result[INFO]
        assert fragment in info, (name, info)
        after = client.predict(3, 0.4, api_name="/move")
        assert after[IMAGE] and after[RECORD]["sliders"]["weight"] == pytest.approx(0.4)


def test_build_without_clip_weights_explains_how_to_provide_them(client):
    failed = client.predict("anny-body", "CLIP from a local checkpoint", "/missing/clip.pt", 64,
                            api_name="/build")
    assert "Could not build sliders" in failed[-1] and "/missing/clip.pt" in failed[-1]
    assert client.predict(3, 0.6, api_name="/move")[RECORD]["sliders"]["weight"] == 0.6


def test_build_sliders_in_the_app_then_fit_a_photo(client, tmp_path):
    built = client.predict("anny-body", "tiny-random (NOT SEMANTIC, for testing)", "", 64,
                           api_name="/build")
    log = built[-1]
    assert "Built" in log, log
    record = built[RECORD]
    assert record["slider_set"] and record["sliders"]
    assert "not semantic" in built[INFO].lower()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (300, 200, 3), dtype=np.uint8)).save(tmp_path / "p.png")
    fitted = client.predict([gradio_client.handle_file(str(tmp_path / "p.png"))],
                            api_name="/photos")
    assert "fitted to 1 photo" in fitted[INFO]
    assert fitted[RECORD]["sliders"] != record["sliders"]
    render = client.predict(0, 0.5, api_name="/move")[IMAGE]  # a body, as the data was made
    Image.fromarray(pixels(render).astype(np.uint8)).save(tmp_path / "render.png")
    crop = gradio_client.handle_file(str(tmp_path / "render.png"))
    cropped = client.predict({"background": crop, "layers": [], "composite": crop}, [],
                             api_name="/fit_crop")
    assert "cropped photo" in cropped[INFO]
    assert cropped[RECORD]["sliders"] != fitted[RECORD]["sliders"]

    for method in ("mapper (text as image embedding)", "retrieval (top-k dataset samples)"):
        shaped = client.predict("a tall, heavy-set man with long legs " * 30, method,
                                api_name="/text")
        assert "cut to its first" in shaped[INFO] and method.split()[0] in shaped[INFO]
        assert set(shaped[RECORD]["sliders"]) == set(record["sliders"])
    grown = client.predict("curvy, , lanky légs, curvy", api_name="/add_words")
    names = list(grown[RECORD]["sliders"])
    assert names[-2:] == ["curvy", "lanky légs"] and "already a slider" in grown[INFO]

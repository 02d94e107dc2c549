"""The web app, served for real on a free localhost port and driven with gradio_client."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from conftest import api_client

from semantify.app.animation import FRAMES

gradio_client = pytest.importorskip("gradio_client")

# Outputs of the endpoints that move sliders (the session State is not returned to clients):
# the viewer, the measurement table, the params record, the notices, then the slider pool.
IMAGE, MEASURES, RECORD, INFO = 0, 1, 2, 3
WEIGHT = 3  # raw anny-body shows its featured phenotypes first: gender, age, muscle, weight


@pytest.fixture(scope="module")
def server(word_app):
    """The shared server offering the word set (conftest's word_app): (URL, cache root)."""
    return word_app


def open_entry(client, entry: str):
    client.predict(api_name="/start")
    return client.predict(entry, api_name="/open")


@pytest.fixture(scope="module")
def client(server):
    client = api_client(server[0])
    open_entry(client, "raw-anny-body")  # sliders/ ships a metric set, opened first
    return client


def pixels(payload) -> np.ndarray:
    """(H, W, 3) pixels of a render, which arrives inline as a JPEG data URL."""
    from semantify.app.frames import decode_data_url

    assert isinstance(payload, str) and payload.startswith("data:image/jpeg;base64,")
    return np.asarray(decode_data_url(payload).convert("RGB"), dtype=np.int16)


def move(client, slot, value):
    return client.predict(slot, value, api_name="/move")


def test_slider_move_changes_image_and_measurements(client):
    before = move(client, WEIGHT, 0.5)
    after = move(client, WEIGHT, 0.95)
    assert np.abs(pixels(after[IMAGE]) - pixels(before[IMAGE])).mean() > 0.1
    rows = {row[0]: row[1] for row in after[MEASURES]["data"]}
    assert {"Height", "Waist", "Mass"} <= set(rows)
    lighter = {row[0]: row[1] for row in before[MEASURES]["data"]}
    assert rows["Mass"] > lighter["Mass"]
    assert after[RECORD]["coefficients"]["weight"] == pytest.approx(0.95)


def test_sessions_are_independent(server, client):
    other = api_client(server[0])
    open_entry(other, "raw-anny-body")
    move(client, 4, 0.9)  # height
    theirs = move(other, 4, 0.1)
    mine = move(client, WEIGHT, 0.5)
    assert mine[RECORD]["coefficients"]["height"] == pytest.approx(0.9)
    assert theirs[RECORD]["coefficients"]["height"] == pytest.approx(0.1)


def test_a_typed_value_outside_the_range_is_clamped_everywhere(client):
    result = move(client, WEIGHT, 7.5)
    assert result[RECORD]["coefficients"]["weight"] == 1.0  # the render used the clamped value


def test_the_picker_takes_only_listed_entries(client):
    for hostile in ("sliders:/etc", "raw:linear:/etc/passwd.npz", "../../x", "<b>x</b>"):
        with pytest.raises(Exception) as failure:
            client.predict(hostile, api_name="/open")
        assert "/etc" not in str(failure.value) or "not in the list" in str(failure.value)
    assert move(client, WEIGHT, 0.4)[RECORD]["coefficients"]["weight"] == pytest.approx(0.4)


def test_heatmap_and_ramp_animation(server, client):
    plain = move(client, WEIGHT, 0.3)
    heat = client.predict(True, api_name="/heatmap")
    assert np.abs(pixels(heat[0]) - pixels(plain[IMAGE])).mean() > 0.1
    client.predict(False, api_name="/heatmap")
    gif, _ = client.predict(WEIGHT, api_name="/ramp")
    gif = gif["value"] if isinstance(gif, dict) and "value" in gif else gif
    gif = gif["path"] if isinstance(gif, dict) else gif
    frames = Image.open(gif)
    assert frames.format == "GIF" and frames.n_frames == 2 * FRAMES - 2  # low, high, low
    frames.seek(1)
    second = np.asarray(frames.convert("RGB"))
    frames.seek(frames.n_frames - 1)
    assert np.array_equal(np.asarray(frames.convert("RGB")), second)  # the way back mirrors
    frames.seek(FRAMES - 1)
    assert np.abs(np.asarray(frames.convert("RGB")).astype(float) - second).mean() > 0.5


def test_export_is_a_mesh_in_the_session_folder(server, client):
    import trimesh

    from semantify.models import load_model

    files, preview, _ = client.predict(False, api_name="/export")
    assert any(p.endswith("shape-rigged.glb") for p in files)  # a skeleton: rigged too
    paths = {p.rsplit(".", 1)[-1]: p for p in files if not p.endswith("-rigged.glb")}
    assert set(paths) == {"obj", "ply", "glb", "json"}
    count = load_model("anny-body").num_vertices
    mesh = trimesh.load(paths["ply"], process=False, force="mesh")
    assert len(mesh.vertices) == count and len(mesh.faces) > 0
    glb = trimesh.load(paths["glb"], process=False, force="mesh")  # skin: textured, so
    assert len(glb.vertices) >= count and glb.visual.material.baseColorTexture is not None
    lines = open(paths["obj"]).read().splitlines()  # trimesh would split vertices at UV seams
    assert sum(line.startswith("v ") for line in lines) == count
    assert any(line.startswith("vt ") for line in lines)
    written = list((server[1] / "sessions").rglob("shape.glb"))
    assert written and preview.endswith(".glb")


def test_params_round_trip_app_to_app(client):
    moved = move(client, WEIGHT, 0.8)
    files, _, _ = client.predict(False, api_name="/export")
    params = next(p for p in files if p.endswith(".json"))
    move(client, WEIGHT, 0.2)
    restored = client.predict(gradio_client.handle_file(params), api_name="/load_params")
    assert restored[RECORD]["coefficients"] == moved[RECORD]["coefficients"]
    record = json.load(open(params))
    assert record["version"] == 2 and record["model"]["id"] == "anny-body"


def test_params_round_trip_app_and_cli(server, word_set, tmp_path):
    """CLI -> app and app -> CLI (shape, measure, render) on the same word set."""
    from semantify.cli import main

    _, sliders, chosen = word_set
    client = api_client(server[0])
    client.predict(api_name="/start")
    cli_params = tmp_path / "cli.json"
    first = SliderSet_first(sliders)
    assert main(["shape", str(sliders), "--set", f"{chosen[0]}={first}", "--out",
                 str(tmp_path / "cli.ply"), "--params", str(cli_params)]) == 0
    loaded = client.predict(gradio_client.handle_file(str(cli_params)),
                            api_name="/load_params")
    assert loaded[RECORD]["sliders"][chosen[0]] == pytest.approx(first, abs=1e-3)
    assert loaded[RECORD]["slider_set"] == "sliders"
    files, _, _ = client.predict(False, api_name="/export")
    app_params = next(p for p in files if p.endswith(".json"))
    again = tmp_path / "again.json"
    assert main(["shape", str(sliders), "--params-in", app_params, "--out",
                 str(tmp_path / "again.ply"), "--params", str(again)]) == 0
    assert json.loads(again.read_text())["coefficients"] == pytest.approx(
        json.load(open(app_params))["coefficients"], abs=1e-5)
    assert main(["measure", app_params]) == 0
    assert main(["render", "anny-body", "--coeffs", app_params, "--size", "64", "--out",
                 str(tmp_path / "r.png")]) == 0


def SliderSet_first(folder):
    from semantify.sets.sliders import SliderSet

    first = SliderSet.load(folder).sliders[0]
    return round((first.default + first.high) / 2, first.decimals)


def test_cli_rejects_a_folder_that_is_not_a_slider_set(tmp_path, capsys):
    from semantify.cli import main

    assert main(["app", "--sliders", str(tmp_path)]) == 2
    assert "not a slider set" in capsys.readouterr().err


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
    return {"empty.png": "empty", "notes.png": "not an image", "corrupt.jpg": "corrupt.jpg is",
            "huge.png": "too large", "animated.gif": "first frame", "cmyk.jpg": "CMYK",
            "deep.png": "16-bit", "alpha.png": "transparency"}


def test_every_bad_upload_gets_a_message_and_the_server_keeps_serving(server, word_set,
                                                                      tmp_path):
    client = api_client(server[0])
    open_entry(client, _entry_of(server, word_set[1]))
    for name, fragment in _bad_files(tmp_path).items():
        result = client.predict([gradio_client.handle_file(str(tmp_path / name))],
                                api_name="/photos")
        info = result[INFO]
        assert fragment in info, (name, info)
        assert str(tmp_path) not in info  # no server path on the page
        after = move(client, 0, 20.0)
        assert after[IMAGE]


def _entry_of(server, folder) -> str:
    from semantify.app.catalog import set_id

    return set_id(Path(folder))


def test_photos_replace_earlier_ones_and_rejects_clear_them(server, word_set, tmp_path):
    client = api_client(server[0])
    open_entry(client, _entry_of(server, word_set[1]))
    rng = np.random.default_rng(0)
    paths = []
    for i in range(3):
        path = tmp_path / f"p{i}.png"
        Image.fromarray(rng.integers(0, 255, (120, 80, 3), dtype=np.uint8)).save(path)
        paths.append(gradio_client.handle_file(str(path)))
    one = client.predict(paths[:1], api_name="/photos")
    three = client.predict(paths, api_name="/photos")
    assert "fitted to 1 photo" in one[INFO] and "fitted to 3 photo" in three[INFO]
    (tmp_path / "bad.png").write_text("nope")
    rejected = client.predict([gradio_client.handle_file(str(tmp_path / "bad.png"))],
                              api_name="/photos")
    assert "not an image" in rejected[INFO]
    assert "upload a photo first" in client.predict(api_name="/fit_crop")[INFO]


def test_a_metric_set_says_photos_need_words(server):
    client = api_client(server[0])
    shipped = Path(__file__).resolve().parents[1] / "sliders" / "anny-body-metric"
    open_entry(client, _entry_of(server, shipped))
    path = Path(server[1]) / "p.png"
    Image.new("RGB", (64, 64), (120, 30, 30)).save(path)
    result = client.predict([gradio_client.handle_file(str(path))], api_name="/photos")
    assert "needs word sliders" in result[INFO]


def test_photo_and_word_tools_wait_for_the_page_load(server):
    """A photo dropped before the page load's answer was lost (that answer replaced the
    session it went to): the tools that start from the session are off in the page as
    served. The page load's answer turns them on for a set with words (test_browser.py's crop
    test uploads a photo through them)."""
    import httpx

    config = httpx.get(server[0] + "config", timeout=30).json()
    props = {str(c["props"].get("elem_id") or c["props"].get("value")): c["props"]
             for c in config["components"]}
    for name in ("uploads", "fit-crop", "Add sliders for these words", "Shape from text"):
        assert props[name]["interactive"] is False, name


def test_enter_in_the_prompt_before_the_page_load_says_to_wait(server):
    """A textbox's Enter cannot be switched off: before the page load's answer, "Shape from
    text" says the page is loading instead of shaping a body that answer would replace."""
    shaped = api_client(server[0]).predict("a tall man", "mapper", api_name="/text")
    assert "still loading" in shaped[INFO]


def test_build_without_clip_weights_explains_how_to_provide_them(client):
    failed = client.predict("anny-body", "CLIP from a local checkpoint", "/missing/clip.pt", 64,
                            False, api_name="/build")
    assert "does not exist" in failed[-1] and "/missing" not in failed[-1]
    assert move(client, WEIGHT, 0.6)[RECORD]["coefficients"]["weight"] == pytest.approx(0.6)


def test_text_words_and_random_on_a_word_set(server, word_set):
    client = api_client(server[0])
    opened = open_entry(client, _entry_of(server, word_set[1]))
    assert "not semantic" in opened[INFO].lower()
    for method in ("mapper", "retrieval"):
        shaped = client.predict("a tall, heavy-set man with long legs " * 30, method,
                                api_name="/text")
        assert "longer than CLIP reads" in shaped[INFO] and f"({method})" in shaped[INFO]
        assert set(shaped[RECORD]["sliders"]) == set(word_set[2])
    random = client.predict(api_name="/random")
    assert "random shape" in random[INFO]
    grown = client.predict("curvy, , lanky légs, curvy", api_name="/add_words")
    names = list(grown[RECORD]["sliders"])
    assert names[-2:] == ["curvy", "lanky légs"] and "already a slider" in grown[INFO]
    assert str(server[1]) in grown[INFO] or "saved as" in grown[INFO]


def test_the_build_tab_queues_a_recipe_with_its_options(tmp_path, monkeypatch):
    from semantify.app import AppConfig
    from semantify.app.catalog import Catalog
    from semantify.app.first_build import FirstBuilds
    from semantify.errors import SemantifyError

    monkeypatch.setenv("SEMANTIFY_CACHE_DIR", str(tmp_path))
    private = AppConfig.create(public=False)
    builds = FirstBuilds(Catalog(private), private)
    settings = builds.custom("anny-body", "tiny-random", None, 64, True)
    assert settings.samples == 64 and settings.quick and not settings.clip.is_semantic
    assert settings.default_out().parent == tmp_path / "sliders"  # named by the app, not typed
    with pytest.raises(SemantifyError, match="does not exist"):
        builds.custom("anny-body", None, str(tmp_path / "no-weights.pt"), None, False)
    public = AppConfig.create(public=True)
    with pytest.raises(SemantifyError, match="does not open files named by visitors"):
        FirstBuilds(Catalog(public), public).custom("anny-body", None, "/etc/passwd", None,
                                                    False)
    with pytest.raises(SemantifyError, match="at least 64"):
        builds.custom("anny-body", None, None, 16, False)


def test_the_metric_table_marks_set_free_and_missed_sliders(server):
    client = api_client(server[0])
    shipped = Path(__file__).resolve().parents[1] / "sliders" / "anny-body-metric"
    opened = open_entry(client, _entry_of(server, shipped))
    rows = {row[0]: row for row in opened[MEASURES]["data"]}
    assert rows["Height"][3].startswith("free") and rows["Waist"][3].startswith("free")
    rows = {row[0]: row for row in move(client, 0, 160.0)[MEASURES]["data"]}  # height set
    assert rows["Height"][3].startswith("set: asked 160.0 (people: ")
    assert abs(rows["Height"][1] - 160.0) < 0.5 and rows["Waist"][3].startswith("free")
    move(client, 2, 140.0)
    impossible = move(client, 4, 45.0)  # a 140 cm waist on a 160 cm, 45 kg body: nobody
    rows = {row[0]: row for row in impossible[MEASURES]["data"]}
    assert impossible[RECORD]["set"] == ["height_cm", "waist_cm", "mass_kg"]
    missed = [name for name in ("Height", "Waist", "Mass")
              if rows[name][3].startswith("⚠ MISSED")]
    assert missed and all(f"{name} (" in impossible[INFO] for name in missed)
    freed = client.predict("waist_cm", api_name="/free")  # ↺: the waist follows the body again
    rows = {row[0]: row for row in freed[MEASURES]["data"]}
    assert freed[RECORD]["set"] == ["height_cm", "mass_kg"] and rows["Waist"][3].startswith("free")


def test_a_choice_made_while_a_drag_settles_is_kept():
    """Gradio keeps whichever answer of a visitor's two events finishes last: a heatmap ticked
    while the sliders' settle ran was undone when the settle finished. Events run in turn from
    the newest state keep both changes, in either order."""
    import dataclasses
    import threading

    from semantify.app.session import Session

    session = Session(values=(1.0,))
    settling, ticked = threading.Event(), threading.Event()

    def settle(newest: Session) -> Session:
        settling.set()
        ticked.wait(0.5)  # the tick arrives while the settle runs (it waits for the settle)
        return dataclasses.replace(newest, values=(2.0,))

    def tick(newest: Session) -> Session:
        return dataclasses.replace(newest, heatmap=True)

    slow = threading.Thread(target=session.newest.run, args=(session, settle, lambda s: s))
    slow.start()
    settling.wait(5)
    quick = threading.Thread(target=session.newest.run, args=(session, tick, lambda s: s))
    quick.start()
    ticked.set()
    slow.join(5)
    quick.join(5)
    assert session.newest.session.values == (2.0,) and session.newest.session.heatmap

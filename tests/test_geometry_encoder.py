"""The ground-truth ``--clip geometry`` encoder through the real pipeline: a word slider does
what its word says, photos and text land where they should (anny-body, front view, the
default recipe at a test's sample count)."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from semantify.clip import ClipSpec, load_clip
from semantify.clip import images as image_ops
from semantify.clip.geometry import FEATURES, Lexicon
from semantify.errors import SemantifyError

RANDOM_WORDS = ["wobbly", "sparkly", "friendly", "purple"]


def geometry_set(tmp_path_factory, recipe: str):
    """``semantify build RECIPE --clip geometry`` (the recipe otherwise, 128 samples: the
    words' receipts measure as they do at 256, e.g. tall +38 cm against +44)."""
    from semantify.cli import main

    out = tmp_path_factory.mktemp(recipe) / "sliders"
    assert main(["build", recipe, "--clip", "geometry", "--samples", "128",
                 "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def geometry_build(tmp_path_factory):
    return geometry_set(tmp_path_factory, "anny-body")


def receipts_of(folder) -> dict:
    from semantify.sets.receipts import read_receipts

    return read_receipts(folder)


def test_spec_names_a_test_encoder_never_clip():
    spec = ClipSpec.parse("geometry")
    assert spec.is_geometry and spec.is_semantic and not spec.is_random
    assert "TEST ENCODER" in spec.label and "not CLIP" in spec.label
    assert ClipSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(SemantifyError, match="another version of the geometry test encoder"):
        ClipSpec.from_dict({**spec.to_dict(), "lexicon_sha256": "0" * 16})
    with pytest.raises(SemantifyError, match="no weights"):
        ClipSpec.parse("geometry", checkpoint="weights.pt")
    with pytest.raises(SemantifyError, match="geometry"):
        ClipSpec.parse("geo metry")
    with pytest.raises(SemantifyError, match="unknown encoder 'geometri'; did you mean geometry"):
        ClipSpec.parse("geometri")


def test_embeddings_are_unit_vectors_with_lexicon_and_seeded_random_directions():
    scorer = load_clip(ClipSpec.parse("geometry"))
    text = scorer.encode_text(["tall", "short", "wobbly", "wobbly"], "a 3D render of a {} person")
    assert torch.allclose(text.norm(dim=1), torch.ones(4))
    height = 1 + FEATURES.index("height")
    assert text[0, height] == pytest.approx(1.0) and text[1, height] == pytest.approx(-1.0)
    assert torch.equal(text[2], text[3])  # seeded: the same every time
    assert abs(float(text[2] @ text[0])) < 0.5
    images = scorer.encode_images(np.zeros((2, 64, 48, 3), dtype=np.uint8))
    assert images.shape == (2, scorer.embed_dim)
    assert torch.allclose(images.norm(dim=1), torch.ones(2))


def test_a_file_that_is_not_a_lexicon_is_refused_in_one_line(tmp_path):
    path = tmp_path / "lexicon.json"
    path.write_text(json.dumps({"format": "semantify-recipe", "version": 1}))
    with pytest.raises(SemantifyError, match="not a semantify-geometry-lexicon") as error:
        Lexicon.read(path)
    assert "\n" not in str(error.value)
    path.write_text(json.dumps({"format": "semantify-geometry-lexicon", "version": 1,
                                "features": {"height": {"centre": 0.5, "scale": 0.1}},
                                "words": {"tall": {"neck": 1}}, "ignored": []}))
    with pytest.raises(SemantifyError, match="unknown feature 'neck'"):
        Lexicon.read(path)


@pytest.mark.slow
def test_tall_raises_height_by_15_cm_with_no_reversal(geometry_build):
    tall = receipts_of(geometry_build)["tall"]
    height = tall.change("height_cm")
    assert height.delta >= 15.0 and height.monotonic
    assert "weak" not in tall.flags and "off-target" not in tall.flags


@pytest.mark.slow
def test_fat_raises_mass_at_nearly_constant_height(geometry_build):
    fat = receipts_of(geometry_build)["fat"]
    assert fat.change("mass_kg").delta >= 15.0
    assert abs(fat.change("height_cm").delta) < 5.0
    assert fat.largest.name in fat.named


@pytest.mark.slow
def test_selection_prefers_lexicon_words_the_population_varies_in(geometry_build, tmp_path):
    from semantify.cli import main

    lexicon = ["tall", "fat", "long legs", "broad shoulders"]
    out = tmp_path / "selection"
    assert main(["select", str(geometry_build / "dataset"), "--candidates",
                 ",".join(lexicon + RANDOM_WORDS), "--max", "4", "--out", str(out)]) == 0
    chosen = [w["name"] for w in json.loads((out / "selection.json").read_text())["chosen"]]
    assert chosen[0] in lexicon
    assert sum(w in lexicon for w in chosen) > sum(w in RANDOM_WORDS for w in chosen)


@pytest.fixture(scope="module")
def photo_bodies():
    """30 random bodies (not the training set's seed) in skin at 512 px, front and side, and
    their measured height and BMI."""
    from semantify.measurements.anthropometer import Anthropometer
    from semantify.models import load_model
    from semantify.pictures.renderers import batch_renderer

    model = load_model("anny-body")
    coefficients = model.sample(torch.arange(30), seed=20_261_206)
    with torch.no_grad():
        vertices = model(coefficients)
    measured = Anthropometer.for_model(model).measure(vertices)
    height = measured["height_cm"].numpy()
    bmi = measured["mass_kg"].numpy() / (height / 100) ** 2
    images = batch_renderer(model, ["front", "side"], size=512, appearance="skin").render(vertices)
    return images, height, bmi


def fitted_height_bmi(slider_set, images, views) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    heights, bmis = [], []
    for photo in images:
        shape = slider_set.fit_photos([Image.fromarray(photo[v]) for v in views])
        measured = shape.measurements()
        heights.append(measured["height_cm"])
        bmis.append(measured["mass_kg"] / (measured["height_cm"] / 100) ** 2)
    return np.array(heights), np.array(bmis)


@pytest.mark.slow
def test_photo_fit_recovers_height_and_bmi_and_a_side_photo_adds_to_it(geometry_build,
                                                                         photo_bodies):
    from semantify.sets.sliders import SliderSet

    images, height, bmi = photo_bodies
    slider_set = SliderSet.load(geometry_build)
    r = {}
    for views in ((0,), (0, 1)):
        fitted_height, fitted_bmi = fitted_height_bmi(slider_set, images, views)
        r[views] = (np.corrcoef(fitted_height, height)[0, 1], np.corrcoef(fitted_bmi, bmi)[0, 1])
    print(f"photo fit r (height, BMI): front {r[0,][0]:.3f}/{r[0,][1]:.3f}, "
          f"front+side {r[0, 1][0]:.3f}/{r[0, 1][1]:.3f}")
    front, both = np.array(r[0,]), np.array(r[0, 1])
    assert (front >= 0.9).all() and (both >= 0.9).all()
    assert (both >= front - 0.005).all()
    # Each photo is read as the side it was taken from, and the note says how they combined.
    views = slider_set.photo_views
    assert views.views == ("front", "side") and len(views.photos) == 128
    assert views.trained_views == ("front",)
    embeds = torch.stack([slider_set.scorer.encode_photo(Image.fromarray(photo))
                          for body in images[:8] for photo in body])
    assert views.views_of(embeds) == ["front", "side"] * 8
    notes = slider_set.fit_photos([Image.fromarray(photo) for photo in images[0]]).notes
    assert any("1 front and 1 side view(s) (the set was trained on front)" in note
               for note in notes)
    # A photo of the side it was trained on is read as it is; a lone side photo is mapped.
    assert not any("view" in note for note in slider_set.fit_photos(
        Image.fromarray(images[0][0])).notes)
    side = fitted_height_bmi(slider_set, images, (1,))
    r_side = [np.corrcoef(side[0], height)[0, 1], np.corrcoef(side[1], bmi)[0, 1]]
    print(f"side photo alone r (height, BMI): {r_side[0]:.3f}/{r_side[1]:.3f}")
    assert min(r_side) >= 0.9


def test_a_set_from_before_photographed_bodies_averages_and_a_damaged_one_is_refused(
        geometry_build, photo_bodies, tmp_path):
    import shutil

    from semantify.clip import scores
    from semantify.sets.inference import _with_word_scores
    from semantify.sets.slider_files import manifest_hash
    from semantify.sets.sliders import SliderSet

    def edited(name, change):
        folder = tmp_path / name
        shutil.copytree(geometry_build, folder, ignore=shutil.ignore_patterns("dataset"))
        manifest = json.loads((folder / "sliders.json").read_text())
        change(manifest, folder)
        manifest["sha256"] = manifest_hash(manifest)
        (folder / "sliders.json").write_text(json.dumps(manifest))
        return folder

    photos = [Image.fromarray(photo) for photo in photo_bodies[0][0]]
    older = SliderSet.load(edited("older", lambda m, _: m.pop("photo_views")))
    assert older.photo_views is None
    shape = older.fit_photos(photos)  # the mean of the two photos' scores, as before
    assert not any("views" in note for note in shape.notes)
    embeds = torch.stack([older.scorer.encode_photo(photo) for photo in photos])
    mean = scores(embeds, older.word_embeds).mean(0)
    assert shape.values == _with_word_scores(older, mean, None, []).values

    def flip(manifest, folder):
        path = folder / manifest["photo_views"]["file"]
        data = bytearray(path.read_bytes())
        data[-1] ^= 1
        path.write_bytes(bytes(data))

    for name, change, words in [
            ("tampered", flip, "does not match its sha256"),
            ("bodies", lambda m, _: m["photo_views"].update(bodies=10 ** 9), "bodies must be"),
            ("views", lambda m, _: m["photo_views"].update(views=["top"]), "views must be"),
            ("path", lambda m, _: m["photo_views"].update(file="../sliders.json"),
             "photo_views-HASH.safetensors")]:
        with pytest.raises(SemantifyError, match=words) as error:
            SliderSet.load(edited(name, change))
        assert "\n" not in str(error.value)


@pytest.mark.slow
def test_text_tall_thin_is_taller_and_leaner_than_short_heavy(geometry_build):
    from semantify.sets.sliders import SliderSet

    slider_set = SliderSet.load(geometry_build)
    shapes = {prompt: slider_set.from_text(prompt).measurements()
              for prompt in ("a tall thin person", "a short heavy person")}
    tall, short = shapes["a tall thin person"], shapes["a short heavy person"]
    assert tall["height_cm"] > short["height_cm"] + 5
    assert tall["mass_kg"] / tall["height_cm"] ** 2 < short["mass_kg"] / short["height_cm"] ** 2


@pytest.mark.slow
def test_new_words_get_sliders_with_receipts(geometry_build, tmp_path):
    from semantify.cli import main

    out = tmp_path / "more"
    assert main(["words", str(geometry_build), "--add", "broad shoulders", "--out",
                 str(out)]) == 0
    receipts = receipts_of(out)
    assert {"tall", "fat", "broad shoulders"} <= set(receipts)
    shoulders = receipts["broad shoulders"]
    assert shoulders.change("shoulder_cm").delta > 2.0
    # The same bodies, photographed once: the new set keeps them, and its new word reads them.
    assert [p.name for p in out.glob("photo_views-*")] == \
        [p.name for p in geometry_build.glob("photo_views-*")]


def expression_renders(size: int = 224, appearance: str = "clay", **actions) -> np.ndarray:
    """uint8 (1 + len(actions), size, size, 3): anny-face-expression at rest, then with each
    of ``actions`` (name -> weight; ``mouthSmile`` sets both sides), rendered front (by
    default at 224 px in clay, as ``semantify generate`` renders them)."""
    from semantify.models import load_model
    from semantify.pictures.renderers import batch_renderer

    model = load_model("anny-face-expression")
    names = list(model.coefficient_names)
    coefficients = torch.zeros(1 + len(actions), len(names))
    for row, (action, weight) in enumerate(actions.items(), start=1):
        for side in ((action + "Left", action + "Right") if action + "Left" in names
                     else (action,)):
            coefficients[row, names.index(side)] = weight
    with torch.no_grad():
        images = batch_renderer(model, ["front"], size=size, appearance=appearance).render(
            model(coefficients))[:, 0]
    return np.asarray(images)


def test_a_face_render_is_read_for_its_mouth_and_a_body_for_its_figure():
    faces = expression_renders(mouthSmile=1.0, jawOpen=0.6, mouthFrown=1.0)
    scorer = load_clip(ClipSpec.parse("geometry"))
    raw = scorer.features(faces)
    column = {name: raw[:, FEATURES.index(name)] for name in FEATURES}
    rest, smile, open_, frown = range(4)
    assert column["smile_span"][smile] > column["smile_span"][rest]
    assert column["smile_curve"][smile] > column["smile_curve"][rest]
    assert column["jaw_drop"][open_] > column["jaw_drop"][rest]
    assert np.isnan(column["waist_depth"]).all()  # a portrait is neither front nor side body
    words = scorer.encode_text(["smiling", "open mouth", "frowning"], "a 3D render of a {} face")
    scores = scorer.encode_images(faces) @ words.T
    assert scores[smile, 0] > scores[rest, 0] and scores[smile, 0] > scores[frown, 0]
    assert scores[open_, 1] > scores[rest, 1] and scores[open_, 1] > scores[smile, 1]
    assert scores[frown, 2] > scores[smile, 2]


def test_a_face_photo_reads_its_expression_as_the_training_render_does():
    """A 512 px photo in skin, scaled down, has antialiased edges that moved the jaw's
    outline by 2 px (8 standard deviations): every photo read as a wide-open mouth; and its
    skin and softer creases read a smile's span 1 standard deviation short."""
    scorer = load_clip(ClipSpec.parse("geometry"))
    words = scorer.encode_text(["open mouth"], "a 3D render of a {} face")
    from semantify.models import load_model
    from semantify.pictures.renderers import batch_renderer

    model = load_model("anny-face-expression")
    with torch.no_grad():
        random_faces = model(model.sample(torch.arange(32), seed=5))
    read, span = {}, {}
    for size, appearance in ((224, "clay"), (512, "skin")):
        faces = np.stack([expression_renders(size, appearance, jawOpen=w)[-1]
                          for w in (0.3, 0.6, 1.0)])
        read[size] = (torch.stack([scorer.encode_photo(Image.fromarray(face))
                                   for face in faces]) @ words.T)[:, 0].numpy()
        faces = batch_renderer(model, ["front"], size=size, appearance=appearance).render(
            random_faces)[:, 0]
        span[size] = scorer.features(np.stack([
            image_ops.prepare_photo(Image.fromarray(np.asarray(face)), 224) for face in faces
        ]))[:, FEATURES.index("smile_span")]
    rendered, photo = read[224], read[512]
    assert (np.diff(photo) > 0).all()  # opening more reads as more open
    assert np.abs(photo - rendered).max() < 0.5 * (rendered.max() - rendered.min())
    # 32 random expressions: -0.36 standard deviations apart (a fixed darkness: -1.27)
    assert abs(span[512].mean() - span[224].mean()) < 0.5 * span[224].std()


def test_a_side_view_shows_depths_and_reads_as_tall_and_fat_as_its_front_view():
    from semantify.models import load_model
    from semantify.pictures.renderers import batch_renderer

    model = load_model("anny-body")
    with torch.no_grad():
        vertices = model(model.sample(torch.arange(6), seed=3))
    images = np.asarray(batch_renderer(model, ["front", "side"], size=224).render(vertices))
    scorer = load_clip(ClipSpec.parse("geometry"))
    front, side = scorer.features(images[:, 0]), scorer.features(images[:, 1])
    widths = [FEATURES.index(n) for n in ("waist_width", "hip_width", "leg_ratio")]
    depths = [FEATURES.index(n) for n in ("chest_depth", "waist_depth", "hip_depth")]
    assert not np.isnan(front[:, widths]).any() and np.isnan(front[:, depths]).all()
    assert np.isnan(side[:, widths]).all() and not np.isnan(side[:, depths]).any()
    assert np.isnan(front[:, FEATURES.index("jaw_drop")]).all()  # a body has no face read
    words = scorer.encode_text(["tall", "fat"], "a 3D render of a {} person")
    front_scores = (scorer.encode_images(images[:, 0]) @ words.T).numpy()
    side_scores = (scorer.encode_images(images[:, 1]) @ words.T).numpy()
    # The same bodies rank alike from either side, on one ruler: a side view reads as tall
    # (its own height calibration) and about as fat (depths matched to widths) as the front.
    for word, offset in ((0, 0.25), (1, 1.0)):
        assert np.corrcoef(front_scores[:, word], side_scores[:, word])[0, 1] > 0.9
        assert abs(front_scores[:, word].mean() - side_scores[:, word].mean()) < \
            offset * front_scores[:, word].std()


def test_head_meter_measures_smiles_and_open_mouths():
    from semantify.measurements.head import HeadMeter

    from semantify.models import load_model

    model = load_model("anny-face-expression")
    names = list(model.coefficient_names)
    coefficients = torch.zeros(5, len(names))
    for row, weight in ((1, 0.5), (2, 1.0)):
        coefficients[row, names.index("mouthSmileLeft")] = weight
        coefficients[row, names.index("mouthSmileRight")] = weight
    coefficients[3, names.index("jawOpen")] = 0.5
    coefficients[4, names.index("jawOpen")] = 1.0
    with torch.no_grad():
        values = HeadMeter.for_model(model).measure(model(coefficients))
    smile, opening = values["smile_cm"], values["mouth_open_cm"]
    assert smile[0] < smile[1] < smile[2] and smile[2] > smile[0] + 0.8
    assert abs(opening[0]) < 0.3 and opening[0] < opening[3] < opening[4]
    assert opening[4] > 1.5 and abs(smile[4] - smile[0]) < 0.3  # opening is not smiling


@pytest.fixture(scope="module")
def face_geometry_build(tmp_path_factory):
    return geometry_set(tmp_path_factory, "anny-face-expression")


def swept(slider_set, word: str, measurement: str, steps: int = 9) -> np.ndarray:
    """``measurement`` (cm, on the meshes) along ``word``'s slider from 0 to 100, the others
    at their defaults."""
    from semantify.measurements.head import HeadMeter

    meter = HeadMeter.for_model(slider_set.model)
    values = []
    for value in np.linspace(0.0, 100.0, steps):
        shape = slider_set.shape(**{**dict(zip(slider_set.names, slider_set.defaults)),
                                    word: float(value)})
        values.append(float(meter.measure(shape.vertices[None])[measurement][0]))
    return np.array(values)


@pytest.mark.slow
def test_smiling_lifts_the_mouth_corners_and_open_mouth_opens_it(face_geometry_build):
    from semantify.sets.sliders import SliderSet

    slider_set = SliderSet.load(face_geometry_build)
    assert {"smiling", "open mouth"} <= set(slider_set.word_names)
    for word, measurement, rise in (("smiling", "smile_cm", 0.4),
                                    ("open mouth", "mouth_open_cm", 0.8)):
        values = swept(slider_set, word, measurement)
        assert values[-1] - values[0] >= rise, (word, values)
        assert np.diff(values).min() > -0.02, (word, values)  # no reversal


@pytest.mark.slow
def test_text_a_smiling_face_smiles_more_than_a_frowning_one(face_geometry_build):
    from semantify.measurements.head import HeadMeter
    from semantify.sets.sliders import SliderSet

    slider_set = SliderSet.load(face_geometry_build)
    meter = HeadMeter.for_model(slider_set.model)
    measured = {prompt: meter.measure(slider_set.from_text(prompt).vertices[None])
                for prompt in ("a smiling face", "a frowning face", "a face with an open mouth",
                               "a face with a closed mouth")}
    assert measured["a smiling face"]["smile_cm"][0] > \
        measured["a frowning face"]["smile_cm"][0] + 0.3
    assert measured["a face with an open mouth"]["mouth_open_cm"][0] > \
        measured["a face with a closed mouth"]["mouth_open_cm"][0] + 0.5


@pytest.mark.slow
def test_face_receipts_show_smiling_lifting_the_corners_and_open_mouth_opening(
        face_geometry_build):
    from semantify.app.runtime import receipt_lines
    from semantify.sets.model_card import model_card
    from semantify.sets.sliders import SliderSet

    receipts = receipts_of(face_geometry_build)
    for word, name in (("smiling", "smile_cm"), ("open mouth", "mouth_open_cm")):
        receipt, change = receipts[word], receipts[word].change(name)
        assert change.unit == "cm" and change.delta > 0.3 and change.monotonic, receipt.to_dict()
        assert receipt.named == (name,) and receipt.largest.name == name, receipt.to_dict()
        assert receipt.flags == (), receipt.line()
    assert receipts["smiling"].line().startswith("low to high: smile +")
    assert receipts["open mouth"].line().startswith("low to high: mouth open +")
    card = model_card(face_geometry_build)
    assert f"- **smiling**: {receipts['smiling'].line()}" in card
    lines = receipt_lines(SliderSet.load(face_geometry_build), face_geometry_build)
    assert lines["open mouth"] == receipts["open mouth"].line()

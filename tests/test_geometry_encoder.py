"""The ground-truth ``--clip geometry`` encoder through the real pipeline: a word slider does
what its word says, photos and text land where they should (anny-body, front view, the
default recipe at a test's sample count)."""

import json

import numpy as np
import pytest
import torch

from semantify.clip import ClipSpec, load_clip
from semantify.clip.geometry import FEATURES, Lexicon
from semantify.errors import SemantifyError

RANDOM_WORDS = ["wobbly", "sparkly", "friendly", "purple"]


@pytest.fixture(scope="module")
def geometry_build(tmp_path_factory):
    """``semantify build anny-body --clip geometry`` (the default recipe, 256 samples)."""
    from semantify.cli import main

    out = tmp_path_factory.mktemp("geometry") / "sliders"
    assert main(["build", "anny-body", "--clip", "geometry", "--samples", "256",
                 "--out", str(out)]) == 0
    return out


def receipts_of(folder) -> dict:
    from semantify.receipts import read_receipts

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
    from semantify.measure import Anthropometer
    from semantify.models import load_model
    from semantify.rendering import batch_renderer

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
def test_photo_fit_recovers_height_and_bmi(geometry_build, photo_bodies):
    from semantify.sliders import SliderSet

    images, height, bmi = photo_bodies
    slider_set = SliderSet.load(geometry_build)
    fitted_height, fitted_bmi = fitted_height_bmi(slider_set, images, [0])
    assert np.corrcoef(fitted_height, height)[0, 1] >= 0.9
    assert np.corrcoef(fitted_bmi, bmi)[0, 1] >= 0.9


@pytest.mark.slow
def test_text_tall_thin_is_taller_and_leaner_than_short_heavy(geometry_build):
    from semantify.sliders import SliderSet

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

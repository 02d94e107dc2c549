"""Recipes as data: every shipped recipe is valid, and bad recipes or build inputs are one line."""

import json

import pytest

from lightning_modules.build import check_training
from semantify.cli import main
from semantify.clip import ClipSpec
from semantify.descriptors import parse_descriptors
from semantify.errors import SemantifyError
from semantify.models import model_ids
from semantify.recipes import (MIN_SAMPLES, BuildSettings, load_recipe, recipe_names,
                               recipes_for_model, resolve)

SHIPPED = ["anny-body", "anny-face-expression", "anny-face-shape", "flame", "flame-expression",
           "flame-shape", "smal", "smpl-female", "smpl-male", "smpl-neutral", "smplx-female",
           "smplx-male", "smplx-neutral"]


def test_every_model_of_the_reference_and_anny_has_a_recipe():
    assert recipe_names() == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_recipe_is_valid(name):
    recipe = load_recipe(name)
    assert recipe.model.id in model_ids() and recipe.shipped
    assert parse_descriptors(list(recipe.candidates)) == list(recipe.candidates)
    assert set(recipe.forced) <= set(recipe.candidates)
    assert max(1, len(recipe.forced)) <= recipe.descriptors <= len(recipe.candidates)
    assert ClipSpec.parse(recipe.clip).is_semantic  # shipped sets are built with real CLIP
    assert MIN_SAMPLES <= recipe.quick.samples <= recipe.samples
    check_training({**recipe.training, **recipe.quick.training})
    assert load_recipe(name).to_dict() == json.loads((recipe_path_of(name)).read_text())


def recipe_path_of(name):
    from semantify.recipes import recipe_path

    return recipe_path(name)


def test_reference_sets_are_forced_in():
    assert load_recipe("smplx-neutral").forced == (
        "fat", "masculine", "long torso", "hourglass", "tall", "small", "rectangular",
        "proportioned")
    assert load_recipe("smal").forced == ("lion", "cow", "cat", "dog")
    assert load_recipe("flame").forced[-3:] == ("smiling", "open mouth", "serious")


def test_a_model_id_names_its_recipe_and_settings_resolve():
    assert resolve("smpl-male").name == "smpl-male"
    assert [r.name for r in recipes_for_model("anny-body")] == ["anny-body"]
    quick = BuildSettings.resolve(load_recipe("anny-body"), clip="tiny-random", quick=True)
    assert quick.samples == load_recipe("anny-body").quick.samples and quick.quick
    assert quick.command() == "semantify build anny-body --clip tiny-random --quick"
    assert BuildSettings.resolve(load_recipe("anny-body")).is_recipe_default()
    assert quick.identity() != BuildSettings.resolve(load_recipe("anny-body"),
                                                     clip="tiny-random").identity()


def test_recipes_command_lists_them_all(capsys):
    assert main(["recipes"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in SHIPPED)
    assert main(["recipes", "--show", "smal"]) == 0
    assert json.loads(capsys.readouterr().out)["model"]["id"] == "smal"


def _recipe_file(tmp_path, **changes):
    data = load_recipe("anny-body").to_dict()
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            data[section][field] = value
        else:
            data[section] = value
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(data))
    return str(path)


def _one_line_error(capsys, argv, match):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0], err


def test_bad_recipes_and_build_inputs_are_one_line(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    build = ["build", "--clip", "tiny-random", "--out", str(out)]
    _one_line_error(capsys, build + ["no-such-recipe"], "unknown recipe or model 'no-such-recipe'")
    _one_line_error(capsys, build + [_recipe_file(tmp_path, vocabulary__candidates=[],
                                                  vocabulary__forced=[])],
                    "empty vocabulary")
    _one_line_error(capsys, build + [_recipe_file(tmp_path, vocabulary__candidates=[
        "fat", "tall", "Fat"], vocabulary__forced=[], descriptors=2)], "duplicate descriptor")
    _one_line_error(capsys, build + [_recipe_file(tmp_path, model={"id": "anny-bodi"})],
                    "unknown model 'anny-bodi'")
    _one_line_error(capsys, build + [_recipe_file(tmp_path, training={"max_epoch": 3})],
                    "unknown training setting(s) max_epoch")
    _one_line_error(capsys, build + ["anny-body", "--samples", str(MIN_SAMPLES - 1)],
                    f"at least {MIN_SAMPLES} samples")
    monkeypatch.setenv("SEMANTIFY_MODELS_DIR", str(tmp_path / "no-models"))
    _one_line_error(capsys, build + ["smpl-male"], "needs model smpl-male: put SMPL_MALE.pkl")
    assert not out.exists()  # nothing was written by any refused build
    out.mkdir()
    (out / "sliders.json").write_text("{}")
    _one_line_error(capsys, build + ["anny-body"], "holds a slider set, not a build")
    (out / "sliders.json").unlink()
    (out / "notes.txt").write_text("mine")
    _one_line_error(capsys, build + ["anny-body"], "holds other files, not a build")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_offline_without_weights_fails_at_once_naming_the_fixes(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hub"))
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-hub" / "hub"))
    out = tmp_path / "out"
    _one_line_error(capsys, ["build", "anny-body", "--out", str(out)], "--clip-checkpoint")
    assert not out.exists()


def test_recipe_validation_messages():
    recipe = load_recipe("anny-body").to_dict()
    with pytest.raises(SemantifyError, match="forces 'slim', which is not among"):
        from semantify.recipes.recipe import recipe_from_dict

        recipe_from_dict("x", {**recipe, "vocabulary": {"candidates": ["fat"],
                                                        "forced": ["slim"]}})
    with pytest.raises(SemantifyError, match="unknown key"):
        recipe_from_dict("x", {**recipe, "sample": 3})
    with pytest.raises(SemantifyError, match="asks for 99 sliders"):
        recipe_from_dict("x", {**recipe, "descriptors": 99})

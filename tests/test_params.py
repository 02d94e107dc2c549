"""The params file: one versioned format, older files upgraded on read, bad files refused."""

import json

import pytest

from semantify.errors import SemantifyError
from semantify.models import ModelRef, load_model
from semantify.sets.params import Params


def _write(path, record) -> str:
    path.write_text(json.dumps(record) if not isinstance(record, str) else record)
    return str(path)


def test_round_trip(tmp_path):
    params = Params(ModelRef.of("anny-body"), (("height", 0.7),), (("height_cm", 180.0),),
                    "anny-body-metric")
    params.write(tmp_path / "p.json")
    again = Params.read(tmp_path / "p.json")
    assert again == params and json.loads((tmp_path / "p.json").read_text())["version"] == 2


def test_older_files_still_load(tmp_path):
    cli_v1 = {"format": "semantify-params", "version": 1,
              "model": {"id": "anny-body", "options": {}},
              "slider_set": "/home/me/sliders/anny-words", "sliders": {"fat": 20.0},
              "coefficients": {"weight": 0.8}}
    app_v0 = {"model": "anny-body", "slider_set": None, "sliders": {"weight": 0.8},
              "coefficients": {"weight": 0.8}}
    first = Params.read(_write(tmp_path / "cli.json", cli_v1))
    assert first.slider_set == "anny-words" and first.model == ModelRef("anny-body")
    second = Params.read(_write(tmp_path / "app.json", app_v0))
    assert second.slider_set is None and second.coefficient_values == {"weight": 0.8}
    model = load_model("anny-body")
    assert float(second.coefficients_for(model)[model.coefficient_names.index("weight")]) == \
        pytest.approx(0.8)


@pytest.mark.parametrize("record, message", [
    ("{not json", "cannot read"),
    ([1, 2], "holds no JSON object"),
    ({"format": "other", "model": "anny-body"}, "is a 'other' file"),
    ({"format": "semantify-params", "version": 3, "model": "anny-body",
      "coefficients": {"weight": 1}}, "newer than this Semantify"),
    ({"format": "semantify-params", "version": "2", "model": "anny-body"}, "unknown params"),
    ({"coefficients": {"weight": 1}}, "names no model"),
    ({"model": "anny-body"}, "neither slider values nor coefficients"),
    ({"model": "anny-body", "coefficients": {"weight": "heavy"}}, "is not a number"),
    ('{"model": "anny-body", "coefficients": {"weight": 1e400}}', "not a finite number"),
    ('{"model": "anny-body", "coefficients": {"weight": NaN}}', "not a number JSON allows"),
    ({"model": "anny-body", "sliders": {"": 1}}, "empty or longer"),
    ({"model": "anny-body", "sliders": {"x": 1}, "slider_set": 7}, "'slider_set' must be"),
    ({"model": {"id": "anny-body", "options": {"a": [1]}}, "sliders": {"x": 1}},
     "model.options"),
])
def test_bad_files_are_one_line(tmp_path, record, message):
    with pytest.raises(SemantifyError, match=message) as error:
        Params.read(_write(tmp_path / "bad.json", record))
    assert "\n" not in str(error.value)


def test_coefficients_for_another_model_or_unknown_names(tmp_path):
    params = Params.read(_write(tmp_path / "p.json", {
        "model": "anny-face-shape", "coefficients": {"nose-scale-horiz-incr": 0.5}}))
    with pytest.raises(SemantifyError, match="is for model 'anny-face-shape', not 'anny-body'"):
        params.coefficients_for(load_model("anny-body"))
    odd = Params.read(_write(tmp_path / "q.json", {"model": "anny-body",
                                                   "coefficients": {"wingspan": 1}}))
    with pytest.raises(SemantifyError, match="has no coefficient 'wingspan'"):
        odd.coefficients_for(load_model("anny-body"))


def test_a_shapes_params_refuse_an_unknown_pose_and_a_set_is_loaded_from_a_path():
    from semantify.sets.sliders import SliderSet, raw_sliders

    shape = raw_sliders(ModelRef.of("anny-body")).random(0)
    assert shape.params("rest").pose == "rest"
    with pytest.raises(SemantifyError, match="no pose 'flying'; valid poses: rest"):
        shape.params("flying")
    for source in (5, None, ["sliders"]):
        with pytest.raises(SemantifyError, match="a folder path or hf://OWNER/NAME"):
            SliderSet.load(source)

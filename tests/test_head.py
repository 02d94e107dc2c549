"""Head measurements on real Anny faces: plausible values, and they follow the shape."""

import torch

from semantify.measurements.head import HeadMeter
from semantify.models import load_model


def test_anny_face_measures_like_a_head_and_follows_its_coefficients():
    model = load_model("anny-face-shape")
    meter = HeadMeter.for_model(model)
    bigger = model.default_coefficients()
    bigger[model.coefficient_names.index("head-scale-horiz-incr")] = 1.0
    with torch.no_grad():
        values = meter.measure(model(torch.stack([model.default_coefficients(), bigger])))
    assert 50 < values["head_cm"][0] < 62 and 11 < values["face_cm"][0] < 16
    assert 5 < values["eyes_cm"][0] < 7.5
    assert values["head_cm"][1] > values["head_cm"][0] + 2
    assert values["face_cm"][1] > values["face_cm"][0] + 1
    rows = meter.measure_table(model(model.default_coefficients()[None]))
    assert [label for label, _, _ in rows] == ["Head circumference", "Face width",
                                               "Eye distance"]


def test_only_anny_topologies_get_a_head_meter(tmp_path, monkeypatch):
    import synthetic_models

    monkeypatch.setenv("SEMANTIFY_MODELS_DIR", str(synthetic_models.write_model_tree(tmp_path)))
    assert HeadMeter.for_model(load_model("flame")) is None
    assert HeadMeter.for_model(load_model("anny-body")) is not None

"""Coupled measurement sliders: each one's band given the others, fitted, calibrated, stored."""

import json

import pytest
import torch

from semantify.coupling import Coupling
from semantify.errors import SemantifyError


def test_bands_follow_the_other_sliders():
    generator = torch.Generator().manual_seed(0)
    mass = 50 + 60 * torch.rand(2000, generator=generator)
    waist = 40 + 0.8 * mass + torch.randn(2000, generator=generator)  # waist follows mass
    coupling = Coupling.fit(["waist_cm", "mass_kg"], torch.stack([waist, mass], 1), slack=1.0)
    low, high = coupling.bands(torch.tensor([[80.0, 60.0], [80.0, 100.0]], dtype=torch.float64))
    assert float(low[1, 0] - low[0, 0]) == pytest.approx(32.0, abs=1.0)  # 40 kg more: +32 cm
    assert float(high[0, 0] - low[0, 0]) == pytest.approx(4.65, abs=0.5)  # p1..p99 of N(0, 1)


def test_a_metric_set_stores_calibrated_bands(tmp_path):
    """The shipped metric set: every band is where refinement meets the asked values."""
    from pathlib import Path

    from semantify.sliders import SliderSet

    shipped = SliderSet.load(Path(__file__).resolve().parents[1] / "sliders" / "anny-body-metric")
    assert shipped.coupling is not None and set(shipped.coupling.names) == set(shipped.names)
    bands = shipped.ranges(shipped.defaults)
    for slider, (low, high) in zip(shipped.sliders, bands):
        assert slider.low <= low < slider.default < high <= slider.high, slider.name
    waist = shipped.names.index("waist_cm")
    heavy = shipped.ranges({"mass_kg": 120.0, "chest_cm": 125.0, "hips_cm": 130.0})[waist]
    assert heavy[0] > bands[waist][1] - 5  # a heavier body's waist band moves up
    # values are never clamped to a band: sliders stay independent
    shape = shipped.shape(waist_cm=140.0)
    assert shape.named_values["waist_cm"] == 140.0 and shape.clamped == ()
    # ... and a value outside its band says so, naming the band
    assert len(shape.notes) == 1 and shape.notes[0].startswith("Waist (cm) 140.0 is outside")
    assert not shipped.shape(waist_cm=100.0).notes


def test_a_request_beyond_the_bands_moves_the_body_towards_it_and_keeps_the_height():
    """A 148 cm waist on the default body: the mapper is asked the nearest combination people
    have, so the waist grows far past its band while the asked height holds (the mapper's own
    guess for the combination made the body 14 cm taller)."""
    from pathlib import Path

    from semantify.sliders import SliderSet

    shipped = SliderSet.load(Path(__file__).resolve().parents[1] / "sliders" / "anny-body-metric")
    height = shipped.defaults[shipped.names.index("height_cm")]
    measured = shipped.anthropometer.measure(
        torch.as_tensor(shipped.shape(waist_cm=148.0).vertices)[None])
    assert abs(float(measured["height_cm"][0]) - height) < 1.0
    assert float(measured["waist_cm"][0]) > shipped.ranges(shipped.defaults)[2][1] + 10
    inside = torch.tensor([shipped.defaults], dtype=torch.float64)
    assert torch.equal(shipped._human(inside), inside)  # a human combination is asked as is


def test_bad_coupling_fields_are_refused(tmp_path):
    import shutil
    from pathlib import Path

    from semantify.slider_files import manifest_hash
    from semantify.sliders import SliderSet

    source = Path(__file__).resolve().parents[1] / "sliders" / "anny-body-metric"
    for edit, message in ((lambda c: c.update(names=["height_cm"]), "two or more"),
                          (lambda c: c.update(low=[1, 2]), "must hold 5 numbers"),
                          (lambda c: c.update(weights=[[0] * 5] * 4), "5 x 5"),
                          (lambda c: c.update(low=[9] * 5, high=[0] * 5), "low <= high")):
        folder = tmp_path / f"set-{message[:4]}"
        shutil.copytree(source, folder)
        manifest = json.loads((folder / "sliders.json").read_text())
        edit(manifest["coupling"])
        manifest["sha256"] = manifest_hash(manifest)
        (folder / "sliders.json").write_text(json.dumps(manifest))
        with pytest.raises(SemantifyError, match=message):
            SliderSet.load(folder)

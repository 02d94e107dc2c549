"""Coupled measurement sliders: each one's band given the others, fitted, calibrated, stored."""

import json

import pytest
import torch

from semantify.sets.coupling import Coupling
from semantify.errors import SemantifyError

NAMES = ["height_cm", "chest_cm", "waist_cm", "hips_cm", "mass_kg"]


def test_bands_follow_the_other_sliders():
    generator = torch.Generator().manual_seed(0)
    mass = 50 + 60 * torch.rand(2000, generator=generator)
    waist = 40 + 0.8 * mass + torch.randn(2000, generator=generator)  # waist follows mass
    coupling = Coupling.fit(["waist_cm", "mass_kg"], torch.stack([waist, mass], 1), slack=1.0)
    low, high = coupling.bands(torch.tensor([[80.0, 60.0], [80.0, 100.0]], dtype=torch.float64))
    assert float(low[1, 0] - low[0, 0]) == pytest.approx(32.0, abs=1.0)  # 40 kg more: +32 cm
    assert float(high[0, 0] - low[0, 0]) == pytest.approx(4.65, abs=0.5)  # p1..p99 of N(0, 1)


def test_the_shipped_set_bands_come_from_its_body_model():
    """The shipped metric set: each slider's band is what people with the set values have;
    values are never clamped to a band, and a request no person has says what it misses."""
    from pathlib import Path

    from semantify.sets.sliders import SliderSet

    shipped = SliderSet.load(Path(__file__).resolve().parents[1] / "sliders" / "anny-body-metric")
    assert shipped.coupling is None and shipped.body_model is not None
    bands = shipped.ranges(height_cm=170.0, mass_kg=70.0)
    for slider in shipped.sliders:
        low, high = bands[slider.name]
        assert slider.low <= low < high <= slider.high, slider.name
    heavy = shipped.ranges(height_cm=170.0, mass_kg=120.0)
    assert heavy["waist_cm"][0] > bands["waist_cm"][0] + 10  # a heavier body's waist band
    shape = shipped.shape(height_cm=170.0, mass_kg=70.0, waist_cm=140.0)
    assert shape.named_values["waist_cm"] == 140.0 and shape.clamped == ()
    assert "Waist (cm) asked 140.0, got" in " ".join(shape.notes)
    assert not shipped.shape(height_cm=170.0, mass_kg=70.0, waist_cm=85.0).notes


def test_a_request_beyond_what_people_have_keeps_the_body_a_person():
    """A 148 cm waist on a 167.5 cm, 78 kg body: the nearest person grows the waist far while
    the height nearly holds, and the note names every set value it misses."""
    from pathlib import Path

    from semantify.measurements.human import inhuman
    from semantify.sets.sliders import SliderSet

    shipped = SliderSet.load(Path(__file__).resolve().parents[1] / "sliders" / "anny-body-metric")
    shape = shipped.shape(height_cm=167.5, mass_kg=78.0, waist_cm=148.0)
    measured = shape.measurements()
    assert abs(measured["height_cm"] - 167.5) < 2.5 and measured["waist_cm"] > 105
    note = " ".join(shape.notes)
    assert "Waist (cm) asked 148.0" in note
    for name, asked in (("height_cm", 167.5), ("mass_kg", 78.0)):  # every miss is named
        label = shipped.sliders[shipped.names.index(name)].label
        met = 1.0 if name == "mass_kg" else 0.5
        assert (f"{label} asked" in note) == (abs(measured[name] - asked) > met), name
    assert not inhuman({k: torch.tensor([v]) for k, v in measured.items()})[0]


def test_bad_coupling_fields_are_refused(tmp_path):
    import shutil
    from pathlib import Path

    from semantify.sets.slider_files import manifest_hash
    from semantify.sets.sliders import SliderSet

    source = Path(__file__).resolve().parents[1] / "sliders" / "anny-body-metric"
    for edit, message in ((lambda c: c.update(names=["height_cm"]), "two or more"),
                          (lambda c: c.update(low=[1, 2]), "must hold 5 numbers"),
                          (lambda c: c.update(weights=[[0] * 5] * 4), "5 x 5"),
                          (lambda c: c.update(low=[9] * 5, high=[0] * 5), "low <= high")):
        folder = tmp_path / f"set-{message[:4]}"
        shutil.copytree(source, folder)
        manifest = json.loads((folder / "sliders.json").read_text())
        manifest["coupling"] = {"names": NAMES, "intercept": [0.0] * 5, "weights": [[0.0] * 5] * 5,
                                "low": [-1.0] * 5, "high": [1.0] * 5}  # valid, then edited
        edit(manifest["coupling"])
        manifest["sha256"] = manifest_hash(manifest)
        (folder / "sliders.json").write_text(json.dumps(manifest))
        with pytest.raises(SemantifyError, match=message):
            SliderSet.load(folder)

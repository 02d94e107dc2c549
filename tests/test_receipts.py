"""Receipts (what a word slider does in cm and kg), percentile units and honest notes on sets
whose words mean nothing (random CLIP weights)."""

import json
import shutil

import pytest
import torch

from semantify.errors import SemantifyError
from semantify.sets.receipts import NO_RECEIPTS, Change, Receipt, read_receipts
from semantify.sets.word_scale import WordScale


def receipt(slider, **deltas) -> Receipt:
    return Receipt(slider, tuple(Change(name, name.rsplit("_", 1)[1], 100.0, 100.0 + delta,
                                        reversal) for name, (delta, reversal) in deltas.items()))


def test_flags_name_weak_off_target_and_reversing_sliders():
    good = receipt("tall", height_cm=(20.0, 0.0), mass_kg=(8.0, 0.0))
    assert good.flags == () and good.line().startswith("low to high: height +20.0 cm")
    assert receipt("tall", height_cm=(0.5, 0.0), mass_kg=(1.0, 0.0)).flags == ("weak",)
    off = receipt("tall", height_cm=(2.0, 0.0), waist_cm=(30.0, 0.0))
    assert off.flags == ("off-target",) and "mostly moves waist" in off.line()
    assert receipt("fat", mass_kg=(30.0, 3.0)).flags == ("reverses",)
    assert receipt("sparkly", waist_cm=(30.0, 0.0)).flags == ()  # names nothing: not judged
    assert Receipt.from_dict(json.loads(json.dumps(off.to_dict()))) == off
    with pytest.raises(SemantifyError, match="damaged"):
        Receipt.from_dict({"slider": "tall", "changes": [{"name": "height_cm"}]})


def test_word_scale_converts_percentiles_both_ways():
    scores = torch.linspace(10.0, 20.0, 1001)[:, None].repeat(1, 2)
    scores[:, 1] = 3.0  # a word every body scores the same on
    scale = WordScale.fit(["fat", "flat"], scores)
    raw = scale.to_raw(torch.tensor([[0.0, 50.0], [50.0, 50.0], [100.0, 50.0]]))
    assert raw[:, 0].tolist() == pytest.approx([10.0, 15.0, 20.0])
    back = scale.to_percent(torch.tensor([[15.0, 3.0], [99.0, 3.0]]))
    assert back[0, 0] == pytest.approx(50.0) and back[1, 0] == 100.0
    assert WordScale.from_dict(scale.to_dict()) == scale
    with pytest.raises(SemantifyError, match="increasing"):
        WordScale(("fat",), (tuple(range(101, 0, -1)),))


@pytest.fixture(scope="module")
def evaluated(quick_build):
    """A tiny-random word set evaluated (receipts written): conftest's quick build, whose
    evaluate stage runs what ``semantify evaluate`` runs; (folder, its words)."""
    from semantify.sets.sliders import SliderSet

    return quick_build.out, SliderSet.load(quick_build.out).names


@pytest.mark.slow
def test_word_sliders_run_0_to_100_and_every_one_has_a_receipt(evaluated, capsys):
    from semantify.sets.model_card import model_card
    from semantify.sets.sliders import SliderSet

    folder, chosen = evaluated
    slider_set = SliderSet.load(folder)
    assert all((s.low, s.default, s.high) == (0.0, 50.0, 100.0) for s in slider_set.sliders)
    receipts = read_receipts(folder)
    assert sorted(receipts) == sorted(chosen)
    assert all(r.change("height_cm") is not None for r in receipts.values())
    card = model_card(folder)
    assert "## Receipts" in card and all(f"**{w}**: low to high" in card for w in chosen)


def test_random_weights_say_so_on_every_shape(word_set):
    from semantify.sets.sliders import SliderSet

    slider_set = SliderSet.load(word_set[1])
    shapes = [slider_set.shape(), slider_set.random(3), slider_set.from_text("a tall person")]
    assert all(any("random CLIP weights" in note for note in s.notes) for s in shapes)


def test_an_older_set_loads_in_raw_units_and_says_it_has_no_receipts(word_set, tmp_path):
    from semantify.app.runtime import receipt_lines
    from semantify.sets.model_card import model_card
    from semantify.sets.slider_files import manifest_hash
    from semantify.sets.sliders import SliderSet

    old = tmp_path / "old"
    shutil.copytree(word_set[1], old)
    manifest = json.loads((old / "sliders.json").read_text())
    scale = WordScale.from_dict(manifest.pop("word_scale"))
    for slider, row in zip(manifest["sliders"], scale.quantiles):  # raw units, as before
        slider.update(low=row[1], high=row[99], default=row[50])
    manifest["sha256"] = manifest_hash(manifest)
    (old / "sliders.json").write_text(json.dumps(manifest))
    shutil.rmtree(old / "evaluation", ignore_errors=True)
    slider_set = SliderSet.load(old)
    assert slider_set.word_scale is None and slider_set.sliders[0].high == scale.quantiles[0][99]
    assert read_receipts(old) is None and NO_RECEIPTS in model_card(old)
    assert set(receipt_lines(slider_set, old).values()) == {NO_RECEIPTS}
    (old / "evaluation").mkdir()
    (old / "evaluation" / "evaluation.json").write_text(json.dumps({"fidelity": {}}))
    assert read_receipts(old) is None
    # A stranger's set: its optional reports are skipped, never read for ever or recursed into.
    (old / "evaluation" / "evaluation.json").write_text("[" * 100_000)  # RecursionError before
    assert read_receipts(old) is None and NO_RECEIPTS in model_card(old)
    (old / "evaluation" / "evaluation.json").unlink()
    (old / "evaluation" / "evaluation.json").symlink_to("/dev/zero")  # read for ever before
    assert read_receipts(old) is None and NO_RECEIPTS in model_card(old)


@pytest.mark.slow
def test_the_app_shows_each_word_sliders_receipt_under_it(evaluated):
    from semantify.app.runtime import receipt_lines
    from semantify.sets.sliders import SliderSet

    folder, chosen = evaluated
    lines = receipt_lines(SliderSet.load(folder), folder)
    assert set(lines) == set(chosen) and all(v.startswith("low to high:") for v in lines.values())


def test_hub_metadata_tags_test_encoders():
    from semantify.sets.card_metadata import front_matter
    from semantify.clip import ClipSpec

    assert "test-encoder" in front_matter("anny-body", "body", ClipSpec.parse("geometry"))["tags"]
    tiny = ClipSpec.parse("tiny-random")
    assert "not-semantic" in front_matter("anny-body", "body", tiny)["tags"]


def test_face_receipts_flag_weak_off_target_and_reversing_sliders_in_face_units():
    smiling = receipt("smiling", smile_cm=(1.0, 0.0), face_cm=(0.1, 0.0), head_cm=(0.0, 0.0))
    assert smiling.named == ("smile_cm",) and smiling.flags == ()
    assert smiling.line().startswith("low to high: smile +1.0 cm")
    assert receipt("grin", smile_cm=(0.02, 0.0), face_cm=(0.01, 0.0)).flags == ("weak",)
    off = receipt("open mouth", mouth_open_cm=(0.2, 0.0), face_cm=(1.5, 0.0))
    assert off.flags == ("off-target",) and "mostly moves face" in off.line()
    yawning = receipt("yawning", mouth_open_cm=(2.0, 0.3))
    assert yawning.flags == ("reverses",) and "mouth open +2.0 cm" in yawning.line()
    # a face word on a body names nothing the body measures, so it is not judged
    assert receipt("wide", waist_cm=(30.0, 0.0)).named == ()

"""Descriptor vocabularies, descriptor values and automatic selection (API, report, CLI)."""

import json

import pytest
import torch
from PIL import Image

from semantify.cli import main
from semantify.data.dataset import open_dataset, write_shard
from semantify.files import write_json_atomic
from semantify.descriptors import (are_antonyms, descriptor_values, parse_descriptors,
                                   resolve_candidates, select_descriptors, vocabulary,
                                   vocabulary_names, write_report)
from semantify.errors import SemantifyError

MEASUREMENTS = ["height_cm", "mass_kg", "waist_cm"]


@pytest.fixture(scope="module")
def synthetic():
    """Coefficients are a linear function of 3 of 10 columns (fat, tall, muscular); ``chubby``
    is a near-duplicate of ``fat`` (r ≈ 0.95); six loud pure-noise columns."""
    g = torch.Generator().manual_seed(1)
    n = 2000
    true = torch.randn(n, 3, generator=g) * torch.tensor([5.0, 3.0, 8.0]) + 20
    duplicate = true[:, :1] + 1.65 * torch.randn(n, 1, generator=g)
    noise = torch.randn(n, 6, generator=g) * 20 + 25
    values = torch.cat([true, duplicate, noise], dim=1)
    names = ["fat", "tall", "muscular", "chubby"] + [f"noise{i}" for i in range(6)]
    z = (true - true.mean(0)) / true.std(0)
    coefficients = z @ torch.randn(3, 8, generator=g) + 0.3 * torch.randn(n, 8, generator=g)
    return values, names, coefficients


def test_vocabularies_are_data_with_valid_words():
    assert vocabulary_names() == ["animal", "body", "expression", "face"]
    for name in vocabulary_names():
        words = vocabulary(name)
        assert parse_descriptors(words) == words  # no empty or duplicate entries
    assert {"fat", "athletic", "hourglass", "wide hips"} <= set(vocabulary("body"))
    assert {"bear", "rhino", "lion"} <= set(vocabulary("animal"))
    assert {"smiling", "open mouth", "raise eyebrows"} <= set(vocabulary("expression"))
    assert are_antonyms("Fat", "thin") and are_antonyms("short", "tall")
    assert not are_antonyms("fat", "tall")
    assert resolve_candidates("face") == vocabulary("face")
    with pytest.raises(SemantifyError, match="available: animal, body"):
        vocabulary("generic")


def test_parse_descriptors(tmp_path):
    assert parse_descriptors(" fat ,  long   legs,height_cm") == ["fat", "long legs", "height_cm"]
    words = tmp_path / "words.txt"
    words.write_text("# my words\nnaïve\n\nbroad shoulders\n", encoding="utf-8")
    assert parse_descriptors(str(words)) == ["naïve", "broad shoulders"]
    assert parse_descriptors(["na\u0131ve"]) == ["na\u0131ve"]  # dotless i is another word
    cases = {"fat,,thin": "descriptor 2 .* is empty", "": "empty", "  ": "empty",
             "fat,Fat": "duplicate descriptor 'Fat'",
             "na\u00efve,nai\u0308ve": "duplicate descriptor",  # NFC vs NFD spelling
             "missing.txt": "does not exist"}
    for text, message in cases.items():
        with pytest.raises(SemantifyError, match=message):
            parse_descriptors(text)
    with pytest.raises(SemantifyError, match="no descriptors"):
        parse_descriptors([])
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe fat")
    with pytest.raises(SemantifyError, match="not UTF-8"):
        parse_descriptors(tmp_path / "bad.txt")
    (tmp_path / "endless.txt").symlink_to("/dev/zero")  # was read until memory ran out
    with pytest.raises(SemantifyError, match="endless.txt does not exist or is not a file"):
        parse_descriptors(tmp_path / "endless.txt")
    with open(tmp_path / "huge.txt", "wb") as file:
        file.truncate(2_000_000)  # sparse: no disk used
    with pytest.raises(SemantifyError, match="huge.txt is larger than 1 MB"):
        parse_descriptors(tmp_path / "huge.txt")


def test_selection_finds_the_true_descriptors(synthetic):
    values, names, coefficients = synthetic
    selection = select_descriptors(values, names, coefficients, max_k=6)
    assert sorted(selection.chosen) == ["fat", "muscular", "tall"]
    assert selection.rejected["chubby"].startswith("correlated with fat (r=0.9")
    for i in range(6):
        assert selection.rejected[f"noise{i}"].startswith("adds < 0.005 R²")
    assert set(selection.chosen) | set(selection.rejected) == set(names)
    assert selection.r2_steps == sorted(selection.r2_steps) and selection.r2_steps[-1] > 0.7
    # The variance heuristic takes the loud noise columns and predicts nothing.
    assert selection.r2 > 0.7 > 0.1 > selection.baseline.r2
    assert selection.baseline.chosen[0].startswith("noise")


def test_selection_limits_antonyms_and_synonyms(synthetic):
    values, names, coefficients = synthetic
    top = select_descriptors(values, names, coefficients, max_k=1)
    assert len(top.chosen) == 1
    assert sum(r == "not better than chosen ones" for r in top.rejected.values()) >= 2
    # Renamed so that the best word has an antonym and a near-synonym among the candidates.
    renamed = ["thin", "tall", "muscular", "chubby", "fat"] + names[5:]
    embeds = torch.eye(len(names))
    embeds[2] = embeds[1] + 0.3 * embeds[2]  # "muscular" reads almost like "tall"
    selection = select_descriptors(values, renamed, coefficients, text_embeds=embeds)
    assert selection.rejected["fat"] == "antonym of thin"
    kept, dropped = ("tall", "muscular") if "tall" in selection.chosen else ("muscular", "tall")
    assert selection.rejected[dropped].startswith(f"near-synonym of {kept} (text cos 0.96)")
    strict = select_descriptors(values, names, coefficients, max_corr=0.99)
    assert "chubby" not in strict.rejected or "correlated" not in strict.rejected["chubby"]


def test_selection_input_errors(synthetic):
    values, names, coefficients = synthetic
    with pytest.raises(SemantifyError, match="cannot choose 11 descriptors from 10"):
        select_descriptors(values, names, coefficients, max_k=11)
    with pytest.raises(SemantifyError, match="duplicate"):
        select_descriptors(values, names[:-1] + ["FAT"], coefficients)
    with pytest.raises(SemantifyError, match="at least 20"):
        select_descriptors(values[:10], names, coefficients[:10])
    bad = values.clone()
    bad[3, 4] = float("nan")
    with pytest.raises(SemantifyError, match="not finite for noise0"):
        select_descriptors(bad, names, coefficients)
    constant = values.clone()
    constant[:, 5] = 7.0
    selection = select_descriptors(constant, names, coefficients)
    assert selection.rejected["noise1"].startswith("constant")


def test_report_files(synthetic, tmp_path):
    values, names, coefficients = synthetic
    selection = select_descriptors(values, names, coefficients)
    write_report(selection, tmp_path / "report", values, names, {"dataset": "synthetic"})
    record = json.loads((tmp_path / "report" / "selection.json").read_text())
    assert [row["name"] for row in record["chosen"]] == selection.chosen
    assert record["chosen"][0]["std"] > 0 and record["r2_test"] > record["baseline"]["r2_test"]
    assert record["rejected"]["chubby"]["reason"].startswith("correlated with fat")
    assert record["dataset"] == "synthetic" and len(record["candidates"]) == 10
    markdown = (tmp_path / "report" / "selection.md").read_text()
    assert "| 1 | " in markdown and "chubby" in markdown
    with Image.open(tmp_path / "report" / "correlation.png") as image:
        image.verify()
        assert image.format == "PNG" and min(image.size) > 200


def write_dataset(root, n=200, image_embeds=None, clip=None, seed=0):
    """A tiny on-disk dataset: coefficients driven by height and waist, plus measurements."""
    g = torch.Generator().manual_seed(seed)
    measurements = torch.randn(n, 3, generator=g) * torch.tensor([10.0, 12.0, 8.0]) + torch.tensor(
        [170.0, 70.0, 80.0])
    z = (measurements - measurements.mean(0)) / measurements.std(0)
    coefficients = torch.stack([z[:, 0], z[:, 2], z[:, 0] - z[:, 2]], 1)
    coefficients += 0.05 * torch.randn(n, 3, generator=g)
    shard_size = 64
    for shard, start in enumerate(range(0, n, shard_size)):
        rows = slice(start, min(start + shard_size, n))
        tensors = {"indices": torch.arange(n)[rows], "coefficients": coefficients[rows],
                   "measurements": measurements[rows]}
        if image_embeds is not None:
            tensors["image_embeds"] = image_embeds[rows]
        write_shard(root, shard, tensors)
    write_json_atomic(root / "manifest.json", {
        "format": "semantify-dataset", "version": 1,
        "model": {"id": "anny-body", "options": {}, "family": "body",
                  "coefficients": ["a", "b", "c"]},
        "samples": n, "seed": seed, "shard_size": shard_size,
        "views": ["front", "side"] if clip else [], "clip": clip, "measurements": MEASUREMENTS})
    return root


def test_cli_on_metric_descriptors(tmp_path, capsys):
    data = write_dataset(tmp_path / "data")
    assert main(["select", str(data), "--candidates", "height_cm,mass_kg,waist_cm"]) == 0
    out = capsys.readouterr().out
    assert "height_cm" in out and "test R²" in out
    record = json.loads((data / "selection" / "selection.json").read_text())
    assert sorted(row["name"] for row in record["chosen"]) == ["height_cm", "waist_cm"]
    assert record["rejected"]["mass_kg"]["reason"].startswith("adds <")
    assert (data / "selection" / "correlation.png").stat().st_size > 1000


def test_cli_errors(tmp_path, capsys):
    data = write_dataset(tmp_path / "data")
    cases = [(["--candidates", "height_cm,hips_cm"], "measurement 'hips_cm' is not in .*"
              "available: height_cm, mass_kg, waist_cm"),
             (["--candidates", "height_cm,fat"], "no CLIP embeddings .*--clip"),
             (["--candidates", "height_cm,mass_kg", "--max", "3"], "--max 3 but there are 2"),
             (["--candidates", "height_cm,Height_cm"], "duplicate descriptor"),
             (["--candidates", "height_cm,,mass_kg"], "is empty")]
    for extra, message in cases:
        assert main(["select", str(data), *extra]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("semantify select: error: ")
        assert __import__("re").search(message, err), err
    assert main(["select", str(tmp_path)]) == 2
    assert "not a Semantify dataset" in capsys.readouterr().err


def test_clip_words_with_tiny_random_clip(tmp_path, monkeypatch, capsys):
    from semantify.clip import ClipSpec, load_clip, scores, template_for

    monkeypatch.setenv("SEMANTIFY_CACHE_DIR", str(tmp_path / "cache"))
    spec = ClipSpec.parse("tiny-random")
    scorer = load_clip(spec)
    embeds = torch.randn(200, 2, scorer.embed_dim, generator=torch.Generator().manual_seed(3))
    data = write_dataset(tmp_path / "data", image_embeds=embeds.half(), clip=spec.to_dict())
    dataset = open_dataset(data)
    names = ["fat", "height_cm", "long legs", "naïve"]
    values = descriptor_values(dataset, names)
    assert values.shape == (200, 4) and values.dtype == torch.float32
    assert torch.equal(values[:, 1], dataset.measurements[:, 0])
    text = scorer.encode_text(["fat", "long legs", "naïve"], template_for("body"))
    expected = scores(dataset.image_embeds, text)
    assert torch.allclose(values[:, [0, 2, 3]], expected)
    assert main(["select", str(data), "--candidates", ",".join(names), "--max", "3",
                 "--out", str(tmp_path / "report")]) == 0
    assert "NOT SEMANTIC" in capsys.readouterr().out
    record = json.loads((tmp_path / "report" / "selection.json").read_text())
    assert record["chosen"][0]["name"] == "height_cm"
    assert {row["name"] for row in record["chosen"]} | set(record["rejected"]) == set(names)


def test_forced_words_come_first_and_the_rest_is_chosen_beside_them(synthetic):
    values, names, coefficients = synthetic
    selection = select_descriptors(values, names, coefficients, max_k=4,
                                   forced=["noise0", "chubby"])
    assert selection.chosen[:2] == ["noise0", "chubby"]
    assert "fat" not in selection.chosen  # correlated with the forced chubby
    assert selection.rejected["fat"].startswith("correlated with chubby")
    assert {"tall", "muscular"} <= set(selection.chosen)
    assert selection.baseline.chosen[:2] == ["noise0", "chubby"]
    assert selection.settings["forced"] == ["noise0", "chubby"]
    with pytest.raises(SemantifyError, match="'slim' is not a candidate"):
        select_descriptors(values, names, coefficients, max_k=4, forced=["slim"])
    with pytest.raises(SemantifyError, match="3 forced descriptors but at most 2"):
        select_descriptors(values, names, coefficients, max_k=2, forced=["fat", "tall", "noise1"])

"""Mapper training: Lightning fit, best weights, vertex loss, LightningCLI, bad input."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from semantify.data.dataset import write_shard
from semantify.files import write_json_atomic
from semantify.errors import SemantifyError
from semantify.sets.mapper import Mapper, r2_score, validation_split
from semantify.measurements.anthropometer import MEASUREMENTS
from semantify.sets.sliders import SliderSet
from lightning_modules.train import train

ROOT = Path(__file__).resolve().parents[1]


def write_dataset(root: Path, model_id: str, coefficients: torch.Tensor, names: list[str],
                  measurements: torch.Tensor, shard_size: int = 400) -> Path:
    """A metric-only dataset in the `semantify generate` format."""
    from semantify.models import load_model

    model = load_model(model_id)
    n = len(coefficients)
    for shard, start in enumerate(range(0, n, shard_size)):
        rows = slice(start, start + shard_size)
        write_shard(root, shard, {"indices": torch.arange(n)[rows],
                                  "coefficients": coefficients[rows],
                                  "measurements": measurements[rows]})
    write_json_atomic(root / "manifest.json", {
        "format": "semantify-dataset", "version": 1,
        "model": {"id": model_id, "options": {}, "family": model.family,
                  "coefficients": model.coefficient_names},
        "samples": n, "seed": 0, "shard_size": shard_size, "views": ["front", "side"],
        "clip": None, "measurements": names})
    return root


def linear_npz(path: Path, seed: int = 0) -> Path:
    """A small linear model whose coefficient c0 moves vertices 100x more than the others."""
    rng = np.random.default_rng(seed)
    v = 200
    template = rng.normal(size=(v, 3)) * 0.3
    basis = rng.normal(size=(8, v, 3))
    basis /= np.linalg.norm(basis, axis=(1, 2), keepdims=True) / np.sqrt(v)
    basis[0] *= 0.1
    basis[1:] *= 0.001
    faces = np.stack([np.arange(v - 2), np.arange(1, v - 1), np.arange(2, v)], axis=1)
    np.savez(path, template=template, basis=basis, faces=faces,
             ranges=np.tile([-1.0, 1.0], (8, 1)), distribution=np.array("uniform"))
    return path


@pytest.fixture(scope="module")
def linear_data(tmp_path_factory):
    """Noisy observations of all 8 coefficients of the linear model (1,000 samples)."""
    from semantify.models import load_model

    tmp = tmp_path_factory.mktemp("linear")
    model_id = f"linear:{linear_npz(tmp / 'model.npz')}"
    coefficients = load_model(model_id).sample(range(1000), 0)
    noise = 0.1 * torch.randn(coefficients.shape, generator=torch.Generator().manual_seed(0))
    names = list(MEASUREMENTS)  # eight columns: the registry's names, holding noisy coefficients
    return write_dataset(tmp / "data", model_id, coefficients, names, coefficients + noise), names


def test_split_is_deterministic_and_disjoint():
    train_rows, val_rows = validation_split(100, 0.2, seed=3)
    again = validation_split(100, 0.2, seed=3)
    assert torch.equal(train_rows, again[0]) and torch.equal(val_rows, again[1])
    assert len(val_rows) == 20 and not set(train_rows.tolist()) & set(val_rows.tolist())
    assert not torch.equal(val_rows, validation_split(100, 0.2, seed=4)[1])


def test_mapper_standardises_inside():
    torch.manual_seed(0)
    scores, coefficients = torch.randn(50, 3) * 10 + 5, torch.randn(50, 4) * 0.1 - 2
    mapper = Mapper(3, 4, (8,))
    mapper.set_statistics(scores, coefficients)
    # The last layer starts at zero: the untrained mapper predicts the mean coefficients.
    assert torch.allclose(mapper(scores), coefficients.mean(0).expand(50, 4), atol=1e-6)
    assert r2_score(coefficients, coefficients) == pytest.approx(1.0)


def test_train_save_load_is_bit_identical(linear_data, tmp_path):
    data, names = linear_data
    out = tmp_path / "sliders"
    slider_set, metrics = train(data, names, out, max_epochs=6, hidden=(64,), lr=1e-2,
                                batch_size=128, progress=False)
    assert metrics["val_r2"] > 0.5 and metrics["best_epoch"] is not None
    assert {"val_vertex_mm", "val_r2", "history"} <= set(json.loads((out / "metrics.json")
                                                                    .read_text()))
    loaded = SliderSet.load(out)
    for key, value in slider_set.mapper.state_dict().items():
        assert torch.equal(value, loaded.mapper.state_dict()[key]), key
    values = torch.randn(7, 8)
    assert torch.equal(slider_set.coefficients(values, refine=False),
                       loaded.coefficients(values, refine=False))
    manifest = json.loads((out / "sliders.json").read_text())
    assert [s["name"] for s in manifest["sliders"]] == names and manifest["clip"] is None
    assert (out / manifest["dataset"]).resolve() == Path(data).resolve()  # relative or absolute


def test_best_weights_are_exported_not_last(linear_data, tmp_path):
    data, names = linear_data
    # A learning rate far too high makes later epochs worse than the best one.
    _, metrics = train(data, names, tmp_path / "s", max_epochs=8, hidden=(64,), lr=1.0,
                       batch_size=128, patience=100, progress=False)
    history = [h["val_vertex_mm"] for h in metrics["history"]]
    assert len(history) == 8 and min(history) < history[-1]
    assert metrics["best_epoch"] == history.index(min(history))
    # All 100 validation rows are tracked each epoch, so the exported (best) weights score
    # exactly the best epoch's error, not the last one's.
    assert metrics["val_vertex_mm"] == pytest.approx(min(history), rel=1e-4)


def test_vertex_loss_lowers_vertex_error(linear_data, tmp_path):
    """With a one-unit bottleneck, the vertex loss spends it on the coefficient that matters."""
    data, names = linear_data
    errors = {}
    for weight in (0.0, 1000.0):
        _, metrics = train(data, names, None, max_epochs=25, hidden=(1,), lr=1e-2,
                           batch_size=64, vertex_loss=weight, vertex_batch=64, patience=100,
                           progress=False)
        errors[weight] = metrics["val_vertex_mm"]
    assert errors[1000.0] < 0.7 * errors[0.0], errors


def test_bad_descriptors(linear_data, tmp_path):
    data, _ = linear_data
    with pytest.raises(SemantifyError, match="duplicate"):
        train(data, ["height_cm", "height_cm"], None, max_epochs=1, progress=False)
    with pytest.raises(SemantifyError, match="empty"):
        train(data, "height_cm,,mass_kg", None, max_epochs=1, progress=False)
    with pytest.raises(SemantifyError, match="'waist_in'"):
        train(data, ["waist_in"], None, max_epochs=1, progress=False)
    with pytest.raises(SemantifyError, match="unknown training setting 'epochs'"):
        train(data, ["height_cm"], None, epochs=1, progress=False)


def _config(tmp_path, data, names, model) -> Path:
    config = tmp_path / "tiny.yaml"
    config.write_text(
        "trainer:\n  max_epochs: 2\n  enable_progress_bar: false\n"
        "model:\n  hidden: [8]\n"
        f"data:\n  data: {data}\n  model: '{model}'\n  descriptors: {','.join(names)}\n"
        "  batch_size: 256\n"
        f"writer:\n  out: {tmp_path / 'cli-sliders'}\n")
    return config


def test_lightning_cli_fit_writes_slider_set(linear_data, tmp_path, capsys):
    from lightning_modules.__main__ import main

    data, names = linear_data
    model_id = json.loads((data / "manifest.json").read_text())["model"]["id"]
    code = main(["fit", "--config", str(_config(tmp_path, data, names, model_id))])
    assert code == 0, capsys.readouterr().err[-2000:]
    loaded = SliderSet.load(tmp_path / "cli-sliders")
    assert loaded.model_id == model_id
    assert loaded.names == names and loaded.mapper.hidden == (8,)


def test_lightning_cli_refuses_other_model(linear_data, tmp_path, capsys):
    from lightning_modules.__main__ import main

    data, names = linear_data
    code = main(["fit", "--config", str(_config(tmp_path, data, names, "anny-body"))])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "anny-body" in err[-1] and "error:" in err[-1]
    assert not (tmp_path / "cli-sliders").exists()


def test_shipped_config_parses():
    from lightning_modules.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(ROOT / "configs" / "anny-body.yaml"), "--print_config"])
    assert exit_info.value.code == 0

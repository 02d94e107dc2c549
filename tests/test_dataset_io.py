"""Reading datasets at scale: tensors filled shard by shard (only the fields asked for),
inconsistent shards refused in one line, and CLIP scores computed in bounded chunks."""

import pytest
import torch

from semantify.clip import similarity
from semantify.data.dataset import open_dataset, write_shard
from semantify.files import write_json_atomic
from semantify.errors import SemantifyError


def _write(root, samples=10, shard_size=4, drop_embeds_in=None):
    generator = torch.Generator().manual_seed(0)
    for shard, start in enumerate(range(0, samples, shard_size)):
        indices = torch.arange(start, min(samples, start + shard_size))
        tensors = {"indices": indices, "coefficients": indices[:, None].float().repeat(1, 3),
                   "image_embeds": torch.randn(len(indices), 2, 8, generator=generator
                                               ).half(),
                   "thumbnails": torch.zeros(len(indices), 2, 4, 4, 3, dtype=torch.uint8)}
        if shard == drop_embeds_in:
            del tensors["image_embeds"]
        write_shard(root, shard, tensors)
    write_json_atomic(root / "manifest.json", {
        "format": "semantify-dataset", "version": 1, "samples": samples,
        "shard_size": shard_size, "model": {"id": "anny-body", "family": "body"}})


def test_open_fills_rows_in_order_and_loads_only_the_fields_asked(tmp_path):
    _write(tmp_path / "d")
    full = open_dataset(tmp_path / "d")
    assert torch.equal(full.coefficients[:, 0], torch.arange(10).float())
    assert full.image_embeds.shape == (10, 2, 8) and full.thumbnails.shape[0] == 10
    slim = open_dataset(tmp_path / "d", fields=("image_embeds",))
    assert slim.thumbnails is None and torch.equal(slim.image_embeds, full.image_embeds)


def test_shards_that_disagree_are_refused_in_one_line(tmp_path):
    _write(tmp_path / "d", drop_embeds_in=1)
    with pytest.raises(SemantifyError, match="shards without image_embeds"):
        open_dataset(tmp_path / "d")
    write_shard(tmp_path / "e", 0, {"indices": torch.tensor([0, 1, 1, 3]),
                                    "coefficients": torch.zeros(4, 3)})
    write_json_atomic(tmp_path / "e" / "manifest.json", {
        "format": "semantify-dataset", "version": 1, "samples": 4, "shard_size": 4})
    with pytest.raises(SemantifyError, match="duplicate or missing sample indices"):
        open_dataset(tmp_path / "e")


@pytest.mark.parametrize("reduce", ["mean", "max", "none"])
def test_scores_in_chunks_equal_scores_at_once(monkeypatch, reduce):
    image = torch.randn(11, 2, 16).half()
    text = torch.randn(5, 16)
    whole = similarity.scores(image, text, reduce)
    monkeypatch.setattr(similarity, "CHUNK_ROWS", 3)
    assert torch.allclose(similarity.scores(image, text, reduce), whole, atol=1e-5)
    expected = 100 * torch.nn.functional.normalize(image.float(), dim=-1) @ \
        torch.nn.functional.normalize(text, dim=-1).T
    expected = {"mean": expected.mean(1), "max": expected.amax(1), "none": expected}[reduce]
    assert torch.allclose(whole, expected, atol=1e-4)
    one_view = 100 * torch.nn.functional.normalize(image[:, 0].float(), dim=-1) @ \
        torch.nn.functional.normalize(text, dim=-1).T
    assert torch.allclose(similarity.scores(image[:, 0], text), one_view, atol=1e-4)

"""The CLIP wrapper, run for real on the tiny random open_clip model (and once on ViT-B-32)."""

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from semantify.clip import (TEMPLATES, TINY_RANDOM_NAME, ClipScorer, ClipSpec, load_clip,
                            scores, template_for)
from semantify.clip.images import prepare_photo, to_rgb
from semantify.clip.loading import CONFIG_DIR, build
from semantify.errors import SemantifyError

TINY = ClipSpec.parse("tiny-random")

# Run in a fresh interpreter: embeddings of fixed inputs, then a real hub request offline
# (the subprocess timeout is what catches a hang).
SUBPROCESS_SCRIPT = """
import json, sys, time
import numpy as np
from semantify.clip import ClipSpec, load_clip
from semantify.errors import SemantifyError
scorer = load_clip(ClipSpec.parse("tiny-random"), device="cpu")
images = np.random.default_rng(0).integers(0, 256, (2, 224, 224, 3), dtype=np.uint8)
report = {"images": scorer.encode_images(images).numpy().tobytes().hex(),
          "text": scorer.encode_text(["tall", "short"]).numpy().tobytes().hex()}
for key, spec in (("hub", ClipSpec("ViT-B-32", "laion2b_s34b_b79k")),
                  ("hf_cache", ClipSpec("ViT-B-32", "openai"))):
    start = time.perf_counter()
    try:
        load_clip(spec)
    except SemantifyError as error:
        report[key + "_error"] = str(error)
    report[key + "_seconds"] = time.perf_counter() - start
print(json.dumps(report))
"""
HF_CACHED_REPO = "models--timm--vit_base_patch32_clip_224.openai"  # ViT-B-32/openai


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMANTIFY_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def tiny():
    return load_clip(TINY, device="cpu")


@pytest.fixture(scope="module")
def fresh_process(tmp_path_factory):
    """What a second interpreter computes, with the hub offline and an empty HF cache."""
    hf_home = tmp_path_factory.mktemp("hf")
    repo = hf_home / "hub" / HF_CACHED_REPO
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    (repo / "snapshots" / ("0" * 40)).mkdir(parents=True)
    (repo / "snapshots" / ("0" * 40) / "open_clip_pytorch_model.bin").write_bytes(b"truncated")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(hf_home),
           "SEMANTIFY_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))}
    result = subprocess.run([sys.executable, "-c", SUBPROCESS_SCRIPT], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def random_images(n, size=224, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_tiny_random_embeddings_are_normalised(tiny):
    assert not tiny.spec.is_semantic and tiny.embed_dim == 64 and tiny.image_size == 224
    assert tiny.dtype == torch.float32 and tiny.device == torch.device("cpu")
    image_embeds = tiny.encode_images(random_images(3), batch_size=2)
    text_embeds = tiny.encode_text(["tall", "short"], TEMPLATES["body"])
    for embeds, n in ((image_embeds, 3), (text_embeds, 2)):
        assert embeds.shape == (n, 64) and embeds.dtype == torch.float32
        assert torch.allclose(embeds.norm(dim=-1), torch.ones(n), atol=1e-5)
    # Batching does not change results; a torch input equals a numpy one.
    whole = tiny.encode_images(torch.from_numpy(random_images(3)), batch_size=64)
    assert torch.allclose(image_embeds, whole, atol=1e-6)


@pytest.mark.slow
def test_tiny_random_is_bit_identical_in_a_fresh_process(tiny, fresh_process):
    images = tiny.encode_images(random_images(2)).numpy()
    text = tiny.encode_text(["tall", "short"]).numpy()
    assert images.tobytes().hex() == fresh_process["images"]
    assert text.tobytes().hex() == fresh_process["text"]


def test_loading_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build(TINY)
    assert torch.equal(torch.rand(3), expected)


def test_load_clip_is_shared_between_threads():
    found = []
    threads = [threading.Thread(target=lambda: found.append(load_clip(TINY, "cpu")))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 3 and all(scorer is found[0] for scorer in found)


def test_text_embeddings_are_computed_once_and_cached_on_disk(cache_dir):
    calls = []

    def spy(scorer):
        encode = scorer._model.encode_text
        scorer._model.encode_text = lambda tokens, **kw: (calls.append(len(tokens)),
                                                          encode(tokens, **kw))[1]
        return scorer

    scorer = spy(ClipScorer(TINY, build(TINY), "cpu"))
    first = scorer.encode_text(["tall", "short", "tall"], TEMPLATES["body"])
    assert calls == [2]  # the duplicate is encoded once
    assert torch.equal(first[0], first[2])
    assert len(list((cache_dir / "clip-text").glob("*.safetensors"))) == 2
    assert torch.equal(scorer.encode_text(["short", "tall"], TEMPLATES["body"]), first[[1, 0]])
    assert calls == [2]
    # A new scorer reads the disk cache instead of running the model.
    reloaded = spy(ClipScorer(TINY, build(TINY), "cpu"))
    assert torch.equal(reloaded.encode_text(["tall", "short"], TEMPLATES["body"]), first[:2])
    assert calls == [2]
    # Another template is another prompt.
    other = reloaded.encode_text(["tall"], TEMPLATES["face"])
    assert calls == [2, 1] and not torch.equal(other[0], first[0])
    assert not list((cache_dir / "clip-text").glob("*.tmp"))


def test_scores_are_100_cosine_averaged_over_views():
    generator = torch.Generator().manual_seed(0)
    image = torch.randn(4, 3, 8, generator=generator).to(torch.float16)
    text = torch.randn(5, 8, generator=generator)
    image32 = image.to(torch.float32)
    by_hand = torch.zeros(4, 3, 5)
    for n in range(4):
        for v in range(3):
            for k in range(5):
                by_hand[n, v, k] = 100 * torch.nn.functional.cosine_similarity(
                    image32[n, v], text[k], dim=0)
    result = scores(image, text)
    assert result.dtype == torch.float32 and result.shape == (4, 5)
    assert torch.allclose(result, by_hand.mean(dim=1), atol=1e-4)
    assert torch.allclose(scores(image, text, reduce="max"), by_hand.amax(dim=1), atol=1e-4)
    assert torch.allclose(scores(image, text, reduce="none"), by_hand, atol=1e-4)
    assert torch.allclose(scores(image[:, 0], text), by_hand[:, 0], atol=1e-4)
    with pytest.raises(SemantifyError, match="mean, max, none"):
        scores(image, text, reduce="sum")
    with pytest.raises(SemantifyError, match="same CLIP model"):
        scores(image, text[:, :4])


def test_letterboxing_keeps_the_whole_tall_image(tiny):
    pixels = np.zeros((180, 60, 3), dtype=np.uint8)
    pixels[:20] = (255, 0, 0)  # head: red
    pixels[20:160] = (0, 255, 0)
    pixels[160:] = (0, 0, 255)  # feet: blue
    square = prepare_photo(Image.fromarray(pixels), 224)
    assert square.shape == (224, 224, 3) and square.dtype == np.uint8
    column = square[:, 112].astype(int)
    assert (column[0] == (255, 0, 0)).all() and (column[223] == (0, 0, 255)).all()
    assert (column[112] == (0, 255, 0)).all()
    # The content is 60 * 224 / 180 = 75 wide, centred; the rest is one border colour.
    assert (square[:, :70] == square[0, 0]).all() and (square[:, 154:] == square[0, 0]).all()
    assert (square[:, 75:149] != square[0, 0]).any(axis=-1).all()
    embed = tiny.encode_photo(Image.fromarray(pixels))
    assert embed.shape == (64,) and torch.isclose(embed.norm(), torch.tensor(1.0))
    assert torch.allclose(embed, tiny.encode_images(square[None])[0], atol=1e-6)


def test_encode_images_letterboxes_and_resizes_any_size(tiny):
    wide = random_images(2, size=300)[:, :150]  # (2, 150, 300, 3)
    assert tiny.encode_images(wide).shape == (2, 64)
    with pytest.raises(SemantifyError, match=r"uint8 RGB images of shape \(N, H, W, 3\)"):
        tiny.encode_images(random_images(1).astype(np.float32))


@pytest.mark.parametrize("mode", ["RGBA", "LA", "CMYK", "I;16", "I", "F", "P", "L", "1"])
def test_odd_image_modes_convert_to_rgb(mode, tiny):
    rgb = Image.fromarray(random_images(1, size=40)[0])
    image = rgb.convert(mode) if mode not in ("I;16",) else Image.new("I;16", (40, 40), 65535)
    converted = to_rgb(image)
    assert converted.mode == "RGB" and converted.size == (40, 40)
    assert tiny.encode_photo(image).shape == (64,)


def test_transparency_and_16_bit_values():
    clear = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    assert np.asarray(to_rgb(clear))[0, 0].tolist() == [255, 255, 255]
    solid = Image.new("RGBA", (4, 4), (255, 0, 0, 255))
    assert np.asarray(to_rgb(solid))[0, 0].tolist() == [255, 0, 0]
    assert np.asarray(to_rgb(Image.new("I;16", (4, 4), 65535)))[0, 0].tolist() == [255] * 3
    palette = Image.new("RGB", (4, 4), (10, 200, 30)).convert("P", palette=Image.ADAPTIVE)
    assert np.asarray(to_rgb(palette))[0, 0].tolist() == [10, 200, 30]
    palette.info["transparency"] = 0  # index 0 (the only colour) is transparent
    assert np.asarray(to_rgb(palette))[0, 0].tolist() == [255, 255, 255]


def test_spec_parse_variants(tmp_path):
    assert ClipSpec.parse() == ClipSpec("ViT-B-32", "laion2b_s34b_b79k") == ClipSpec()
    assert ClipSpec.parse("ViT-B-32") == ClipSpec()
    assert ClipSpec.parse("ViT-B-16/openai") == ClipSpec("ViT-B-16", "openai")
    assert TINY == ClipSpec(TINY_RANDOM_NAME, None) and not TINY.is_semantic
    assert "NOT SEMANTIC" in TINY.label and "tiny-random" in TINY.label
    assert ClipSpec().is_semantic and ClipSpec().label == "ViT-B-32/laion2b_s34b_b79k"
    random_b32 = ClipSpec.parse("ViT-B-32/random")
    assert random_b32 == ClipSpec("ViT-B-32", None) and not random_b32.is_semantic
    path = tmp_path / "weights.pt"
    path.write_bytes(b"weights")
    local = ClipSpec.parse("ViT-B-32/openai", checkpoint=str(path))
    assert local == ClipSpec("ViT-B-32", None, str(path)) and local.is_semantic
    assert ClipSpec.parse(None, checkpoint=str(path)) == ClipSpec("ViT-B-32", None, str(path))
    record = local.to_dict()
    assert record["checkpoint_sha256"] and len(record["checkpoint_sha256"]) == 16
    assert ClipSpec.from_dict(json.loads(json.dumps(record))) == local
    assert ClipSpec.from_dict(ClipSpec().to_dict()) == ClipSpec()
    path.write_bytes(b"other weights")
    with pytest.raises(SemantifyError, match="has changed"):
        ClipSpec.from_dict(record)
    with pytest.raises(SemantifyError, match="ViT-L-14/TAG"):
        ClipSpec.parse("ViT-L-14")
    with pytest.raises(SemantifyError, match="NAME/TAG"):
        ClipSpec.parse("a/b/c")


def test_templates():
    assert template_for("body") == "a 3D render of a {} person"
    assert template_for("expression") == template_for("face")
    assert template_for("body", "bare") == "{}"
    assert template_for("body", "a photo of a {} man") == "a photo of a {} man"
    with pytest.raises(SemantifyError, match="unknown prompt template"):
        template_for("body", "nonsense")
    with pytest.raises(SemantifyError, match="families are body, face"):
        template_for("plant")


def test_unknown_model_name_lists_models():
    with pytest.raises(SemantifyError, match=r"unknown CLIP model 'ViT-B-33'; did you mean "
                                             r"ViT-B-32.*open_clip.list_models"):
        load_clip(ClipSpec("ViT-B-33", "laion2b_s34b_b79k"))


def test_unknown_tag_lists_valid_tags():
    with pytest.raises(SemantifyError, match=r"unknown pretrained tag 'nope' for CLIP model "
                                             r"ViT-B-32; valid tags: openai.*laion2b_s34b_b79k"):
        load_clip(ClipSpec("ViT-B-32", "nope"))


@pytest.mark.slow
def test_unreachable_hub_fails_fast_naming_the_fix(fresh_process):
    message = fresh_process["hub_error"]
    assert "\n" not in message
    assert "cannot get CLIP weights ViT-B-32/laion2b_s34b_b79k" in message
    assert "--clip-checkpoint PATH" in message and "HF_HUB_OFFLINE" in message


@pytest.mark.slow
def test_weights_in_the_hf_cache_are_used_offline(fresh_process):
    # The cached file is read (no hub request); here it is truncated, and named as such.
    message = fresh_process["hf_cache_error"]
    assert message.startswith("cannot read CLIP checkpoint ")
    assert HF_CACHED_REPO in message and "open_clip_pytorch_model.bin" in message


def test_corrupt_checkpoint_is_named(tmp_path):
    for name in ("garbage.pt", "garbage.safetensors"):
        path = tmp_path / name
        path.write_bytes(b"\x00not a checkpoint\xff" * 50)
        with pytest.raises(SemantifyError, match=f"cannot read CLIP checkpoint .*{name}.*corrupt"):
            load_clip(ClipSpec(TINY_RANDOM_NAME, None, str(path)))
    with pytest.raises(SemantifyError, match="does not exist"):
        load_clip(ClipSpec(TINY_RANDOM_NAME, None, str(tmp_path / "missing.pt")))


def saved_weights(tiny, path):
    """Save tiny-random's weights, perturbed so that loading them is visible."""
    state = {k: v + 0.01 * torch.ones_like(v) if v.is_floating_point() else v
             for k, v in tiny._model.state_dict().items()}
    torch.save(state, path)
    return state


def test_local_checkpoint_file_loads(tiny, tmp_path):
    state = saved_weights(tiny, tmp_path / "tiny.pt")
    spec = ClipSpec(name=TINY_RANDOM_NAME, pretrained=None, checkpoint=str(tmp_path / "tiny.pt"))
    scorer = load_clip(spec, device="cpu")
    loaded = scorer._model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())
    images = random_images(2)
    assert not torch.equal(scorer.encode_images(images), tiny.encode_images(images))
    again = ClipScorer(spec, build(spec), "cpu")
    assert torch.equal(again.encode_images(images), scorer.encode_images(images))


def test_local_checkpoint_directory_loads(tiny, tmp_path):
    state = saved_weights(tiny, tmp_path / "open_clip_pytorch_model.bin")
    config = json.loads((CONFIG_DIR / f"{TINY_RANDOM_NAME}.json").read_text())
    (tmp_path / "open_clip_config.json").write_text(json.dumps({"model_cfg": config}))
    scorer = load_clip(ClipSpec("tiny-from-dir", None, str(tmp_path)), device="cpu")
    assert scorer.embed_dim == 64
    loaded = scorer._model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())


def test_checkpoint_of_another_architecture_is_refused(tiny, tmp_path):
    saved_weights(tiny, tmp_path / "open_clip_pytorch_model.bin")
    config = json.loads((CONFIG_DIR / f"{TINY_RANDOM_NAME}.json").read_text())
    config["vision_cfg"]["width"] = 96  # the weights are 64 wide
    (tmp_path / "open_clip_config.json").write_text(json.dumps({"model_cfg": config}))
    with pytest.raises(SemantifyError, match=r"open_clip_pytorch_model.bin does not fit "
                                             r"architecture wider.*size mismatch.*--clip NAME"):
        load_clip(ClipSpec("wider", None, str(tmp_path)))
    # A config of another kind (Hugging Face's) or damaged: one line, not a KeyError.
    for text in (json.dumps({"architectures": ["CLIPModel"]}), "{", "[" * 100_000):
        (tmp_path / "open_clip_config.json").write_text(text)
        with pytest.raises(SemantifyError, match="CLIP config .*open_clip_config.json"):
            load_clip(ClipSpec("other", None, str(tmp_path)))


def test_real_vit_b_32_architecture_with_random_weights():
    scorer = load_clip(ClipSpec.parse("ViT-B-32/random"), device="cpu")
    assert scorer.embed_dim == 512 and scorer.image_size == 224
    embeds = scorer.encode_images(random_images(2, size=256))
    assert embeds.shape == (2, 512)
    assert torch.allclose(embeds.norm(dim=-1), torch.ones(2), atol=1e-5)


def test_weight_download_progress_reaches_the_callback(tmp_path):
    from semantify.clip import fetch_weights
    from semantify.clip.loading import _progress_bar

    seen = []
    bar = _progress_bar(lambda done, total: seen.append((done, total)))(total=300, initial=100)
    bar.update(50)
    bar.update(150)
    bar.close()
    assert seen == [(100, 300), (150, 300), (300, 300)]
    assert fetch_weights(ClipSpec.parse("tiny-random")) is None  # random weights: nothing to get
    weights = tmp_path / "open_clip_model.safetensors"
    weights.write_bytes(b"x")
    assert fetch_weights(ClipSpec.parse(None, str(tmp_path))) == weights


def test_int8_image_tower_is_recorded_and_stays_close_to_fp32():
    import dataclasses

    spec = ClipSpec.parse("tiny-random")
    int8 = dataclasses.replace(spec, int8=True)
    assert "int8" not in spec.to_dict() and ClipSpec.from_dict(int8.to_dict()) == int8
    assert int8.identity() == spec.identity()  # text embeddings are shared
    images = np.random.default_rng(0).integers(0, 256, (4, 64, 64, 3), np.uint8)
    fp32_embeds = load_clip(spec, "cpu").encode_images(images)
    quantized = load_clip(int8, "cpu")
    assert any("quantized" in type(m).__module__ for m in quantized._model.visual.modules())
    cosine = (quantized.encode_images(images) * fp32_embeds).sum(1)
    assert cosine.min() > 0.99


def test_the_hub_probe_gives_up_on_a_stalled_resolver(monkeypatch):
    """A build asks whether the Hub can be reached before it downloads CLIP; a resolver that
    never answers (it can stall for minutes) is given the probe's timeout, not more."""
    import socket
    import threading
    import time

    from huggingface_hub import constants

    from semantify.clip.loading import _hub_unreachable

    answer = threading.Event()

    def stalled(*args, **kwargs):
        answer.wait(30)
        raise OSError("no answer")

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # the suite runs offline
    monkeypatch.setattr(socket, "getaddrinfo", stalled)
    started = time.monotonic()
    try:
        assert "no answer from DNS in 1 s" in _hub_unreachable(timeout=1.0)
        assert time.monotonic() - started < 5
    finally:
        answer.set()  # the lookup's thread ends with the test


def test_weights_that_cannot_come_are_refused_before_a_build_starts(monkeypatch):
    """Online but with the Hub unreachable (here: nothing listens on its port), a build of a
    hub tag that is not cached is refused by the quick checks, in one line, before a process
    or a download starts; offline it is refused without the probe."""
    import time

    from huggingface_hub import constants

    from semantify.clip import check_weights_reachable

    spec = ClipSpec.parse("ViT-B-32/laion2b_s34b_b79k")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    started = time.monotonic()
    with pytest.raises(SemantifyError, match="127.0.0.1: Connection refused") as refused:
        check_weights_reachable(spec)
    assert time.monotonic() - started < 10 and "\n" not in str(refused.value)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(SemantifyError, match="HF_HUB_OFFLINE is set"):
        check_weights_reachable(spec)
    check_weights_reachable(ClipSpec.parse("tiny-random"))  # random weights need nothing

"""Figures for exports on Anny: how long each file takes, how far a rigged GLB's skinning (4 or
8 bones a vertex) strays from semantify's posed body in every pose (4 bones: fitted on every
preset, and fitted with the pose held out), and how far a blend of two shape keys strays from
the true shape (raw coefficients, and the shipped metric set).

Run: `python bench/export.py` (ANNY_CACHE_DIR set as in the Makefile).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(label: str, action):
    start = time.perf_counter()
    result = action()
    print(f"{label:<46} {time.perf_counter() - start:6.2f} s")
    return result


def main() -> None:
    from semantify.export import export_shape
    from semantify.models.reference import ModelRef
    from semantify.poses import pose_names
    from semantify.sets.sliders import SliderSet, raw_sliders

    raw = raw_sliders(ModelRef("anny-body"))
    body = raw.shape(weight=0.8, height=0.7, muscle=0.3)
    folder = Path(tempfile.mkdtemp(prefix="semantify-export-"))
    for suffix in (".obj", ".ply", ".glb"):
        timed(f"anny-body {suffix} (skin), walking", lambda suffix=suffix: export_shape(
            body, folder / f"body{suffix}", "walking", "skin"))
    rigged = timed("anny-body rigged .glb, walking", lambda: export_shape(
        body, folder / "rigged.glb", "walking", rig=True))
    timed("anny-body rigged .glb, walking, 8 bones", lambda: export_shape(
        body, folder / "rigged8.glb", "walking", rig=True, influences=8))
    print(f"  {rigged.rig.fit.summary()}")
    keys = timed(f"anny-body .glb with {len(raw.sliders)} shape keys", lambda: export_shape(
        body, folder / "keys.glb", shape_keys=True)).shape_keys
    print(f"  raw coefficients: {keys.summary()}")
    print("\nrig vs semantify's posed vertices (mm, mean / max):")
    for pose in pose_names(body.slider_set.model)[1:]:
        row = []
        for influences in (4, 8):
            rig = export_shape(body, folder / "r.glb", pose, rig=True,
                               influences=influences).rig
            row.append(f"{influences} bones {rig.deviation_mm[0]:.3f} / {rig.deviation_mm[1]:.2f}")
        print(f"  {pose:<18} " + "   ".join(row) + "   4 bones, {} held out {:.3f} / {:.2f}"
              .format(pose, *held_out(body, pose)))
    metric = SliderSet.load(ROOT / "sliders" / "anny-body-metric")
    shape = metric.shape(mass_kg=85)
    keys = timed("anny-body-metric .glb with shape keys", lambda: export_shape(
        shape, folder / "metric.glb", shape_keys=True)).shape_keys
    print(f"  metric set: {keys.summary()}")


def held_out(body, pose: str) -> tuple[float, float]:
    """(mean, max) mm between semantify's posed ``body`` (before its floor lift, which moves
    every vertex alike) and 4-bone weights fitted without ``pose``."""
    import numpy as np
    import torch

    from semantify.export.weights import blend, skin_weights
    from semantify.poses import resolve_pose
    from semantify.poses.posing import bone_rotations

    model = body.slider_set.model
    coefficients = torch.as_tensor(body.coefficients, dtype=torch.float32)
    rotations = bone_rotations(model, resolve_pose(model, pose))
    skinning = model.skinning(coefficients, rotations)
    with torch.no_grad():
        truth, rest = model.skin(coefficients[None], rotations)
    vertices = rest[0].double().numpy()
    joints, weights, _ = skin_weights(model, skinning.rest.numpy(),
                                      skinning.weights.double().numpy(), vertices, 4, (pose,))
    transforms = (skinning.posed @ torch.linalg.inv(skinning.rest)).numpy()[None]
    error = np.linalg.norm(blend(transforms, joints, weights.astype(np.float64), vertices)[0]
                           - truth[0].double().numpy(), axis=1) * 1000
    return float(error.mean()), float(error.max())


if __name__ == "__main__":
    main()

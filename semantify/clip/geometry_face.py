"""The face side of the ``--clip geometry`` TEST encoder: what a portrait's pixels say about
its expression (it is not CLIP).

A portrait (the head framing of anny-face-*: the figure runs off the image's bottom edge) is
read in a frame set by the head itself: its top row and its width ``hw`` (the widest row of
the head, at the ears). At 224 px the lips are a few pixels tall and a clay render shows an
open mouth's inside as lit as the skin, so the features are the ones that survive that:

- ``jaw_drop``: the silhouette's mean width over the band where the jaw's outline meets the
  neck (``JAW_BAND`` x hw below the top), over hw: an opening jaw carries that outline down,
  so the band widens. Across expressions it moves by a fifth of a pixel at 224 px, so any
  resampling moves it: it is read at a geometric edge (:func:`edge_outline`), where an aliased
  224 px render and a 512 px skin photo scaled down agree (0.34 standard deviations apart;
  the first outline put them 8 apart and read every such photo as a wide-open mouth), but a
  512 px clay render scaled down still reads 11 apart. It is fragile by nature;
- ``smile_span``: the span, over hw, of the creases in the band just above the lips
  (``CREASE_BAND``) at least SPAN_SHARE as deep as the band's deepest: smiling lifts the
  mouth's corners into it and deepens the folds beside them, so the creases reach further
  out. A share of the band's own depth, not a fixed darkness, so skin, and the softer edges
  of a larger picture scaled down, read as a clay render does (within 0.14 standard
  deviations over 64 random expressions, 0.36 over the test's 32, against 1.0-1.3 for a fixed
  darkness);
- ``smile_curve``: how much lower the creases' outer ends lie than the line at the band's
  centre (the nose's base), over hw: the lifted corners and cheek folds sit at the band's
  bottom, a resting mouth's ends do not reach it.

Creases are pixels darker than their neighbourhood (a box mean of ``CREASE_BOX`` px) by more
than ``CREASE_DARK`` of full scale, inside the figure; ``smile_curve`` reads those.
"""

from __future__ import annotations

import numpy as np

FACE_FEATURES = ("jaw_drop", "smile_span", "smile_curve")
PORTRAIT_BOTTOM = 0.1  # a figure covering this share of the image's bottom row is a portrait
JAW_BAND = (1.10, 1.22)  # rows below the head's top, in head widths
CREASE_BAND = (0.85, 1.05)
CREASE_HALF = 0.22  # columns either side of the face's centre line, in head widths
CREASE_BOX = 9
CREASE_DARK = 0.04
SPAN_SHARE = 0.5  # the span: creases this deep, as a share of the band's deepest (90th pct)
EDGE = 0.35  # figure pixels differ from the border by this share of the figure's median
CENTRE_STRIP = 0.05  # head widths either side of the centre line: the band's centre
END_SHARE = 6  # the creases' outer ends: this fraction (1/END_SHARE) of their span each side


def is_portrait(mask: np.ndarray) -> bool:
    """Whether the (S, S) figure ``mask`` runs off the image's bottom edge (a head and
    shoulders framing) rather than standing inside it (a whole body)."""
    return float(mask[-1].mean()) > PORTRAIT_BOTTOM


def darkness(image: np.ndarray, mask: np.ndarray, box: int = CREASE_BOX) -> np.ndarray:
    """float32 (H, W, 3) image, (H, W) bool mask -> (H, W) how much darker each figure pixel
    is than the figure's mean in the ``box`` x ``box`` square around it (0 off the figure)."""
    luma = image.mean(-1, dtype=np.float64)
    inside = mask.astype(np.float64)
    around = _box_sum(luma * inside, box) / np.maximum(_box_sum(inside, box), 1e-6)
    return np.clip(around - luma, 0.0, None) * mask


def _box_sum(values: np.ndarray, box: int) -> np.ndarray:
    """(H, W) -> (H, W) sums over the ``box`` x ``box`` square centred on each pixel (cut at
    the edges), from a summed-area table."""
    half = box // 2
    table = np.pad(values, ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    h, w = values.shape
    rows, cols = np.arange(h), np.arange(w)
    r0, r1 = np.clip(rows - half, 0, h), np.clip(rows + half + 1, 0, h)
    c0, c1 = np.clip(cols - half, 0, w), np.clip(cols + half + 1, 0, w)
    return (table[r1][:, c1] - table[r0][:, c1] - table[r1][:, c0] + table[r0][:, c0])


def edge_outline(difference: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, float]:
    """(S, S) each pixel's difference from the border, the figure's ``mask`` -> the figure
    inside its geometric edge (a pixel counts where it differs by EDGE of the figure's median
    difference: more than half covered, at the dimmer light of an edge) and the outline's top
    row, to a fraction of a pixel (less the row above's share of that level)."""
    level = float(np.median(difference[mask])) if mask.any() else 1.0
    inside = difference > EDGE * level
    rows = np.flatnonzero(inside.any(1))
    top = int(rows[0]) if rows.size else 0
    above = float(np.clip(difference[top - 1] / level, 0.0, 1.0).max()) if top else 0.0
    return inside, top - above


def face_features(image: np.ndarray, difference: np.ndarray, mask: np.ndarray) -> dict:
    """float32 (S, S, 3) portrait, its (S, S) ``difference`` from the border and ``mask``
    -> {feature: value} for FACE_FEATURES (see the module docstring)."""
    size = mask.shape[0]
    top = int(np.flatnonzero(mask.any(1))[0])
    head = max(float(mask[top:top + size // 2].sum(1).max()), 1.0)
    columns = np.arange(size)
    weights = mask[top:top + int(head)].sum(0)
    centre = float(np.average(columns, weights=weights)) if weights.any() else size / 2
    inside, edge_top = edge_outline(difference, mask)
    width = max(float(inside[int(edge_top) + 1:][:size // 2].sum(1).max()), 1.0)
    j0, j1 = (min(max(round(edge_top + f * width), 0), size - 1) for f in JAW_BAND)
    out = {"jaw_drop": float(inside[j0:max(j1, j0 + 1)].sum(1).mean()) / width,
           "smile_span": 0.0, "smile_curve": 0.0}
    r0, r1 = (min(top + int(f * head), size - 1) for f in CREASE_BAND)
    c0, c1 = max(int(centre - CREASE_HALF * head), 0), int(centre + CREASE_HALF * head) + 1
    pad = CREASE_BOX // 2  # the crease box's reach: the band's darkness, as in the whole image
    y0, x0 = max(r0 - pad, 0), max(c0 - pad, 0)
    around = darkness(image[y0:r1 + pad, x0:c1 + pad], mask[y0:r1 + pad, x0:c1 + pad])
    band = around[r0 - y0:max(r1, r0 + 1) - y0, c0 - x0:c1 - x0]
    line = r0 + band.argmax(0)  # per column, the row of its darkest crease
    deepest = band.max(0)
    dark = np.flatnonzero(deepest > CREASE_DARK)
    if dark.size <= 4:
        return out
    spanned = np.flatnonzero(deepest > SPAN_SHARE * np.percentile(deepest, 90))
    out["smile_span"] = (spanned[-1] - spanned[0] + 1) / head
    middle = dark[np.abs(c0 + dark - centre) < CENTRE_STRIP * head]
    if middle.size:
        n = max(2, dark.size // END_SHARE)
        ends = np.r_[dark[:n], dark[-n:]]
        out["smile_curve"] = float(line[ends].mean() - line[middle].mean()) / head
    return out

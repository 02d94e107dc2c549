"""The model card of a slider set: ``README.md`` in its folder, written in one place.

It says what the sliders are (each with its range and a low / default / high picture), how
good they are (held-out error, fidelity, disentanglement, the selection's R²), what they were
built from (the recipe, CLIP and prompt template, the data size and build times) and how to use
and rebuild them. Every part comes from the files in the folder (``sliders.json``,
``metrics.json``, ``selection/``, ``evaluation/``, ``build.json``); parts whose file is missing
are left out, so any slider set gets a card. The Hub's metadata block is merged in when a set
is pushed (:mod:`semantify.sets.card_metadata`).
"""

from __future__ import annotations

import json
from pathlib import Path

from semantify.errors import SemantifyError
from semantify.files import read_json_or_none, write_atomic
from semantify.recipes.settings import BuildRecord, read_record
from semantify.sets.sliders import SliderSet

CARD = "README.md"


def _build_record(root: Path) -> BuildRecord | None:
    """The folder's build record, if it has a readable one (a set made by `semantify
    build`)."""
    try:
        return read_record(root)
    except SemantifyError:
        return None


def _header(slider_set: SliderSet, record: BuildRecord | None, root: Path) -> list[str]:
    title = (record.title if record else "") or root.name
    lines = [f"# {title}", ""]
    words = ", ".join(f"**{name}**" for name in slider_set.names)
    lines += [f"Sliders for `{slider_set.model_id}` named by words: {words}.", ""]
    if slider_set.clip is not None and slider_set.clip.is_geometry:
        lines += ["> **Test encoder, not CLIP.** These sliders were built with the ground-truth "
                  f"geometry encoder ({slider_set.clip.label}): their words mean what its "
                  "lexicon says about the silhouette, to check the pipeline.", ""]
    if slider_set.clip is not None and not slider_set.clip.is_semantic:
        lines += ["> **Not semantic.** These sliders were built with random CLIP weights "
                  f"({slider_set.clip.label}): they test the pipeline, and their names mean "
                  "nothing.", ""]
    return lines


def _sliders(slider_set: SliderSet, evaluation: dict | None) -> list[str]:
    fidelity = (evaluation or {}).get("fidelity", {})
    pictures = (evaluation or {}).get("pictures", [])  # one per slider, in slider order
    lines = ["## Sliders", "", "| slider | low | default | high | fidelity r |",
             "|---|---|---|---|---|"]
    for s in slider_set.sliders:
        unit = f" {s.unit}" if s.unit else ""
        lines.append(f"| {s.name} | {s.low:.4g}{unit} | {s.default:.4g}{unit} | "
                     f"{s.high:.4g}{unit} | "
                     + (f"{fidelity[s.name]:+.3f} |" if s.name in fidelity else "n/a |"))
    lines.append("")
    if slider_set.word_scale is not None:
        lines += ["Word sliders run 0-100: the percentile of the training bodies' scores for "
                  "that word (0 the least, 100 the most; default 50, the median).", ""]
    views = getattr(slider_set, "photo_views", None)
    if views is not None:
        lines += [f"Photos: {len(views.photos)} of its training bodies were photographed (skin, "
                  f"512 px) from the {' and the '.join(views.views)}. A photo fit reads each "
                  "photo as the side it resembles; photos of sides it was not trained on "
                  f"({' and '.join(views.trained_views)}) are mapped as those bodies showed, "
                  "not averaged in.", ""]
    if fidelity:
        lines += ["Fidelity: the Pearson r between the value asked of a slider and the value "
                  "measured (or CLIP-scored) on the resulting mesh, over its range.", ""]
    if len(pictures) == len(slider_set.sliders):
        lines += ["Each picture shows the slider at its low, default and high value, the others "
                  "at their defaults.", ""]
        for s, picture in zip(slider_set.sliders, pictures):
            lines += [f"**{s.name}**", "", f"![{s.name}: low, default, high]"
                      f"(evaluation/{picture})", ""]
    return lines


def _receipts(slider_set: SliderSet, root: Path) -> list[str]:
    """What each word slider does in physical units (:mod:`semantify.sets.receipts`)."""
    from semantify.sets.receipts import NO_RECEIPTS, read_receipts

    if not slider_set.word_names:
        return []
    receipts = read_receipts(root)
    lines = ["## Receipts", ""]
    if receipts is None:
        return [*lines, NO_RECEIPTS, ""]
    lines += ["Each word slider swept from its low to its high end, the others at their "
              "defaults, measured on the meshes (not by CLIP):", ""]
    lines += [f"- **{name}**: {receipts[name].line()}" for name in slider_set.word_names
              if name in receipts]
    return [*lines, ""]


def _figures(metrics: dict | None, evaluation: dict | None, selection: dict | None) -> list[str]:
    rows = []
    if evaluation:
        held = evaluation["held_out"]
        rows += [("held-out mean vertex error", f"{held['vertex_mm']:.1f} mm over "
                  f"{held['rows']} rows"),
                 ("held-out coefficient R²", f"{held['coefficient_r2']:.3f}"),
                 ("disentanglement (off-diagonal / diagonal sensitivity, 0 is ideal)",
                  f"{evaluation['disentanglement']:.3f}")]
    elif metrics:
        rows += [("held-out mean vertex error", f"{metrics['val_vertex_mm']:.1f} mm"),
                 ("held-out coefficient R²", f"{metrics['val_r2']:.3f}")]
    if selection:
        baseline = selection.get("baseline", {})
        rows.append(("selection test R² (chosen words -> coefficients, ridge)",
                     f"{selection['r2_test']:.3f} (the reference's variance heuristic: "
                     f"{baseline.get('r2_test', float('nan')):.3f})"))
    if metrics:
        rows.append(("training", f"{metrics['epochs']} epochs, best {metrics['best_epoch']}, "
                     f"{metrics['train_rows']} training rows"))
    if not rows:
        return []
    return ["## Figures", "", "| figure | value |", "|---|---|",
            *[f"| {name} | {value} |" for name, value in rows], ""]


def _provenance(slider_set: SliderSet, record: BuildRecord | None, root: Path) -> list[str]:
    lines = ["## How it was built", ""]
    if slider_set.clip is not None:
        lines.append(f"- CLIP: {slider_set.clip.label}; prompt template "
                     f"`{slider_set.template}`")
    training = slider_set.training
    if training.get("samples"):
        lines.append(f"- Data: {training['samples']} generated samples "
                     f"({training.get('val_fraction', 0):.0%} held out for validation)")
    identity = record.identity if record else None
    if identity:
        definition = identity["definition"]
        lines.append(f"- Views rendered per sample: {', '.join(definition['views'])}")
        forced = definition["vocabulary"]["forced"]
        lines.append(f"- Candidates: {len(definition['vocabulary']['candidates'])} words"
                     + (f"; forced: {', '.join(forced)}" if forced else ""))
        times = ", ".join(f"{name} {result.seconds:.0f} s"
                          for name, result in record.stages.items())
        if times:
            lines.append(f"- Build times: {times}")
        lines += ["", "Rebuild (the same command resumes an interrupted build):", "", "```",
                  record.command or f"semantify build {identity['recipe']}", "```", "",
                  "<details><summary>Recipe and settings (build.json)</summary>", "", "```json",
                  json.dumps(identity, indent=2), "```", "", "</details>"]
    lines += ["", "## Use", "", "```", f"semantify app --sliders {root.name}",
              f"semantify shape {root.name} --set "
              f"\"{slider_set.names[0]}={slider_set.sliders[0].high:.4g}\" --out body.ply",
              "```", ""]
    return lines


def model_card(root: Path | str) -> str:
    """The README.md text of the slider set folder ``root``."""
    root = Path(root)
    slider_set = SliderSet.load(root)
    record = _build_record(root)
    evaluation = read_json_or_none(root / "evaluation" / "evaluation.json")
    metrics = read_json_or_none(root / "metrics.json")
    selection = read_json_or_none(root / "selection" / "selection.json")
    lines = [*_header(slider_set, record, root),
             *_sliders(slider_set, evaluation), *_receipts(slider_set, root),
             *_figures(metrics, evaluation, selection),
             *_provenance(slider_set, record, root)]
    return "\n".join(lines).rstrip("\n") + "\n"


def write_model_card(root: Path | str) -> Path:
    """Write ``README.md`` into the slider set folder ``root`` (atomically); return its path."""
    path = Path(root) / CARD
    text = model_card(root)
    write_atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return path

"""``semantify info``: a slider set's model, encoder and sliders (units, ranges, defaults)."""

from __future__ import annotations

import json


def add(subparsers) -> None:
    p = subparsers.add_parser(
        "info", help="show a slider set's model, encoder and sliders (units, ranges, defaults)",
        description="Read a slider set (checked as when it is used, but neither the model nor "
                    "CLIP is loaded) and list what `semantify shape --set` accepts.")
    p.add_argument("sliders", metavar="DIR", help="slider set folder, or hf://OWNER/NAME")
    p.add_argument("--json", action="store_true", help="print it as one line of JSON")
    p.set_defaults(run=run)


def describe(slider_set) -> dict:
    """A slider set as ``info`` shows it (also its ``--json``)."""
    clip = slider_set.clip
    return {
        "name": slider_set.name,
        "folder": None if slider_set.root is None else str(slider_set.root),
        "model": slider_set.model_ref.label,
        "encoder": None if clip is None else clip.label,
        "template": slider_set.template,
        "sliders": [{"name": s.name, "label": s.label, "kind": slider_set.kind_of(s),
                     "unit": s.unit, "low": s.low, "high": s.high, "default": s.default}
                    for s in slider_set.sliders],
    }


def run(args) -> int:
    from semantify.sets.sliders import SliderSet

    record = describe(SliderSet.load(args.sliders))
    if args.json:
        print(json.dumps(record))
        return 0
    print(f"slider set  {record['name']}" + (f" ({record['folder']})" if record["folder"]
                                             else ""))
    print(f"model       {record['model']}")
    print(f"encoder     {record['encoder'] or 'none (measurement sliders only)'}")
    if record["template"]:
        print(f"template    {record['template']!r}")
    rows = record["sliders"]
    width = max(len("slider"), *(len(row["name"]) for row in rows))
    print(f"\n{'slider':<{width}}  {'kind':<11} {'unit':<4} {'low':>9} {'high':>9} "
          f"{'default':>9}  label")
    for row in rows:
        print(f"{row['name']:<{width}}  {row['kind']:<11} {row['unit'] or '-':<4} "
              f"{row['low']:>9g} {row['high']:>9g} {row['default']:>9g}  {row['label']}")
    print(f"\nset them with: semantify shape {args.sliders} --set "
          f"{rows[0]['name']}={rows[0]['default']:g} --out body.glb")
    return 0

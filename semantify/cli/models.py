"""``semantify models``: every model id, its size, and whether it can be used here."""

from __future__ import annotations


def add(subparsers) -> None:
    parser = subparsers.add_parser("models", help="list models and whether they are available")
    parser.set_defaults(run=run)


def run(args) -> int:
    from semantify.models import model_ids, model_status

    rows = [model_status(model_id) for model_id in model_ids()]
    print(f"{'id':<22} {'coeffs':>6} {'vertices':>8}  status")
    for row in rows:
        coeffs = "-" if row.num_coefficients is None else str(row.num_coefficients)
        vertices = "-" if row.num_vertices is None else str(row.num_vertices)
        status = "available" if row.available else f"missing: {row.missing}"
        print(f"{row.id:<22} {coeffs:>6} {vertices:>8}  {status}")
    print(f"{'linear:PATH.npz':<22} {'-':>6} {'-':>8}  any linear blendshape model "
          "(template, basis, faces)")
    return 0

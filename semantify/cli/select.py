"""``semantify select``: choose a few meaningful, disentangled descriptors for a dataset."""

from __future__ import annotations

from pathlib import Path

DEFAULT_MAX = 6


def add(subparsers) -> None:
    p = subparsers.add_parser(
        "select", help="choose descriptors that predict the shape and do not overlap")
    p.add_argument("data", help="dataset folder from `semantify generate`")
    p.add_argument("--candidates", default=None,
                   help="a vocabulary name (body, face, expression, animal), a file with one "
                        'descriptor per line, or comma-separated words ("fat,tall,height_cm"); '
                        "default: the vocabulary of the dataset's model family")
    p.add_argument("--max", type=int, default=None, dest="max_k", metavar="K",
                   help=f"most descriptors to choose (default {DEFAULT_MAX}, or all candidates "
                        "when there are fewer)")
    p.add_argument("--max-corr", type=float, default=0.6,
                   help="largest |Pearson r| allowed between chosen descriptors (default 0.6)")
    p.add_argument("--min-gain", type=float, default=0.005,
                   help="stop when the next descriptor adds less held-out R² (default 0.005)")
    p.add_argument("--synonym-threshold", type=float, default=0.9,
                   help="CLIP text cosine above which two words are near-synonyms (default 0.9)")
    p.add_argument("--template", default=None,
                   help='prompt template name or text with one "{}" (default: the family\'s)')
    p.add_argument("--out", default=None, help="report folder (default DATA/selection)")
    p.set_defaults(run=run)


def run(args) -> int:
    from semantify.data.dataset import open_dataset
    from semantify.descriptors import resolve_candidates, summary_table, vocabulary
    from semantify.descriptors.dataset_selection import select_on_dataset
    from semantify.errors import SemantifyError

    dataset = open_dataset(args.data, fields=("image_embeds", "measurements"))  # no thumbnails
    names = (resolve_candidates(args.candidates) if args.candidates
             else vocabulary(dataset.family))
    max_k = min(DEFAULT_MAX, len(names)) if args.max_k is None else args.max_k
    if not 1 <= max_k <= len(names):
        raise SemantifyError(f"--max {max_k} but there are {len(names)} candidates; pass "
                             f"--max between 1 and {len(names)} or add candidates.")
    out = Path(args.out) if args.out else Path(args.data) / "selection"
    selection, values = select_on_dataset(
        dataset, names, max_k, template=args.template, out=out, max_corr=args.max_corr,
        min_gain=args.min_gain, synonym_threshold=args.synonym_threshold)
    print(summary_table(selection, values, names))
    clip = dataset.clip
    if clip and any(name not in dataset.measurement_names for name in names):
        from semantify.clip import ClipSpec

        spec = ClipSpec.from_dict(clip)
        if not spec.is_semantic:
            print(f"note: {spec.label}: scores carry no meaning, no synonym filter")
    print(f"saved {out / 'selection.json'}, {out / 'selection.md'}, {out / 'correlation.png'}")
    return 0

"""``semantify words``: a new slider set with added words, trained on the stored embeddings."""

from __future__ import annotations

import sys


def add(subparsers) -> None:
    p = subparsers.add_parser(
        "words", help="add word sliders to a set (seconds: no new renders)",
        description="Scores the set's dataset (its stored CLIP image embeddings) with the new "
                    "words and trains a new set with the old sliders plus the new ones.")
    p.add_argument("sliders", help="slider set with words, and its dataset beside it")
    p.add_argument("--add", required=True, metavar='"W1, W2"', help="comma-separated new words")
    p.add_argument("--out", required=True, help="folder for the new slider set")
    p.set_defaults(run=run)


def run(args) -> int:
    from lightning_modules.words import add_words
    from semantify.sets.sliders import SliderSet

    slider_set = SliderSet.load(args.sliders)
    new, notes = add_words(slider_set, args.add, args.out,  # progress on stderr, with notes
                           lambda fraction, text: print(f"[{fraction:4.0%}] {text}",
                                                        file=sys.stderr))
    for note in notes:
        print(f"note: {note}")
    print(f"wrote {args.out}: sliders {', '.join(new.names)}")
    return 0

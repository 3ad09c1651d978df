"""The shipped checkpoints' model cards on the command line: ``cards`` writes (or, with ``--check``, checks) ``checkpoints/*/README.md``."""

from __future__ import annotations

import argparse

from ..evaluation.model_card import CARD_NAME, stale_cards
from ..evaluation.model_cards import build_cards
from .common import SHIPPED, Command


def cards_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 and name the cards that differ from what would be written (a stale card)")


def run_cards(args: argparse.Namespace) -> int:
    cards = build_cards()
    stale = stale_cards(cards)
    if args.check:
        for folder in stale:
            print(f"stale: checkpoints/{folder}/{CARD_NAME}")
        print(f"{len(cards) - len(stale)} of {len(cards)} model cards are up to date"
              + ("; run `python -m t2i_core cards` to rewrite them" if stale else ""))
        return 1 if stale else 0
    for folder, text in cards.items():
        path = SHIPPED / folder / CARD_NAME
        path.write_text(text, encoding="utf-8")
        print(f"{'wrote' if folder in stale else 'unchanged'} {path}")
    return 0


COMMAND = Command(
    "cards",
    help="write the Hugging Face Hub model card (README.md) of every shipped checkpoint folder",
    description=(
        "Write checkpoints/<folder>/README.md for every shipped checkpoint folder, in the Hugging Face Hub model-card "
        "format: YAML metadata (license, library, pipeline tag, tags, a model-index of the measured figures), then what "
        "the model is, the world it learned, the command that reproduces it, its wall time and machine, the figures of "
        "the shipped evaluation reports (t2i_core/evaluation/results/*.json) and its limits. --check only compares."
    ),
    options=cards_options,
    run=run_cards,
)

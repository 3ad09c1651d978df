"""The sentence encoders on the command line: ``eval encoders`` (how much word order and colour binding each keeps)."""

from __future__ import annotations

import argparse
import sys

from ..evaluation.encoders import DEFAULT_ENCODERS, evaluate_encoders, report_details, report_summary
from .common import Command, ModelCommands, add_report_options, add_seed, print_report


def eval_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--encoders", nargs="+", default=list(DEFAULT_ENCODERS), metavar="NAME",
                        help=f"registered text encoders (default: {' '.join(DEFAULT_ENCODERS)})")
    parser.add_argument("--triplets", default=None, metavar="FILE", help="JSONL of {anchor, paraphrase, swap[, kind]} (default: the built-in suite)")
    parser.add_argument("--sts", default=None, metavar="FILE", help="TSV of scored sentence pairs: STS Benchmark layout or score, sentence1, sentence2")
    parser.add_argument("--no-probe", action="store_true", help="skip the binding probe")
    add_seed(parser, what="the probe's data and classifiers")
    add_report_options(parser, "tables")
    parser.add_argument("--show-wrong", type=int, default=3, metavar="N", help="wrong triplets listed per encoder in text output (default 3)")


def run_eval(args: argparse.Namespace) -> int:
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    try:
        report = evaluate_encoders(args.encoders, triplets_path=args.triplets, sts_path=args.sts, probe=not args.no_probe, seed=args.seed)
    except (ImportError, OSError) as error:
        # An encoder that cannot load here (use-tfhub without TensorFlow or its SavedModel).
        print(f"error: {error}", file=sys.stderr)
        return 2
    return print_report(args, report, report_summary, lambda r: report_details(r, show_wrong=args.show_wrong))


COMMANDS = ModelCommands(
    eval=Command(
        "encoders",
        help="word-order triplets, a colour-binding probe and STS for sentence encoders",
        description=(
            "For each encoder: cosines of (anchor, paraphrase, order-swap) triplets and how often the "
            "paraphrase is closer; a linear probe that reads petal and stem colour off Flowers captions, "
            "scored on held-out templates and held-out colour pairs; and, given --sts, the correlation "
            "of cosines with gold similarity scores."
        ),
        options=eval_options,
        run=run_eval,
    ),
)

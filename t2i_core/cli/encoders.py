"""The sentence encoders on the command line: ``eval encoders`` (how much word order and colour binding each keeps)."""

from __future__ import annotations

import argparse
import sys

from ..evaluation.encoders import DEFAULT_ENCODERS, evaluate_encoders
from .common import Command, ModelCommands, add_report_options, add_seed, number, print_report, table


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
    return print_report(args, report, lambda r: format_encoder_report(r, show_wrong=args.show_wrong))


def format_encoder_report(report: dict, show_wrong: int = 3) -> str:
    """The report of ``evaluate_encoders`` as readable tables."""
    config, results = report["config"], report["encoders"]
    names = list(results)
    n = sum(config["triplets_by_kind"].values())
    lines = [f"Word-order triplets: {n} from {config['triplets']} (accuracy: paraphrase strictly closer than swap)", ""]
    lines += table(
        ["encoder", "accuracy", "cos(anchor,paraphrase)", "cos(anchor,swap)"],
        [[name, number(r["triplets"]["accuracy"]), number(r["triplets"]["mean_cosine_paraphrase"]),
          number(r["triplets"]["mean_cosine_swap"])] for name, r in results.items()],
    )
    lines += ["", "Accuracy by kind (cos paraphrase / cos swap):"]
    kinds = list(config["triplets_by_kind"])
    lines += table(
        ["kind", "n", *names],
        [[kind, str(config["triplets_by_kind"][kind]), *(
            f"{number(k['accuracy'])} ({k['mean_cosine_paraphrase']:.3f}/{k['mean_cosine_swap']:.3f})"
            for k in (results[name]["triplets"]["by_kind"][kind] for name in names))] for kind in kinds],
    )
    for name in names:
        wrong = results[name]["triplets"]["wrong"]
        lines += ["", f"{name}: {len(wrong)} of {n} triplets wrong" + (":" if wrong and show_wrong > 0 else "")]
        for w in wrong[: max(0, show_wrong)]:
            lines.append(f"  [{w['kind']}] {w['anchor']!r}: paraphrase {w['cosine_paraphrase']:.3f}, swap {w['cosine_swap']:.3f} {w['swap']!r}")
        if 0 < show_wrong < len(wrong):
            lines.append(f"  ... and {len(wrong) - show_wrong} more (--json lists them all)")

    probes = {name: r["probe"] for name, r in results.items() if r["probe"]}
    if probes:
        first = next(iter(probes.values()))
        lines += ["", f"Binding probe: petal and stem colour both right (linear probe on {first['train_captions']} train captions; "
                  f"chance {first['chance_both_right']:.3f})"]
        lines += table(
            ["encoder", "test", "held-out templates", "held-out pairs", "held-out pairs swapped"],
            [[name, number(p["test_both_right"]), number(p["heldout_templates_both_right"]),
              number(p["heldout_pairs_both_right"]), number(p["splits"]["heldout-pairs"]["swapped"])] for name, p in probes.items()],
        )
    sts = {name: r["sts"] for name, r in results.items() if r["sts"]}
    if sts:
        lines += ["", f"STS: correlation of cosine with gold scores ({config['sts']})"]
        lines += table(["encoder", "pearson", "spearman", "pairs"],
                       [[name, number(s["pearson"]), number(s["spearman"]), str(s["n"])] for name, s in sts.items()])
    lines += ["", "seconds: " + ", ".join(f"{name} {r['seconds']:.1f}" for name, r in results.items())]
    return "\n".join(lines)


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

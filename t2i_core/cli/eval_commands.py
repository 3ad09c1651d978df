"""``eval encoders``: how much word order each sentence encoder keeps."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..evaluation.encoders import DEFAULT_ENCODERS, evaluate_encoders


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``eval`` and its sub-commands."""
    evaluate = commands.add_parser("eval", help="measure encoders and models", description="Measure encoders and models.")
    sub = evaluate.add_subparsers(dest="eval_command", metavar="<eval command>")
    sub.required = True

    encoders = sub.add_parser(
        "encoders",
        help="word-order triplets, a colour-binding probe and STS for sentence encoders",
        description=(
            "For each encoder: cosines of (anchor, paraphrase, order-swap) triplets and how often the "
            "paraphrase is closer; a linear probe that reads petal and stem colour off Flowers captions, "
            "scored on held-out templates and held-out colour pairs; and, given --sts, the correlation "
            "of cosines with gold similarity scores."
        ),
    )
    encoders.add_argument(
        "--encoders", nargs="+", default=list(DEFAULT_ENCODERS), metavar="NAME",
        help=f"registered text encoders (default: {' '.join(DEFAULT_ENCODERS)})",
    )
    encoders.add_argument("--triplets", default=None, metavar="FILE", help="JSONL of {anchor, paraphrase, swap[, kind]} (default: the built-in suite)")
    encoders.add_argument("--sts", default=None, metavar="FILE", help="TSV of scored sentence pairs: STS Benchmark layout or score, sentence1, sentence2")
    encoders.add_argument("--no-probe", action="store_true", help="skip the binding probe")
    encoders.add_argument("--seed", type=int, default=0, help="seed of the probe's data and classifiers (default 0)")
    encoders.add_argument("--json", action="store_true", help="print JSON instead of tables")
    encoders.add_argument("-o", "--output", default=None, metavar="FILE", help="also write the JSON report here")
    encoders.add_argument("--show-wrong", type=int, default=3, metavar="N", help="wrong triplets listed per encoder in text output (default 3)")
    encoders.set_defaults(func=run_encoders)


def run_encoders(args: argparse.Namespace) -> int:
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    try:
        report = evaluate_encoders(args.encoders, triplets_path=args.triplets, sts_path=args.sts, probe=not args.no_probe, seed=args.seed)
    except (ImportError, OSError) as error:
        # An encoder that cannot load here (use-tfhub without TensorFlow or its SavedModel).
        print(f"error: {error}", file=sys.stderr)
        return 2
    text = json.dumps(report, indent=2)
    if args.output:
        output = Path(args.output)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text + "\n", encoding="utf-8")
    print(text if args.json else format_encoder_report(report, show_wrong=args.show_wrong))
    return 0


def _number(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip()

    return [line(header), line(["-" * w for w in widths]), *map(line, rows)]


def format_encoder_report(report: dict, show_wrong: int = 3) -> str:
    """The report of ``evaluate_encoders`` as readable tables."""
    config, results = report["config"], report["encoders"]
    names = list(results)
    n = sum(config["triplets_by_kind"].values())
    lines = [f"Word-order triplets: {n} from {config['triplets']} (accuracy: paraphrase strictly closer than swap)", ""]
    lines += _table(
        ["encoder", "accuracy", "cos(anchor,paraphrase)", "cos(anchor,swap)"],
        [[name, _number(r["triplets"]["accuracy"]), _number(r["triplets"]["mean_cosine_paraphrase"]),
          _number(r["triplets"]["mean_cosine_swap"])] for name, r in results.items()],
    )
    lines += ["", "Accuracy by kind (cos paraphrase / cos swap):"]
    kinds = list(config["triplets_by_kind"])
    lines += _table(
        ["kind", "n", *names],
        [[kind, str(config["triplets_by_kind"][kind]), *(
            f"{_number(k['accuracy'])} ({k['mean_cosine_paraphrase']:.3f}/{k['mean_cosine_swap']:.3f})"
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
        lines += _table(
            ["encoder", "test", "held-out templates", "held-out pairs", "held-out pairs swapped"],
            [[name, _number(p["test_both_right"]), _number(p["heldout_templates_both_right"]),
              _number(p["heldout_pairs_both_right"]), _number(p["splits"]["heldout-pairs"]["swapped"])] for name, p in probes.items()],
        )
    sts = {name: r["sts"] for name, r in results.items() if r["sts"]}
    if sts:
        lines += ["", f"STS: correlation of cosine with gold scores ({config['sts']})"]
        lines += _table(["encoder", "pearson", "spearman", "pairs"],
                        [[name, _number(s["pearson"]), _number(s["spearman"]), str(s["n"])] for name, s in sts.items()])
    lines += ["", "seconds: " + ", ".join(f"{name} {r['seconds']:.1f}" for name, r in results.items())]
    return "\n".join(lines)

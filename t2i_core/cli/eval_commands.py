"""``eval``: ``encoders`` (how much word order each sentence encoder keeps), ``text2image``, ``round-trip``;
the other models' ``eval`` commands are attached from their own modules."""

from __future__ import annotations

import argparse
import sys

from ..evaluation.encoders import DEFAULT_ENCODERS, evaluate_encoders
from .reports import parse_checkpoints, write_report


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

    text2image = sub.add_parser(
        "text2image",
        help="colour binding, diversity and Frechet distance of the text-to-image generators",
        description=(
            "Judge each shipped generator with the flower attribute classifier: binding accuracy (petal and "
            "stem colour both right) on seen prompts, held-out templates, held-out colour pairs and "
            "order-swapped twins; per-attribute accuracy; diversity and Frechet distance in the judge's "
            "feature space next to the same figures for real images."
        ),
    )
    text2image.add_argument("--encoders", nargs="*", default=["use", "glove-avg"], metavar="NAME", help="generators to measure, by encoder (default: use glove-avg)")
    text2image.add_argument("--prompts", default=None, metavar="FILE", help="JSONL of {text, expected: {petal_colour, stem_colour, ...}} to score too")
    text2image.add_argument("-n", "--num-prompts", type=int, default=500, help="prompts per group (default 500)")
    text2image.add_argument("--checkpoint", action="append", default=[], metavar="ENCODER=PATH", help="measure another checkpoint for an encoder")
    text2image.add_argument("--classifier", default=None, metavar="PATH", help="the judge's checkpoint (default: shipped)")
    text2image.add_argument("--seed", type=int, default=0, help="seed of prompts and noise (default 0)")
    text2image.add_argument("--json", action="store_true", help="print JSON instead of tables")
    text2image.add_argument("-o", "--output", default=None, metavar="FILE", help="also write the JSON report here")
    text2image.set_defaults(func=run_text2image)

    round_trip = sub.add_parser(
        "round-trip",
        help="the cycle score: prompt -> USE generator -> flower -> default captioner -> the prompt's colours named?",
        description=(
            "Send seen prompts (seen colour pairs, seen phrasings) through the shipped USE text-to-image generator, "
            "one flower each (prompt i with seed SEED+i, as the app's Round trip tab draws it), caption every flower "
            "with the default captioner, and report the cycle score: the share of captions that name the prompt's "
            "petal colour and stem colour, each in its role. The flower attribute classifier says how many flowers "
            "the generator drew right, to separate its mistakes from the captioner's."
        ),
    )
    round_trip.add_argument("-n", "--num-prompts", type=int, default=200, help="seen prompts (default 200)")
    round_trip.add_argument("--seed", type=int, default=0, help="seed of the prompts and of the first flower's noise (default 0)")
    round_trip.add_argument("--beam", type=int, default=3, help="the captioner's beam size (default 3)")
    round_trip.add_argument("--encoder", default="use", help="the generator, by its sentence encoder (default use)")
    round_trip.add_argument("--generator-checkpoint", default=None, metavar="PATH", help="a generator folder instead of the shipped one")
    round_trip.add_argument("--captioner-checkpoint", default=None, metavar="PATH", help="a captioner folder instead of the default one")
    round_trip.add_argument("--no-judge", action="store_true", help="skip the flower attribute classifier")
    round_trip.add_argument("--json", action="store_true", help="print JSON instead of a summary")
    round_trip.add_argument("-o", "--output", default=None, metavar="FILE", help="also write the JSON report here")
    round_trip.set_defaults(func=run_round_trip)

    from .caption_commands import add_eval_parser as add_caption_parser

    add_caption_parser(sub)

    from .dates_commands import add_eval_parser as add_dates_parser

    add_dates_parser(sub)

    from .vqa_commands import add_eval_parser as add_vqa_parser

    add_vqa_parser(sub)

    from .world_detector_commands import add_eval_parser as add_world_detector_parser

    add_world_detector_parser(sub)


def run_encoders(args: argparse.Namespace) -> int:
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    try:
        report = evaluate_encoders(args.encoders, triplets_path=args.triplets, sts_path=args.sts, probe=not args.no_probe, seed=args.seed)
    except (ImportError, OSError) as error:
        # An encoder that cannot load here (use-tfhub without TensorFlow or its SavedModel).
        print(f"error: {error}", file=sys.stderr)
        return 2
    text = write_report(report, args.output)
    print(text if args.json else format_encoder_report(report, show_wrong=args.show_wrong))
    return 0


def run_text2image(args: argparse.Namespace) -> int:
    from ..evaluation.text2image import evaluate_text2image

    if args.num_prompts < 2:
        raise ValueError(f"--num-prompts must be at least 2, got {args.num_prompts}")
    checkpoints = parse_checkpoints(args.checkpoint, what="ENCODER")
    report = evaluate_text2image(args.encoders, n_prompts=args.num_prompts, seed=args.seed, prompts_file=args.prompts,
                                 classifier=args.classifier, checkpoints=checkpoints)
    text = write_report(report, args.output)
    print(text if args.json else format_text2image_report(report))
    return 0


def run_round_trip(args: argparse.Namespace) -> int:
    import t2i_core

    from ..evaluation.round_trip import evaluate_round_trip
    from ..evaluation.text2image import seen_prompts

    if args.num_prompts < 1 or args.seed < 0 or args.beam < 1:
        raise ValueError("--num-prompts and --beam must be at least 1 and --seed at least 0")
    generator = t2i_core.load_pipeline("text2image", encoder=args.encoder, checkpoint=args.generator_checkpoint, device="cpu")
    captioner = t2i_core.load_pipeline("caption", checkpoint=args.captioner_checkpoint, device="cpu")
    judge = None if args.no_judge else t2i_core.load_pipeline("flower-attributes", device="cpu")
    report = evaluate_round_trip(generator, captioner, seen_prompts(args.num_prompts, seed=args.seed), seed=args.seed,
                                 beam_size=args.beam, judge=judge)
    report["generator"] = args.generator_checkpoint or f"shipped text2image-{args.encoder}"
    report["captioner"] = args.captioner_checkpoint or f"shipped caption-{captioner.name}"
    text = write_report(report, args.output)
    print(text if args.json else format_round_trip_report(report))
    return 0


def format_round_trip_report(report: dict) -> str:
    """The report of ``eval round-trip`` as a few readable lines."""
    lines = [f"{report['n']} seen prompts, {report['generator']} -> {report['captioner']} (beam {report['beam_size']})",
             f"cycle score (petal and stem colour named in their roles): {report['cycle_score']:.3f}",
             f"  petal colour named {report['petal_named']:.3f}, stem colour named {report['stem_named']:.3f}; "
             f"flowers the captioner called in world {report['in_world_rate']:.3f}"]
    if "generator_right" in report:
        where = report["cycle_score_where_generator_right"]
        lines.append(f"  the judge reads both colours as prompted on {report['generator_right']:.3f} of the flowers; "
                     f"cycle score on those {_number(where)}")
    for failure in report["failures"][:5]:
        lines.append(f"  {failure['prompt']!r} -> {failure['caption']!r}")
    return "\n".join(lines)


def format_text2image_report(report: dict) -> str:
    """The report of ``evaluate_text2image`` as readable tables."""
    judge = report["judge"]
    lines = [f"Judge (flower attribute classifier) on {judge['n']} real test flowers: "
             + ", ".join(f"{k} {v:.3f}" for k, v in judge["real_test_accuracy"].items())
             + ("" if judge["fit_to_judge"] else "  ** below 0.98: the figures below are not trustworthy **"), ""]
    generators = report["generators"]
    if not generators:
        return "\n".join(lines)
    groups = list(next(iter(generators.values()))["binding_accuracy"])
    rows = [[name] + [_number(g["binding_accuracy"][k]) for k in groups] + [f"{g['diversity']:.2f} ({g['diversity_ratio']:.2f}x)", f"{g['frechet']:.2f} ({g['frechet_ratio']:.2f}x)"]
            for name, g in generators.items()]
    lines += _table(["generator", *[f"binding {k}" for k in groups], "diversity (x real)", "Frechet (x real-vs-real)"], rows)
    lines += ["", f"real images: diversity {report['real']['diversity']:.2f}, Frechet real-vs-real {report['real']['frechet_real_vs_real']:.2f}"]
    return "\n".join(lines)


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

"""The date translator on the command line: ``dates TEXT``, ``train dates`` and ``eval dates``.

``dates`` is its own command group; ``train dates`` and ``eval dates`` are attached to the
``train`` and ``eval`` groups by :func:`add_train_parser` and :func:`add_eval_parser`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..models.attention import SCORES
from .reports import parse_checkpoints, write_report


# ---------------------------------------------------------------------- dates TEXT
def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``dates``."""
    parser = commands.add_parser(
        "dates",
        help="a written date -> ISO YYYY-MM-DD, with the attention of every output character",
        description=(
            "Translate human-written dates ('Tuesday, March 3, 2020', '5 April 09', '17.10.2008') into "
            "ISO YYYY-MM-DD with the shipped character-level seq2seq translator, and show which input "
            "characters each output character attended to."
        ),
    )
    parser.add_argument("texts", nargs="+", metavar="TEXT", help="one or more written dates")
    parser.add_argument("--score", choices=SCORES, default=None, help="which shipped translator (default: the best one)")
    parser.add_argument("--checkpoint", default=None, help="a translator folder instead of the shipped one")
    parser.add_argument("--json", action="store_true", help="print JSON (iso, valid, confidence, attention)")
    parser.set_defaults(func=run_dates)


def run_dates(args: argparse.Namespace) -> int:
    from ..pipelines.dates import DatesPipeline

    pipe = DatesPipeline(score=args.score, checkpoint=args.checkpoint)
    results = pipe(list(args.texts))
    if args.json:
        records = [r.to_dict() for r in results]
        print(json.dumps(records[0] if len(records) == 1 else records))
    else:
        for r in results:
            flag = "" if r.valid else f"   (not valid: {r.reason})"
            print(f"{r.text!r} -> {r.iso}  confidence {r.confidence:.3f}{flag}")
    return 0


# ---------------------------------------------------------------------- train dates
def add_train_parser(sub: argparse._SubParsersAction, common) -> None:
    """Register ``train dates``; ``common`` adds the options every ``train`` command shares."""
    parser = sub.add_parser(
        "dates",
        help="a date translator (bidirectional LSTM encoder, attention LSTM decoder)",
        description=(
            "Train a character-level date translator on the Dates world's train split. Evaluates "
            "validation exact match (and, for the log only, held-out formats) every --eval-every steps."
        ),
    )
    common(parser, steps=3000, batch=128, output="runs/dates-{score}")
    parser.add_argument("--score", choices=SCORES, default="additive", help="attention score function (default additive)")
    parser.add_argument("--encoder-cell", choices=("lstm", "gru"), default="lstm", help="bidirectional encoder cell (default lstm)")
    parser.add_argument("--train-size", type=int, default=50000, help="training dates (default 50000)")
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (default 3e-3)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default 1)")
    parser.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    import torch

    from ..models.date_translator import DateTranslatorConfig
    from ..training import train
    from ..training.dates_task import DatesTask, DatesTaskConfig
    from .train_commands import _train_config, ship

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.train_size < 1:
        raise ValueError("--train-size must be at least 1")
    model = DateTranslatorConfig(score=args.score, encoder_cell=args.encoder_cell)
    config = DatesTaskConfig(train_size=args.train_size, learning_rate=args.lr, total_steps=args.steps, model=model)
    output = args.output.format(score=args.score)
    task = DatesTask(config)
    run_dir = train(task, _train_config(args, output))
    if args.ship:
        ship(run_dir, f"dates/{args.score}")
    return 0


# ---------------------------------------------------------------------- eval dates
def add_eval_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``eval dates``."""
    parser = sub.add_parser(
        "dates",
        help="exact match of the date translators on the test split and held-out formats",
        description=(
            "Translate the Dates test split (seen formats) and the held-out-formats split with each "
            "shipped translator (one per attention score function) and report exact-match accuracy, "
            "overall and per format."
        ),
    )
    parser.add_argument("--scores", nargs="+", choices=SCORES, default=None, help="default: every shipped one")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="SCORE=PATH", help="measure another checkpoint for a score")
    parser.add_argument("--splits", nargs="+", default=["test", "heldout-formats"], help="Dates splits (default test heldout-formats)")
    parser.add_argument("-n", "--num-dates", type=int, default=None, help="dates per split (default: the whole split)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("-o", "--output", default=None, metavar="FILE", help="also write the JSON report here")
    parser.set_defaults(func=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    import time

    from ..data.characters import load_vocabularies
    from ..evaluation.dates import evaluate_on_dates
    from ..models.date_translator import DateTranslator
    from ..pipelines.dates import DEFAULT_SCORE, shipped_checkpoint, shipped_scores

    if args.num_dates is not None and args.num_dates < 1:
        raise ValueError(f"--num-dates must be at least 1, got {args.num_dates}")
    checkpoints = parse_checkpoints(args.checkpoint, SCORES, "SCORE")
    scores = args.scores or sorted(set(shipped_scores()) | set(checkpoints), key=SCORES.index)
    if not scores:
        raise FileNotFoundError("no shipped date translators; train one with `python -m t2i_core train dates --ship`")
    report = {"default_score": DEFAULT_SCORE, "scores": {}}
    for score in scores:
        folder = Path(checkpoints.get(score) or shipped_checkpoint(score))
        model = DateTranslator.from_pretrained(folder)
        started = time.time()
        result = {"splits": evaluate_on_dates(model, *load_vocabularies(folder), splits=args.splits, size=args.num_dates)}
        result["checkpoint"] = str(folder)
        result["seconds"] = round(time.time() - started, 1)
        report["scores"][score] = result
    text = write_report(report, args.output)
    print(text if args.json else format_dates_report(report))
    return 0


def format_dates_report(report: dict) -> str:
    """The report of ``eval dates`` as one table: a row per score function, a column per split."""
    splits = sorted({s for r in report["scores"].values() for s in r["splits"]}, key=lambda s: (s != "test", s))
    header = ["score", *(f"{s} exact match" for s in splits)]
    rows = [[score, *(f"{r['splits'][s]['exact_match']:.4f}" if s in r["splits"] else "-" for s in splits)]
            for score, r in report["scores"].items()]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, ["-" * w for w in widths], *rows]]
    lines.append(f"default (shipped as best): {report['default_score']}")
    return "\n".join(lines)

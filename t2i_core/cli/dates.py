"""The date translators on the command line: ``dates TEXT``, ``train dates`` and ``eval dates``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..data.characters import load_vocabularies
from ..evaluation.dates import DEFAULT_SPLITS, evaluate_on_dates, report_details, report_summary
from ..models.attention import SCORES
from ..models.date_translator import DateTranslator, DateTranslatorConfig
from ..pipelines.dates import DEFAULT_SCORE, DatesPipeline, shipped_checkpoint, shipped_scores
from ..training import train
from ..training.dates_task import DatesTask, DatesTaskConfig
from .common import (
    Command,
    ModelCommands,
    add_checkpoints,
    add_num,
    add_report_options,
    add_training_options,
    at_least,
    measure_checkpoints,
    parse_checkpoints,
    print_report,
    set_threads,
    ship,
    train_config,
)


# ---------------------------------------------------------------------- dates TEXT
def dates_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("texts", nargs="+", metavar="TEXT", help="one or more written dates")
    parser.add_argument("--score", choices=SCORES, default=None, help="which shipped translator (default: the best one)")
    parser.add_argument("--checkpoint", default=None, help="a translator folder or Hub repo id instead of the shipped one")
    parser.add_argument("--json", action="store_true", help="print JSON (iso, valid, confidence, attention)")


def run_dates(args: argparse.Namespace) -> int:
    pipe = DatesPipeline(score=args.score, checkpoint=args.checkpoint)
    result = pipe(list(args.texts))
    if args.json:
        records = result.records()
        print(json.dumps(records[0] if len(records) == 1 else records))
    else:
        for text, iso, confidence, reason in zip(result.texts, result.iso_dates, result.confidences, result.reasons):
            # An invalid translation's output is no answer (a date made up for "hello"): the reason only.
            print(f"{text!r} -> {iso}  confidence {confidence:.3f}" if reason is None else f"{text!r} -> not valid: {reason}")
    return 0


# ---------------------------------------------------------------------- train dates
def train_options(parser: argparse.ArgumentParser) -> None:
    add_training_options(parser, steps=3000, batch_size=128, output="runs/dates-{score}", ship_as="dates/<score>")
    parser.add_argument("--score", choices=SCORES, default="additive", help="attention score function (default additive)")
    parser.add_argument("--encoder-cell", choices=("lstm", "gru"), default="lstm", help="bidirectional encoder cell (default lstm)")
    parser.add_argument("--train-size", type=at_least(1), default=50000, help="training dates (default 50000)")
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (default 3e-3)")


def run_train(args: argparse.Namespace) -> int:
    set_threads(args)
    model = DateTranslatorConfig(score=args.score, encoder_cell=args.encoder_cell)
    config = DatesTaskConfig(train_size=args.train_size, learning_rate=args.lr, total_steps=args.steps, model=model)
    output = args.output.format(score=args.score)
    run_dir = train(DatesTask(config), train_config(args, output))
    if args.ship:
        ship(run_dir, f"dates/{args.score}")
    return 0


# ---------------------------------------------------------------------- eval dates
def eval_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scores", nargs="+", choices=SCORES, default=None, help="default: every shipped one")
    add_checkpoints(parser, "SCORE")
    parser.add_argument("--splits", nargs="+", default=list(DEFAULT_SPLITS), help="Dates splits (default " + " ".join(DEFAULT_SPLITS) + ")")
    add_num(parser, None, "dates per split (default: the whole split)", aliases=["--num-dates"])
    add_report_options(parser)


def run_eval(args: argparse.Namespace) -> int:
    def measure(model: DateTranslator, folder: Path) -> dict:
        return {"splits": evaluate_on_dates(model, *load_vocabularies(folder), splits=args.splits, size=args.num)}

    checkpoints = parse_checkpoints(args.checkpoint, SCORES, "SCORE")
    scores = args.scores or sorted(set(shipped_scores()) | set(checkpoints), key=SCORES.index)
    if not scores:
        raise FileNotFoundError("no shipped date translators; train one with `python -m t2i_core train dates --ship`")
    report = {"default_score": DEFAULT_SCORE,
              "scores": measure_checkpoints(scores, checkpoints, shipped_checkpoint, DateTranslator.from_pretrained, measure)}
    return print_report(args, report, report_summary, report_details)


COMMANDS = ModelCommands(
    train=Command(
        "dates",
        help="a date translator (bidirectional LSTM encoder, attention LSTM decoder)",
        description=(
            "Train a character-level date translator on the Dates world's train split. Evaluates "
            "validation exact match (and, for the log only, held-out formats) every --eval-every steps."
        ),
        options=train_options,
        run=run_train,
    ),
    eval=Command(
        "dates",
        help="exact match of the date translators on the test split and held-out formats",
        description=(
            "Translate the Dates test split (seen formats) and the held-out-formats split with each "
            "shipped translator (one per attention score function) and report exact-match accuracy, "
            "overall and per format."
        ),
        options=eval_options,
        run=run_eval,
    ),
    inference=(Command(
        "dates",
        help="a written date -> ISO YYYY-MM-DD, with the attention of every output character",
        description=(
            "Translate human-written dates ('Tuesday, March 3, 2020', '5 April 09', '17.10.2008') into "
            "ISO YYYY-MM-DD with the shipped character-level seq2seq translator, and show which input "
            "characters each output character attended to."
        ),
        options=dates_options,
        run=run_dates,
    ),),
)

"""Visual question answering on the command line: ``vqa IMAGE QUESTION``, ``train vqa`` and ``eval vqa``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..data.vocabulary import Vocabulary
from ..evaluation.vqa import EVALUATION_SETS, evaluate_vqa, report_details, report_summary
from ..models.vqa import VQA_MODELS, VQAConfig
from ..pipelines.vqa import VQAPipeline, load_checked_model, shipped_checkpoint
from ..training import train
from ..training.vqa_task import VQATask, VQATaskConfig
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


# ---------------------------------------------------------------------- vqa IMAGE QUESTION
def vqa_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", metavar="IMAGE", help="an image file (any format Pillow reads)")
    parser.add_argument("question", metavar="QUESTION", help="the question, in quotes")
    parser.add_argument("--model", choices=VQA_MODELS, default="attention", help="which shipped model (default attention)")
    parser.add_argument("--checkpoint", default=None, help="a VQA model folder or Hub repo id instead of the shipped one")
    parser.add_argument("--top", type=int, default=5, help="answers listed with their probabilities (default 5)")
    parser.add_argument("--json", action="store_true", help="print JSON (answer, top answers, attention)")


def run_vqa(args: argparse.Namespace) -> int:
    pipe = VQAPipeline(model=args.model, checkpoint=args.checkpoint)
    result = pipe(args.image, args.question, top=args.top)
    if args.json:
        print(json.dumps(result.records()[0]))
    else:
        print(f"{result.questions[0]!r} -> {result.answers[0]}  ({result.confidences[0]:.3f})")
        for answer, probability in result.top_answers[0]:
            print(f"  {answer:<10} {probability:.3f}")
    return 0


# ---------------------------------------------------------------------- train vqa
def train_options(parser: argparse.ArgumentParser) -> None:
    add_training_options(parser, steps=6000, batch_size=128, output="runs/vqa-{model}", ship_as="vqa-<model>")
    parser.add_argument("--model", choices=VQA_MODELS, default="attention", help="attention (stacked attention) or baseline (default attention)")
    parser.add_argument("--hops", type=int, default=2, help="attention hops (default 2)")
    parser.add_argument("--train-size", type=at_least(1), default=8000, help="training scenes (default 8000)")
    parser.add_argument("--per-kind", type=at_least(1), default=2, help="questions of each type per training scene (default 2)")
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (default 2e-3)")
    parser.add_argument("--direction", action=argparse.BooleanOptionalAction, default=True,
                        help="attention model: later hops add to each cell's score its offset along a direction the question names (default on)")
    parser.add_argument("--focus-weight", type=float, default=1.0,
                        help="attention model: weight of the loss that trains each hop to look at the objects the question is about (default 1; 0: none)")


def run_train(args: argparse.Namespace) -> int:
    set_threads(args)
    model = VQAConfig(kind=args.model, hops=args.hops, relative_direction=args.direction and args.model == "attention")
    config = VQATaskConfig(train_size=args.train_size, per_kind=args.per_kind, learning_rate=args.lr, total_steps=args.steps,
                           focus_weight=args.focus_weight, model=model)
    output = args.output.format(model=args.model)
    run_dir = train(VQATask(config), train_config(args, output))
    if args.ship:
        ship(run_dir, f"vqa-{args.model}")
    return 0


# ---------------------------------------------------------------------- eval vqa
def eval_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", nargs="+", choices=VQA_MODELS, default=list(VQA_MODELS), help="default: both")
    add_checkpoints(parser, "MODEL")
    parser.add_argument("--sets", nargs="+", default=None, help="evaluation sets (default " + " ".join(EVALUATION_SETS) + ")")
    add_num(parser, None, "scenes per set (default: the whole split)", aliases=["--num-scenes"])
    add_report_options(parser)


def run_eval(args: argparse.Namespace) -> int:
    sets = args.sets or list(EVALUATION_SETS)

    def measure(model, folder: Path) -> dict:
        return {"results": evaluate_vqa(model, Vocabulary.load(folder), sets=sets, size=args.num),
                "parameters": sum(p.numel() for p in model.parameters())}

    checkpoints = parse_checkpoints(args.checkpoint, VQA_MODELS, "MODEL")
    report = {"sets": {name: {"scenes": split, "phrasing": phrasing} for name, (split, phrasing) in EVALUATION_SETS.items() if name in sets},
              "models": measure_checkpoints(args.models, checkpoints, shipped_checkpoint, load_checked_model, measure)}
    return print_report(args, report, report_summary, report_details)


COMMANDS = ModelCommands(
    train=Command(
        "vqa",
        help="a VQA model on Scenes questions (stacked attention or the element-wise-product baseline)",
        description=(
            "Train a VQA model on questions generated from the Scenes train split (training phrasings "
            "only), over the cached grid of the frozen EfficientNet-Lite0. Evaluates validation accuracy "
            "per question type (and, for the log only, held-out phrasings) every --eval-every steps."
        ),
        options=train_options,
        run=run_train,
    ),
    eval=Command(
        "vqa",
        help="accuracy per question type of the VQA models on test scenes and held-out sets",
        description=(
            "Answer generated questions on the Scenes test split (training phrasings), the same scenes "
            "with held-out phrasings, the held-out colour-shape combinations and the held-out style (flat "
            "shapes on a plain background), with each shipped VQA model, and report accuracy overall and "
            "per question type."
        ),
        options=eval_options,
        run=run_eval,
    ),
    inference=(Command(
        "vqa",
        help="answer a question about a Scenes-style image (with the attention map)",
        description=(
            "Answer a question about an image with the shipped VQA model trained on the Scenes world: "
            "colour ('what color is the circle?'), shape ('what shape is the red object?'), count "
            "('how many objects are there?', 'how many squares are there?'), existence ('is there a blue star?'), "
            "position ('what is left of the triangle?') and things that are not there ('what colour is the star?' "
            "-> 'there is no star')."
        ),
        options=vqa_options,
        run=run_vqa,
    ),),
)

"""Visual question answering on the command line: ``vqa IMAGE QUESTION``, ``train vqa`` and ``eval vqa``.

``vqa`` is its own command group; ``train vqa`` and ``eval vqa`` are attached to the
``train`` and ``eval`` groups by :func:`add_train_parser` and :func:`add_eval_parser`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..models.vqa import VQA_MODELS
from .reports import parse_checkpoints, write_report


# ---------------------------------------------------------------------- vqa IMAGE QUESTION
def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``vqa``."""
    parser = commands.add_parser(
        "vqa",
        help="answer a question about a Scenes-style image (with the attention map)",
        description=(
            "Answer a question about an image with the shipped VQA model trained on the Scenes world: "
            "colour ('what color is the circle?'), shape ('what shape is the red object?'), count "
            "('how many objects are there?', 'how many squares are there?'), existence ('is there a blue star?'), "
            "position ('what is left of the triangle?') and things that are not there ('what colour is the star?' "
            "-> 'there is no star')."
        ),
    )
    parser.add_argument("image", metavar="IMAGE", help="an image file (any format Pillow reads)")
    parser.add_argument("question", metavar="QUESTION", help="the question, in quotes")
    parser.add_argument("--model", choices=VQA_MODELS, default="attention", help="which shipped model (default attention)")
    parser.add_argument("--checkpoint", default=None, help="a VQA model folder instead of the shipped one")
    parser.add_argument("--top", type=int, default=5, help="answers listed with their probabilities (default 5)")
    parser.add_argument("--json", action="store_true", help="print JSON (answer, top answers, attention)")
    parser.set_defaults(func=run_vqa)


def run_vqa(args: argparse.Namespace) -> int:
    from ..pipelines.vqa import VQAPipeline

    pipe = VQAPipeline(model=args.model, checkpoint=args.checkpoint)
    result = pipe(args.image, args.question, top=args.top)
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(f"{result.question!r} -> {result.answer}  ({result.confidence:.3f})")
        for answer, probability in result.top_answers:
            print(f"  {answer:<10} {probability:.3f}")
    return 0


# ---------------------------------------------------------------------- train vqa
def add_train_parser(sub: argparse._SubParsersAction, common) -> None:
    """Register ``train vqa``; ``common`` adds the options every ``train`` command shares."""
    parser = sub.add_parser(
        "vqa",
        help="a VQA model on Scenes questions (stacked attention or the element-wise-product baseline)",
        description=(
            "Train a VQA model on questions generated from the Scenes train split (training phrasings "
            "only), over the cached grid of the frozen EfficientNet-Lite0. Evaluates validation accuracy "
            "per question type (and, for the log only, held-out phrasings) every --eval-every steps."
        ),
    )
    common(parser, steps=6000, batch=128, output="runs/vqa-{model}")
    parser.add_argument("--model", choices=VQA_MODELS, default="attention", help="attention (stacked attention) or baseline (default attention)")
    parser.add_argument("--hops", type=int, default=2, help="attention hops (default 2)")
    parser.add_argument("--train-size", type=int, default=8000, help="training scenes (default 8000)")
    parser.add_argument("--per-kind", type=int, default=2, help="questions of each type per training scene (default 2)")
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (default 2e-3)")
    parser.add_argument("--direction", action=argparse.BooleanOptionalAction, default=True,
                        help="attention model: later hops add to each cell's score its offset along a direction the question names (default on)")
    parser.add_argument("--focus-weight", type=float, default=1.0,
                        help="attention model: weight of the loss that trains each hop to look at the objects the question is about (default 1; 0: none)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default 1)")
    parser.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    import torch

    from ..models.vqa import VQAConfig
    from ..training import train
    from ..training.vqa_task import VQATask, VQATaskConfig
    from .train_commands import _train_config, ship

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.train_size < 1 or args.per_kind < 1:
        raise ValueError("--train-size and --per-kind must be at least 1")
    model = VQAConfig(kind=args.model, hops=args.hops, relative_direction=args.direction and args.model == "attention")
    config = VQATaskConfig(train_size=args.train_size, per_kind=args.per_kind, learning_rate=args.lr, total_steps=args.steps,
                            focus_weight=args.focus_weight, model=model)
    output = args.output.format(model=args.model)
    train_config = _train_config(args, output)
    task = VQATask(config)
    run_dir = train(task, train_config)
    if args.ship:
        ship(run_dir, f"vqa-{args.model}")
    return 0


# ---------------------------------------------------------------------- eval vqa
def add_eval_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``eval vqa``."""
    parser = sub.add_parser(
        "vqa",
        help="accuracy per question type of the VQA models on test scenes and held-out sets",
        description=(
            "Answer generated questions on the Scenes test split (training phrasings), the same scenes "
            "with held-out phrasings, the held-out colour-shape combinations and the held-out style (flat "
            "shapes on a plain background), with each shipped VQA model, and report accuracy overall and "
            "per question type."
        ),
    )
    parser.add_argument("--models", nargs="+", choices=VQA_MODELS, default=list(VQA_MODELS), help="default: both")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="MODEL=PATH", help="measure another checkpoint for a model")
    parser.add_argument("--sets", nargs="+", default=None, help="evaluation sets (default test heldout-phrasings heldout-combos heldout-style)")
    parser.add_argument("-n", "--num-scenes", type=int, default=None, help="scenes per set (default: the whole split)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("-o", "--output", default=None, metavar="FILE", help="also write the JSON report here")
    parser.set_defaults(func=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    import time

    from ..data.vocabulary import Vocabulary
    from ..evaluation.vqa import EVALUATION_SETS, evaluate_vqa
    from ..pipelines.vqa import load_checked_model, shipped_checkpoint

    if args.num_scenes is not None and args.num_scenes < 1:
        raise ValueError(f"--num-scenes must be at least 1, got {args.num_scenes}")
    sets = args.sets or list(EVALUATION_SETS)
    checkpoints = parse_checkpoints(args.checkpoint, VQA_MODELS, "MODEL")
    report = {"sets": {name: {"scenes": split, "phrasing": phrasing} for name, (split, phrasing) in EVALUATION_SETS.items() if name in sets},
              "models": {}}
    for name in args.models:
        folder = Path(checkpoints.get(name) or shipped_checkpoint(name))
        model = load_checked_model(folder)
        started = time.time()
        result = {"results": evaluate_vqa(model, Vocabulary.load(folder), sets=sets, size=args.num_scenes)}
        result["checkpoint"] = str(folder)
        result["parameters"] = sum(p.numel() for p in model.parameters())
        result["seconds"] = round(time.time() - started, 1)
        report["models"][name] = result
    text = write_report(report, args.output)
    print(text if args.json else format_vqa_report(report))
    return 0


def format_vqa_report(report: dict) -> str:
    """The report of ``eval vqa`` as one table: a row per (model, set), a column per question type."""
    from ..data.questions import QUESTION_TYPES

    header = ["model", "set", "questions", "overall", *QUESTION_TYPES, "position (3+ objects)", "hop 1 on focus", "hop 2 on focus"]
    rows = []
    for model, r in report["models"].items():
        for name, result in r["results"].items():
            three = result.get("position_three_objects")
            focus = result.get("attention_on_focus", {})
            rows.append([model, name, str(result["questions"]), f"{result['accuracy']:.3f}",
                         *(f"{result['per_type'][k]:.3f}" if k in result["per_type"] else "-" for k in QUESTION_TYPES),
                         "-" if three is None else f"{three:.3f}",
                         *(f"{focus[hop]['all']:.3f}" if hop in focus else "-" for hop in ("hop 1", "hop 2"))])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, ["-" * w for w in widths], *rows])

"""The out-of-world detector of captioning and VQA on the command line: ``train world-detector`` and ``eval world-detector``."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from ..evaluation.world_detector import evaluate_world_detector, report_summary
from ..models.world_detector import WorldDetector
from ..training.world_detector_fit import fit_world_detector
from .common import SHIPPED, Command, ModelCommands, add_num, add_report_options, add_seed, add_ship, add_threads, at_least, print_report, set_threads

NAME = "world-detector"


# ---------------------------------------------------------------------- train world-detector
def train_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--train-size", type=at_least(10), default=4000, help="training pictures per world (default 4000)")
    parser.add_argument("--val-size", type=at_least(10), default=1000, help="validation pictures per world, for the p-values (default 1000)")
    parser.add_argument("--threshold", type=float, default=0.01,
                        help="in world when at least this share of the world's own validation pictures is as atypical (default 0.01)")
    parser.add_argument("--generated", type=at_least(0), default=1000,
                        help="prompts of the generators' flowers added to the Flowers world (a quarter as many for validation; 0: none; default 1000)")
    add_seed(parser, what="the worlds' splits")
    parser.add_argument("--output", default=f"runs/{NAME}", help=f"folder of the fitted detector (default runs/{NAME})")
    add_ship(parser, NAME)
    add_threads(parser)


def run_train(args: argparse.Namespace) -> int:
    if not 0 < args.threshold < 1:
        raise ValueError(f"--threshold must be between 0 and 1, got {args.threshold}")
    if int(os.environ.get("RANK", "0")) != 0:
        return 0  # a closed-form fit, not a DDP run: under torchrun rank 0 fits, saves and ships alone
    set_threads(args)
    detector = fit_world_detector(args.train_size, args.val_size, seed=args.seed, threshold=args.threshold, generated=args.generated)
    reproduce = (f"python -m t2i_core train world-detector --train-size {args.train_size} --val-size {args.val_size} "
                 f"--generated {args.generated} --threshold {args.threshold} --seed {args.seed}")
    output = Path(args.output)
    detector.save_pretrained(output, metadata={"reproduce": reproduce})
    print(f"fitted in {detector.config.fit['seconds']} s -> {output}")
    if args.ship:
        target = SHIPPED / NAME
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(output, target)
        print(f"shipped {output} -> {target}")
    return 0


# ---------------------------------------------------------------------- eval world-detector
def eval_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", default=None, metavar="PATH", help="the detector: a folder or Hub repo id (default: shipped)")
    add_num(parser, 500, "pictures per world split (default 500)", aliases=["--size"])
    parser.add_argument("--crops", type=at_least(0), default=4, help="random crops per photo besides the whole photo (default 4)")
    add_seed(parser, default=1, what="the splits and crops")
    add_report_options(parser)


def run_eval(args: argparse.Namespace) -> int:
    detector = WorldDetector.from_pretrained(args.checkpoint or SHIPPED / NAME)
    report = evaluate_world_detector(detector, size=args.num, seed=args.seed, crops_per_photo=args.crops)
    return print_report(args, report, report_summary)


COMMANDS = ModelCommands(
    train=Command(
        NAME,
        help="the out-of-world detector shared by the captioners and VQA (a closed-form fit, minutes on a CPU)",
        description="Fit one Gaussian per world (Scenes, Flowers) to the frozen EfficientNet-Lite0 grid statistics of "
                    "its training split; p-values come from its validation split.",
        options=train_options,
        run=run_train,
    ),
    eval=Command(
        NAME,
        help="share of each world's test pictures called in world, and of scikit-image's photos called out",
        description="Measure the out-of-world detector: in-world rate on Scenes (test, held-out style, held-out "
                    "combinations) and Flowers test; out-of-world rate on scikit-image's sample photos and crops of them.",
        options=eval_options,
        run=run_eval,
    ),
)

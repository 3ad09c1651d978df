"""The flower attribute classifier (the judge of the generators) on the command line: ``train flower-classifier``."""

from __future__ import annotations

import argparse

from ..training import train
from ..training.flower_classifier_task import FlowerClassifierTask, FlowerClassifierTaskConfig
from .common import Command, ModelCommands, add_training_options, at_least, set_threads, ship, train_config


def train_options(parser: argparse.ArgumentParser) -> None:
    add_training_options(parser, steps=1200, batch_size=128, output="runs/flower-classifier", ship_as="flower-attributes")
    parser.add_argument("--train-size", type=at_least(1), default=20000, help="training flowers (default 20000)")


def run_train(args: argparse.Namespace) -> int:
    set_threads(args)
    task = FlowerClassifierTask(FlowerClassifierTaskConfig(train_size=args.train_size, total_steps=args.steps), seed=args.seed)
    run_dir = train(task, train_config(args, args.output))
    if args.ship:
        ship(run_dir, "flower-attributes")
    return 0


COMMANDS = ModelCommands(
    train=Command(
        "flower-classifier",
        help="the flower attribute classifier that judges the generators",
        description="Train the flower attribute classifier on rendered Flowers images.",
        options=train_options,
        run=run_train,
    ),
)

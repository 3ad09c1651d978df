"""The command line: ``python -m t2i_core <command> ...``, ``--help`` on every command.

One module per model declares what it offers (:class:`~.common.ModelCommands`: its
``train``, ``eval`` and inference commands, each with its options and handler); this
module composes them into the verbs users type:

- ``data preview|render|stats``: the procedural worlds (``data.py``)
- ``train <model>``: ``text2image.py``, ``flower_classifier.py``, ``caption.py``, ``dates.py``, ``vqa.py``, ``world_detector.py``
- ``eval <what>``: the same models, and ``encoders.py`` (sentence encoders), ``round_trip.py`` (generator -> captioner)
- ``generate``, ``caption``, ``dates``, ``vqa``: inference with a shipped model
- ``cards``: the shipped checkpoints' Hugging Face Hub model cards (``cards.py``)
- ``space``: the Space's front-matter fields that need its id (``space.py``)

``common.py`` holds what they share: the shared options (``-n/--num``, ``--seed``,
``--threads``, the training options), ``train_config``, ``ship`` and the evaluation
skeleton, which prints a report as its evaluation module renders it (the same tables the
app's About tab shows, then the details) or as JSON.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import caption, cards, data, dates, encoders, flower_classifier, round_trip, space, text2image, vqa, world_detector
from .common import Verb

# In the order their commands are listed in --help.
MODELS = (encoders, flower_classifier, text2image, round_trip, caption, dates, vqa, world_detector)

TRAIN = Verb(
    "train",
    help="train a model from scratch (resumable)",
    description=(
        "Train one model: a fixed seed, resumable, DDP-ready. Every run writes run_config.json (how to reproduce it), "
        "metrics.jsonl, sample grids, a resumable last/ state and the exported checkpoint in final/; with --ship the "
        "checkpoint is also copied into checkpoints/. Runs under `torchrun --nproc_per_node=N -m t2i_core train ...` "
        "use DistributedDataParallel."
    ),
    metavar="<model>",
    commands=tuple(m.COMMANDS.train for m in MODELS if m.COMMANDS.train),
)
EVAL = Verb(
    "eval",
    help="measure encoders and models",
    description="Measure encoders and models: tables, or JSON with --json; -o FILE also writes the JSON report.",
    metavar="<eval command>",
    commands=tuple(m.COMMANDS.eval for m in MODELS if m.COMMANDS.eval),
)
INFERENCE = tuple(command for m in MODELS for command in m.COMMANDS.inference)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser: ``data``, ``train``, ``eval`` and the inference commands."""
    parser = argparse.ArgumentParser(
        prog="python -m t2i_core",
        description="Attention in multimodal deep learning: data, models, training, evaluation.",
    )
    parser.add_argument("--version", action="version", version=f"t2i_core {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="<command>")
    commands.required = True
    for verb in (data.VERB, TRAIN, EVAL):
        verb.attach(commands)
    for command in (*INFERENCE, cards.COMMAND, space.COMMAND):
        command.attach(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code (2 for a usage or input error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, IndexError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

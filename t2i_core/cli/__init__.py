"""The command line: ``python -m t2i_core <command> ...``, ``--help`` on every command.

Each command group lives in its own module with an ``add_parser(subparsers)`` that
registers its sub-commands and sets ``func`` on each; ``main`` dispatches to it.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import caption_commands, data_commands, dates_commands, eval_commands, generate_commands, train_commands, vqa_commands

COMMAND_GROUPS = (data_commands, train_commands, eval_commands, generate_commands, caption_commands, dates_commands, vqa_commands)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every command group attached."""
    parser = argparse.ArgumentParser(
        prog="python -m t2i_core",
        description="Attention in multimodal deep learning: data, models, training, evaluation.",
    )
    parser.add_argument("--version", action="version", version=f"t2i_core {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="<command>")
    commands.required = True
    for group in COMMAND_GROUPS:
        group.add_parser(commands)
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

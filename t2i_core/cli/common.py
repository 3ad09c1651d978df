"""What every command shares: the :class:`Command` spec that each model's module declares,
the shared options, the training run (``train_config``, threads, ``ship``) and the
evaluation skeleton (load each checkpoint, measure it, print its evaluation's rendering or JSON, ``-o FILE``).

Nothing here knows a model; the model modules import from here, never the reverse.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import SHIPPED_CHECKPOINTS, resolve_checkpoint_dir
from ..device import describe_machine, select_device
from ..evaluation.formatting import Block, plain_text
from ..evaluation.model_card import RECORDED_WHEN_SHIPPED
from ..training import TrainConfig

SHIPPED = SHIPPED_CHECKPOINTS

# One torch thread per process: the shipped models were trained that way on a 2-core
# machine shared by several runs, and torchrun does the same (OMP_NUM_THREADS=1 per
# process) so that N processes do not oversubscribe the cores. 0 leaves torch's choice.
THREADS = 1


# ---------------------------------------------------------------------- the spec
@dataclass(frozen=True)
class Command:
    """One sub-command as a model's module declares it: its name under its verb
    (``train caption`` is ``Command("caption", ...)`` in ``cli/caption.py``), one help
    line, a description, a function that adds its options and the handler that runs it."""

    name: str
    help: str
    description: str
    options: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]

    def attach(self, sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
        """Add this command to a verb's sub-parsers; ``func`` on the parsed args is its handler."""
        parser = sub.add_parser(self.name, help=self.help, description=self.description)
        self.options(parser)
        parser.set_defaults(func=self.run)
        return parser


@dataclass(frozen=True)
class ModelCommands:
    """What one model offers on the command line: ``train <name>``, ``eval <name>`` and
    top-level inference commands (``caption IMAGE``, ``generate PROMPT``); any may be absent."""

    train: Command | None = None
    eval: Command | None = None
    inference: tuple[Command, ...] = ()


@dataclass(frozen=True)
class Verb:
    """A command that users type first (``train``, ``eval``, ``data``) and the sub-commands under it."""

    name: str
    help: str
    description: str
    metavar: str
    commands: tuple[Command, ...]

    def attach(self, commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
        """Add this verb and every one of its sub-commands to the top-level parser."""
        parser = commands.add_parser(self.name, help=self.help, description=self.description)
        sub = parser.add_subparsers(dest=f"{self.name}_command", metavar=self.metavar)
        sub.required = True
        for command in self.commands:
            command.attach(sub)
        return parser


# ---------------------------------------------------------------------- shared options
def at_least(minimum: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer no smaller than ``minimum`` (a usage error otherwise)."""

    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = "integer"  # what argparse names the type in "invalid integer value"
    return parse


def add_num(parser: argparse.ArgumentParser, default: int | None, help: str, aliases: Sequence[str] = (), minimum: int = 1) -> None:
    """``-n/--num``: how many items (samples, prompts, scenes, dates, images) a command takes.

    ``aliases`` are the long names the option had before it was ``--num``
    (``--num-scenes``, ...): still accepted, not shown in ``--help``.
    """
    parser.add_argument("-n", "--num", type=at_least(minimum), default=default, metavar="N", help=help)
    for alias in aliases:
        parser.add_argument(alias, dest="num", type=at_least(minimum), default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def add_seed(parser: argparse.ArgumentParser, default: int = 0, what: str = "the run") -> None:
    parser.add_argument("--seed", type=int, default=default, help=f"seed of {what} (default {default})")


def add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=at_least(0), default=THREADS,
                        help=f"CPU threads for torch (default {THREADS}, one per process; 0: torch's choice)")


def add_ship(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--ship", action="store_true", help=f"copy the final checkpoint into checkpoints/{name}")


def add_training_options(parser: argparse.ArgumentParser, *, steps: int, batch_size: int, output: str, ship_as: str,
                         eval_every: int | None = 500) -> None:
    """The options of every ``train`` command that runs in the shared training loop."""
    parser.add_argument("--steps", type=at_least(1), default=steps, help=f"optimisation steps (default {steps})")
    parser.add_argument("--batch-size", type=at_least(1), default=batch_size, help=f"global batch size (default {batch_size})")
    add_seed(parser)
    parser.add_argument("--output", default=output, help=f"run folder (default {output})")
    parser.add_argument("--eval-every", type=at_least(1), default=eval_every,
                        help="steps between evaluations (default " + ("one epoch" if eval_every is None else str(eval_every)) + ")")
    parser.add_argument("--save-every", type=at_least(1), default=250, help="steps between resumable saves (default 250)")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: automatic, or $T2I_DEVICE)")
    parser.add_argument("--time-limit", type=float, default=None, metavar="MINUTES",
                        help="stop early after this many minutes of training (saves, evaluates and exports at the step reached)")
    parser.add_argument("--fresh", action="store_true", help="start over instead of resuming from <output>/last")
    add_ship(parser, ship_as)
    add_threads(parser)


def add_report_options(parser: argparse.ArgumentParser, printed: str = "a table") -> None:
    """``--json`` and ``-o/--output FILE``: the options of every ``eval`` command."""
    parser.add_argument("--json", action="store_true", help=f"print JSON instead of {printed}")
    parser.add_argument("-o", "--output", default=None, metavar="FILE", help="also write the JSON report here")


def add_checkpoints(parser: argparse.ArgumentParser, what: str) -> None:
    """``--checkpoint NAME=PATH`` (repeatable): measure another checkpoint (a folder or Hub repo id) under a name."""
    parser.add_argument("--checkpoint", action="append", default=[], metavar=f"{what}=PATH",
                        help=f"measure another checkpoint for a {what.lower()}: a folder or a Hugging Face Hub repo id (repeatable)")


# ---------------------------------------------------------------------- training
def set_threads(args: argparse.Namespace) -> None:
    """Apply ``--threads`` before anything computes (a task may cache features as it is built)."""
    if args.threads > 0:
        torch.set_num_threads(args.threads)


def train_config(args: argparse.Namespace, output: str) -> TrainConfig:
    """The shared training options as the loop's :class:`TrainConfig`, for a run in ``output``."""
    return TrainConfig(
        output_dir=output,
        seed=args.seed,
        max_steps=args.steps,
        batch_size=args.batch_size,
        eval_every=args.eval_every,
        save_every=args.save_every,
        device=args.device,
        resume=not args.fresh,
        time_limit=None if args.time_limit is None else 60.0 * args.time_limit,
    )


def training_sessions(records: list[dict]) -> list[dict]:
    """The sessions of a run from its ``metrics.jsonl`` records, in order: the last step and
    the seconds each one trained, whether it finished (wrote its ``finished`` record) and
    on which machine. A session stopped from outside (the machine went away) has no
    ``finished`` record; it is found where the session clock starts again, and counts up
    to its last logged step. Its machine comes from the ``started`` record each session
    writes first (None for sessions logged before those records existed). A session that
    trained no step (it found the run finished, as ``--ship`` on a finished run does) is
    left out."""
    sessions: list[dict] = []
    current: dict | None = None
    machine = None  # of the last session that said it started
    started_at = None  # the step it started at
    for record in records:
        if record.get("started"):
            machine, current, started_at = record.get("machine"), None, record.get("step")  # whatever comes next belongs to a new session
            continue
        if "seconds" not in record:
            continue
        if current is None or current["finished"] or record["seconds"] < current["seconds"]:
            if record.get("finished") and record["step"] == started_at:
                continue  # started and finished at the same step: nothing trained
            current = {"step": record["step"], "seconds": record["seconds"], "finished": False, "machine": machine}
            sessions.append(current)
        current["step"], current["seconds"] = record["step"], max(current["seconds"], record["seconds"])
        if record.get("finished"):
            current["finished"], current["machine"] = True, record.get("machine") or current["machine"]
    return sessions


def ship(run_dir: Path, name: str) -> Path:
    """Copy a run's exported checkpoint into ``checkpoints/<name>`` with ``training.json``.

    ``training.json`` holds the run's config (how to reproduce it), its last evaluation
    and its wall time, so a shipped checkpoint says how it was made.
    """
    target = SHIPPED / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(run_dir / "final", target)
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    evaluations = [r for r in records if "eval" in r]
    finished = [r for r in records if r.get("finished")]
    here = describe_machine(select_device(None))
    # One entry per training session of the run (a resumed run has several); a session
    # logged before machines were recorded, or stopped before its end, gets this
    # machine's description, marked so.
    sessions = [{"step": t["step"], "seconds": t["seconds"], "machine": t["machine"] or here + RECORDED_WHEN_SHIPPED,
                 **({} if t["finished"] else {"stopped": True})} for t in training_sessions(records)]
    summary = {
        "run": json.loads((run_dir / "run_config.json").read_text(encoding="utf-8")),
        "last_evaluation": evaluations[-1] if evaluations else None,
        "evaluations": evaluations,
        "steps": finished[-1]["step"] if finished else None,
        "seconds_last_session": finished[-1]["seconds"] if finished else None,
        "seconds_total": round(sum(s["seconds"] for s in sessions), 1),
        "sessions": sessions,
    }
    (target / "training.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"shipped {run_dir / 'final'} -> {target}")
    return target


# ---------------------------------------------------------------------- evaluation
def parse_checkpoints(items: Sequence[str], names: Sequence[str] | None = None, what: str = "MODEL") -> dict[str, str]:
    """``["dot=runs/x/final", ...]`` -> ``{"dot": "runs/x/final"}``; each NAME one of ``names`` when given."""
    checkpoints = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or (names is not None and name not in names):
            known = f" with {what} one of {tuple(names)}" if names is not None else ""
            raise ValueError(f"--checkpoint takes {what}=PATH{known}, got {item!r}")
        checkpoints[name] = path
    return checkpoints


def measure_checkpoints(names: Iterable[str], checkpoints: dict[str, str], shipped: Callable[[str], Path],
                        load: Callable[[Path], Any], measure: Callable[[Any, Path], dict]) -> dict[str, dict]:
    """The skeleton of an ``eval`` command: for each name, the checkpoint given for it
    (``--checkpoint NAME=PATH``, a folder or a Hub repo id) or the shipped one, loaded and
    measured; each result also says which checkpoint it measured (the local folder it was
    read from) and how many seconds that took (loading not counted)."""
    results = {}
    for name in names:
        folder = resolve_checkpoint_dir(checkpoints.get(name) or shipped(name))
        model = load(folder)
        started = time.time()
        result = measure(model, folder)
        result["checkpoint"] = str(folder)
        result["seconds"] = round(time.time() - started, 1)
        results[name] = result
    return results


def write_report(report: dict, output: str | None) -> str:
    """The report as indented JSON text, also written to ``output`` (folders made) when given."""
    text = json.dumps(report, indent=2)
    if output:
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    return text


def print_report(args: argparse.Namespace, report: dict, *renderings: Callable[[dict], list[Block]]) -> int:
    """Write the report to ``-o`` when given, print it as JSON (``--json``) or as the
    blocks its evaluation renders (``report_summary``, then ``report_details``) in plain text; exit code 0."""
    text = write_report(report, args.output)
    print(text if args.json else plain_text([block for render in renderings for block in render(report)]))
    return 0

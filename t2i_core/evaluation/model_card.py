"""A model card: the Hugging Face Hub ``README.md`` of a shipped checkpoint folder, built
from what the folder records and what the shipped evaluation reports measured.

A card is a Hub model card: YAML metadata (license, library, pipeline tag, tags and a
``model-index`` of measured figures, through ``huggingface_hub``'s :class:`ModelCardData`
and :class:`EvalResult`), then prose: what the model is, the world it learned, the command
that reproduces it, how long it took and where, the figures, and its limits. Nothing in a
card is typed by hand that a file already says: the command is rebuilt from the run's
recorded config (``training.json``) or copied from its ``reproduce`` record, the time from
its sessions, every figure from ``results/<report>.json``. So a card whose numbers differ
from its report is stale, and ``python -m t2i_core cards --check`` says so.

Each Hub repo is one folder: ``checkpoints/dates`` is one repo with a subfolder per
attention score (``DatesPipeline.from_pretrained(repo_id, subfolder="dot")``), so it gets
one card covering the three.

The cards of the shipped folders (what each says that no file records) are in
``model_cards.py``; this module builds a card from such a spec.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..checkpoint import SHIPPED_CHECKPOINTS
from . import RESULTS_DIR
from .formatting import Table, markdown
from .training_commands import COMMAND_FROM_RUN

CARD_NAME = "README.md"
LICENSE = "apache-2.0"  # the repository's LICENSE
# The folders hold safetensors and a JSON config that only t2i_core's from_pretrained reads,
# so the honest library is t2i_core itself (the Hub accepts any name; pytorch would promise torch.load).
LIBRARY_NAME = "t2i_core"
DIGITS = 4  # figures in the metadata and the tables: enough to tell 0.9930 from 0.9800

Reports = Mapping[str, dict]  # report name ("caption") -> the parsed results/<name>.json


# ---------------------------------------------------------------------- the worlds
@dataclass(frozen=True)
class World:
    """A procedural world as a card names it: the model-index dataset and a paragraph."""

    dataset_type: str  # the model-index dataset id; not a Hub dataset: the world is drawn by code
    dataset_name: str
    about: str


WORLDS = {
    "flowers": World(
        "t2i_core-flowers", "Flowers (t2i_core procedural world)",
        "**Flowers** (`t2i_core/data/flowers.py`): one rendered flower per image, with six ground-truth attributes "
        "(petal colour and stem colour, 8 named colours each and never the same; centre colour, 3; petal shape, round or "
        "pointed; petal count, 5 or 8; size, small or large) and captions from templates that name the two colours in "
        "both orders (\"a red flower with a yellow stem\", \"the stem is yellow and the petals are red\"). Some "
        "templates and some colour pairs are held out of training.",
    ),
    "scenes": World(
        "t2i_core-scenes", "Scenes (t2i_core procedural world)",
        "**Scenes** (`t2i_core/data/scenes.py`): 128x128 pictures of 1 to 4 coloured shapes (circle, square, triangle, "
        "star, diamond; 7 colours; small or large) on backgrounds in four styles, with masks, boxes and relational "
        "captions. Besides `test`, two held-out splits: `heldout-combos` (colour-shape pairs never seen in training) "
        "and `heldout-style` (a look never trained on: flat shapes on plain backgrounds).",
    ),
    "dates": World(
        "t2i_core-dates", "Dates (t2i_core procedural world)",
        "**Dates** (`t2i_core/data/dates.py`): human-written dates (\"Tuesday, March 3, 2020\", \"3/4/21\", "
        "\"22JAN2016\") paired with ISO `YYYY-MM-DD`, in 33 training formats, with English month and weekday names. "
        "Numeric dates follow one rule: of the two leading numbers, one above 12 is the day; when both are 12 or less "
        "the separator decides (slashes month-first, dots and dashes day-first). Two-digit years follow the strptime "
        "pivot (00-68 are 2000-2068). The `heldout-formats` split holds 7 layouts never seen in training.",
    ),
    "photos": World("scikit-image-photos", "scikit-image's sample photos (whole and 4 random crops each)", ""),
}


# ---------------------------------------------------------------------- what a card says
@dataclass(frozen=True)
class Figure:
    """One measured figure: where it sits in the report and how the model-index names it."""

    name: str  # as shown: "BLEU-4, beam 3"
    metric_type: str  # the Hub's metric id: "bleu", "accuracy", "exact_match", ...
    world: str  # a key of WORLDS
    split: str  # the world's split ("test", "heldout-combos")
    path: tuple[str, ...]  # keys into the report
    config: str | None = None  # which model of a multi-model repo (the dates' score)


@dataclass(frozen=True)
class CardSpec:
    """What one shipped folder's card says that no file records: its title, the Hub task,
    what the model is, how to use it, which report figures to show and its limits."""

    folder: str  # under checkpoints/
    title: str
    pipeline_tag: str
    task_name: str
    tags: tuple[str, ...]
    worlds: tuple[str, ...]
    about: str
    usage: str
    report: str  # results/<report>.json
    figures: tuple[Figure, ...]
    limits: Callable[[Reports], list[str]]
    subfolders: tuple[str, ...] = ()  # models of one repo (dates/<score>); () for the folder itself
    measured_by: str = ""  # what wrote the report, when it is not `python -m t2i_core eval <report>`


def _round(value: float) -> float:
    return round(float(value), DIGITS)


def lookup(report: dict, path: tuple[str, ...]) -> Any:
    """The value at ``path`` in ``report``; a KeyError naming the path when it is absent."""
    value: Any = report
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise KeyError(f"the report has no {'/'.join(path)}")
        value = value[key]
    return value


@dataclass(frozen=True)
class Training:
    """How one checkpoint was made, as its folder records it."""

    command: str | None
    steps: int | None
    seconds: float | None
    sessions: list[dict]
    machine: str | None


def read_training(folder: Path) -> Training:
    """The command, steps, wall time, sessions and machine of the checkpoint in ``folder``
    (``training.json`` where there is one, else the fit record of ``config.json``)."""
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    record_path = folder / "training.json"
    if not record_path.is_file():  # a closed-form fit (the world detector): config.json says how and how long
        fit = config["config"].get("fit", {})
        return Training(config.get("metadata", {}).get("reproduce"), None, fit.get("seconds"), [], None)
    record = json.loads(record_path.read_text(encoding="utf-8"))
    command = record.get("reproduce") or COMMAND_FROM_RUN[config["model_type"]](record["run"])
    sessions = record.get("sessions") or []
    seconds = record.get("seconds_total", record.get("seconds_last_session"))
    machine = record.get("hardware") or _machines(sessions)
    return Training(command, record.get("steps"), seconds, sessions, machine)


RECORDED_WHEN_SHIPPED = " (recorded when shipped)"  # what ``ship`` adds to a machine it recorded for a session that had none


def session_machines(sessions: list[dict]) -> list[str]:
    """The machines the sessions of ``training.json`` ran on, once each and sorted, without ``ship``'s mark."""
    return sorted({s["machine"].removesuffix(RECORDED_WHEN_SHIPPED) for s in sessions if s.get("machine")})


def _machines(sessions: list[dict]) -> str | None:
    """The machines of a run's sessions, once each; ``ship`` marks a machine it recorded for a session that had none."""
    machines = session_machines(sessions)
    if not machines:
        return None
    marked = [str(i + 1) for i, s in enumerate(sessions) if s.get("machine", "").endswith(RECORDED_WHEN_SHIPPED)]
    return "; ".join(machines) + (f" (for session {', '.join(marked)}: recorded when shipped, not while training)" if marked else "")


def weight_count(folder: Path) -> tuple[int, str]:
    """(numbers stored, their dtypes) of ``model.safetensors``, read from its header alone."""
    with open(folder / "model.safetensors", "rb") as file:
        (length,) = struct.unpack("<Q", file.read(8))
        header = json.loads(file.read(length))
    tensors = [t for name, t in header.items() if name != "__metadata__"]
    count = 0
    for tensor in tensors:
        size = 1
        for dim in tensor["shape"]:
            size *= dim
        count += size
    return count, ", ".join(sorted({t["dtype"].lower() for t in tensors}))


# ---------------------------------------------------------------------- the card
def load_reports(results_dir: Path = RESULTS_DIR) -> dict[str, dict]:
    """Every shipped report in ``results_dir``, by name (``caption``, ``text2image``, ...)."""
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(Path(results_dir).glob("*.json"))}


def eval_results(spec: CardSpec, report: dict) -> list:
    """The spec's figures as the Hub's model-index entries (``EvalResult``), values rounded to DIGITS."""
    # huggingface_hub takes half a second to import; only the cards need it, not every CLI command.
    from huggingface_hub import EvalResult

    return [
        EvalResult(
            task_type=spec.pipeline_tag, task_name=spec.task_name,
            dataset_type=WORLDS[figure.world].dataset_type, dataset_name=WORLDS[figure.world].dataset_name,
            dataset_split=figure.split, metric_type=figure.metric_type, metric_name=figure.name,
            metric_value=_round(lookup(report, figure.path)), metric_config=figure.config,
        )
        for figure in spec.figures
    ]


def _minutes(seconds: float | None) -> str:
    return "not recorded" if seconds is None else f"{seconds / 60:.1f} min ({seconds:.0f} s)"


def _training_section(spec: CardSpec, checkpoints: Path) -> list[str]:
    lines = ["## How it was made", ""]
    for sub in spec.subfolders or ("",):
        folder = checkpoints / spec.folder / sub
        training = read_training(folder)
        count, dtypes = weight_count(folder)
        if sub:
            lines += [f"### `{sub}`", ""]
        lines += [f"Weights: {count / 1e6:.2f} M numbers ({dtypes}) in `model.safetensors`.", ""]
        if training.command:
            ships = " `--ship` copies the result into `checkpoints/`." if "--ship" in training.command.split() else ""
            lines += [f"Reproduce, from the repository root:{ships}", "", "```bash", training.command, "```", ""]
        facts = [f"wall time: {_minutes(training.seconds)}"]
        if training.steps is not None:
            facts.insert(0, f"steps: {training.steps}")
        facts.append(f"machine: {training.machine or 'not recorded in the checkpoint'}")
        lines += ["- " + fact for fact in facts]
        if len(training.sessions) > 1:
            ends = ", ".join(str(s.get("step", s.get("until_step"))) for s in training.sessions)
            lines.append(f"- trained in {len(training.sessions)} sessions, resumed from the saved state (ending at steps {ends}); "
                         "the training loop resumes exactly, so one uninterrupted run of the command is the same run")
        lines.append("")
    if any((checkpoints / spec.folder / sub / "training.json").is_file() for sub in spec.subfolders or ("",)):
        lines += ["`training.json` beside the weights holds the run's full config, its evaluations during training "
                  "and the seconds of each session.", ""]
    return lines


def _figures_table(spec: CardSpec, report: dict) -> Table:
    header = ["model", "data", "split", "metric", "value"] if spec.subfolders else ["data", "split", "metric", "value"]
    rows = []
    for figure in spec.figures:
        row = [WORLDS[figure.world].dataset_name.split(" (")[0], f"`{figure.split}`", figure.name, f"{_round(lookup(report, figure.path)):.{DIGITS}f}"]
        rows.append([f"`{figure.config}`", *row] if spec.subfolders else row)
    return Table(header, rows)


def build_card(spec: CardSpec, reports: Reports, checkpoints: Path = SHIPPED_CHECKPOINTS):
    """The model card (a ``huggingface_hub.ModelCard``) of ``checkpoints/<spec.folder>`` with the figures of ``reports``."""
    # huggingface_hub takes half a second to import; only the cards need it, not every CLI command.
    from huggingface_hub import ModelCard, ModelCardData

    report = reports[spec.report]
    data = ModelCardData(
        license=LICENSE, library_name=LIBRARY_NAME, pipeline_tag=spec.pipeline_tag,
        tags=["t2i_core", "safetensors", "attention", *spec.tags],
        model_name=spec.folder, eval_results=eval_results(spec, report),
    )
    body = [
        f"# {spec.title}", "",
        spec.about, "",
        "Part of t2i_core, a teaching demo of attention in multimodal deep learning: every model is "
        "trained on procedural worlds with ground truth, measured, and shipped as safetensors with a JSON config "
        "(no pickles: loading cannot run code). Loading needs the `t2i_core` package.", "",
        "## Use", "", "```python", spec.usage, "```", "",
        "## Training data", "",
        *[line for world in spec.worlds for line in (WORLDS[world].about, "")],
        *_training_section(spec, checkpoints),
        "## Measured", "",
        f"By {spec.measured_by or f'`python -m t2i_core eval {spec.report}`'}; the report is shipped as "
        f"`t2i_core/evaluation/results/{spec.report}.json`.", "",
        markdown([_figures_table(spec, report)]), "",
        "## Limits", "",
        *["- " + limit for limit in spec.limits(reports)], "",
    ]
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(body).rstrip() + "\n")


def stale_cards(cards: Mapping[str, str], checkpoints: Path = SHIPPED_CHECKPOINTS) -> list[str]:
    """The folders whose committed ``README.md`` is missing or differs from ``cards``."""
    stale = []
    for folder, text in cards.items():
        path = checkpoints / folder / CARD_NAME
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(folder)
    return stale

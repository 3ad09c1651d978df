"""Model cards: the Hugging Face Hub ``README.md`` of every shipped checkpoint folder, built
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
"""

from __future__ import annotations

import json
import shlex
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..checkpoint import SHIPPED_CHECKPOINTS
from . import RESULTS_DIR
from .formatting import Table, markdown

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


# ---------------------------------------------------------------------- how each model was made
def _shared_training_options(train: dict) -> list[str]:
    return ["--steps", str(train["max_steps"]), "--batch-size", str(train["batch_size"]), "--eval-every", str(train["eval_every"]),
            "--save-every", str(train["save_every"]), "--seed", str(train["seed"])]


def _command(*words: str) -> str:
    return "python -m t2i_core " + shlex.join(words)


def command_flower_classifier(run: dict) -> str:
    """The ``train flower-classifier`` line that rebuilds the recorded run config."""
    return _command("train", "flower-classifier", "--train-size", str(run["task"]["train_size"]), *_shared_training_options(run["train"]),
                    "--fresh", "--ship")


def command_dates(run: dict) -> str:
    """The ``train dates`` line that rebuilds the recorded run config."""
    task, model = run["task"], run["task"]["model"]
    return _command("train", "dates", "--score", model["score"], "--encoder-cell", model["encoder_cell"], "--train-size", str(task["train_size"]),
                    "--lr", str(task["learning_rate"]), *_shared_training_options(run["train"]), "--fresh", "--ship")


def command_caption(run: dict) -> str:
    """The ``train caption`` line that rebuilds the recorded run config (options absent from an older record are left out)."""
    task, model = run["task"], run["task"]["model"]
    words = ["train", "caption", "--model", model["kind"], "--encoder", model["encoder"], "--score", model["score"],
             "--alpha-c", str(model["alpha_c"]), "--data", task["data"], "--train-size", str(task["train_size"]),
             "--val-size", str(task["val_size"]), "--flower-train-size", str(task["flower_train_size"]),
             "--flower-val-size", str(task["flower_val_size"])]
    if "generated_train_size" in task:
        words += ["--generated-train-size", str(task["generated_train_size"])]
    words += ["--min-count", str(task["min_count"]), "--lr", str(task["learning_rate"]), "--lr-steps", str(task["total_steps"]),
              "--patience", str(task["patience"]), "--select", task["select"]]
    if "focus_weight" in task:
        words += ["--focus-weight", str(task["focus_weight"])]
    if not model["freeze_encoder"]:
        words.append("--fine-tune-encoder")
    return _command(*words, *_shared_training_options(run["train"]), "--fresh", "--ship")


def command_vqa(run: dict) -> str:
    """The ``train vqa`` line that rebuilds the recorded run config."""
    task, model = run["task"], run["task"]["model"]
    words = ["train", "vqa", "--model", model["kind"], "--hops", str(model["hops"]), "--train-size", str(task["train_size"]),
             "--per-kind", str(task["per_kind"]), "--lr", str(task["learning_rate"]), "--focus-weight", str(task["focus_weight"])]
    if model["kind"] == "attention" and not model["relative_direction"]:
        words.append("--no-direction")
    return _command(*words, *_shared_training_options(run["train"]), "--fresh", "--ship")


# Models whose training.json records the run config but no command line, by config.json's model_type.
COMMAND_FROM_RUN: dict[str, Callable[[dict], str]] = {
    "flower-attribute-classifier": command_flower_classifier,
    "date-translator": command_dates,
    "captioner": command_caption,
    "vqa-attention": command_vqa,
    "vqa-baseline": command_vqa,
}


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


def _machines(sessions: list[dict]) -> str | None:
    """The machines of a run's sessions, once each; ``ship`` marks a machine it recorded for a session that had none."""
    late = " (recorded when shipped)"
    machines = sorted({s["machine"].removesuffix(late) for s in sessions if s.get("machine")})
    if not machines:
        return None
    marked = [str(i + 1) for i, s in enumerate(sessions) if s.get("machine", "").endswith(late)]
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


# ---------------------------------------------------------------------- the shipped folders
def _figure(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}f}"


def _text2image_limits(encoder: str) -> Callable[[Reports], list[str]]:
    def limits(reports: Reports) -> list[str]:
        generator = reports["text2image"]["generators"][encoder]
        binding, seen = generator["binding_accuracy"], generator["attribute_accuracy"]["seen"]
        found = [
            f"Image quality is far from real flowers: the Frechet distance (in the flower classifier's feature space, not FID) "
            f"is {generator['frechet_ratio']:.1f}x the real-vs-real floor, against a target of 3x, and the diversity between "
            f"images of one prompt is {generator['diversity_ratio']:.2f}x that of real flowers (target 0.6x): little but the "
            "asked colours varies with the noise.",
            "The binding of colours to parts does not carry to new phrasings or to colour pairs never seen in training: "
            f"binding accuracy {_figure(binding['heldout-templates'])} on held-out templates and {_figure(binding['heldout-pairs'])} "
            f"on held-out colour pairs, against {_figure(binding['seen'])} on seen ones.",
            "Attributes other than the two colours, when a prompt states them, come out right only part of the time "
            f"(centre colour {_figure(seen['centre_colour'], 2)}, petal shape {_figure(seen['petal_shape'], 2)}, "
            f"petal count {_figure(seen['petal_count'], 2)}, size {_figure(seen['size'], 2)}).",
        ]
        if encoder == "glove-avg":
            found.insert(0, "Averaged GloVe vectors ignore word order: \"a red flower with a yellow stem\" and \"a yellow flower "
                            "with a red stem\" are the identical vector, hence identical images, so at most one of a swapped "
                            f"pair can be right (swapped twins both right: {_figure(binding['swapped-twins'])}). This generator is "
                            "shipped as the contrast to the USE one, not as a model to use.")
        found.append("It knows only the Flowers world: 64x64 single flowers on plain, gradient, noise or photo-textured backgrounds, the 8 colour words "
                     "and the templates' vocabulary. Any other prompt is encoded and drawn as some flower anyway.")
        return found

    return limits


def _out_of_world(reports: Reports) -> str:
    photos = reports["world-detector"]["photos"]
    return (f"Pictures from outside its worlds (a photo) still get an answer in the worlds' words, not a description "
            f"of what a person sees. The pipeline flags them through the shipped out-of-world detector (`in_world`), "
            f"which calls {_figure(photos['out_of_world_rate'])} of {photos['n']} photos and photo crops out of world.")


def _caption_limits(model: str) -> Callable[[Reports], list[str]]:
    def limits(reports: Reports) -> list[str]:
        splits = reports["caption"]["models"][model]["splits"]
        test, combos = splits["test"]["beam_3"], splits["heldout-combos"]["beam_3"]
        found = [_out_of_world(reports),
                 f"Scenes with colour-shape pairs never seen in training are harder: every object named in "
                 f"{_figure(combos['all_objects_named'])} of `heldout-combos` captions against {_figure(test['all_objects_named'])} on `test`.",
                 "Its vocabulary is the worlds' few dozen words; it writes one phrasing per world."]
        if model == "show-and-tell":
            found.insert(0, "No attention: its per-word maps are uniform, so the pointing figures of the report "
                            f"({_figure(test['pointing_accuracy'])} on `test`) only measure the share of the grid the objects cover.")
        return found

    return limits


def _vqa_limits(model: str) -> Callable[[Reports], list[str]]:
    def limits(reports: Reports) -> list[str]:
        results = reports["vqa"]["models"][model]["results"]
        test, combos = results["test"], results["heldout-combos"]
        weakest = min(test["per_type"], key=test["per_type"].get)
        return [
            f"Colour-shape pairs never seen in training lower the accuracy from {_figure(test['accuracy'])} (`test`) to "
            f"{_figure(combos['accuracy'])} (`heldout-combos`), most on colour questions ({_figure(combos['per_type']['colour'])}) "
            f"and shape questions ({_figure(combos['per_type']['shape'])}).",
            f"Its weakest question type on `test` is {weakest} ({_figure(test['per_type'][weakest])}).",
            "It answers only the six question types of the Scenes world, from a closed list of 31 answers; any other "
            "question is read with the words it knows and answered from that list.",
            _out_of_world(reports),
        ]

    return limits


def _dates_limits(reports: Reports) -> list[str]:
    found = []
    for score, measured in reports["dates"]["scores"].items():
        heldout = measured["splits"]["heldout-formats"]["per_format"]
        below = sorted((value, name) for name, value in heldout.items() if value < 1.0)
        if below:
            found.append(f"`{score}`: held-out formats below 1.0: " + ", ".join(f"`{name}` {value:.3f}" for value, name in below) + ".")
    return [
        "New layouts are read well but not perfectly (exact match on the 7 held-out formats, per score):\n" + "\n".join("  - " + f for f in found),
        "English month and weekday names only; a text that is not a date still gets a 10-character answer, which the "
        "pipeline marks invalid when it is not a calendar date or its confidence is low.",
    ]


def _flower_limits(reports: Reports) -> list[str]:
    judge = reports["flower-judge"]["judge"]
    return [
        f"Measured on {judge['n']} rendered test flowers only (lowest attribute accuracy {_figure(judge['min_accuracy'])}); "
        "it has never seen any other picture, so on a photo or a drawn flower of another style its answers mean nothing.",
        "It is the judge of the text-to-image generators: their binding accuracy is what this classifier reads in "
        "their images, so its errors count in their figures.",
    ]


def _world_detector_limits(reports: Reports) -> list[str]:
    report = reports["world-detector"]
    called_in = ", ".join(f"`{name}`" for name in report["photos"]["called_in_world"]) or "none"
    return [
        f"The threshold ({report['threshold']}) is an empirical p-value: about that share of a world's own pictures is "
        f"called out by construction (Flowers `test` in world: {_figure(report['in_world_rate']['flowers/test'])}).",
        f"Photos and crops of them called in world: {called_in}. It sees only the statistics of the frozen "
        "EfficientNet-Lite0 grid, so a picture with the statistics of a world passes whatever it shows.",
        "It knows two worlds, Scenes and Flowers (with the shipped generators' flowers); it says nothing about Dates.",
    ]


def _caption_figures(model: str) -> tuple[Figure, ...]:
    def at(split: str, metric: str) -> tuple[str, ...]:
        return ("models", model, "splits", split, "beam_3", metric)

    figures = [
        Figure("BLEU-4, beam 3", "bleu", "scenes", "test", at("test", "BLEU-4")),
        Figure("CIDEr, beam 3", "cider", "scenes", "test", at("test", "CIDEr")),
        Figure("exact match, beam 3", "exact_match", "scenes", "test", at("test", "exact_match")),
        Figure("every object named, beam 3", "accuracy", "scenes", "test", at("test", "all_objects_named")),
        Figure("every object named, beam 3", "accuracy", "scenes", "heldout-combos", at("heldout-combos", "all_objects_named")),
        Figure("every object named, beam 3", "accuracy", "scenes", "heldout-style", at("heldout-style", "all_objects_named")),
        Figure("exact match, beam 3", "exact_match", "flowers", "test", at("flowers-test", "exact_match")),
    ]
    if model == "show-attend-tell":
        figures.insert(4, Figure("attention pointing accuracy, beam 3", "accuracy", "scenes", "test", at("test", "pointing_accuracy")))
    return tuple(figures)


def _vqa_figures(model: str) -> tuple[Figure, ...]:
    results = ("models", model, "results")
    return (
        *(Figure("accuracy", "accuracy", "scenes", split, (*results, split, "accuracy"))
          for split in ("test", "heldout-phrasings", "heldout-combos", "heldout-style")),
        Figure("accuracy, position questions", "accuracy", "scenes", "test", (*results, "test", "per_type", "position")),
        Figure("accuracy, colour questions", "accuracy", "scenes", "heldout-combos", (*results, "heldout-combos", "per_type", "colour")),
    )


def _text2image_figures(encoder: str) -> tuple[Figure, ...]:
    generator = ("generators", encoder)
    names = {"seen": "binding accuracy, seen prompts", "heldout-templates": "binding accuracy, held-out templates",
             "heldout-pairs": "binding accuracy, held-out colour pairs", "swapped-twins": "binding accuracy, swapped twins both right"}
    return (
        *(Figure(name, "accuracy", "flowers", split, (*generator, "binding_accuracy", split)) for split, name in names.items()),
        Figure("diversity (x real flowers)", "diversity_ratio", "flowers", "seen", (*generator, "diversity_ratio")),
        Figure("Frechet distance (x real-vs-real)", "frechet_ratio", "flowers", "seen", (*generator, "frechet_ratio")),
    )


DATES_SCORES = ("additive", "dot", "general")

_CAPTION_USAGE = '''from PIL import Image
from t2i_core.pipelines.caption import CaptionPipeline

captioner = CaptionPipeline.from_pretrained("checkpoints/{folder}")  # this folder, or this repo's Hub id
out = captioner(Image.open("scene.png"), beam_size=3)
out.captions[0], out.words[0]       # the caption and its words
out.attention[0]                    # (words, h, w): where the model looked for each word
out.in_world[0]                     # False for a picture from outside its worlds'''

_VQA_USAGE = '''from PIL import Image
from t2i_core.pipelines.vqa import VQAPipeline

vqa = VQAPipeline.from_pretrained("checkpoints/{folder}")  # this folder, or this repo's Hub id
out = vqa(Image.open("scene.png"), "what colour is the circle?")
out.answers[0], out.confidences[0]'''

_TEXT2IMAGE_USAGE = '''from t2i_core.pipelines.text2image import Text2ImagePipeline

gan = Text2ImagePipeline.from_pretrained("checkpoints/{folder}")  # this folder, or this repo's Hub id
out = gan(["a red flower with a yellow stem", "a yellow flower with a red stem"], num_images=4, seed=0)
out.images[0][0].save("flower.png")   # images: (prompts, num_images) PIL images; masks: the attention masks'''

CARDS: tuple[CardSpec, ...] = (
    CardSpec(
        folder="flower-attributes", title="Flower attribute classifier (the generators' judge)",
        pipeline_tag="image-classification", task_name="Image classification (six attributes)",
        tags=("flowers", "multi-label-classification"), worlds=("flowers",),
        about="A small CNN that reads the six attributes of a rendered flower (petal, stem and centre colour, petal shape, "
              "petal count, size), one softmax head per attribute. It judges the text-to-image generators: a generated "
              "flower binds its colours when this classifier reads the colours the prompt asked for.",
        usage='''from PIL import Image
from t2i_core.pipelines.flower_attributes import FlowerAttributesPipeline

judge = FlowerAttributesPipeline.from_pretrained("checkpoints/flower-attributes")  # this folder, or this repo's Hub id
out = judge([Image.open("flower.png")])
out.attributes[0], out.confidences[0]   # {"petal_colour": "red", ...} and each answer's probability''',
        report="flower-judge",
        measured_by="the judge's check of `python -m t2i_core eval text2image` (its accuracy on real test flowers, before any generator was shipped)",
        figures=tuple(Figure(f"accuracy, {attribute.replace('_', ' ')}", "accuracy", "flowers", "test", ("judge", "real_test_accuracy", attribute))
                      for attribute in ("petal_colour", "stem_colour", "centre_colour", "petal_shape", "petal_count", "size")),
        limits=_flower_limits,
    ),
    *(CardSpec(
        folder=f"text2image-{encoder}", title=f"Text to image: GAN-INT-CLS with residual attention, {name}",
        pipeline_tag="text-to-image", task_name="Text to image", tags=("gan", "flowers", tag), worlds=("flowers",),
        about=f"A conditional GAN generator (GAN-INT-CLS, Reed et al. 2016) with residual attention at 8x8 and 16x16 "
              f"over the sentence, drawing 64x64 flowers from a prompt and a noise vector. The prompt is read by {reader}; "
              "the discriminator and the sentence encoder are not part of the checkpoint (the encoder is loaded by name).",
        usage=_TEXT2IMAGE_USAGE.format(folder=f"text2image-{encoder}"),
        report="text2image", figures=_text2image_figures(encoder), limits=_text2image_limits(encoder),
    ) for encoder, name, tag, reader in (
        ("use", "Universal Sentence Encoder", "universal-sentence-encoder",
         "Google's Universal Sentence Encoder (`use`, 512 numbers, which keeps word order)"),
        ("glove-avg", "averaged GloVe", "glove",
         "the average of its GloVe word vectors (`glove-avg`, 50 numbers, which cannot see word order)"),
    )),
    CardSpec(
        folder="caption-show-attend-tell", title="Image captioning: Show, Attend and Tell",
        pipeline_tag="image-to-text", task_name="Image captioning", tags=("image-captioning", "show-attend-tell"),
        worlds=("scenes", "flowers"),
        about="Show, Attend and Tell (Xu et al., 2015): a frozen ImageNet-pretrained EfficientNet-Lite0 gives a 14x14 grid "
              "of features (with each cell's colour and centre), and an LSTM decoder emits one word per step, each chosen "
              "from a soft-attention (additive) context over the grid. The step that names an object was also trained to "
              "look at it (attention supervision from the Scenes masks), so the map of every word shows where the model looked.",
        usage=_CAPTION_USAGE.format(folder="caption-show-attend-tell"),
        report="caption", figures=_caption_figures("show-attend-tell"), limits=_caption_limits("show-attend-tell"),
    ),
    CardSpec(
        folder="caption-show-and-tell", title="Image captioning: Show and Tell (the baseline without attention)",
        pipeline_tag="image-to-text", task_name="Image captioning", tags=("image-captioning", "show-and-tell"),
        worlds=("scenes", "flowers"),
        about="Show and Tell (Vinyals et al., 2015), the baseline of the attention captioner: the mean of a frozen "
              "EfficientNet-Lite0 grid is the LSTM's first input, then the words. No attention.",
        usage=_CAPTION_USAGE.format(folder="caption-show-and-tell"),
        report="caption", figures=_caption_figures("show-and-tell"), limits=_caption_limits("show-and-tell"),
    ),
    CardSpec(
        folder="dates", title="Date translator: seq2seq with attention (additive, dot, general)",
        pipeline_tag="text2text-generation", task_name="Date normalisation (written date to ISO)",
        tags=("seq2seq", "bahdanau-attention", "luong-attention", "character-level"), worlds=("dates",),
        about="Three character-level translators from a written date to ISO `YYYY-MM-DD`, one per attention score: a "
              "bidirectional LSTM encoder and an LSTM decoder that attends over the input characters at every output "
              "character, with the additive (Bahdanau), dot or general (Luong) score. One subfolder each; `dot` is the "
              "pipeline's default. The attention matrix says which input characters each output character was read from.",
        usage='''from t2i_core.pipelines.dates import DatesPipeline

dates = DatesPipeline.from_pretrained("checkpoints/dates", subfolder="dot")  # this folder, or this repo's Hub id
out = dates(["Tuesday, March 3, 2020", "10-17-2008"])
out.iso_dates, out.valid, out.confidences   # ["2020-03-03", "2008-10-17"], ...
out.attention[0]                            # (10, len(text)): where each output character looked''',
        report="dates",
        figures=tuple(Figure("exact match", "exact_match", "dates", split, ("scores", score, "splits", split, "exact_match"), config=score)
                      for score in DATES_SCORES for split in ("test", "heldout-formats")),
        limits=_dates_limits, subfolders=DATES_SCORES,
    ),
    *(CardSpec(
        folder=f"vqa-{model}", title=title, pipeline_tag="visual-question-answering", task_name="Visual question answering",
        tags=("vqa", tag), worlds=("scenes",), about=about, usage=_VQA_USAGE.format(folder=f"vqa-{model}"),
        report="vqa", figures=_vqa_figures(model), limits=_vqa_limits(model),
    ) for model, title, tag, about in (
        ("attention", "Visual question answering: stacked attention", "stacked-attention",
         "Stacked attention networks (Yang et al., 2016) on the grid of a frozen EfficientNet-Lite0: an LSTM reads the "
         "question, two attention hops over the 14x14 grid (a later hop adds each cell's offset along the direction the "
         "question names) gather the evidence, and a classifier picks one of 31 answers. Each hop was trained to look at "
         "the objects the question is about; its maps show where it looked."),
        ("baseline", "Visual question answering: the baseline without attention", "baseline",
         "The baseline of the stacked-attention model: the question's LSTM state and the mean of a frozen EfficientNet-Lite0 "
         "grid, combined and classified into one of 31 answers. No attention, no maps."),
    )),
    CardSpec(
        folder="world-detector", title="Out-of-world detector (Scenes, Flowers)",
        pipeline_tag="image-classification", task_name="Out-of-distribution detection",
        tags=("out-of-distribution-detection", "mahalanobis"), worlds=("scenes", "flowers"),
        about="Is a picture from the captioners' and VQA's worlds? Per picture, the mean, spread, peak and floor of each of "
              "the 112 channels of the frozen EfficientNet-Lite0 grid (448 numbers); one Gaussian per world (Ledoit-Wolf "
              "shrinkage) fitted on the training split; the score is an empirical p-value, the share of the world's own "
              "validation pictures at least as far (Mahalanobis distance). In world when the score is at least the threshold. "
              "A closed-form fit, no gradient training.",
        usage='''from t2i_core.models.world_detector import WorldDetector

detector = WorldDetector.from_pretrained("checkpoints/world-detector")  # this folder, or this repo's Hub id
# detector.judge(grid): grid = the frozen EfficientNet-Lite0 features of a batch of pictures;
# the caption and VQA pipelines call it for you and return in_world / in_world_scores''',
        report="world-detector",
        figures=(
            Figure("called in world", "accuracy", "scenes", "test", ("in_world_rate", "scenes/test")),
            Figure("called in world", "accuracy", "scenes", "heldout-style", ("in_world_rate", "scenes/heldout-style")),
            Figure("called in world", "accuracy", "scenes", "heldout-combos", ("in_world_rate", "scenes/heldout-combos")),
            Figure("called in world", "accuracy", "flowers", "test", ("in_world_rate", "flowers/test")),
            Figure("called out of world", "accuracy", "photos", "whole-and-crops", ("photos", "out_of_world_rate")),
        ),
        limits=_world_detector_limits,
    ),
)


def card_spec(folder: str) -> CardSpec:
    """The spec of ``checkpoints/<folder>``; a ValueError that lists the folders with a card otherwise."""
    for spec in CARDS:
        if spec.folder == folder:
            return spec
    raise ValueError(f"no model card for {folder!r}; cards exist for: {', '.join(spec.folder for spec in CARDS)}")


def build_cards(reports: Reports | None = None, checkpoints: Path = SHIPPED_CHECKPOINTS) -> dict[str, str]:
    """Folder (under ``checkpoints``) -> the text of its ``README.md``, with the shipped reports unless given."""
    reports = load_reports() if reports is None else reports
    return {spec.folder: str(build_card(spec, reports, checkpoints)) for spec in CARDS}


def stale_cards(cards: Mapping[str, str], checkpoints: Path = SHIPPED_CHECKPOINTS) -> list[str]:
    """The folders whose committed ``README.md`` is missing or differs from ``cards``."""
    stale = []
    for folder, text in cards.items():
        path = checkpoints / folder / CARD_NAME
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(folder)
    return stale

"""Model cards: every shipped checkpoint folder has a Hugging Face Hub README.md that is what
``python -m t2i_core cards`` writes now, whose metadata is valid Hub YAML, whose figures are
the shipped reports' figures (read here from the report, not from the card's builder), and
whose command line rebuilds the run config the checkpoint recorded."""

import copy
import json
import re
import shlex
import shutil
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from t2i_core.cli import build_parser, main
from t2i_core.cli import caption as caption_cli
from t2i_core.cli import dates as dates_cli
from t2i_core.cli import flower_classifier as flower_cli
from t2i_core.cli import text2image as text2image_cli
from t2i_core.cli import vqa as vqa_cli
from t2i_core.evaluation import RESULTS_DIR
from t2i_core.evaluation.model_card import build_card, load_reports, stale_cards
from t2i_core.evaluation.model_cards import build_cards, card_spec

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = ROOT / "checkpoints"
FOLDERS = sorted(path.name for path in CHECKPOINTS.iterdir() if path.is_dir())

# The Hub task of each folder (https://huggingface.co/tasks), written here apart from the cards' builder.
PIPELINE_TAGS = {
    "caption-show-and-tell": "image-to-text",
    "caption-show-attend-tell": "image-to-text",
    "dates": "text2text-generation",
    "flower-attributes": "image-classification",
    "text2image-glove-avg": "text-to-image",
    "text2image-use": "text-to-image",
    "vqa-attention": "visual-question-answering",
    "vqa-baseline": "visual-question-answering",
    "world-detector": "image-classification",
}


def _caption(model):
    at = ("caption", "models", model, "splits")
    figures = {
        ("test", "BLEU-4, beam 3", None): (*at, "test", "beam_3", "BLEU-4"),
        ("test", "CIDEr, beam 3", None): (*at, "test", "beam_3", "CIDEr"),
        ("test", "exact match, beam 3", None): (*at, "test", "beam_3", "exact_match"),
        ("test", "every object named, beam 3", None): (*at, "test", "beam_3", "all_objects_named"),
        ("heldout-combos", "every object named, beam 3", None): (*at, "heldout-combos", "beam_3", "all_objects_named"),
        ("heldout-style", "every object named, beam 3", None): (*at, "heldout-style", "beam_3", "all_objects_named"),
        ("test@flowers", "exact match, beam 3", None): (*at, "flowers-test", "beam_3", "exact_match"),
    }
    if model == "show-attend-tell":
        figures[("test", "attention pointing accuracy, beam 3", None)] = (*at, "test", "beam_3", "pointing_accuracy")
    return figures


def _vqa(model):
    at = ("vqa", "models", model, "results")
    return {
        **{(split, "accuracy", None): (*at, split, "accuracy") for split in ("test", "heldout-phrasings", "heldout-combos", "heldout-style")},
        ("test", "accuracy, position questions", None): (*at, "test", "per_type", "position"),
        ("heldout-combos", "accuracy, colour questions", None): (*at, "heldout-combos", "per_type", "colour"),
    }


def _text2image(encoder):
    at = ("text2image", "generators", encoder)
    return {
        ("seen", "binding accuracy, seen prompts", None): (*at, "binding_accuracy", "seen"),
        ("heldout-templates", "binding accuracy, held-out templates", None): (*at, "binding_accuracy", "heldout-templates"),
        ("heldout-pairs", "binding accuracy, held-out colour pairs", None): (*at, "binding_accuracy", "heldout-pairs"),
        ("swapped-twins", "binding accuracy, swapped twins both right", None): (*at, "binding_accuracy", "swapped-twins"),
        ("seen", "diversity (x real flowers)", None): (*at, "diversity_ratio"),
        ("seen", "Frechet distance (x real-vs-real)", None): (*at, "frechet_ratio"),
    }


# (split, metric name, metric config) in a card's model-index -> (report, keys...) of the figure it must equal.
# A Flowers split of a card that also has Scenes is written "split@flowers".
FIGURES = {
    "caption-show-attend-tell": _caption("show-attend-tell"),
    "caption-show-and-tell": _caption("show-and-tell"),
    "vqa-attention": _vqa("attention"),
    "vqa-baseline": _vqa("baseline"),
    "text2image-use": _text2image("use"),
    "text2image-glove-avg": _text2image("glove-avg"),
    "dates": {(split, "exact match", score): ("dates", "scores", score, "splits", split, "exact_match")
              for score in ("additive", "dot", "general") for split in ("test", "heldout-formats")},
    "flower-attributes": {("test", f"accuracy, {attribute.replace('_', ' ')}", None): ("flower-judge", "judge", "real_test_accuracy", attribute)
                          for attribute in ("petal_colour", "stem_colour", "centre_colour", "petal_shape", "petal_count", "size")},
    "world-detector": {
        **{(split, "called in world", None): ("world-detector", "in_world_rate", f"scenes/{split}") for split in ("test", "heldout-style", "heldout-combos")},
        ("test@flowers", "called in world", None): ("world-detector", "in_world_rate", "flowers/test"),
        ("whole-and-crops", "called out of world", None): ("world-detector", "photos", "out_of_world_rate"),
    },
}


def card_text(folder: str) -> str:
    return (CHECKPOINTS / folder / "README.md").read_text(encoding="utf-8")


def front_matter(text: str) -> dict:
    match = re.match(r"---\n(.*?)\n---\n", text, flags=re.DOTALL)
    assert match, "a card starts with a YAML block between --- lines"
    return yaml.safe_load(match.group(1))


def card_figures(metadata: dict) -> dict:
    """(split, metric name, config) -> value, from the card's model-index."""
    figures = {}
    for result in metadata["model-index"][0]["results"]:
        split = result["dataset"]["split"] + ("@flowers" if result["dataset"]["type"] == "t2i_core-flowers" and metadata["model-index"][0]["name"]
                                              in ("caption-show-attend-tell", "caption-show-and-tell", "world-detector") else "")
        for metric in result["metrics"]:
            key = (split, metric["name"], metric.get("config"))
            assert key not in figures, f"{key} twice"
            figures[key] = metric["value"]
    return figures


def report_value(reports: dict, path: tuple) -> float:
    value = reports[path[0]]
    for key in path[1:]:
        value = value[key]
    return value


def test_every_shipped_checkpoint_folder_has_a_card_and_the_dates_repo_has_one_for_its_three_models():
    assert FOLDERS == sorted(PIPELINE_TAGS)
    assert all((CHECKPOINTS / folder / "README.md").is_file() for folder in FOLDERS)
    assert not list((CHECKPOINTS / "dates").glob("*/README.md"))


def test_the_committed_cards_are_what_cards_writes_now(capsys):
    cards = build_cards()
    assert sorted(cards) == FOLDERS
    for folder, text in cards.items():
        assert card_text(folder) == text, f"checkpoints/{folder}/README.md is stale: run python -m t2i_core cards"
    assert main(["cards", "--check"]) == 0
    assert "9 of 9 model cards are up to date" in capsys.readouterr().out


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_card_has_hub_metadata_with_the_required_keys(folder):
    metadata = front_matter(card_text(folder))
    assert metadata["license"] == "apache-2.0" and (ROOT / "LICENSE").read_text().lstrip().startswith("Apache License")
    assert metadata["library_name"] == "t2i_core"
    assert metadata["pipeline_tag"] == PIPELINE_TAGS[folder]
    assert {"t2i_core", "safetensors"} <= set(metadata["tags"])
    (entry,) = metadata["model-index"]
    assert entry["name"] == folder and entry["results"]
    for result in entry["results"]:
        assert result["task"]["type"] == PIPELINE_TAGS[folder]
        assert result["dataset"]["type"] and result["dataset"]["name"] and result["dataset"]["split"]
        for metric in result["metrics"]:
            assert metric["type"] and metric["name"] and isinstance(metric["value"], float)


@pytest.mark.parametrize("folder", FOLDERS)
def test_huggingface_hub_reads_the_card_s_model_index_back(folder):
    from huggingface_hub import ModelCard

    data = ModelCard(card_text(folder)).data
    assert data.license == "apache-2.0" and data.pipeline_tag == PIPELINE_TAGS[folder]
    assert len(data.eval_results) == len(FIGURES[folder])


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_figure_of_a_card_is_its_report_s_figure(folder):
    reports = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in RESULTS_DIR.glob("*.json")}
    figures = card_figures(front_matter(card_text(folder)))
    assert set(figures) == set(FIGURES[folder]), "every figure of the card is checked here, and every one checked is there"
    for key, path in FIGURES[folder].items():
        assert figures[key] == pytest.approx(report_value(reports, path), abs=5e-5), key


def test_a_changed_report_value_makes_only_its_card_stale(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(RESULTS_DIR, results)
    report = json.loads((results / "text2image.json").read_text())
    report["generators"]["use"]["binding_accuracy"]["seen"] = 0.5
    (results / "text2image.json").write_text(json.dumps(report))
    cards = build_cards(load_reports(results))
    assert stale_cards(cards) == ["text2image-use"]
    assert card_figures(front_matter(cards["text2image-use"]))[("seen", "binding accuracy, seen prompts", None)] == 0.5
    assert card_figures(front_matter(card_text("text2image-use")))[("seen", "binding accuracy, seen prompts", None)] == 0.906


def test_a_changed_figure_in_a_limit_changes_the_card_too():
    reports = copy.deepcopy(load_reports())
    reports["world-detector"]["photos"]["out_of_world_rate"] = 0.5
    text = str(build_card(card_spec("caption-show-attend-tell"), reports))
    assert text != card_text("caption-show-attend-tell") and "calls 0.500 of 90 photos" in text


def test_cards_check_names_a_stale_card_and_exits_1(monkeypatch, capsys):
    cards = build_cards()
    cards["dates"] = cards["dates"].replace("0.9930", "0.9931")
    monkeypatch.setattr("t2i_core.cli.cards.build_cards", lambda: cards)
    assert main(["cards", "--check"]) == 1
    assert "stale: checkpoints/dates/README.md" in capsys.readouterr().out


def commands_of(text: str) -> list[str]:
    blocks = re.findall(r"^```bash\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.startswith("python -m t2i_core ")]


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_card_s_command_parses(folder):
    commands = commands_of(card_text(folder))
    assert len(commands) == (3 if folder == "dates" else 1)
    for command in commands:
        build_parser().parse_args(shlex.split(command)[3:])


# Filled from the data when a run starts (vocabularies, answer list, encoder digest), not from options.
FROM_DATA = {"vocab_size", "num_answers", "encoder_digest", "source_vocab_size", "target_vocab_size"}
CLI_MODULES = {"caption": (caption_cli, "CaptionTask"), "dates": (dates_cli, "DatesTask"), "vqa": (vqa_cli, "VQATask"),
               "flower-attributes": (flower_cli, "FlowerClassifierTask"), "text2image": (text2image_cli, "Text2ImageTask")}


def _recorded(folder: Path) -> dict:
    return json.loads((folder / "training.json").read_text(encoding="utf-8"))["run"]


def _model_folders():
    for folder in FOLDERS:
        subs = sorted(p for p in (CHECKPOINTS / folder).iterdir() if p.is_dir()) or [CHECKPOINTS / folder]
        commands = commands_of(card_text(folder))
        for sub, command in zip(subs, commands):
            kind = next((k for k in CLI_MODULES if folder.startswith(k)), None)
            if kind and "reproduce" not in json.loads((sub / "training.json").read_text()):
                yield pytest.param(sub, command, kind, id=str(sub.relative_to(CHECKPOINTS)))


def _same(recorded: dict, built: dict, where: str = "") -> list[str]:
    differences = []
    for key, value in recorded.items():
        if key in FROM_DATA:
            continue
        if isinstance(value, dict):
            differences += _same(value, built.get(key, {}), f"{where}{key}.")
        elif json.loads(json.dumps(built.get(key))) != value:
            differences.append(f"{where}{key}: recorded {value!r}, the card's command gives {built.get(key)!r}")
    return differences


@pytest.mark.parametrize(("folder", "command", "kind"), list(_model_folders()))
def test_a_card_s_command_rebuilds_the_run_config_its_checkpoint_recorded(folder, command, kind, monkeypatch, tmp_path):
    module, task_class = CLI_MODULES[kind]
    seen = {}
    monkeypatch.setattr(module, task_class, lambda config, *args, **kwargs: SimpleNamespace(config=config))
    monkeypatch.setattr(module, "train", lambda task, train_config: seen.update(task=task.config, train=train_config) or tmp_path)
    monkeypatch.setattr(module, "ship", lambda run_dir, name: seen.update(shipped=name))
    assert main(shlex.split(command)[3:]) == 0
    recorded = _recorded(folder)
    differences = _same(recorded["task"], asdict(seen["task"]), "task.")
    differences += [f"train.{key}: recorded {recorded['train'][key]}, the command gives {getattr(seen['train'], key)}"
                    for key in ("seed", "max_steps", "batch_size", "eval_every", "save_every") if getattr(seen["train"], key) != recorded["train"][key]]
    assert not differences, "\n".join(differences)
    assert seen["shipped"] == str(folder.relative_to(CHECKPOINTS))


def test_the_caption_command_carries_the_later_options_only_where_a_run_changed_them(monkeypatch, tmp_path):
    """Coverage, cell context, a wider LSTM, a two-layer cell network, the weight average and a
    self-critical fine-tune from a checkpoint come back from the command; a record without them (the shipped
    Show and Tell) gets none of their flags, and the shipped Show, Attend and Tell exactly the ones it used."""
    from t2i_core.evaluation.training_commands import command_caption

    later = r"--(coverage|cell-context|hidden-dim|cell-layers|ema|self-critical|init-from)\b"
    assert not re.search(later, command_caption(_recorded(CHECKPOINTS / "caption-show-and-tell")))
    shipped = _recorded(CHECKPOINTS / "caption-show-attend-tell")
    used = [m.group(0) for m in re.finditer(later + r"( [^-\s]\S*)?", command_caption(shipped))]
    assert used == ["--coverage", "--hidden-dim 512", "--cell-layers 2", "--ema 0.999"], used
    run = copy.deepcopy(shipped)
    run["task"]["model"].update(coverage=True, cell_context=True, hidden_dim=512, cell_layers=2)
    run["task"].update(ema_decay=0.999, self_critical=1.0, init_from="runs/caption-first/final")
    command = command_caption(run)
    seen = {}
    monkeypatch.setattr(caption_cli, "CaptionTask", lambda config, *args, **kwargs: SimpleNamespace(config=config))
    monkeypatch.setattr(caption_cli, "train", lambda task, train_config: seen.update(task=task.config) or tmp_path)
    monkeypatch.setattr(caption_cli, "ship", lambda run_dir, name: None)
    assert main(shlex.split(command)[3:]) == 0
    assert not _same(run["task"], asdict(seen["task"]), "task.")

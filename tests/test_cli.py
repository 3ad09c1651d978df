"""The command line: one parser composed from each model's commands; every command line the
README documents parses, the old option names still work, every command has --help, and
the data commands write what they say."""

import argparse
import ast
import importlib
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hub_cache import build_hub_cache
from t2i_core import cli
from t2i_core.cli import build_parser, common, main
from t2i_core.data import load_world
from t2i_core.evaluation import shipped_results
from t2i_core.evaluation.formatting import Table, markdown, plain_text, text_table

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "t2i_core", *args], capture_output=True, text=True, timeout=timeout)


def command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    """Every command under ``parser``: ("data",), ("data", "preview"), ..., ("generate",)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name)
                yield from command_paths(sub, (*prefix, name))


def subparser(*path: str) -> argparse.ArgumentParser:
    parser = build_parser()
    for name in path:
        parser = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[name]
    return parser


# Mentions of a command in the README's prose, not command lines: they leave out what the text supplies.
README_MENTIONS = {"caption", ""}  # "`python -m t2i_core caption` on scene 1 of the test split"; "`python -m t2i_core` works from any folder"


def documented_command_lines() -> list[str]:
    """The arguments after ``-m t2i_core`` of every command line in README.md (code blocks and
    inline code) and in the shipped checkpoints' ``reproduce`` records."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = []
    for i, part in enumerate(re.split(r"^```.*$", text, flags=re.MULTILINE)):
        if i % 2:  # inside a fenced code block: one command a line
            lines += [line for line in part.splitlines() if "-m t2i_core" in line]
        else:  # prose: inline code, which may wrap onto the next line
            lines += [" ".join(span.split()) for span in re.findall(r"`([^`]*-m t2i_core[^`]*)`", part)]
    for record in sorted(ROOT.glob("checkpoints/**/*.json")):
        lines += re.findall(r'"reproduce": "([^"]*-m t2i_core[^"]*)"', record.read_text(encoding="utf-8"))
    return [shlex.join(shlex.split(line.split("-m t2i_core", 1)[1], comments=True)) for line in lines]


def has_placeholder(line: str) -> bool:
    return any(mark in line for mark in ("<", ">", "|", "..."))


DOCUMENTED = documented_command_lines()


def test_the_readme_documents_many_command_lines():
    assert len(DOCUMENTED) >= 30 and sum(not has_placeholder(line) for line in DOCUMENTED) >= 25


@pytest.mark.parametrize("line", [line for line in DOCUMENTED if not has_placeholder(line) and line not in README_MENTIONS])
def test_every_documented_command_line_parses(line):
    args = build_parser().parse_args(shlex.split(line))
    assert callable(args.func)


@pytest.mark.parametrize(("path", "alias", "positionals"), [
    (("eval", "caption"), "--num-scenes", []),
    (("eval", "vqa"), "--num-scenes", []),
    (("eval", "dates"), "--num-dates", []),
    (("eval", "text2image"), "--num-prompts", []),
    (("eval", "round-trip"), "--num-prompts", []),
    (("eval", "world-detector"), "--size", []),
    (("generate",), "--num-images", ["a red flower"]),
])
def test_old_option_names_are_hidden_aliases_of_num(path, alias, positionals):
    parser = build_parser()
    for option in ("-n", "--num", alias):
        assert parser.parse_args([*path, *positionals, option, "7"]).num == 7
    assert "-n N, --num N" in subparser(*path).format_help() and alias not in subparser(*path).format_help()


@pytest.mark.parametrize("command", [["data", "preview", "flowers"], ["data", "stats", "dates"], ["eval", "caption"], ["generate", "a flower"]])
def test_num_below_its_minimum_is_a_usage_error(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([*command, "-n", "0"])
    assert exit_.value.code == 2 and "must be at least 1, got 0" in capsys.readouterr().err


def test_every_train_command_takes_the_shared_options_with_one_threads_default():
    train = [path for path in command_paths(build_parser()) if len(path) == 2 and path[0] == "train"]
    assert {p[1] for p in train} == {"flower-classifier", "text2image", "caption", "dates", "vqa", "world-detector"}
    for path in train:
        args = build_parser().parse_args(list(path))
        assert args.threads == common.THREADS == 1 and args.seed == 0 and args.ship is False, path
        if path[1] != "world-detector":  # a closed-form fit, not a run of the training loop
            assert {"steps", "batch_size", "eval_every", "save_every", "device", "time_limit", "fresh"} <= set(vars(args)), path


def test_every_eval_command_prints_json_or_writes_it():
    evals = [path for path in command_paths(build_parser()) if len(path) == 2 and path[0] == "eval"]
    assert {p[1] for p in evals} == {"encoders", "text2image", "round-trip", "caption", "dates", "vqa", "world-detector"}
    for path in evals:
        args = build_parser().parse_args([*path, "--json", "-o", "report.json"])
        assert args.json is True and args.output == "report.json", path


def test_an_eval_command_measures_a_checkpoint_given_by_hub_repo_id_as_it_measures_the_folder(tmp_path, monkeypatch, capsys):
    import huggingface_hub.constants

    folder = ROOT / "checkpoints" / "dates" / "dot"
    build_hub_cache(tmp_path / "hub", "t2i-core/dates-dot", folder)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    reports = {}
    for name in (str(folder), "t2i-core/dates-dot"):
        assert main(["eval", "dates", "--scores", "dot", "--checkpoint", f"dot={name}", "-n", "40", "--json"]) == 0
        reports[name] = json.loads(capsys.readouterr().out)["scores"]["dot"]
    from_folder, from_hub = reports.values()
    assert Path(from_hub["checkpoint"]).is_relative_to(tmp_path / "hub")
    assert {k: v for k, v in from_folder.items() if k not in ("checkpoint", "seconds")} == \
        {k: v for k, v in from_hub.items() if k not in ("checkpoint", "seconds")}
    assert main(["eval", "dates", "--scores", "dot", "--checkpoint", "dot=t2i-core/no-such-model", "-n", "40"]) != 0
    assert "'t2i-core/no-such-model' is not a local folder and is not in the local hub cache" in capsys.readouterr().err


def test_each_model_module_imports_only_the_neutral_module_of_the_cli():
    for path in sorted((ROOT / "t2i_core" / "cli").glob("*.py")):
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        siblings = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 1}
        local = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
                 for inner in ast.walk(node) if isinstance(inner, ast.Import | ast.ImportFrom)]
        assert siblings <= ({"common"} if path.name != "common.py" else set()), path.name
        assert not local, f"{path.name}: imports inside a function"


def test_table_pads_columns_to_their_widest_cell():
    assert text_table(["a", "bb"], [["ccc", 1]]) == ["a    bb", "---  --", "ccc  1"]


def test_a_report_prints_as_the_tables_the_app_shows_without_the_markdown_marks():
    blocks = [Table(["name", "share"], [["`use`", "**95.0%**"]], title="**title**"), "a `note`"]
    assert markdown(blocks) == "**title**\n\n| name | share |\n|---|---|\n| `use` | **95.0%** |\n\na `note`"
    assert plain_text(blocks) == "title\nname  share\n----  -----\nuse   95.0%\n\na note"


@pytest.mark.parametrize("name, module", [("text2image", "text2image"), ("encoders", "encoders"), ("caption", "captioning"),
                                          ("vqa", "vqa"), ("dates", "dates"), ("round-trip", "round_trip"),
                                          ("world-detector", "world_detector")])
def test_an_eval_command_prints_the_summary_the_app_shows_then_its_details_or_the_json_report(name, module, capsys):
    evaluation = importlib.import_module(f"t2i_core.evaluation.{module}")
    report = shipped_results(name)
    if report is None:
        pytest.skip(f"no {name} report shipped")
    renderings = [evaluation.report_summary, *([evaluation.report_details] if hasattr(evaluation, "report_details") else [])]
    assert common.print_report(argparse.Namespace(json=False, output=None), report, *renderings) == 0
    assert capsys.readouterr().out == plain_text([b for render in renderings for b in render(report)]) + "\n"
    assert plain_text(evaluation.report_summary(report))  # every shipped report has a summary
    common.print_report(argparse.Namespace(json=True, output=None), report, *renderings)
    assert capsys.readouterr().out == json.dumps(report, indent=2) + "\n"


def test_top_level_help_from_the_shell():
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    assert "usage: python -m t2i_core" in result.stdout


@pytest.mark.parametrize("path", list(command_paths(build_parser())), ids=" ".join)
def test_every_command_has_help(path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*path, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m t2i_core {' '.join(path)}") and len(out) > 200


def test_the_verbs_are_composed_from_the_model_modules():
    assert [c.name for c in cli.TRAIN.commands] == ["flower-classifier", "text2image", "caption", "dates", "vqa", "world-detector"]
    assert [c.name for c in cli.INFERENCE] == ["generate", "caption", "dates", "vqa"]


@pytest.mark.parametrize("world", ["flowers", "scenes", "dates"])
def test_data_preview_writes_a_grid(world, tmp_path):
    output = tmp_path / "sub" / "grid.png"
    assert main(["data", "preview", world, "-n", "6", "-o", str(output), "--split", "val"]) == 0
    with Image.open(output) as grid:
        grid.load()
        assert grid.mode == "RGB" and grid.width > 100 and grid.height > 50


def test_data_preview_from_the_shell(tmp_path):
    output = tmp_path / "grid.png"
    result = run_cli("data", "preview", "flowers", "-n", "16", "-o", str(output))
    assert result.returncode == 0, result.stderr
    assert "16 samples of flowers/train" in result.stdout
    assert output.stat().st_size > 10_000


@pytest.mark.parametrize("world, index, seed", [("scenes", 7, 0), ("flowers", 3, 1)])
def test_data_render_writes_the_bare_picture_of_one_sample_pixel_for_pixel(world, index, seed, tmp_path, capsys):
    output = tmp_path / "sub" / "picture.png"
    assert main(["data", "render", world, "--index", str(index), "--seed", str(seed), "-o", str(output)]) == 0
    expected = load_world(world, "test", seed=seed).sample(index)  # the test split by default
    with Image.open(output) as written:
        assert written.mode == "RGB" and written.size == expected.image.size
        assert np.array_equal(np.asarray(written), np.asarray(expected.image))
    assert expected.caption in capsys.readouterr().out


def test_data_render_defaults_to_sample_0_of_the_test_split_and_takes_an_image_size(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["data", "render", "scenes", "--split", "heldout-style", "--image-size", "64"]) == 0
    expected = load_world("scenes", "heldout-style", image_size=64).sample(0).image
    with Image.open(tmp_path / "scenes-heldout-style-0.png") as written:
        assert written.size == (64, 64) and np.array_equal(np.asarray(written), np.asarray(expected))


def test_data_render_refuses_an_index_past_the_split_and_names_its_size(tmp_path, capsys):
    output = tmp_path / "x.png"
    assert main(["data", "render", "flowers", "--split", "val", "--index", "1000", "-o", str(output)]) == 2
    assert "the flowers val split has 1000 samples (0 to 999)" in capsys.readouterr().err
    assert not output.exists()
    for bad in (["flowers", "--index", "-1"], ["dates"]):  # no negative index; dates have no picture
        with pytest.raises(SystemExit) as exit_:
            main(["data", "render", *bad])
        assert exit_.value.code == 2


@pytest.mark.parametrize("world", ["flowers", "scenes", "dates"])
def test_data_stats_json_counts_every_split(world, capsys):
    assert main(["data", "stats", world, "-n", "50", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["world"] == world
    assert len(report["splits"]) >= 4 and any(s.startswith("heldout") for s in report["splits"])
    for stats in report["splits"].values():
        assert stats["sampled"] == 50 and stats["attributes"]


def test_data_stats_text_names_the_heldout_sets(capsys):
    assert main(["data", "stats", "flowers", "--split", "heldout-pairs", "-n", "40"]) == 0
    out = capsys.readouterr().out
    assert "heldout_pairs" in out and "[heldout-pairs]" in out and "petal_colour:" in out


def test_bad_input_exits_2_with_a_message(tmp_path):
    result = run_cli("data", "preview", "flowers", "--split", "nope", "-o", str(tmp_path / "x.png"))
    assert result.returncode == 2 and "no split 'nope'" in result.stderr
    result = run_cli("data", "preview", "oceans")
    assert result.returncode == 2 and "invalid choice" in result.stderr
    result = run_cli("data", "preview", "flowers", "-o", str(tmp_path / "x.jpg"))
    assert result.returncode == 2 and ".png" in result.stderr
    result = run_cli("data", "stats", "dates", "-n", "0")
    assert result.returncode == 2 and "at least 1" in result.stderr


def test_train_text2image_runs_the_chosen_recipe_with_its_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path / "cache"))
    run = tmp_path / "run"
    args = ["train", "text2image", "--encoder", "glove-avg", "--train-size", "32", "--width", "8", "--steps", "2", "--batch-size", "8",
            "--eval-every", "2", "--save-every", "2", "--classifier", str(tmp_path / "no-judge"), "--output", str(run)]
    assert main(args) == 0
    task = json.loads((run / "run_config.json").read_text())["task"]
    assert (task["discriminator"], task["auxiliary_weight"], task["betas"], task["ema_warmup"]) == ("projected", 0.2, [0.0, 0.99], True)
    assert (task["condition_sampling"], task["kl_weight"], task["guide_weight"], task["mode_seeking_weight"]) == (False, 0.0, 0.5, 1.0)
    assert task["model"] == {"generator_width": 8, "discriminator_width": 8, "projection": True, "text_affine": True}
    assert main([*args[:-1], str(tmp_path / "classic"), "--discriminator", "classic", "--auxiliary-weight", "0.5"]) == 0
    task = json.loads((tmp_path / "classic" / "run_config.json").read_text())["task"]
    assert (task["discriminator"], task["auxiliary_weight"], task["discriminator_lr"], task["ema_warmup"]) == ("classic", 0.5, 4e-4, False)
    assert (task["condition_sampling"], task["kl_weight"], task["guide_weight"], task["mode_seeking_weight"]) == (True, 0.5, 0.0, 0.0)

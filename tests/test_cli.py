"""The command line: every command has --help, the data commands write what they say."""

import json
import subprocess
import sys

import pytest
from PIL import Image

from t2i_core.cli import main


def run_cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "t2i_core", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("command", [[], ["data"], ["data", "preview"], ["data", "stats"]])
def test_every_command_has_help(command):
    result = run_cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: python -m t2i_core" in result.stdout


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
    assert task["model"] == {"generator_width": 8, "discriminator_width": 8, "projection": True, "text_affine": True}
    assert main([*args[:-1], str(tmp_path / "classic"), "--discriminator", "classic", "--auxiliary-weight", "0.5"]) == 0
    task = json.loads((tmp_path / "classic" / "run_config.json").read_text())["task"]
    assert (task["discriminator"], task["auxiliary_weight"], task["discriminator_lr"], task["ema_warmup"]) == ("classic", 0.5, 4e-4, False)

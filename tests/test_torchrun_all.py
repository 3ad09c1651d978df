"""Every ``train`` command runs under ``torchrun --nproc_per_node=2`` from an empty cache.

Each is run as a user would type it, on tiny settings, one after the other on one cache that
starts empty: the ranks of a job must build each disk cache once and agree on it, every
process must reach the end, and the run folder must hold its exported checkpoint and its
metrics. The evaluations run at their fixed sizes (the flower classifier's 2000 validation
flowers, the GAN's Frechet monitor), which is most of the time these take.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from t2i_core.cli import TRAIN

ROOT = Path(__file__).resolve().parents[1]

TINY = {
    "flower-classifier": ["--steps", "2", "--train-size", "16", "--batch-size", "4"],
    "text2image": ["--encoder", "glove-avg", "--steps", "2", "--train-size", "16", "--batch-size", "4", "--width", "8"],
    "caption": ["--data", "scenes+flowers", "--train-size", "4", "--val-size", "2", "--flower-train-size", "4",
                "--flower-val-size", "2", "--steps", "2", "--batch-size", "4", "--eval-every", "2"],
    "dates": ["--steps", "2", "--train-size", "32", "--batch-size", "4"],
    "vqa": ["--train-size", "4", "--steps", "2", "--batch-size", "4"],
    "world-detector": ["--train-size", "10", "--val-size", "10", "--generated", "4"],
}


def test_every_train_command_has_tiny_settings_here():
    assert sorted(TINY) == sorted(command.name for command in TRAIN.commands)


@pytest.fixture(scope="module")
def empty_cache(tmp_path_factory):
    """One cache for every command of this file, empty before the first."""
    return tmp_path_factory.mktemp("cache")


@pytest.mark.parametrize("command", list(TINY))
def test_a_train_command_runs_under_torchrun_with_two_processes(command, empty_cache, tmp_path):
    output = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "T2I_DEVICE": "cpu", "T2I_CACHE_DIR": str(empty_cache),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "-m", "t2i_core", "train", command, *TINY[command], "--output", str(output)],
        capture_output=True, text=True, timeout=570, env=env, cwd=ROOT,  # inside pytest's 600 s: a hung job still shows its log
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    if command == "world-detector":  # a closed-form fit, not a run of the loop: the folder is the checkpoint
        assert (output / "config.json").is_file() and (output / "model.safetensors").is_file()
        return
    assert (output / "final" / "config.json").is_file() and any((output / "final").rglob("*.safetensors"))
    assert json.loads((output / "run_config.json").read_text())["world_size"] == 2
    records = [json.loads(line) for line in (output / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r.get("finished")] == [2]  # one "finished" record: rank 0 alone logs
    assert any("eval" in r for r in records)

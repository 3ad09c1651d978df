"""The shared training loop: runs a task, logs, saves a resumable state, resumes, runs under DDP."""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import TensorDataset

from t2i_core.training import TrainConfig, TrainingTask, train
from t2i_core.training.state import load_training_state, save_training_state

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class LineConfig:
    slope: float = 3.0


class FitALine(TrainingTask):
    """y = slope * x + noise, fitted by one linear layer: a task whose loss must fall."""

    def __init__(self, size: int = 256):
        self.config = LineConfig()
        g = torch.Generator().manual_seed(0)
        x = torch.randn(size, 1, generator=g)
        self.data = TensorDataset(x, self.config.slope * x + 0.01 * torch.randn(size, 1, generator=g))
        self.exported = None

    def build_modules(self):
        self.model = nn.Linear(1, 1)
        return {"line": self.model}

    def build_optimizers(self, modules):
        self.optimizer = torch.optim.Adam(modules["line"].parameters(), lr=0.05)
        return {"adam": self.optimizer}

    def dataset(self):
        return self.data

    def train_step(self, batch, step):
        x, y = batch
        loss = nn.functional.mse_loss(self.ddp["line"](x.to(self.device)), y.to(self.device))
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item()}

    def evaluate(self, step, run_dir):
        return {"slope": float(self.model.weight.item())}

    def export(self, folder):
        folder.mkdir(parents=True, exist_ok=True)
        self.exported = float(self.model.weight.item())
        (folder / "slope.json").write_text(json.dumps({"slope": self.exported}))


def _metrics(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_a_run_lowers_the_loss_logs_and_exports(tmp_path):
    task = FitALine()
    run_dir = train(task, TrainConfig(output_dir=str(tmp_path / "run"), max_steps=120, batch_size=32, log_every=20, eval_every=60, save_every=40))
    losses = [m["loss"] for m in _metrics(run_dir) if "loss" in m]
    assert losses[-1] < 0.1 * losses[0]
    assert abs(task.exported - 3.0) < 0.3
    assert json.loads((run_dir / "run_config.json").read_text())["train"]["max_steps"] == 120
    assert (run_dir / "last" / "training_state.safetensors").is_file()
    assert any("eval" in m for m in _metrics(run_dir))


def test_same_seed_gives_the_same_run(tmp_path):
    first, second = FitALine(), FitALine()
    train(first, TrainConfig(output_dir=str(tmp_path / "a"), max_steps=30, batch_size=16))
    train(second, TrainConfig(output_dir=str(tmp_path / "b"), max_steps=30, batch_size=16))
    assert first.exported == second.exported


def test_an_interrupted_run_resumes_where_it_saved(tmp_path):
    whole = FitALine()
    train(whole, TrainConfig(output_dir=str(tmp_path / "whole"), max_steps=60, batch_size=16, save_every=20))
    split = FitALine()
    train(split, TrainConfig(output_dir=str(tmp_path / "split"), max_steps=40, batch_size=16, save_every=20))
    resumed = FitALine()
    train(resumed, TrainConfig(output_dir=str(tmp_path / "split"), max_steps=60, batch_size=16, save_every=20))
    assert resumed.exported != split.exported  # it went on training
    assert resumed.exported == whole.exported  # exactly as if it had never stopped
    step, _ = load_training_state(tmp_path / "split" / "last", {"line": resumed.model}, {"adam": resumed.optimizer})
    assert step == 60


def test_a_fresh_run_in_an_old_folder_logs_only_itself(tmp_path):
    """--fresh (resume=False) in a folder of an earlier run: the log is the new run's alone, so shipping counts one session."""
    old = train(FitALine(), TrainConfig(output_dir=str(tmp_path / "run"), max_steps=40, batch_size=16, log_every=10, save_every=20))
    assert [m["step"] for m in _metrics(old) if "loss" in m] == [10, 20, 30, 40]
    fresh = train(FitALine(), TrainConfig(output_dir=str(tmp_path / "run"), max_steps=20, batch_size=16, log_every=10, save_every=20,
                                         resume=False))
    assert [m["step"] for m in _metrics(fresh) if "loss" in m] == [10, 20]
    resumed = train(FitALine(), TrainConfig(output_dir=str(tmp_path / "run"), max_steps=30, batch_size=16, log_every=10, save_every=20))
    assert [m["step"] for m in _metrics(resumed) if "loss" in m] == [10, 20, 30]  # a resumed run keeps its log


def test_a_time_limit_stops_saves_and_exports_and_the_run_resumes_exactly(tmp_path):
    limited = FitALine()
    run_dir = train(limited, TrainConfig(output_dir=str(tmp_path / "run"), max_steps=50, batch_size=16, save_every=20, eval_every=20, time_limit=0.0))
    assert limited.exported is not None  # exported at the step it reached
    finished = [m for m in _metrics(run_dir) if m.get("finished")]
    assert finished[-1]["step"] == 1 and any(m.get("eval") for m in _metrics(run_dir) if m["step"] == 1)
    resumed = FitALine()
    train(resumed, TrainConfig(output_dir=str(tmp_path / "run"), max_steps=50, batch_size=16, save_every=20))
    whole = FitALine()
    train(whole, TrainConfig(output_dir=str(tmp_path / "whole"), max_steps=50, batch_size=16, save_every=20))
    assert resumed.exported == whole.exported


class ScoredLine(FitALine):
    """FitALine whose evaluations score as ``scores`` says (step -> score), for the loop's keep-best policy."""

    best_metric = "score"

    def __init__(self, scores, patience=None):
        super().__init__()
        self.scores, self.patience = scores, patience

    def evaluate(self, step, run_dir):
        self.evaluated_at = step
        return {"score": self.scores[step], "slope": float(self.model.weight.item())}

    def export(self, folder):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "slope.json").write_text(json.dumps({"slope": float(self.model.weight.item()), "step": self.evaluated_at}))


def _exported(folder):
    return json.loads((folder / "slope.json").read_text())


def _best_record(run_dir):
    return json.loads((run_dir / "best" / "best.json").read_text())


SCORES = {10: 0.1, 20: 0.5, 30: 0.3, 40: 0.4, 50: 0.2, 60: 0.6}


def test_the_loop_keeps_the_weights_of_the_best_evaluation_and_ships_them(tmp_path):
    run_dir = train(ScoredLine(SCORES), TrainConfig(output_dir=str(tmp_path / "run"), max_steps=50, batch_size=16, eval_every=10))
    best = _exported(run_dir / "best")
    assert best["step"] == 20
    assert _exported(run_dir / "final") == best  # the last weights (step 50) are not the ones shipped
    assert not (run_dir / "final" / "best.json").exists()
    assert _best_record(run_dir) == {"metric": "score", "score": 0.5, "step": 20, "stale": 3, "stopped": False}
    evaluations = [m["eval"] for m in _metrics(run_dir) if "eval" in m]
    assert [e["best_score"] for e in evaluations] == [0.1, 0.5, 0.5, 0.5, 0.5]


def test_the_best_metric_may_be_a_function_of_the_results(tmp_path):
    task = ScoredLine(SCORES)
    task.best_metric = lambda results: -results["score"]  # the lowest score is the best
    run_dir = train(task, TrainConfig(output_dir=str(tmp_path / "run"), max_steps=40, batch_size=16, eval_every=10))
    assert _exported(run_dir / "final")["step"] == 10


def test_patience_ends_the_run_and_it_ships_the_best_weights(tmp_path):
    run_dir = train(ScoredLine(SCORES, patience=2), TrainConfig(output_dir=str(tmp_path / "run"), max_steps=100, batch_size=16,
                                                                eval_every=10, log_every=10))
    assert [m["step"] for m in _metrics(run_dir) if m.get("finished")] == [40]  # 30 and 40 were no better than 20
    assert max(m["step"] for m in _metrics(run_dir)) == 40
    step, _ = load_training_state(run_dir / "last", {"line": nn.Linear(1, 1)}, {})
    assert step == 40  # saved where it stopped
    assert _exported(run_dir / "final")["step"] == 20
    assert _best_record(run_dir)["stopped"] is True
    again = train(ScoredLine(SCORES, patience=2), TrainConfig(output_dir=str(run_dir), max_steps=100, batch_size=16, eval_every=10))
    assert [m["step"] for m in _metrics(again) if m.get("finished")] == [40, 40]  # resuming a stopped run trains nothing


def test_a_resumed_run_remembers_its_best_score_and_a_fresh_one_forgets_it(tmp_path):
    config = {"output_dir": str(tmp_path / "run"), "batch_size": 16, "eval_every": 10, "save_every": 10}
    train(ScoredLine(SCORES, patience=2), TrainConfig(max_steps=30, **config))
    assert _best_record(tmp_path / "run") == {"metric": "score", "score": 0.5, "step": 20, "stale": 1, "stopped": False}
    resumed = train(ScoredLine(SCORES, patience=2), TrainConfig(max_steps=100, **config))
    # 0.4 at step 40 is not better than the 0.5 of the first session: the second stale evaluation stops the run
    assert [m["step"] for m in _metrics(resumed) if m.get("finished")] == [30, 40]
    assert _exported(resumed / "final")["step"] == 20
    fresh = train(ScoredLine(SCORES, patience=2), TrainConfig(max_steps=10, resume=False, **config))
    assert _best_record(fresh) == {"metric": "score", "score": 0.1, "step": 10, "stale": 0, "stopped": False}
    assert _exported(fresh / "final")["step"] == 10


def test_training_state_round_trips_modules_and_optimizers(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.randn(8, 3)).sum().backward()
    optimizer.step()
    save_training_state(tmp_path / "s", {"m": model}, {"o": optimizer}, step=7, extra={"epoch": 2})
    save_training_state(tmp_path / "s", {"m": model}, {"o": optimizer}, step=8, extra={"epoch": 3})  # overwrite in place
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    other_optimizer = torch.optim.Adam(other.parameters(), lr=0.5)
    step, extra = load_training_state(tmp_path / "s", {"m": other}, {"o": other_optimizer})
    assert (step, extra) == (8, {"epoch": 3})
    for a, b in zip(model.state_dict().values(), other.state_dict().values()):
        assert torch.equal(a, b)
    assert other_optimizer.param_groups[0]["lr"] == 0.01
    first_moment = optimizer.state_dict()["state"][0]["exp_avg"]
    assert torch.equal(other_optimizer.state_dict()["state"][0]["exp_avg"], first_moment)
    assert not (tmp_path / "s.partial").exists() and not (tmp_path / "s.old").exists()


DDP_SCRIPT = '''
import os, sys, json, torch
sys.path.insert(0, {root!r})
sys.path.insert(0, {tests!r})
from test_training_loop import FitALine
from t2i_core.training import TrainConfig, train
import torch.distributed as dist
task = FitALine()
train(task, TrainConfig(output_dir={out!r}, max_steps=40, batch_size=32, log_every=10, eval_every=1000, time_limit={time_limit!r}))
# One file per rank: two processes printing to one pipe can interleave their lines.
rank = os.environ["RANK"]
with open(os.path.join({results!r}, "slope-" + rank + ".json"), "w") as f:
    json.dump({{"slope": float(task.model.weight.item())}}, f)
'''


def _torchrun(tmp_path, time_limit=None, port=29531):
    script = tmp_path / "ddp_fit.py"
    results = tmp_path / "results"
    results.mkdir()
    script.write_text(DDP_SCRIPT.format(root=str(ROOT), tests=str(ROOT / "tests"), out=str(tmp_path / "ddp"), results=str(results),
                                        time_limit=time_limit))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "T2I_DEVICE": "cpu"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1", f"--master_port={port}", str(script)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    # Known flake, cause not found yet: in full-suite runs a rank was twice killed by SIGABRT
    # (exit code -6) after training; it never reproduced alone. One fresh retry on exactly that
    # signal; any other failure, or a second abort, fails with the whole log.
    if result.returncode != 0 and "exitcode  : -6" in result.stderr:
        shutil.rmtree(tmp_path / "ddp", ignore_errors=True)
        first = result.stderr
        result = subprocess.run([*command[:-2], f"--master_port={port + 100}", str(script)], capture_output=True, text=True, timeout=300, env=env)
        assert result.returncode == 0, first[-6000:] + "\n--- retry ---\n" + result.stderr[-6000:]
    assert result.returncode == 0, result.stderr[-6000:]
    return results


def test_under_torchrun_a_time_limit_stops_every_rank_at_the_same_checked_step(tmp_path):
    results = _torchrun(tmp_path, time_limit=0.0, port=29532)
    records = [json.loads(line) for line in (tmp_path / "ddp" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r.get("finished")] == [10]  # the clock is read every log_every (10) steps
    slopes = [json.loads(f.read_text())["slope"] for f in sorted(results.glob("slope-*.json"))]
    assert len(slopes) == 2 and slopes[0] == slopes[1]


def test_runs_under_torchrun_with_two_cpu_processes(tmp_path):
    results = _torchrun(tmp_path)
    slopes = [json.loads(f.read_text())["slope"] for f in sorted(results.glob("slope-*.json"))]
    assert len(slopes) == 2 and slopes[0] == slopes[1]  # DDP kept the replicas identical
    record = json.loads((tmp_path / "ddp" / "run_config.json").read_text())
    assert record["world_size"] == 2
    assert (tmp_path / "ddp" / "final" / "slope.json").is_file()


def test_shipping_a_resumed_run_records_every_session_its_machine_and_every_evaluation(tmp_path, monkeypatch):
    from t2i_core.cli import common

    monkeypatch.setattr(common, "SHIPPED", tmp_path / "checkpoints")
    run = tmp_path / "run"
    train(FitALine(), TrainConfig(output_dir=str(run), max_steps=30, batch_size=16, save_every=10, eval_every=10, time_limit=0.0))
    train(FitALine(), TrainConfig(output_dir=str(run), max_steps=30, batch_size=16, save_every=10, eval_every=10))
    shipped = common.ship(run, "line")
    summary = json.loads((shipped / "training.json").read_text())
    assert [s["step"] for s in summary["sessions"]] == [1, 30]  # the time-limited session stopped at step 1
    assert summary["seconds_total"] == round(sum(s["seconds"] for s in summary["sessions"]), 1)
    assert all(s["machine"].startswith("cpu: ") and "process" in s["machine"] for s in summary["sessions"])
    assert [e["step"] for e in summary["evaluations"]] == [1, 10, 20, 30] and summary["steps"] == 30
    assert json.loads((shipped / "slope.json").read_text())["slope"] == summary["evaluations"][-1]["eval"]["slope"]


def test_a_session_stopped_from_outside_still_counts_its_time():
    from t2i_core.cli.common import training_sessions

    records = [
        {"step": 50, "seconds": 60.0}, {"step": 100, "seconds": 121.5}, {"step": 100, "eval": {"x": 1}},  # killed after step 100
        {"step": 150, "seconds": 58.0}, {"step": 150, "finished": True, "seconds": 59.0, "machine": "cpu: 2 cores"},
        {"step": 200, "seconds": 61.0}, {"step": 200, "finished": True, "seconds": 62.0, "machine": "cpu: 2 cores"},
    ]
    sessions = training_sessions(records)
    assert [(s["step"], s["seconds"], s["finished"]) for s in sessions] == [(100, 121.5, False), (150, 59.0, True), (200, 62.0, True)]
    assert sessions[0]["machine"] is None and sessions[2]["machine"] == "cpu: 2 cores"
    # Run again once finished (`--ship` on a finished run): a session that trained nothing is not one.
    again = [{"step": 200, "started": True, "machine": "cpu: 2 cores"}, {"step": 200, "finished": True, "seconds": 0.0, "machine": "cpu: 2 cores"}]
    assert training_sessions(records + again) == sessions


def test_a_session_says_which_machine_it_runs_on_before_it_trains(tmp_path):
    """Each session's first record names its machine, so a session stopped from outside (no "finished"
    record) still knows where it ran: shipping elsewhere must not credit its time to the shipping machine."""
    from t2i_core.cli.common import training_sessions

    run = tmp_path / "run"
    train(FitALine(), TrainConfig(output_dir=str(run), max_steps=20, batch_size=16, log_every=5, eval_every=10))
    train(FitALine(), TrainConfig(output_dir=str(run), max_steps=40, batch_size=16, log_every=5, eval_every=10))
    records = _metrics(run)
    starts = [r for r in records if r.get("started")]
    assert [r["step"] for r in starts] == [0, 20] and all(r["machine"].startswith("cpu: ") for r in starts)
    assert records[0] == starts[0], "the machine is written before the first step"
    # The first session's machine went away before it wrote "finished": its machine is still known.
    killed = [r for r in records if not (r.get("finished") and r["step"] == 20)]
    sessions = training_sessions([{**r, "machine": "cuda: a GPU x 1 process"} if r.get("started") and r["step"] == 0 else r for r in killed])
    assert [(s["step"], s["finished"]) for s in sessions] == [(20, False), (40, True)]
    assert sessions[0]["machine"] == "cuda: a GPU x 1 process" and sessions[1]["machine"].startswith("cpu: ")

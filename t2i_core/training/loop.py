"""The one training loop every model here shares.

A model contributes a :class:`TrainingTask`: its modules and optimizers, its dataset,
one training step on a batch, and what to measure and draw now and then. The loop owns
everything else: the seed, the device, DistributedDataParallel under ``torchrun``
(gloo on CPU, nccl on GPU), sharding the data, the progress bar, the metrics log,
saving a resumable state and resuming from it.

Layout of a run folder::

    <output_dir>/
      run_config.json     the TrainConfig and the task's config: how to reproduce the run
      metrics.jsonl       one JSON line per log or evaluation
      last/               resumable state (safetensors + JSON), overwritten atomically
      best/               with the keep-best policy: the export of the best evaluation so far,
                          and best.json (its score, evaluations since, whether the run stopped)
      samples/            whatever the task draws (sample grids)
      final/              the task's exported checkpoint(s), written at the end

Keep-best policy. A task that names ``best_metric`` (a key of its ``evaluate`` results, or
a function of them; higher is better) has the loop keep the export of its best evaluation
in ``best/``, end the run after ``patience`` evaluations without a better score (None: never)
and ship the best weights in ``final/``. A resumed run remembers its best score and how
long it has waited; a run that starts at step 0 forgets them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from ..device import describe_machine, select_device
from .sampler import ShuffledEpochs
from .state import load_training_state, save_training_state


@dataclass
class TrainConfig:
    """How long and how a run goes; saved in ``run_config.json``."""

    output_dir: str = "runs/run"
    seed: int = 0
    max_steps: int = 1000
    batch_size: int = 64
    log_every: int = 50
    eval_every: int = 500
    save_every: int = 250
    num_workers: int = 0
    device: str | None = None
    resume: bool = True
    time_limit: float | None = None  # seconds of training in this session; the run then saves, evaluates and exports


class TrainingTask:
    """What a model brings to the loop. Subclasses implement every method that raises.

    ``modules`` are every module of the run by name (all are saved and restored); the
    loop moves them to the device and, when several processes run, wraps in
    DistributedDataParallel the ones an optimizer updates (:func:`optimized_modules`);
    ``train_step`` gets them through ``self.ddp`` (wrapped or not); ``self.device`` is set too.

    ``best_metric`` turns on the loop's keep-best policy (see the module docstring): a key of
    the ``evaluate`` results or a function of them, higher is better; ``patience`` is how many
    evaluations without a better score end the run (None: the run goes to its last step).
    """

    config: Any = None
    device: torch.device = torch.device("cpu")
    ddp: dict[str, nn.Module] = {}
    best_metric: str | Callable[[dict[str, float]], float] | None = None
    patience: int | None = None

    def build_modules(self) -> dict[str, nn.Module]:
        raise NotImplementedError

    def build_optimizers(self, modules: dict[str, nn.Module]) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def dataset(self) -> Dataset:
        raise NotImplementedError

    def collate(self, items: list) -> Any:
        """How dataset items become a batch (default: torch's default_collate)."""
        return torch.utils.data.default_collate(items)

    def train_step(self, batch: Any, step: int) -> dict[str, float]:
        """One optimisation step on ``batch`` (backward and optimizer steps included)."""
        raise NotImplementedError

    def evaluate(self, step: int, run_dir: Path) -> dict[str, float]:
        """Metrics (and sample grids) now and then, on the main process only."""
        return {}

    def export(self, folder: Path) -> None:
        """Write the finished model(s) as shippable checkpoints into ``folder``."""
        raise NotImplementedError

    def should_stop(self) -> bool:
        """Whether the run should end now, besides ``patience``; asked on the main process before
        training and after each evaluation, and its answer sent to every process. The loop then
        saves, exports and ends the run at that step (default: never)."""
        return False


BEST_RECORD = "best.json"


@dataclass
class KeepBest:
    """The keep-best policy of one run, on the main process: the best score so far, the
    evaluations since it (``stale``), whether the run has stopped, and ``<run>/best``."""

    folder: Path
    metric: str | Callable[[dict[str, float]], float]
    patience: int | None = None
    score: float | None = None  # None: no evaluation scored yet
    step: int | None = None  # the step of the best evaluation
    stale: int = 0
    stopped: bool = False

    @classmethod
    def of(cls, task: TrainingTask, run_dir: Path, fresh: bool) -> KeepBest | None:
        """The policy ``task`` asks for (None when it names no ``best_metric``); a ``fresh`` run
        deletes an earlier run's ``best/``, a resumed one reads back its record."""
        if task.best_metric is None:
            return None
        policy = cls(run_dir / "best", task.best_metric, task.patience)
        record = policy.folder / BEST_RECORD
        if fresh:
            shutil.rmtree(policy.folder, ignore_errors=True)
        elif record.is_file():
            saved = json.loads(record.read_text(encoding="utf-8"))
            policy.score, policy.step, policy.stale, policy.stopped = saved["score"], saved["step"], saved["stale"], saved["stopped"]
        return policy

    @property
    def name(self) -> str:
        return self.metric if isinstance(self.metric, str) else getattr(self.metric, "__name__", "score")

    def update(self, task: TrainingTask, step: int, results: dict[str, float]) -> dict[str, float]:
        """Score an evaluation: export it into ``best/`` if it is the best so far, else count it
        stale (and stop after ``patience``); returns ``results`` with the best score as
        ``best_<metric>`` (and the score as ``<metric>`` when the metric is a function)."""
        score = self.metric(results) if callable(self.metric) else results.get(self.metric)
        if score is None:  # an evaluation that does not measure the metric neither improves nor waits
            return results
        score = float(score)
        if self.score is None or score > self.score:
            self.score, self.step, self.stale = score, step, 0
            partial = self.folder.with_name(self.folder.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            task.export(partial)
            self._write_record(partial)
            _replace_folder(partial, self.folder)
        else:
            self.stale += 1
            if self.patience is not None and self.stale >= self.patience:
                self.stopped = True
                print(f"early stopping at step {step}: no better {self.name} for {self.stale} evaluations")
            self._write_record(self.folder)
        logged = {f"best_{self.name}": self.score}
        if callable(self.metric):
            logged[self.name] = score
        return results | logged

    def export(self, task: TrainingTask, folder: Path) -> None:
        """The run's final export: a copy of the best one (the task's own export if nothing was scored)."""
        if self.step is None or not self.folder.is_dir():
            task.export(folder)
            return
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(self.folder, folder, ignore=shutil.ignore_patterns(BEST_RECORD))

    def _write_record(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        record = {"metric": self.name, "score": self.score, "step": self.step, "stale": self.stale, "stopped": self.stopped}
        partial = folder / (BEST_RECORD + ".partial")
        partial.write_text(json.dumps(record) + "\n", encoding="utf-8")
        os.replace(partial, folder / BEST_RECORD)


def _replace_folder(partial: Path, folder: Path) -> None:
    """Rename ``partial`` over ``folder``, so a run killed half-way keeps one whole copy."""
    if folder.exists():
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        folder.rename(old)
        partial.rename(folder)
        shutil.rmtree(old)
    else:
        partial.rename(folder)


def is_main_process() -> bool:
    return not dist.is_initialized() or dist.get_rank() == 0


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (every device)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _init_distributed(device_name: str | None) -> tuple[torch.device, int, int]:
    """Join the torchrun process group if there is one; returns (device, rank, world size)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return select_device(device_name), 0, 1
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    base = select_device(device_name)
    if base.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        device, backend = torch.device("cpu"), "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return device, dist.get_rank(), dist.get_world_size()


def _batches(loader: DataLoader, sampler: ShuffledEpochs, epoch: int, batch_index: int) -> Iterator[tuple[int, int, Any]]:
    """(epoch, index of the batch within it, batch) forever, starting at ``batch_index`` of ``epoch``."""
    while True:
        sampler.set_epoch(epoch, start=batch_index * loader.batch_size)
        for batch in loader:
            yield epoch, batch_index, batch
            batch_index += 1
        epoch, batch_index = epoch + 1, 0


def _log(run_dir: Path, record: dict[str, Any]) -> None:
    with open(run_dir / "metrics.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def _log_running(run_dir: Path, running: dict[str, list[float]], step: int, epoch: int, started: float) -> dict[str, float]:
    """Log the means of the metrics gathered since the last log, and start gathering afresh; returns the means."""
    means = {k: float(np.mean(v)) for k, v in running.items()}
    _log(run_dir, {"step": step, "epoch": epoch, "seconds": round(time.time() - started, 1), **means})
    running.clear()
    return means


def train(task: TrainingTask, config: TrainConfig) -> Path:
    """Run ``task`` to ``config.max_steps``, resuming from ``<output_dir>/last`` if it exists.

    With ``config.time_limit`` (seconds), training stops early once this session has
    trained that long: it saves, evaluates and exports at the step it reached, so a run
    fits a fixed slot of machine time; ``metrics.jsonl`` records that step, and the same
    command with ``max_steps`` set to it reproduces the run. Under DDP the clock is read
    every ``log_every`` steps (rank 0 decides for all), so a run may overshoot by that many.

    Returns the run folder. Under ``torchrun --nproc_per_node=N`` every process runs this
    function; each sees 1/N of every epoch and rank 0 logs, saves and evaluates.
    """
    device, rank, world_size = _init_distributed(config.device)
    # Each process draws its own noise, but the same seed gives the same run every time.
    seed_everything(config.seed + rank)
    run_dir = Path(config.output_dir)
    if rank == 0:
        run_dir.mkdir(parents=True, exist_ok=True)
    task.device = device
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed image sizes: let cuDNN pick its fastest kernels
    modules = {name: module.to(device) for name, module in task.build_modules().items()}
    optimizers = task.build_optimizers(modules)

    step, epoch, batch_index = 0, 0, 0
    last = run_dir / "last"
    if config.resume and (last / "training_state.json").is_file():
        step, extra = load_training_state(last, modules, optimizers)
        epoch, batch_index = int(extra.get("epoch", 0)), int(extra.get("next_batch", 0))
        if rank == 0:
            print(f"resuming {run_dir} from step {step}")
    if rank == 0 and step == 0:
        # A run that starts at step 0 (--fresh, or nothing saved yet) starts its log afresh, so
        # the records of an earlier run in the same folder are not counted as its sessions.
        (run_dir / "metrics.jsonl").unlink(missing_ok=True)
    best = KeepBest.of(task, run_dir, fresh=step == 0) if rank == 0 else None
    if rank == 0:
        record = {"train": dataclasses.asdict(config), "task": _as_json(task.config), "world_size": world_size}
        (run_dir / "run_config.json").write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")

    task.ddp = dict(modules)
    if world_size > 1:
        ids = [device.index] if device.type == "cuda" else None
        optimized = optimized_modules(modules, optimizers)
        for name, module in modules.items():
            if name in optimized:  # DDP starts every replica from rank 0's weights and averages gradients
                task.ddp[name] = nn.parallel.DistributedDataParallel(module, device_ids=ids)
            else:  # kept, not optimized (an EMA copy): start it from rank 0's copy too, by hand
                for tensor in list(module.parameters()) + list(module.buffers()):
                    dist.broadcast(tensor.data, src=0)

    data = task.dataset()
    sampler = ShuffledEpochs(len(data), seed=config.seed, rank=rank, world_size=world_size)
    per_process = max(1, config.batch_size // world_size)
    loader = DataLoader(
        data,
        batch_size=per_process,
        sampler=sampler,
        num_workers=config.num_workers,
        collate_fn=task.collate,
        drop_last=sampler.per_rank >= per_process,
        # A private generator: the loader's worker seed must not draw from the global RNG,
        # or a resumed run would drift from the uninterrupted one.
        generator=torch.Generator().manual_seed(config.seed),
    )

    progress = None
    if rank == 0:
        progress = tqdm(total=config.max_steps, initial=step, desc=run_dir.name, dynamic_ncols=True)
    running: dict[str, list[float]] = {}
    if rank == 0:  # which machine this session runs on, known even if the session is stopped from outside
        _log(run_dir, {"step": step, "started": True, "machine": describe_machine(device, world_size)})
    started = time.time()
    for module in modules.values():
        module.train()
    batches = _batches(loader, sampler, epoch, batch_index)
    stop_at = config.max_steps
    if _task_stops(task, best, rank, world_size):  # a run resumed after it stopped early trains no more
        stop_at = step
    while step < stop_at:
        epoch, batch_index, batch = next(batches)
        metrics = task.train_step(batch, step)
        step += 1
        # Under DDP the check is a broadcast (a GPU sync with nccl): made every log_every steps, not every step.
        check_time = config.time_limit is not None and (world_size == 1 or step % config.log_every == 0)
        if check_time and _out_of_time(started, config.time_limit, world_size):
            stop_at = step
            if rank == 0:
                print(f"time limit of {config.time_limit:.0f} s reached at step {step}")
        for key, value in metrics.items():
            running.setdefault(key, []).append(float(value))
        if progress is not None:
            progress.update(1)
            if step % config.log_every == 0 or step == stop_at:
                means = _log_running(run_dir, running, step, epoch, started)
                progress.set_postfix({k: f"{v:.3f}" for k, v in means.items()})
        if step % config.save_every == 0 or step == stop_at:
            if rank == 0:
                save_training_state(last, modules, optimizers, step, extra={"epoch": epoch, "next_batch": batch_index + 1})
        if rank == 0 and (step % config.eval_every == 0 or step == stop_at):
            for module in modules.values():
                module.eval()
            # fork_rng: measuring must not shift the training's random stream, or a run
            # resumed from this step would drift from the uninterrupted one.
            with torch.no_grad(), torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                results = task.evaluate(step, run_dir)
                if best is not None and results:
                    results = best.update(task, step, results)
            for module in modules.values():
                module.train()
            if results:
                _log(run_dir, {"step": step, "eval": results})
                if progress is not None:
                    progress.write(f"step {step}: " + ", ".join(f"{k} {v:.3f}" for k, v in results.items()))
        if step % config.eval_every == 0 and step < stop_at and _task_stops(task, best, rank, world_size):
            stop_at = step  # early stopping: save the state here, export, and end the run
            if rank == 0:
                if running:  # the steps since the last log
                    _log_running(run_dir, running, step, epoch, started)
                save_training_state(last, modules, optimizers, step, extra={"epoch": epoch, "next_batch": batch_index + 1})
                print(f"the task stopped the run at step {step}")
    if progress is not None:
        progress.close()
    if rank == 0:
        for module in modules.values():
            module.eval()
        if best is not None:
            best.export(task, run_dir / "final")
        else:
            task.export(run_dir / "final")
        _log(run_dir, {"step": step, "finished": True, "seconds": round(time.time() - started, 1),
                       "machine": describe_machine(device, world_size)})
    if world_size > 1:
        dist.barrier()
        dist.destroy_process_group()
    return run_dir


def optimized_modules(modules: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer]) -> list[str]:
    """Names of the modules some optimizer updates: the ones DDP must keep in step.

    A module the task only keeps and saves (an exponential moving average of the
    generator, say) has no parameter in any optimizer; its copy on each process is
    computed from the synchronised ones, and DDP would refuse it anyway (it has nothing
    that requires a gradient).
    """
    optimized = {id(p) for optimizer in optimizers.values() for group in optimizer.param_groups for p in group["params"]}
    return [name for name, module in modules.items() if any(id(p) in optimized for p in module.parameters())]


def _task_stops(task: TrainingTask, best: KeepBest | None, rank: int, world_size: int) -> bool:
    """Whether the keep-best policy ran out of patience or ``task.should_stop()``, as the main
    process answers it, on every process (a broadcast under DDP)."""
    stop = ((best is not None and best.stopped) or bool(task.should_stop())) if rank == 0 else False
    return _broadcast_flag(stop, world_size)


def _broadcast_flag(flag: bool, world_size: int) -> bool:
    """Rank 0's ``flag`` on every process (itself without DDP)."""
    if world_size == 1:
        return flag
    tensor = torch.tensor([float(flag)])
    if dist.get_backend() == "nccl":
        tensor = tensor.cuda()
    dist.broadcast(tensor, src=0)
    return bool(tensor.item())


def _out_of_time(started: float, limit: float, world_size: int) -> bool:
    """Whether ``limit`` seconds have passed since ``started``; under DDP rank 0 decides for all."""
    return _broadcast_flag(time.time() - started >= limit, world_size)


def _as_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value

"""Training state on disk without pickles: tensors in safetensors, everything else in JSON.

A resumable run saves its modules' weights, its optimizers' state (Adam moments, step
counts) and the random-number state under ``<run>/last/``; ``load_training_state`` puts
them back. Optimizer state dicts are flattened: each tensor becomes a safetensors entry
``optimizer.<name>.state.<param index>.<key>`` and the rest (hyper-parameters, param
groups) goes to ``training_state.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

STATE_TENSORS = "training_state.safetensors"
STATE_JSON = "training_state.json"


def _flatten_optimizer(name: str, state: dict[str, Any], tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Move the tensors of an optimizer ``state_dict`` into ``tensors``; return the JSON part."""
    plain: dict[str, Any] = {"param_groups": state["param_groups"], "state": {}}
    for index, values in state["state"].items():
        entry = {}
        for key, value in values.items():
            if torch.is_tensor(value):
                tensors[f"optimizer.{name}.state.{index}.{key}"] = value.detach().cpu().contiguous().clone()
                entry[key] = {"tensor": True}
            else:
                entry[key] = value
        plain["state"][str(index)] = entry
    return plain


def _unflatten_optimizer(name: str, plain: dict[str, Any], tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
    state = {}
    for index, values in plain["state"].items():
        entry = {}
        for key, value in values.items():
            entry[key] = tensors[f"optimizer.{name}.state.{index}.{key}"] if isinstance(value, dict) and value.get("tensor") else value
        state[int(index)] = entry
    return {"state": state, "param_groups": plain["param_groups"]}


def save_training_state(
    folder: str | os.PathLike,
    modules: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    step: int,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write everything a run needs to resume at ``step`` into ``folder``, atomically.

    The files are written to a temporary folder and renamed over ``folder``, so a run
    killed half-way through a save still finds its previous state.
    """
    folder = Path(folder)
    partial = folder.with_name(folder.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {}
    for name, module in modules.items():
        for key, value in module.state_dict().items():
            tensors[f"module.{name}.{key}"] = value.detach().cpu().contiguous().clone()
    plain = {
        "step": int(step),
        "optimizers": {name: _flatten_optimizer(name, opt.state_dict(), tensors) for name, opt in optimizers.items()},
        "extra": extra or {},
    }
    tensors["rng.torch"] = torch.get_rng_state()
    save_file(tensors, str(partial / STATE_TENSORS))
    (partial / STATE_JSON).write_text(json.dumps(plain, indent=1), encoding="utf-8")
    if folder.exists():
        old = folder.with_name(folder.name + ".old")
        if old.exists():
            for item in old.iterdir():
                item.unlink()
            old.rmdir()
        folder.rename(old)
        partial.rename(folder)
        for item in old.iterdir():
            item.unlink()
        old.rmdir()
    else:
        partial.rename(folder)
    return folder


def load_training_state(
    folder: str | os.PathLike,
    modules: dict[str, torch.nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
) -> tuple[int, dict[str, Any]]:
    """Restore modules, optimizers and the torch RNG from ``folder``; returns (step, extra)."""
    folder = Path(folder)
    tensors = load_file(str(folder / STATE_TENSORS))
    plain = json.loads((folder / STATE_JSON).read_text(encoding="utf-8"))
    for name, module in modules.items():
        prefix = f"module.{name}."
        own = module.state_dict()
        state = {k[len(prefix):]: v.to(own[k[len(prefix):]].device) for k, v in tensors.items() if k.startswith(prefix)}
        module.load_state_dict(state, strict=True)
    for name, optimizer in optimizers.items():
        optimizer.load_state_dict(_unflatten_optimizer(name, plain["optimizers"][name], tensors))
    torch.set_rng_state(tensors["rng.torch"])
    return int(plain["step"]), plain.get("extra", {})

"""The learning-rate schedule the tasks share: a cosine decay over the run, set before each step."""

from __future__ import annotations

import math

import torch


def set_cosine_learning_rate(optimizer: torch.optim.Optimizer, base: float, step: int, total_steps: int, floor: float = 0.0) -> float:
    """Set every group's rate to ``base`` decayed along a half cosine from 1 to ``floor`` (a fraction
    of ``base``) over ``total_steps``, held at the floor afterwards; returns the rate."""
    progress = min(step / max(total_steps, 1), 1.0)
    rate = base * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))
    for group in optimizer.param_groups:
        group["lr"] = rate
    return rate

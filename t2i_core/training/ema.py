"""An exponential moving average (EMA) of a model's weights, kept beside the trained model.

The average is a frozen copy that the training step pulls towards the live weights after
each optimizer step: ``ema = decay * ema + (1 - decay) * weights``. Evaluated and exported
in place of the live weights, it smooths out the last steps' noise (Polyak averaging; the
GAN generator here and many captioners and classifiers ship theirs).
"""

from __future__ import annotations

import copy

import torch
from torch import nn


def ema_copy(model: nn.Module) -> nn.Module:
    """A frozen copy of ``model`` to average into (no parameter of it needs a gradient)."""
    ema = copy.deepcopy(model)
    for p in ema.parameters():
        p.requires_grad_(False)
    return ema


def ema_decay_at(step: int, decay: float, warmup: bool = True) -> float:
    """The decay used after ``step``.

    With ``warmup`` (as in many EMA implementations) it is ``min(decay, (1 + step) / (10 + step))``:
    the average forgets its random start within the first few hundred steps instead of the
    ~1/(1 - decay) steps (1000 for 0.999) a fixed decay takes, a large part of a CPU run.
    """
    return min(decay, (1 + step) / (10 + step)) if warmup else decay


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """Pull ``ema``'s parameters towards ``model``'s by ``1 - decay``; copy the buffers (BatchNorm statistics)."""
    for ema_p, p in zip(ema.parameters(), model.parameters(), strict=True):
        ema_p.lerp_(p, 1 - decay)
    for ema_b, b in zip(ema.buffers(), model.buffers(), strict=True):
        ema_b.copy_(b)

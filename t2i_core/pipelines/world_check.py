"""The shipped out-of-world detector, shared by the captioning and VQA pipelines.

Both read pictures through the same frozen EfficientNet-Lite0 grid, so one detector on
that grid (``models/world_detector.py``) tells both whether a picture is from the worlds
they were trained on.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..checkpoint import SHIPPED_CHECKPOINTS
from ..models.world_detector import WorldDetector

WORLD_DETECTOR = SHIPPED_CHECKPOINTS / "world-detector"


def load_world_detector(folder: str | Path | None = None, device: torch.device | str = "cpu") -> WorldDetector:
    """The out-of-world detector in ``folder``, a folder or hub id (default: the shipped one)."""
    return WorldDetector.from_pretrained(folder or WORLD_DETECTOR, device=device)

"""``load_pipeline("flower-attributes")``: what a flower image shows, by the trained judge."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..device import select_device
from ..models.flower_classifier import FlowerAttributeClassifier
from .images import load_rgb, to_tensor_batch

DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "flower-attributes"


class FlowerAttributesPipeline:
    """Images in, one dict of predicted attributes per image out.

    ``pipe(images)`` takes one image or a list (PIL, paths, numpy arrays) and returns a
    list of ``{"petal_colour": "red", ..., "confidence": {...}}``; ``pipe.features(images)``
    gives the classifier's feature vectors (N, feature_dim), the space in which generated
    and real images are compared.
    """

    def __init__(self, checkpoint: str | Path = DEFAULT_CHECKPOINT, device: str | None = None, batch_size: int = 256):
        self.device = select_device(device)
        self.model = FlowerAttributeClassifier.from_pretrained(checkpoint, device=self.device)
        self.batch_size = batch_size

    def _tensor(self, images) -> torch.Tensor:
        if isinstance(images, torch.Tensor):
            return images.float()
        items = images if isinstance(images, (list, tuple)) else [images]
        return to_tensor_batch([load_rgb(im) for im in items], self.model.config.image_size)

    @torch.no_grad()
    def __call__(self, images: Any | Sequence[Any]) -> list[dict[str, Any]]:
        batch = self._tensor(images)  # (N, 3, H, W) in [0, 1]
        results: list[dict[str, Any]] = []
        for start in range(0, len(batch), self.batch_size):
            logits = self.model(batch[start : start + self.batch_size].to(self.device))
            probabilities = {k: v.softmax(1).cpu().numpy() for k, v in logits.items()}
            for i in range(len(next(iter(probabilities.values())))):
                row: dict[str, Any] = {}
                confidence = {}
                for key, p in probabilities.items():
                    best = int(np.argmax(p[i]))
                    row[key] = self.model.config.attributes[key][best]
                    confidence[key] = float(p[i, best])
                row["confidence"] = confidence
                results.append(row)
        return results

    @torch.no_grad()
    def features(self, images: Any | Sequence[Any]) -> np.ndarray:
        """Feature vectors (N, feature_dim) float64."""
        batch = self._tensor(images)
        out = [self.model.embed(batch[s : s + self.batch_size].to(self.device)).double().cpu() for s in range(0, len(batch), self.batch_size)]
        return torch.cat(out).numpy()

"""Fitting the out-of-world detector (``models/world_detector.py``) on the worlds' own pictures.

Not a gradient-trained model: one pass of the frozen encoder over each world's training
split (the Gaussians) and validation split (the reference distances for p-values), then a
closed-form fit. Seeded through the worlds' seeds; ``train world-detector`` runs it.
"""

from __future__ import annotations

import time

from ..data import load_world
from ..data.cache import rendered_images
from ..models.world_detector import EncoderStatistics, WorldDetector

# Which split fits the Gaussian and which gives the reference distances, per world.
WORLD_SPLITS = {"scenes": ("train", "val"), "flowers": ("train", "val")}


def fit_world_detector(train_size: int = 4000, val_size: int = 1000, seed: int = 0, threshold: float = 0.01) -> WorldDetector:
    """Fit on ``train_size`` training pictures of each world; p-values from ``val_size`` validation ones."""
    started = time.time()
    features = EncoderStatistics()
    train, validation = {}, {}
    for world, (fit_split, reference_split) in WORLD_SPLITS.items():
        train[world] = features(rendered_images(load_world(world, fit_split, size=train_size, seed=seed))).numpy()
        validation[world] = features(rendered_images(load_world(world, reference_split, size=val_size, seed=seed))).numpy()
    record = {"train_size": train_size, "val_size": val_size, "seed": seed, "seconds": round(time.time() - started, 1),
              "splits": {w: list(s) for w, s in WORLD_SPLITS.items()}}
    return WorldDetector.fit(train, validation, threshold=threshold, record=record)

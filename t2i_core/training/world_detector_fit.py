"""Fitting the out-of-world detector (``models/world_detector.py``) on the worlds' own pictures.

Not a gradient-trained model: one pass of the frozen encoder over each world's training
split (the Gaussians) and validation split (the reference distances for p-values), then a
closed-form fit. Seeded through the worlds' seeds; ``train world-detector`` runs it.

The Flowers world also holds the flowers its generators draw (``generated``, a number of
prompts per split): the round trip shows the captioner a generated flower, which is a
flower of this world, softer than a rendered one. Fitted on rendered flowers alone the
detector called every generated flower out of world (round-trip report, 0.000 in world).
Generated flowers are drawn as the captioner's training data draws them
(:mod:`.generated_flowers`: the judge-confirmed ones, other noise than the round trip's).
"""

from __future__ import annotations

import time

import numpy as np

from ..data import load_world
from ..data.cache import rendered_images
from ..models.world_detector import EncoderStatistics, WorldDetector
from .generated_flowers import generated_flowers

# Which split fits the Gaussian and which gives the reference distances, per world.
WORLD_SPLITS = {"scenes": ("train", "val"), "flowers": ("train", "val")}


def fit_world_detector(train_size: int = 4000, val_size: int = 1000, seed: int = 0, threshold: float = 0.01,
                       generated: int = 1000) -> WorldDetector:
    """Fit on ``train_size`` training pictures of each world; p-values from ``val_size`` validation ones.
    Flowers add the generators' flowers of ``generated`` training and ``generated // 4`` validation prompts (0: none)."""
    started = time.time()
    features = EncoderStatistics()
    train, validation = {}, {}
    for world, (fit_split, reference_split) in WORLD_SPLITS.items():
        train[world] = features(rendered_images(load_world(world, fit_split, size=train_size, seed=seed))).numpy()
        validation[world] = features(rendered_images(load_world(world, reference_split, size=val_size, seed=seed))).numpy()
        if world == "flowers" and generated > 0:
            for table, split, n in ((train, "train", generated), (validation, "val", max(1, generated // 4))):
                images, _, _ = generated_flowers(split, n, seed, 64)  # drawn at 64 pixels, as rendered flowers are
                table[world] = np.concatenate([table[world], features(images).numpy()])
    record = {"train_size": train_size, "val_size": val_size, "generated": generated, "seed": seed, "seconds": round(time.time() - started, 1),
              "splits": {w: list(s) for w, s in WORLD_SPLITS.items()}}
    return WorldDetector.fit(train, validation, threshold=threshold, record=record)

"""Measuring the out-of-world detector (``models/world_detector.py``; fitted by
``training/world_detector_fit.py``).

``evaluate_world_detector`` reports the share of pictures called in world for each
world's test split and for Scenes' held-out rendering style (which should be in), and
the share of scikit-image's sample photos called out of world (which should be out).
The photos are only measured, never used to fit or to place the threshold.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import skimage.data

from ..data import load_world, world_class
from ..data.cache import rendered_images
from ..models.world_detector import EncoderStatistics, WorldDetector
from .formatting import Block, Table, figure

# scikit-image's sample pictures that are photographs (of the world, the sky, cells, a
# page), read offline from the wheel. Drawings and synthetic patterns (logo, colour wheel,
# checkerboard, blobs, the phantom) are not photos and are left out; ``cat`` is the same
# picture as ``chelsea``.
PHOTO_NAMES = ("astronaut", "brick", "camera", "chelsea", "clock", "coffee", "coins", "grass", "gravel",
               "hubble_deep_field", "immunohistochemistry", "microaneurysms", "moon", "page", "retina", "rocket",
               "stereo_motorcycle", "text")


def sample_photos(crops_per_photo: int = 0, seed: int = 0) -> list[tuple[str, np.ndarray]]:
    """scikit-image's sample photos as (name, uint8 RGB (H, W, 3)), whole, plus
    ``crops_per_photo`` random square crops of each (a third to the whole of the short side)."""
    rng = np.random.default_rng(seed)
    photos = []
    for name in PHOTO_NAMES:
        image = getattr(skimage.data, name)()
        if isinstance(image, tuple):  # stereo pairs
            image = image[0]
        image = np.asarray(image)
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        image = image[..., :3].astype(np.uint8)
        photos.append((name, image))
        h, w = image.shape[:2]
        for k in range(crops_per_photo):
            side = int(rng.integers(min(h, w) // 3, min(h, w) + 1))
            top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
            photos.append((f"{name}-crop{k}", image[top : top + side, left : left + side]))
    return photos


def evaluate_world_detector(detector: WorldDetector, size: int = 500, seed: int = 1, crops_per_photo: int = 4) -> dict[str, Any]:
    """Share called in world per world split (``size`` pictures each) and share of photos called out."""
    features = EncoderStatistics()
    report: dict[str, Any] = {"threshold": detector.config.threshold, "in_world_rate": {}, "median_score": {}}
    splits = [("scenes", "test"), ("flowers", "test")]
    scenes_splits = world_class("scenes").splits
    for split in ("heldout-style", "heldout-combos"):
        if split in scenes_splits:
            splits.append(("scenes", split))
    for world, split in splits:
        images = rendered_images(load_world(world, split, size=size, seed=seed))
        best, _ = detector.scores(features(images))
        key = f"{world}/{split}"
        report["in_world_rate"][key] = float((best >= detector.config.threshold).double().mean())
        report["median_score"][key] = float(best.median())
    photos = sample_photos(crops_per_photo=crops_per_photo, seed=seed)
    best, _ = detector.scores(features([p for _, p in photos]))
    out = best < detector.config.threshold
    report["photos"] = {"n": len(photos), "out_of_world_rate": float(out.double().mean()),
                        "whole_photos_out": float(out[[i for i, (n, _) in enumerate(photos) if "-crop" not in n]].double().mean()),
                        "called_in_world": [n for (n, _), o in zip(photos, out) if not o]}
    return report


def report_summary(report: dict) -> list[Block]:
    """The report of :func:`evaluate_world_detector`: the share called in world and the
    median score of each world split, then the share of photos called out of world."""
    photos = report["photos"]
    return [Table(["split", "in world", "median score"],
                  [[split, figure(rate), figure(report["median_score"][split])] for split, rate in report["in_world_rate"].items()],
                  title=f"threshold (p-value): {report['threshold']}"),
            f"photos ({photos['n']}, whole and crops): out of world {figure(photos['out_of_world_rate'])}; "
            f"whole photos out {figure(photos['whole_photos_out'])}"
            + (f"\nphotos called in world: {', '.join(photos['called_in_world'])}" if photos["called_in_world"] else "")]

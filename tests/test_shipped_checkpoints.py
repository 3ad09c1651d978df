"""Smoke evaluations of the shipped checkpoints: a broken checkpoint cannot land."""

from pathlib import Path

import numpy as np

import t2i_core
from t2i_core.data import load_world
from t2i_core.data.flowers import ATTRIBUTE_VALUES

CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"


def test_shipped_flower_classifier_reads_real_flowers():
    judge = t2i_core.load_pipeline("flower-attributes", checkpoint=CHECKPOINTS / "flower-attributes", device="cpu")
    world = load_world("flowers", "test", size=300, seed=123)
    samples = list(world.samples())
    predicted = judge([s.image for s in samples])
    for key in ATTRIBUTE_VALUES:
        accuracy = np.mean([p[key] == s.attributes[key] for p, s in zip(predicted, samples)])
        assert accuracy >= 0.97, (key, accuracy)

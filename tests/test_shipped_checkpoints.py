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
    predicted = judge([s.image for s in samples]).attributes
    for key in ATTRIBUTE_VALUES:
        accuracy = np.mean([p[key] == s.attributes[key] for p, s in zip(predicted, samples)])
        assert accuracy >= 0.97, (key, accuracy)


def test_shipped_use_generator_binds_colours_to_parts():
    """Smoke evaluation: 100 prompts of group (a), one image each, judged by the shipped classifier.

    The full evaluation (500 prompts) measured binding 0.906, petal shape 1.00 and size 0.95; the
    GPU-trained generator shipped before drew the stated shape and size only 0.53 / 0.64 of the time."""
    import torch

    from t2i_core.evaluation.text2image import binding_report, seen_prompts
    from t2i_core.models.text2image_gan import Text2ImageGenerator

    torch.manual_seed(0)
    generator = Text2ImageGenerator.from_pretrained(CHECKPOINTS / "text2image-use", device="cpu")
    report = binding_report(generator, "use", seen_prompts(100, seed=3), CHECKPOINTS / "flower-attributes", seed=11)
    assert report["binding_accuracy"] >= 0.85, report
    assert report["attribute_accuracy"]["petal_shape"] >= 0.8 and report["attribute_accuracy"]["size"] >= 0.8, report


def test_shipped_glove_generator_draws_swapped_prompts_alike():
    """The averaged-GloVe generator cannot tell a prompt from its swapped twin."""
    pipe = t2i_core.load_pipeline("text2image", encoder="glove-avg", checkpoint=CHECKPOINTS / "text2image-glove-avg", device="cpu")
    original, swapped = pipe(["a red flower with a yellow stem", "a yellow flower with a red stem"], num_images=4, seed=0).images
    # Identical embeddings and noise: identical images, whatever the word order.
    assert [im.tobytes() for im in original] == [im.tobytes() for im in swapped]

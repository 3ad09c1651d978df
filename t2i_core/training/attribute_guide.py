"""A frozen, low-resolution attribute classifier that guides the text-to-image generator.

Why: in the projected recipe the discriminator's colour heads (TAC-GAN) read features that
are trained to tell generated flowers from real ones. Generated flowers land where those
heads have never seen a real example, and their answers there are confident and arbitrary:
in the fifth session's 130-minute CPU run the heads named real flowers at a cross-entropy
of 0.05 and the generator's at 9.6-9.9 to the end, so the generator was never told, in a
way it could follow, which colour goes where.

The guide is classifier guidance in its plainest form: a classifier of every attribute,
trained on real training flowers before the GAN starts, then frozen (weights and batch
norm statistics), whose cross-entropy on the generator's images against what each caption
states is one more term of the generator's loss. Nothing adversarial moves it, so its
gradient keeps pointing at the stated attributes. It reads the image average-pooled to
32x32: a small network at low resolution has few high-frequency features to fool, so what
lowers its loss is mostly colour in the right region, which is the binding itself (the
usual worry of classifier guidance is that the generator learns imperceptible patterns
that satisfy the classifier and nothing else). It is not the judge: the evaluation's
``flower-attributes`` classifier reads 64x64 images with its own weights, and a generator
trained on the judge would be graded by its own teacher.

It is fitted from a fixed seed at the start of every run (about a minute on one core) and
never saved: a resumed run fits the same guide again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..data.flowers import ATTRIBUTE_VALUES
from ..models.flower_classifier import FlowerAttributeClassifier, FlowerClassifierConfig
from .attribute_loss import attribute_loss
from .flower_classifier_task import attribute_accuracy, classifier_step, degrade


@dataclass
class AttributeGuideConfig:
    """How the guide is built and fitted."""

    image_size: int = 32  # the generator's 64x64 images are average-pooled to this
    widths: tuple = (16, 32, 64)
    feature_dim: int = 128
    steps: int = 600
    batch_size: int = 64
    learning_rate: float = 2e-3
    seed: int = 0


def guide_view(images: torch.Tensor, image_size: int) -> torch.Tensor:
    """Images (B, 3, 64, 64) in [-1, 1] -> what the guide reads, (B, 3, S, S) in [0, 1]."""
    x = (images + 1) / 2
    factor = x.shape[-1] // image_size
    return F.avg_pool2d(x, factor) if factor > 1 else x


def fit_attribute_guide(images: np.ndarray, labels: np.ndarray, config: AttributeGuideConfig | None = None,
                        device: torch.device | str = "cpu") -> tuple[FlowerAttributeClassifier, dict]:
    """Fit the guide on uint8 images (N, 64, 64, 3) with attribute labels (N, A) in the order of
    ``ATTRIBUTE_VALUES``; returns it frozen in eval mode, and a record (seconds, held-out accuracy
    per attribute on the last 1000 images, which it does not train on)."""
    config = config or AttributeGuideConfig()
    started = time.time()
    generator = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    model = FlowerAttributeClassifier(FlowerClassifierConfig(image_size=config.image_size, widths=tuple(config.widths),
                                                             feature_dim=config.feature_dim)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=1e-4)
    names = list(ATTRIBUTE_VALUES)
    held_out = min(1000, len(images) // 10)
    fit = len(images) - held_out
    model.train()
    for step in range(config.steps):
        index = torch.randint(fit, (config.batch_size,), generator=generator)
        batch = torch.from_numpy(np.array(images[index.numpy()])).permute(0, 3, 1, 2).float().mul(2 / 255).sub(1)  # (B, 3, 64, 64) in [-1, 1]
        view = degrade(guide_view(batch, config.image_size), generator).to(device)  # (B, 3, S, S) in [0, 1]
        target = torch.from_numpy(labels[index.numpy()]).to(device)  # (B, A)
        classifier_step(model, optimizer, view, {name: target[:, k] for k, name in enumerate(names)}, step,
                        config.learning_rate, config.steps)
    model.eval().requires_grad_(False)
    accuracy = attribute_accuracy(model, images[fit:], {name: labels[fit:, k] for k, name in enumerate(names)}, device,
                                  view=lambda batch: guide_view(batch * 2 - 1, config.image_size))
    record = {"seconds": round(time.time() - started, 1), "held_out_accuracy": {k: round(v, 3) for k, v in accuracy.items()}}
    return model, record


def guide_loss(guide: FlowerAttributeClassifier, images: torch.Tensor, stated: torch.Tensor) -> torch.Tensor:
    """The guide's cross-entropy on generated images (B, 3, 64, 64) in [-1, 1] against what their
    captions state, (B, A) with -1 where a caption is silent: averaged over the stated labels of
    each attribute, summed over attributes (an attribute no caption of the batch states adds 0)."""
    return attribute_loss(guide(guide_view(images, guide.config.image_size)), stated)

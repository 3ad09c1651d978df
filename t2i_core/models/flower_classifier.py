"""The flower attribute classifier: the judge of the text-to-image generators.

A small CNN trained on real rendered flowers predicts every attribute of the Flowers
world (petal, stem and centre colour, petal shape and count, size). Its penultimate
layer is also the feature space in which generated and real images are compared
(diversity, Frechet distance), since Inception weights cannot be had offline.

The head keeps the 4x4 spatial layout (flatten, not global pooling): which colour is
above which is exactly what separates "red petals, yellow stem" from the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from ..checkpoint import PretrainedModel
from ..data.flowers import ATTRIBUTE_VALUES


def _default_attributes() -> dict[str, list]:
    return {k: list(v) for k, v in ATTRIBUTE_VALUES.items()}


@dataclass
class FlowerClassifierConfig:
    """Sizes of the classifier; ``attributes`` maps each attribute to its class names."""

    image_size: int = 64
    widths: tuple = (16, 32, 64, 128)
    feature_dim: int = 256
    dropout: float = 0.2
    attributes: dict = field(default_factory=_default_attributes)


class FlowerAttributeClassifier(PretrainedModel):
    """Images (B, 3, H, W) in [0, 1] -> per-attribute logits and a feature vector."""

    config_class = FlowerClassifierConfig
    model_type = "flower-attribute-classifier"

    def __init__(self, config: FlowerClassifierConfig):
        super().__init__()
        self.config = config
        layers, channels = [], 3
        for width in config.widths:
            layers += [
                nn.Conv2d(channels, width, 3, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.Conv2d(width, width, 3, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            channels = width
        self.backbone = nn.Sequential(*layers)
        side = config.image_size // 2 ** len(config.widths)
        self.features = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(config.dropout),
            nn.Linear(channels * side * side, config.feature_dim),
            nn.ReLU(inplace=True),
        )
        self.heads = nn.ModuleDict({name: nn.Linear(config.feature_dim, len(values)) for name, values in config.attributes.items()})

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """Feature vectors (B, feature_dim) of images (B, 3, H, W) in [0, 1]."""
        x = (images - 0.5) / 0.25
        x = self.backbone(x)  # (B, C, H/16, W/16)
        return self.features(x)  # (B, feature_dim)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits per attribute, each (B, number of classes)."""
        features = self.embed(images)
        return {name: head(features) for name, head in self.heads.items()}

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> dict[str, list]:
        """Predicted class names per attribute, each a list of length B."""
        logits = self(images)
        return {name: [self.config.attributes[name][i] for i in logits[name].argmax(1).tolist()] for name in logits}

"""``load_pipeline("flower-attributes")``: what a flower image shows, by the trained judge."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..checkpoint import SHIPPED_CHECKPOINTS, resolve_checkpoint_dir
from ..data.flowers import read_stated_attributes
from ..data.images import load_rgb, to_tensor_batch
from ..device import select_device
from ..models.flower_classifier import FlowerAttributeClassifier
from .pretrained import PretrainedPipeline

DEFAULT_CHECKPOINT = SHIPPED_CHECKPOINTS / "flower-attributes"


@dataclass
class FlowerAttributesOutput:
    """What :class:`FlowerAttributesPipeline` returns: the judge's reading of each image."""

    attributes: list[dict[str, str]]  # (N,) each image's predicted value of every attribute: {"petal_colour": "red", ...}
    confidences: list[dict[str, float]]  # (N,) the probability of each of those predictions


@dataclass(frozen=True)
class AttributeVerdict:
    """Whether an image shows one attribute a prompt states, by the judge."""

    attribute: str  # "petal_colour", "stem_colour", "centre_colour", "petal_shape", "petal_count" or "size"
    stated: Any  # what the prompt says ("red", 8, ...)
    seen: Any  # what the judge reads in the image
    confidence: float  # the judge's probability of ``seen``

    @property
    def right(self) -> bool:
        return self.stated == self.seen

    def label(self) -> str:
        """Short text for under an image: "petals red ✓" or "stem yellow ✗ (drew red)"."""
        name = ATTRIBUTE_LABELS[self.attribute]
        return f"{name} {self.stated} ✓" if self.right else f"{name} {self.stated} ✗ (drew {self.seen})"


# How a verdict names each attribute, in the order the app lists them.
ATTRIBUTE_LABELS = {"petal_colour": "petals", "stem_colour": "stem", "centre_colour": "centre", "petal_shape": "petal shape",
                    "petal_count": "petal count", "size": "size"}


class FlowerAttributesPipeline(PretrainedPipeline):
    """Images in, the predicted attributes of each out.

    ``pipe(images)`` takes one image or a list (PIL, paths, numpy arrays), or a tensor
    (N, 3, H, W) in [0, 1], and returns a :class:`FlowerAttributesOutput`;
    ``pipe.features(images)`` gives the classifier's feature vectors (N, feature_dim), the
    space in which generated and real images are compared.
    ``FlowerAttributesPipeline.from_pretrained(folder_or_hub_id)`` loads a classifier by name.
    """

    def __init__(self, checkpoint: str | Path = DEFAULT_CHECKPOINT, device: str | None = None, batch_size: int = 256):
        self.device = select_device(device)
        self.model = FlowerAttributeClassifier.from_pretrained(resolve_checkpoint_dir(checkpoint), device=self.device)
        self.batch_size = batch_size

    def _tensor(self, images) -> torch.Tensor:
        if isinstance(images, torch.Tensor):
            return images.float()
        items = images if isinstance(images, (list, tuple)) else [images]
        return to_tensor_batch([load_rgb(im) for im in items], self.model.config.image_size)

    @torch.no_grad()
    def __call__(self, images: Any | Sequence[Any]) -> FlowerAttributesOutput:
        """The attributes of one image or a batch; one image is a batch of one.

        Raises:
            ImageInputError: an input is not a readable image, or is too large.
        """
        batch = self._tensor(images)  # (N, 3, H, W) in [0, 1]
        output = FlowerAttributesOutput(attributes=[], confidences=[])
        for start in range(0, len(batch), self.batch_size):
            logits = self.model(batch[start : start + self.batch_size].to(self.device))
            probabilities = {k: v.softmax(1).cpu().numpy() for k, v in logits.items()}  # attribute -> (n, values)
            for i in range(len(next(iter(probabilities.values())))):
                best = {key: int(np.argmax(p[i])) for key, p in probabilities.items()}
                output.attributes.append({key: self.model.config.attributes[key][b] for key, b in best.items()})
                output.confidences.append({key: float(probabilities[key][i, b]) for key, b in best.items()})
        return output

    def check(self, images: Any | Sequence[Any], prompt: str | Sequence[str]) -> list[list[AttributeVerdict]]:
        """For each image, the judge's verdict on every attribute ``prompt`` states (``read_stated_attributes``).

        ``check(images, "a red flower with a yellow stem")`` gives per image a petal-colour and a
        stem-colour verdict; a prompt that states nothing the judge knows gives empty lists.
        ``prompt`` may also be a list, one prompt per image: a prompt and its twin checked in one batch.

        Raises:
            ValueError: a list of prompts whose length is not the number of images.
        """
        output = self(images)
        prompts = [prompt] * len(output.attributes) if isinstance(prompt, str) else list(prompt)
        if len(prompts) != len(output.attributes):
            raise ValueError(f"{len(prompts)} prompts for {len(output.attributes)} images: give one prompt, or one per image")
        stated_by_prompt = {text: read_stated_attributes(text) for text in set(prompts)}
        return [
            [AttributeVerdict(name, stated[name], seen[name], confidence[name]) for name in ATTRIBUTE_LABELS if name in stated]
            for stated, seen, confidence in zip((stated_by_prompt[text] for text in prompts), output.attributes, output.confidences)
        ]

    @torch.no_grad()
    def features(self, images: Any | Sequence[Any]) -> np.ndarray:
        """Feature vectors (N, feature_dim) float64."""
        batch = self._tensor(images)
        out = [self.model.embed(batch[s : s + self.batch_size].to(self.device)).double().cpu() for s in range(0, len(batch), self.batch_size)]
        return torch.cat(out).numpy()

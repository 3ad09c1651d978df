"""Training the flower attribute classifier on real rendered flowers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from ..data import load_world
from ..data.cache import rendered_images
from ..data.flowers import ATTRIBUTE_VALUES
from ..models.flower_classifier import FlowerAttributeClassifier, FlowerClassifierConfig
from .loop import TrainingTask
from .schedule import set_cosine_learning_rate


def attribute_labels(world) -> dict[str, np.ndarray]:
    """Label indices of every flower of ``world`` per attribute, each (N,) int64."""
    labels = {k: np.zeros(len(world), dtype=np.int64) for k in ATTRIBUTE_VALUES}
    for s in world.samples(render=False):
        for key, values in ATTRIBUTE_VALUES.items():
            labels[key][s.index] = values.index(s.attributes[key])
    return labels


class LabelledImages(Dataset):
    """Cached uint8 images (N, H, W, 3) with their attribute labels."""

    def __init__(self, images: np.ndarray, labels: dict[str, np.ndarray]):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        image = torch.from_numpy(np.array(self.images[index])).permute(2, 0, 1).float() / 255.0  # (3, H, W)
        return image, {k: int(v[index]) for k, v in self.labels.items()}


@torch.no_grad()
def attribute_accuracy(model: FlowerAttributeClassifier, images: np.ndarray, labels: dict[str, np.ndarray], device, batch_size: int = 256,
                       view=None) -> dict[str, float]:
    """Accuracy per attribute of ``model`` on uint8 images (N, H, W, 3); ``view`` maps a batch
    (B, 3, H, W) in [0, 1] to what the model reads (default: the batch itself)."""
    correct = {k: 0 for k in labels}
    for start in range(0, len(images), batch_size):
        batch = torch.from_numpy(np.array(images[start : start + batch_size])).permute(0, 3, 1, 2).float().div(255)
        logits = model((view(batch) if view is not None else batch).to(device))
        for key in labels:
            predicted = logits[key].argmax(1).cpu().numpy()
            correct[key] += int((predicted == labels[key][start : start + len(predicted)]).sum())
    return {k: correct[k] / len(images) for k in labels}


def degrade(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random blur and noise on half the batch, so the judge also reads imperfect (generated) images."""
    b = images.shape[0]
    chosen = torch.rand(b, generator=generator) < 0.5
    blurred = F.avg_pool2d(F.pad(images, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    noise = torch.randn(images.shape, generator=generator) * 0.04
    out = torch.where(chosen[:, None, None, None], blurred + noise.to(images.device), images)
    return out.clamp(0, 1)


def classifier_step(model, optimizer: torch.optim.Optimizer, images: torch.Tensor, labels: dict[str, torch.Tensor], step: int,
                    learning_rate: float, total_steps: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """One optimisation step of an attribute classifier (wrapped in DDP or not) on images
    (B, 3, H, W) with labels per attribute, each (B,); returns its logits and loss."""
    # Cosine decay: a constant rate leaves the classifier wandering between epochs.
    set_cosine_learning_rate(optimizer, learning_rate, step, total_steps)
    logits = model(images)
    loss = sum(F.cross_entropy(logits[name], labels[name]) for name in labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return logits, loss


@dataclass
class FlowerClassifierTaskConfig:
    """Data and optimisation of the classifier run."""

    train_size: int = 20000
    val_size: int = 2000
    world_seed: int = 0
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    total_steps: int = 1200  # the learning rate decays to zero along a cosine over these steps
    model: FlowerClassifierConfig = None

    def __post_init__(self):
        if self.model is None:
            self.model = FlowerClassifierConfig()
        elif isinstance(self.model, dict):
            self.model = FlowerClassifierConfig(**self.model)


class FlowerClassifierTask(TrainingTask):
    def __init__(self, config: FlowerClassifierTaskConfig, seed: int = 0):
        self.config = config
        self._generator = torch.Generator().manual_seed(seed)
        size = config.model.image_size
        self.train_world = load_world("flowers", "train", size=config.train_size, seed=config.world_seed, image_size=size)
        self.val_world = load_world("flowers", "val", size=config.val_size, seed=config.world_seed, image_size=size)

    def build_modules(self):
        self.model = FlowerAttributeClassifier(self.config.model)
        return {"classifier": self.model}

    def build_optimizers(self, modules):
        self.optimizer = torch.optim.AdamW(
            modules["classifier"].parameters(), lr=self.config.learning_rate, weight_decay=self.config.weight_decay
        )
        return {"adam": self.optimizer}

    def dataset(self):
        return LabelledImages(rendered_images(self.train_world), attribute_labels(self.train_world))

    def train_step(self, batch, step):
        images, labels = batch
        images = degrade(images, self._generator).to(self.device)
        labels = {k: v.to(self.device) for k, v in labels.items()}
        logits, loss = classifier_step(self.ddp["classifier"], self.optimizer, images, labels, step,
                                       self.config.learning_rate, self.config.total_steps)
        accuracy = float(np.mean([(logits[k].argmax(1) == labels[k]).float().mean().item() for k in labels]))
        return {"loss": loss.item(), "accuracy": accuracy}

    def evaluate(self, step, run_dir: Path):
        accuracy = attribute_accuracy(self.model, rendered_images(self.val_world), attribute_labels(self.val_world), self.device)
        return {f"val_{k}": v for k, v in accuracy.items()} | {"val_min": min(accuracy.values())}

    def export(self, folder: Path):
        self.model.save_pretrained(folder, dtype=torch.float16)

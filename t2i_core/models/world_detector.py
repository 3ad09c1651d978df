"""Is this picture from the model's world? A Mahalanobis detector on the image encoder's features.

The captioners and the VQA model read images through the same frozen ImageNet
EfficientNet-Lite0 grid (14x14 cells of 112 channels, ``image_encoders.py``). Their heads
were trained on the project's worlds only, so on a photo they still produce a fluent,
confident Scenes sentence. This detector says when that is happening.

Method (Lee et al., 2018, "A Simple Unified Framework for Detecting Out-of-Distribution
Samples and Adversarial Attacks", with one Gaussian per world instead of per class):

1. **Features.** Per image, the mean, standard deviation, maximum and minimum of each
   encoder channel over the grid cells: (B, 448). The mean says what is there; the
   spread, the peak and the floor say how it is laid out (a few strong, flat shapes on a
   plain ground against the texture everywhere of a photo). Measured on 1500 + 500
   pictures a world: mean and spread alone let a grey photo of a clock through (p-value
   0.014 against a threshold of 0.01) and 1 of 18 whole photos in all; with the peak and
   floor every photo and crop was out, and 99% of the test scenes and all held-out-style
   scenes in. A k-nearest-neighbour distance (Sun et al., 2022) did worse (as few as 44%
   of the photos out): Scenes backgrounds include faded photos, and the nearest
   neighbours of a photo are then scenes on that photo. The encoder is frozen, so the detector depends on the worlds only, never on
   the heads trained on top, and one fit serves every model that shares the encoder.
2. **One Gaussian per world** (Scenes, Flowers), fitted on that world's training split
   with Ledoit-Wolf shrinkage (scikit-learn): 448 dimensions from a few thousand images
   give a poorly conditioned sample covariance, and shrinkage keeps its inverse stable.
3. **Score = an empirical p-value.** The squared Mahalanobis distance to each world is
   turned into the share of that world's *validation* images (not used in the fit) that
   lie at least as far: 0.5 is a typical picture of the world, 0.01 as odd as the oddest
   1%. The score is the best over worlds. A p-value reads the same whatever the features'
   scale, which a raw distance does not.
4. **Decision.** ``in_world = score >= config.threshold``, with the threshold fixed before
   looking at any out-of-world picture (the share of the world's own validation pictures
   it turns away is then known: about the threshold itself).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..checkpoint import PretrainedModel
from .image_encoders import build_image_encoder


def grid_statistics(grid: torch.Tensor) -> torch.Tensor:
    """Encoder grid (B, N, C) -> per-channel mean, standard deviation, maximum and minimum over cells (B, 4C)."""
    grid = grid.float()
    return torch.cat([grid.mean(dim=1), grid.std(dim=1, unbiased=False), grid.amax(dim=1), grid.amin(dim=1)], dim=1)  # (B, 4C)


@dataclass
class WorldDetectorConfig:
    """What the detector was fitted on and where it draws the line."""

    worlds: tuple = ("scenes", "flowers")
    feature_dim: int = 448  # 4 x the encoder's channels (mean, spread, peak and floor over the grid)
    reference_size: int = 1000  # validation distances kept per world, sorted, for the p-value
    threshold: float = 0.01  # in world when at least this share of the world's own validation pictures is as far
    encoder: str = "efficientnet-lite0"
    fit: dict = field(default_factory=dict)  # how it was fitted (split sizes, seeds), for the record


@dataclass
class WorldVerdict:
    """``in_world`` and its ``score`` (the best p-value over worlds) and the nearest ``world``."""

    in_world: bool
    score: float
    world: str


class WorldDetector(PretrainedModel):
    """Pooled encoder features (B, feature_dim) -> p-value per image of belonging to a known world."""

    config_class = WorldDetectorConfig
    model_type = "world-detector"

    def __init__(self, config: WorldDetectorConfig):
        super().__init__()
        self.config = config
        w, f, r = len(config.worlds), config.feature_dim, config.reference_size
        self.register_buffer("means", torch.zeros(w, f, dtype=torch.float64))  # (W, F)
        self.register_buffer("precisions", torch.zeros(w, f, f, dtype=torch.float64))  # (W, F, F)
        self.register_buffer("reference", torch.zeros(w, r, dtype=torch.float64))  # (W, R) sorted squared distances

    @classmethod
    def fit(cls, train: dict[str, np.ndarray], validation: dict[str, np.ndarray], threshold: float = 0.01,
            record: dict | None = None) -> WorldDetector:
        """Fit one shrunk Gaussian per world on ``train[world]`` (N, F) and keep the sorted
        squared distances of ``validation[world]`` (M, F) as the reference for p-values."""
        from sklearn.covariance import LedoitWolf

        worlds = tuple(train)
        feature_dim = next(iter(train.values())).shape[1]
        size = min(len(v) for v in validation.values())
        detector = cls(WorldDetectorConfig(worlds=worlds, feature_dim=feature_dim, reference_size=size,
                                           threshold=threshold, fit=record or {}))
        for k, world in enumerate(worlds):
            estimate = LedoitWolf().fit(np.asarray(train[world], dtype=np.float64))
            detector.means[k] = torch.from_numpy(estimate.location_)
            detector.precisions[k] = torch.from_numpy(estimate.precision_)
            distances = detector.squared_distances(torch.from_numpy(np.asarray(validation[world])))[:, k]  # (M,)
            quantiles = np.quantile(distances.numpy(), np.linspace(0, 1, size))
            detector.reference[k] = torch.from_numpy(np.sort(quantiles))
        return detector

    def squared_distances(self, features: torch.Tensor) -> torch.Tensor:
        """Features (B, F) -> squared Mahalanobis distance to every world (B, W)."""
        centred = features.to(torch.float64)[:, None, :] - self.means[None]  # (B, W, F)
        return torch.einsum("bwf,wfg,bwg->bw", centred, self.precisions, centred)  # (B, W)

    def scores(self, features: torch.Tensor, worlds: tuple[str, ...] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Features (B, F) -> (best p-value over ``worlds`` (default: all) (B,), index of that world (B,))."""
        distances = self.squared_distances(features)  # (B, W)
        r = self.reference.shape[1]
        # Share of the world's validation distances at least as large as this one.
        at_least = r - torch.searchsorted(self.reference.contiguous(), distances.T.contiguous(), right=False)  # (W, B)
        p_values = at_least.T.to(torch.float64) / r  # (B, W)
        if worlds is not None:
            unknown = set(worlds) - set(self.config.worlds)
            if unknown:
                raise ValueError(f"the detector knows the worlds {self.config.worlds}, not {sorted(unknown)}")
            keep = torch.tensor([w in worlds for w in self.config.worlds])
            p_values = p_values.masked_fill(~keep[None], -1.0)
        best, world = p_values.max(dim=1)
        return best, world

    @torch.no_grad()
    def judge(self, grid: torch.Tensor, worlds: tuple[str, ...] | None = None) -> list[WorldVerdict]:
        """Encoder grids (B, N, C) -> one :class:`WorldVerdict` per image, against ``worlds``
        (default: every world it was fitted on; a model trained on Scenes alone passes ``("scenes",)``)."""
        best, world = self.scores(grid_statistics(grid), worlds)
        return [WorldVerdict(bool(s >= self.config.threshold), float(s), self.config.worlds[int(w)]) for s, w in zip(best, world)]


class EncoderStatistics:
    """Pictures (uint8 (H, W, 3), any size) -> the detector's features (B, 448), batched.

    Each picture is first resized to ``image_size`` square with bicubic filtering, as the
    captioning and VQA pipelines do before their encoder, so the detector sees what the
    models see.
    """

    def __init__(self, image_size: int = 128, device: str = "cpu", batch_size: int = 64):
        self.encoder = build_image_encoder("efficientnet-lite0", pretrained=True, frozen=True).to(device).eval()
        self.image_size, self.device, self.batch_size = image_size, device, batch_size

    def _resized(self, image) -> np.ndarray:
        from PIL import Image

        picture = Image.fromarray(np.asarray(image, dtype=np.uint8)).convert("RGB")
        if picture.size != (self.image_size, self.image_size):
            picture = picture.resize((self.image_size, self.image_size), Image.Resampling.BICUBIC)
        return np.asarray(picture)

    @torch.no_grad()
    def __call__(self, images) -> torch.Tensor:
        out = []
        for start in range(0, len(images), self.batch_size):
            batch = np.stack([self._resized(im) for im in images[start : start + self.batch_size]])  # (B, S, S, 3)
            tensors = torch.from_numpy(batch).permute(0, 3, 1, 2).float().div(255.0)  # (B, 3, S, S) in [0, 1]
            out.append(grid_statistics(self.encoder(tensors.to(self.device))).cpu())  # (B, 448)
        return torch.cat(out) if out else torch.zeros(0, 448)

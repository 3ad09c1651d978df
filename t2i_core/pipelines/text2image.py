"""``load_pipeline("text2image", encoder="use")``: sentences in, flower images out.

The generator and its sentence encoder load once. The same prompt and seed give the same
images: the noise comes from a generator seeded per call, and the conditioning uses the
mean of the conditioning-augmentation Gaussian.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..device import select_device
from ..models.text2image_gan import Text2ImageGenerator
from ..registry import load_text_encoder
from .heatmaps import heatmap_overlay
from .text_input import check_sentence

CHECKPOINTS = Path(__file__).resolve().parents[2] / "checkpoints"
MAX_IMAGES = 64
MAX_STEPS = 32


def to_pil(images: torch.Tensor) -> list[Image.Image]:
    """Images (N, 3, H, W) in [-1, 1] as PIL RGB images."""
    array = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    return [Image.fromarray(a, "RGB") for a in array]


@dataclass
class GeneratedImages:
    """Images of one prompt with the generator's residual-attention masks.

    ``masks`` maps a resolution (8, 16) to an array (N, r, r) in (0, 1): the soft mask of
    the attention module at that resolution, averaged over channels.
    """

    prompt: str
    images: list[Image.Image]
    masks: dict[int, np.ndarray] = field(default_factory=dict)

    def mask_overlays(self, resolution: int = 16, scale: int = 2) -> list[Image.Image]:
        """Each image, enlarged ``scale`` times, with its mask at ``resolution`` as a heatmap on top."""
        if resolution not in self.masks:
            raise ValueError(f"no mask at {resolution}x{resolution}; masks exist at {sorted(self.masks) or 'none (return_masks=False)'}")
        return [
            heatmap_overlay(image.resize((image.width * scale, image.height * scale), Image.Resampling.LANCZOS), mask)
            for image, mask in zip(self.images, self.masks[resolution])
        ]


class Text2ImagePipeline:
    """``pipe(prompt, num_images=4, seed=0)`` -> list of PIL images (a list per prompt for a list).

    Args:
        encoder: the text encoder the generator was trained with (``use`` or ``glove-avg``).
        checkpoint: a folder or hub id; default ``checkpoints/text2image-<encoder>``.
        device: where to run (default: automatic, or ``$T2I_DEVICE``).
    """

    def __init__(self, encoder: str = "use", checkpoint: str | Path | None = None, device: str | None = None):
        self.device = select_device(device)
        self.generator = Text2ImageGenerator.from_pretrained(checkpoint or CHECKPOINTS / f"text2image-{encoder}", device=self.device)
        trained_with = self.generator.config.text_encoder
        if trained_with != encoder:
            raise ValueError(f"this generator was trained with the {trained_with!r} encoder, not {encoder!r}")
        self.encoder_name = encoder
        self.encoder = load_text_encoder(encoder)

    def embed(self, prompts: Sequence[str]) -> torch.Tensor:
        """Sentence embeddings (N, text_dim) of checked prompts."""
        texts = [check_sentence(p, f"prompt {i + 1}") for i, p in enumerate(prompts)]
        return torch.from_numpy(self.encoder.encode(texts)).to(self.device)

    def _noise(self, count: int, seed: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(int(seed))
        return torch.randn(count, self.generator.config.noise_dim, generator=generator).to(self.device)

    @torch.no_grad()
    def generate(self, embeddings: torch.Tensor, noise: torch.Tensor, return_masks: bool = False):
        """Images (N, 3, 64, 64) in [-1, 1] and masks for embeddings (N, D) and noise (N, noise_dim)."""
        out = self.generator(embeddings, noise, sample_condition=False, return_masks=return_masks)
        return out.images, {k: v.cpu().numpy() for k, v in out.masks.items()}

    def __call__(self, prompt: str | Sequence[str], num_images: int = 4, seed: int = 0, return_masks: bool = False):
        """Images for one prompt (a list of PIL images) or for several (a list of such lists).

        With ``return_masks=True`` each prompt gives a :class:`GeneratedImages` instead.
        Image i of a prompt uses the same noise whatever the prompt, so two prompts with
        one seed differ only by their text.
        """
        if not 1 <= int(num_images) <= MAX_IMAGES:
            raise ValueError(f"num_images must be between 1 and {MAX_IMAGES}, got {num_images}")
        single = isinstance(prompt, str)
        prompts = [prompt] if single else list(prompt)
        embeddings = self.embed(prompts)  # (P, D)
        noise = self._noise(int(num_images), seed)  # (n, noise_dim), shared by all prompts
        results = []
        for text, embedding in zip(prompts, embeddings):
            images, masks = self.generate(embedding.expand(int(num_images), -1), noise, return_masks)
            pil = to_pil(images)
            results.append(GeneratedImages(text.strip(), pil, masks) if return_masks else pil)
        return results[0] if single else results

    def interpolate(self, text_a: str, text_b: str, steps: int = 8, seed: int = 0) -> list[Image.Image]:
        """Images walking from ``text_a`` to ``text_b`` in sentence-embedding space, with one fixed noise."""
        if not 2 <= int(steps) <= MAX_STEPS:
            raise ValueError(f"steps must be between 2 and {MAX_STEPS}, got {steps}")
        a, b = self.embed([text_a, text_b])
        weights = torch.linspace(0, 1, int(steps), device=self.device)[:, None]  # (steps, 1)
        path = (1 - weights) * a + weights * b  # (steps, D)
        noise = self._noise(1, seed).expand(int(steps), -1)
        images, _ = self.generate(path, noise)
        return to_pil(images)

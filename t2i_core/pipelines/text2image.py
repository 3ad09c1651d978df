"""``load_pipeline("text2image", encoder="use")``: sentences in, flower images out.

``pipe(prompt)`` and ``pipe([prompts])`` both return a :class:`Text2ImageOutput`;
``Text2ImagePipeline.from_pretrained(folder_or_hub_id)`` loads a generator by name.

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

from ..checkpoint import SHIPPED_CHECKPOINTS, resolve_checkpoint_dir
from ..device import select_device
from ..models.text2image_gan import Text2ImageGenerator
from ..registry import TEXT_ENCODERS, load_text_encoder
from .heatmaps import heatmap_overlay
from .pretrained import PretrainedPipeline
from .text_input import check_sentence

CHECKPOINTS = SHIPPED_CHECKPOINTS
DEFAULT_ENCODER = "use"
MAX_IMAGES = 64
MAX_STEPS = 32


def shipped_encoders() -> list[str]:
    """The sentence encoders that have a shipped generator (``checkpoints/text2image-<encoder>``), the default first."""
    names = [folder.name.removeprefix("text2image-") for folder in CHECKPOINTS.glob("text2image-*") if (folder / "config.json").is_file()]
    return sorted(names, key=lambda name: (name != DEFAULT_ENCODER, name))


def shipped_checkpoint(encoder: str | None = None) -> Path:
    """The folder of the shipped generator trained with ``encoder`` (default: ``use``).

    Raises:
        ValueError: no generator trained with ``encoder`` is shipped; the message names those that are.
    """
    encoder = encoder or DEFAULT_ENCODER
    names = shipped_encoders()
    if encoder not in names:
        listed = ", ".join(names) or "none"
        train = f"train one with `python -m t2i_core train text2image --encoder {encoder} --ship`"
        if encoder in TEXT_ENCODERS:  # a sentence encoder that no shipped generator was trained with
            raise ValueError(f"no generator trained with the {encoder!r} encoder is shipped ({train}); shipped text-to-image encoders: {listed}")
        raise ValueError(f"unknown encoder {encoder!r}; shipped text-to-image encoders: {listed}")
    return CHECKPOINTS / f"text2image-{encoder}"


def to_pil(images: torch.Tensor) -> list[Image.Image]:
    """Images (N, 3, H, W) in [-1, 1] as PIL RGB images."""
    array = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    return [Image.fromarray(a, "RGB") for a in array]


@dataclass
class Text2ImageOutput:
    """What :class:`Text2ImagePipeline` returns: the images of every prompt, and on request the generator's masks.

    Image ``j`` of every prompt was drawn from the same noise, so two prompts differ only by their text.
    """

    prompts: list[str]  # (P,) the prompts as the generator read them (surrounding white space removed)
    images: list[list[Image.Image]]  # (P, num_images) 64x64 RGB images
    # resolution r (8, 16) -> (P, num_images, r, r) in (0, 1): the soft mask of the residual-attention
    # module at that resolution, averaged over channels; empty unless the call asked for masks.
    masks: dict[int, np.ndarray] = field(default_factory=dict)

    def mask_overlays(self, prompt: int = 0, resolution: int = 16, scale: int = 2) -> list[Image.Image]:
        """Each image of prompt ``prompt``, enlarged ``scale`` times, with its mask at ``resolution`` as a heatmap on top."""
        if resolution not in self.masks:
            raise ValueError(f"no mask at {resolution}x{resolution}; masks exist at {sorted(self.masks) or 'none (return_masks=False)'}")
        return [
            heatmap_overlay(image.resize((image.width * scale, image.height * scale), Image.Resampling.LANCZOS), mask)
            for image, mask in zip(self.images[prompt], self.masks[resolution][prompt])
        ]


class Text2ImagePipeline(PretrainedPipeline):
    """``pipe(prompt, num_images=4, seed=0)`` -> :class:`Text2ImageOutput`, for one prompt or a list.

    ``Text2ImagePipeline.from_pretrained(folder_or_hub_id)`` loads a generator by name and
    the sentence encoder it was trained with.

    Args:
        encoder: the text encoder the generator was trained with (``use`` or ``glove-avg``);
            default: the one the checkpoint names, ``use`` for the shipped default.
        checkpoint: a folder or hub id; default ``checkpoints/text2image-<encoder>``
            (:func:`shipped_checkpoint`, a ValueError naming the shipped encoders if there is none).
        device: where to run (default: automatic, or ``$T2I_DEVICE``).
    """

    def __init__(self, encoder: str | None = None, checkpoint: str | Path | None = None, device: str | None = None):
        self.device = select_device(device)
        folder = resolve_checkpoint_dir(checkpoint if checkpoint is not None else shipped_checkpoint(encoder))
        self.generator = Text2ImageGenerator.from_pretrained(folder, device=self.device)
        trained_with = self.generator.config.text_encoder
        if encoder is not None and trained_with != encoder:
            raise ValueError(f"this generator was trained with the {trained_with!r} encoder, not {encoder!r}")
        self.encoder_name = trained_with
        self.encoder = load_text_encoder(trained_with)

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

    def __call__(self, prompt: str | Sequence[str], num_images: int = 4, seed: int = 0, return_masks: bool = False) -> Text2ImageOutput:
        """``num_images`` images of each prompt; a single prompt is a batch of one.

        Image i of a prompt uses the same noise whatever the prompt, so two prompts with
        one seed differ only by their text. ``return_masks`` also returns the
        residual-attention masks (``Text2ImageOutput.masks``).

        Raises:
            ValueError: an empty, overlong or garbled prompt, or ``num_images`` out of range.
        """
        # 1. check inputs
        if not 1 <= int(num_images) <= MAX_IMAGES:
            raise ValueError(f"num_images must be between 1 and {MAX_IMAGES}, got {num_images}")
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        # 2. encode the prompts
        embeddings = self.embed(prompts)  # (P, D)
        # 3. draw the noise, shared by all prompts
        noise = self._noise(int(num_images), seed)  # (n, noise_dim)
        # 4. generate, prompt by prompt
        images, masks = [], []
        for embedding in embeddings:
            pictures, prompt_masks = self.generate(embedding.expand(int(num_images), -1), noise, return_masks)
            images.append(to_pil(pictures))
            masks.append(prompt_masks)
        stacked = {r: np.stack([m[r] for m in masks]) for r in masks[0]} if return_masks else {}  # r -> (P, n, r, r)
        return Text2ImageOutput(prompts=[p.strip() for p in prompts], images=images, masks=stacked)

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

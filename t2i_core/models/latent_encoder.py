"""The noise that redraws a real flower: BicycleGAN's encoder, for training the text-to-image GAN.

A conditional GAN is free to ignore its noise: nothing in "is this a real flower with this
caption?" asks two draws of one caption to differ, and on a CPU budget the generator
settles on one flower per caption (measured, README). BicycleGAN (Zhu et al., 2017,
"Toward Multimodal Image-to-Image Translation") closes that gap with a conditional VAE
inside the GAN: an encoder reads a real image and proposes the noise z that, with the
image's own caption, should redraw it; the generator is asked to redraw it (an L1 loss),
and a KL term keeps the proposed z close to N(0, I), the noise drawn at inference.

What that gives here:

- **Diversity by construction.** What the caption leaves open (shape, count, size,
  background) can only reach the redrawn image through z, so the generator must read z.
- **Binding by supervision.** Colours the caption states are cheaper to read from the
  text than to squeeze through the KL-limited z, so the generator learns the text's
  colours from a direct, per-pixel signal instead of only through the discriminator.

The encoder reads the projected discriminator's fixed maps (frozen EfficientNet-Lite0,
random projections) at the middle scale, so it costs one small head; it only exists in
training and is not part of the exported generator.
"""

from __future__ import annotations

import torch
from torch import nn

from .projected_discriminator import middle_scale_reader


class LatentEncoder(nn.Module):
    """Projected maps (B, C, 8, 8) of real images -> (mean, log-variance) (B, noise_dim) each."""

    def __init__(self, channels: int, noise_dim: int, width: int = 64):
        super().__init__()
        self.body = middle_scale_reader(channels, width)
        self.to_stats = nn.Linear(width * 16, 2 * noise_dim)

    def forward(self, maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.body(maps.contiguous())  # (B, width, 4, 4); see middle_scale_reader
        mean, log_variance = self.to_stats(x.flatten(1)).chunk(2, dim=1)  # (B, noise_dim) each
        return mean, log_variance.clamp(-10, 10)

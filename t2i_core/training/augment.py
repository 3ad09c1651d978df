"""Differentiable augmentation (Zhao et al., 2020, "Differentiable Augmentation for
Data-Efficient GAN Training"), as Projected GAN applies it before its discriminator.

The same random translation and cutout are applied to real and generated images before
the discriminator sees them, and they are differentiable, so the generator's gradient
passes through them. The discriminator then cannot win by memorising exact pixels of
the training flowers. There is no colour jitter: colour is the label here (a red flower
turned orange would be a real image with the wrong caption).
"""

from __future__ import annotations

import torch


def translate(images: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image (B, C, H, W) by up to ``ratio`` of its size in x and y, filling with
    the border's pixels (zeros would paint a black frame no real flower has)."""
    b, _, h, w = images.shape
    shift_y = torch.randint(-int(h * ratio), int(h * ratio) + 1, (b, 1, 1), device=images.device)
    shift_x = torch.randint(-int(w * ratio), int(w * ratio) + 1, (b, 1, 1), device=images.device)
    rows = (torch.arange(h, device=images.device)[None, :, None] - shift_y).clamp(0, h - 1)  # (B, H, 1)
    cols = (torch.arange(w, device=images.device)[None, None, :] - shift_x).clamp(0, w - 1)  # (B, 1, W)
    index = (rows * w + cols).flatten(1)  # (B, H * W)
    flat = images.flatten(2)  # (B, C, H * W)
    return flat.gather(2, index[:, None, :].expand(-1, images.shape[1], -1)).view_as(images)


def cutout(images: torch.Tensor, ratio: float = 0.25) -> torch.Tensor:
    """Grey out one square of side ``ratio`` of the image at a random place in each image."""
    b, _, h, w = images.shape
    size_y, size_x = int(h * ratio), int(w * ratio)
    top = torch.randint(0, h - size_y + 1, (b, 1, 1), device=images.device)
    left = torch.randint(0, w - size_x + 1, (b, 1, 1), device=images.device)
    ys = torch.arange(h, device=images.device)[None, :, None]
    xs = torch.arange(w, device=images.device)[None, None, :]
    inside = (ys >= top) & (ys < top + size_y) & (xs >= left) & (xs < left + size_x)  # (B, H, W)
    return images * (~inside)[:, None].to(images.dtype)  # 0 is mid-grey in [-1, 1]


def diff_augment(images: torch.Tensor, translation: float = 0.125, cutout_ratio: float = 0.25) -> torch.Tensor:
    """Translation, then cutout, of images (B, C, H, W) in [-1, 1]; 0 turns either off."""
    if translation > 0:
        images = translate(images, translation)
    if cutout_ratio > 0:
        images = cutout(images, cutout_ratio)
    return images


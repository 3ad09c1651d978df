"""Residual attention (Wang et al., 2017, "Residual Attention Network for Image Classification").

An attention module has two branches over the same input: a trunk T (residual units
that process features) and a soft mask M (an hourglass that pools down, processes the
coarse map, upsamples back and squashes to (0, 1) with a sigmoid). The output is
``(1 + M) * T``: the mask can only amplify trunk features, never erase them, which is
what lets many modules stack without the signal dying out ("attention residual
learning"). Here the modules sit inside the text-to-image generator, and the masks are
returned so the app can show where each module boosted the features.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ResidualUnit(nn.Module):
    """Pre-activation residual unit: x + conv(relu(norm(conv(relu(norm(x))))))."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=False),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SoftMaskBranch(nn.Module):
    """Down-up hourglass ending in a sigmoid: (B, C, H, W) -> mask (B, C, H, W) in (0, 1).

    One level of pooling, as the modules here work on 16x16 and smaller maps: the
    receptive field of the pooled residual unit already spans the whole flower.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.coarse = ResidualUnit(channels)
        self.to_mask = nn.Sequential(
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        coarse = self.coarse(F.max_pool2d(x, 2))  # (B, C, H/2, W/2)
        fine = F.interpolate(coarse, size=x.shape[-2:], mode="bilinear", align_corners=False)  # (B, C, H, W)
        return torch.sigmoid(self.to_mask(fine))


class ResidualAttentionModule(nn.Module):
    """Trunk T and soft mask M over the same input, combined as (1 + M) * T.

    ``forward`` returns the output (B, C, H, W) and the mask (B, C, H, W).
    """

    def __init__(self, channels: int, trunk_units: int = 1):
        super().__init__()
        self.trunk = nn.Sequential(*[ResidualUnit(channels) for _ in range(trunk_units)])
        self.mask = SoftMaskBranch(channels)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        trunk = self.trunk(x)  # (B, C, H, W)
        mask = self.mask(x)  # (B, C, H, W) in (0, 1)
        return (1 + mask) * trunk, mask

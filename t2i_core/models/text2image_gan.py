"""GAN-INT-CLS (Reed et al., 2016, "Generative Adversarial Text to Image Synthesis") with residual attention.

The generator turns a sentence embedding and noise into a 64x64 image:

1. Conditioning augmentation (Zhang et al., StackGAN): the embedding is projected with a
   leaky ReLU to a mean and log-variance, and a 128-d condition is sampled from that
   Gaussian. Sampling smooths the conditioning manifold, which is what GAN-INT
   interpolation walks along; a KL term keeps it close to N(0, I).
2. A DCGAN-style stack upsamples [z; c] from 4x4 to 64x64 (nearest upsampling + 3x3
   convolutions, which avoids the checkerboard of transposed convolutions).
3. Residual attention modules (``residual_attention.py``) at 8x8 and 16x16 let the
   generator boost features where the parts are drawn; their masks come back on request.
4. With ``text_affine`` (the projected recipe's generator), every upsampling block's batch
   norm takes its scale and shift from [z; c] (DF-GAN's text-conditioned affine fusion),
   so text and noise steer every resolution of a narrow, CPU-cheap generator.

The discriminator here is the seed's ("classic") one, trained from scratch; the
projected discriminator on frozen EfficientNet-Lite0 features is in
``projected_discriminator.py`` and is what ``train text2image`` uses by default.

The discriminator reads the image down to 4x4, concatenates the projected text
replicated over the 4x4 grid, and scores the pair. It uses spectral normalisation on
every layer and the hinge loss (see the training task): both keep the discriminator
Lipschitz and its gradients informative, which a small GAN trained on a CPU needs far
more than the original's batch-norm + binary cross-entropy. With ``projection=True`` the
score also gets the inner product of the pooled image features with a projection of
the text (the projection discriminator of Miyato & Koyama, 2018): the match between
image and sentence then enters the score directly rather than only through the
concatenated 4x4 map, which gives the generator a sharper gradient on which colour
goes to which part. With ``auxiliary_colours=K`` the discriminator also has two heads
that classify the petal and the stem colour of an image into K colours (the auxiliary
classifier of AC-GAN, Odena et al., 2017, as TAC-GAN, Dash et al., 2017, used it for
text to image): it learns them on real images, and the generator is asked to draw
images whose colours it names as the caption says. The generator still sees only the
sentence embedding; the heads give it a direct, part-by-part signal instead of the one
bit of "match or not", which on a CPU budget is the difference between learning the
binding in a few thousand steps or not at all. ``auxiliary_attributes`` (attribute name ->
number of classes) adds a head for each further attribute (centre colour, petal shape,
petal count, size): the generator is then held to every attribute a caption states, not
only the two colours.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ..checkpoint import PretrainedModel
from .residual_attention import ResidualAttentionModule


@dataclass
class Text2ImageConfig:
    """Sizes of the generator and discriminator, and the text encoder they were trained with."""

    text_encoder: str = "use"
    text_dim: int = 512
    condition_dim: int = 128
    noise_dim: int = 100
    generator_width: int = 32  # channels at 32x32; 8x this at 4x4
    discriminator_width: int = 32
    image_size: int = 64
    attention_at: tuple = (8, 16)  # resolutions that get a residual attention module
    projection: bool = False  # add a projection term (Miyato & Koyama, 2018) to the discriminator's score
    text_affine: bool = False  # DF-GAN-style text-and-noise-conditioned batch norm in every upsampling block
    feature_input_size: int = 64  # the projected discriminator's input side for its frozen feature network
    auxiliary_colours: int = 0  # >0: the discriminator also names petal and stem colour (TAC-GAN); 0: off
    auxiliary_attributes: dict = field(default_factory=dict)  # attribute -> classes: more heads besides the colours (needs auxiliary_colours)
    attribute_reader: bool = False  # projected discriminator: the heads read the fixed features through their own reader, not phi
    label_projection: dict = field(default_factory=dict)  # projected discriminator: attribute -> classes, projection terms of the stated attributes


class EmbeddingStandardizer(nn.Module):
    """Per-dimension standardisation of sentence embeddings, fitted on the training captions.

    USE vectors of two flower captions have a cosine near 0.9: what tells them apart lives
    in small differences along a few directions. Centring and scaling each dimension
    by its spread over the training captions brings those differences to unit size
    before any layer sees them. The statistics are buffers, so they ship with the weights.
    """

    def __init__(self, text_dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(text_dim))
        self.register_buffer("scale", torch.ones(text_dim))

    def fit(self, embeddings: torch.Tensor) -> None:
        """Set the statistics from embeddings (N, text_dim)."""
        self.mean.copy_(embeddings.mean(0))
        self.scale.copy_(embeddings.std(0).clamp_min(1e-6))

    def forward(self, embedding: torch.Tensor) -> torch.Tensor:
        return (embedding - self.mean) / self.scale


class TextConditioning(nn.Module):
    """Sentence embedding (B, text_dim) -> condition (B, condition_dim), with mean and log-variance."""

    def __init__(self, text_dim: int, condition_dim: int):
        super().__init__()
        self.standardize = EmbeddingStandardizer(text_dim)
        self.project = nn.Linear(text_dim, condition_dim * 2)

    def forward(self, embedding: torch.Tensor, sample: bool = True):
        stats = F.leaky_relu(self.project(self.standardize(embedding)), 0.2)  # (B, 2 * condition_dim)
        mean, log_variance = stats.chunk(2, dim=1)  # (B, condition_dim) each
        if not sample:
            return mean, mean, log_variance
        noise = torch.randn_like(mean)
        return mean + noise * torch.exp(0.5 * log_variance), mean, log_variance


class TextAffine(nn.Module):
    """Batch norm whose scale and shift come from the condition (DF-GAN's affine fusion).

    ``x (B, C, H, W), condition (B, K) -> (1 + gamma(condition)) * BN(x) + beta(condition)``.
    The text (and noise) then shapes every resolution, not only the 4x4 start, which is
    what lets a small generator keep "red petals" and "yellow stem" apart as it upsamples.
    gamma and beta start at 0, so the block starts as a plain batch norm.
    """

    def __init__(self, channels: int, condition_dim: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.affine = nn.Linear(condition_dim, 2 * channels)
        nn.init.zeros_(self.affine.weight)
        nn.init.zeros_(self.affine.bias)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.affine(condition)[:, :, None, None].chunk(2, dim=1)  # (B, C, 1, 1) each
        return (1 + gamma) * self.norm(x) + beta


class UpBlock(nn.Module):
    """(B, C_in, H, W) -> (B, C_out, 2H, 2W): nearest upsampling, 3x3 convolution (no
    checkerboard, unlike transposed convolutions), batch norm (text-conditioned with
    ``condition_dim``), ReLU."""

    def __init__(self, in_channels: int, out_channels: int, condition_dim: int = 0):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.norm = TextAffine(out_channels, condition_dim) if condition_dim else nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        x = self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))  # (B, C_out, 2H, 2W)
        x = self.norm(x, condition) if isinstance(self.norm, TextAffine) else self.norm(x)
        return F.relu(x)


@dataclass
class GeneratorOutput:
    """Images (B, 3, 64, 64) in [-1, 1]; KL statistics; attention masks by resolution."""

    images: torch.Tensor
    mean: torch.Tensor
    log_variance: torch.Tensor
    masks: dict


class Text2ImageGenerator(PretrainedModel):
    """[z; c(text)] -> 64x64 image, with residual attention at ``config.attention_at``."""

    config_class = Text2ImageConfig
    model_type = "text2image-generator"

    def __init__(self, config: Text2ImageConfig):
        super().__init__()
        self.config = config
        w = config.generator_width
        self.conditioning = TextConditioning(config.text_dim, config.condition_dim)
        self.start = nn.Sequential(
            nn.Linear(config.noise_dim + config.condition_dim, 8 * w * 4 * 4, bias=False),
            nn.BatchNorm1d(8 * w * 4 * 4),
            nn.ReLU(inplace=True),
        )
        # channels per resolution: 4 -> 8w, 8 -> 4w, 16 -> 2w, 32 -> w, 64 -> w/2
        widths = {4: 8 * w, 8: 4 * w, 16: 2 * w, 32: w, 64: max(w // 2, 8)}
        self.ups = nn.ModuleList()
        self.attention = nn.ModuleDict()
        affine_dim = config.noise_dim + config.condition_dim if config.text_affine else 0
        size = 4
        while size < config.image_size:
            self.ups.append(UpBlock(widths[size], widths[size * 2], affine_dim))
            size *= 2
            if size in config.attention_at:
                self.attention[str(size)] = ResidualAttentionModule(widths[size])
        self.to_rgb = nn.Conv2d(widths[config.image_size], 3, 3, padding=1)

    def forward(self, embedding: torch.Tensor, noise: torch.Tensor, sample_condition: bool = True, return_masks: bool = False) -> GeneratorOutput:
        """embedding (B, text_dim), noise (B, noise_dim) -> :class:`GeneratorOutput`."""
        condition, mean, log_variance = self.conditioning(embedding, sample=sample_condition)  # (B, condition_dim)
        joint = torch.cat([noise, condition], dim=1)  # (B, noise_dim + condition_dim)
        x = self.start(joint)  # (B, 8w * 16)
        x = x.view(x.shape[0], -1, 4, 4)  # (B, 8w, 4, 4)
        masks = {}
        for up in self.ups:
            x = up(x, joint)  # (B, C, 2H, 2W)
            key = str(x.shape[-1])
            if key in self.attention:
                x, mask = self.attention[key](x)
                if return_masks:
                    masks[int(key)] = mask.mean(dim=1)  # (B, H, W): mean over channels, for display
        images = torch.tanh(self.to_rgb(x))  # (B, 3, 64, 64)
        return GeneratorOutput(images, mean, log_variance, masks)


@torch.no_grad()
def recalibrate_batchnorm(generator: Text2ImageGenerator, embeddings: torch.Tensor, batches: int = 64, batch_size: int = 64, seed: int = 0) -> None:
    """Recompute the generator's batch-norm statistics as exact averages over many batches.

    Running statistics kept during training trail a moving generator, and an averaged
    (EMA) generator inherits statistics of weights it does not have; in eval mode either
    mismatch washes the images out. This sets every batch-norm layer's running mean and
    variance to the average over ``batches`` batches of captions drawn from
    ``embeddings`` (N, text_dim) with fresh noise, then returns the generator in eval mode.
    """
    layers = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    generator.train()
    rng = torch.Generator().manual_seed(seed)
    device = next(generator.parameters()).device
    for _ in range(batches):
        rows = torch.randint(len(embeddings), (batch_size,), generator=rng)
        noise = torch.randn(batch_size, generator.config.noise_dim, generator=rng)
        generator(embeddings[rows].to(device), noise.to(device), sample_condition=False)
    for m, momentum in zip(layers, momenta):
        m.momentum = momentum
    generator.eval()


class Text2ImageDiscriminator(nn.Module):
    """(image (B, 3, 64, 64), embedding (B, text_dim)) -> realism-and-match score (B,)."""

    def __init__(self, config: Text2ImageConfig):
        super().__init__()
        self.config = config
        w = config.discriminator_width
        self.image = nn.Sequential(
            spectral_norm(nn.Conv2d(3, w, 4, 2, 1)),  # 32x32
            nn.LeakyReLU(0.2, inplace=True),
            spectral_norm(nn.Conv2d(w, 2 * w, 4, 2, 1)),  # 16x16
            nn.LeakyReLU(0.2, inplace=True),
            spectral_norm(nn.Conv2d(2 * w, 4 * w, 4, 2, 1)),  # 8x8
            nn.LeakyReLU(0.2, inplace=True),
            spectral_norm(nn.Conv2d(4 * w, 8 * w, 4, 2, 1)),  # 4x4
            nn.LeakyReLU(0.2, inplace=True),
        )
        self.standardize = EmbeddingStandardizer(config.text_dim)
        self.text = nn.Sequential(spectral_norm(nn.Linear(config.text_dim, config.condition_dim)), nn.LeakyReLU(0.2, inplace=True))
        self.joint = nn.Sequential(
            spectral_norm(nn.Conv2d(8 * w + config.condition_dim, 8 * w, 1)),
            nn.LeakyReLU(0.2, inplace=True),
            spectral_norm(nn.Conv2d(8 * w, 1, 4)),  # 4x4 -> 1x1
        )
        self.projection = spectral_norm(nn.Linear(config.text_dim, 8 * w, bias=False)) if config.projection else None
        k = config.auxiliary_colours
        if config.auxiliary_attributes and not k:
            raise ValueError("auxiliary_attributes needs the colour heads (auxiliary_colours > 0)")
        classes = {"petal": k, "stem": k, **config.auxiliary_attributes}
        # Spectrally normalised layers keep the features small; a layer norm gives the heads
        # inputs of unit scale, without which their logits stay near zero for thousands of steps.
        self.attribute_heads = nn.ModuleDict({
            name: nn.Sequential(nn.LayerNorm(8 * w), nn.Linear(8 * w, n)) for name, n in classes.items()
        }) if k else None

    def forward(self, images: torch.Tensor, embedding: torch.Tensor, return_attributes: bool = False):
        """Scores (B,) of the (image, text) pairs; with ``return_attributes`` also the heads'
        logits, ``{"petal": (B, K), "stem": (B, K), <attribute>: (B, classes), ...}``."""
        features = self.image(images)  # (B, 8w, 4, 4)
        standardized = self.standardize(embedding)  # (B, text_dim)
        text = self.text(standardized)[:, :, None, None].expand(-1, -1, *features.shape[-2:])  # (B, condition_dim, 4, 4)
        score = self.joint(torch.cat([features, text], dim=1)).flatten()  # (B,)
        if self.projection is not None:
            pooled = features.sum(dim=(2, 3))  # (B, 8w)
            score = score + (pooled * self.projection(standardized)).sum(dim=1)  # (B,)
        if not return_attributes:
            return score
        if self.attribute_heads is None:
            raise ValueError("this discriminator has no attribute heads (auxiliary_colours=0)")
        mean_features = features.mean(dim=(2, 3))  # (B, 8w)
        return score, {name: head(mean_features) for name, head in self.attribute_heads.items()}

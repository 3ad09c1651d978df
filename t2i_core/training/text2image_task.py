"""Training the text-to-image GAN: matching-aware hinge loss, GAN-INT, conditioning augmentation.

Per step, with x a real image, e its caption's embedding, e' a mismatched caption's:

- Discriminator (hinge, matching-aware, Reed et al.): (x, e) is real; (x, e') and
  (G(z, e), e) are fake, each weighted 1/2.
- Generator: fool D on (G(z, e), e), plus GAN-INT: fool D on (G(z, e_mix), e_mix) with
  e_mix halfway between two captions of the batch, plus the KL term of conditioning
  augmentation.
- Mode seeking (MSGAN, Mao et al., 2019; off by default): for a quarter of the batch the
  generator draws a second image of the same caption with other noise and is penalised
  by 1 / (mean |G(e, z1) - G(e, z2)| / mean |z1 - z2|), which counters the mode collapse a
  conditional GAN with auxiliary classifiers is prone to (noise that changes nothing).
- Colour heads (TAC-GAN, on by default): D also learns to name the petal and stem colour
  of real images (cross-entropy), and G is asked to draw images of (G(z, e), e) whose
  colours D names as the caption says. With ``auxiliary_attributes`` D names every
  attribute (centre colour, petal shape and count, size too), and G is held to each one
  its caption states; attributes a caption leaves out are not asked of G.

- Redrawing (BicycleGAN's cVAE term, ``reconstruction_weight``, projected only; off by
  default): a latent encoder (``models/latent_encoder.py``) reads a quarter of the batch's
  real flowers, in grey, and proposes the noise that should redraw them; the generator redraws each
  from its caption and that noise (L1), and a KL term keeps the proposed noise near N(0, I).
  What the caption leaves open can then only come from the noise, so the noise matters,
  and the stated colours get a per-pixel signal.

- Label projection (``label_projection``, projected only): D's projection term also
  reads the attributes each caption states (``models/projected_discriminator.py``, 7.),
  for every pair it judges, the mismatched and swapped ones with their own labels.
- Condition probe (``condition_probe_weight``): linear heads read the stated attributes
  back from the generator's text condition (its mean, before the noise of conditioning
  augmentation), cross-entropy. The generator's first layer must then lay the caption out
  as attributes in their roles, which is what its upsampling blocks need to draw them;
  the probe is dropped at export (it is not part of the generator).
- Attribute guide (``guide_weight``; on in the projected recipe): a classifier of every attribute,
  fitted on the real training flowers at 32x32 before the GAN starts and then frozen
  (``attribute_guide.py``), scores G's matching images against what their captions state;
  its cross-entropy is a term of G's loss (classifier guidance that no adversarial loss
  moves, unlike the colour heads).

Half of the mismatched captions are the image's own caption with petal and stem colours
exchanged (when that swapped pair is a seen pair): the discriminator, and through it the
generator, must then look at which colour belongs to which part, not just which colours
are present. The other half come from other images of the batch.

Conditioning augmentation (StackGAN's sampled condition and its KL term) can be switched
off (``condition_sampling=False``, ``kl_weight=0``). Measured (README): a generator of the
projected recipe trained on the attribute guide's loss alone, no discriminator, learned
no colour in 300 steps with the condition sampled and the KL at 0.5 (petal and stem right
0.12 / 0.14 of the time, chance), and 0.37 / 0.45 with the text's mean as the condition:
the sampled noise (unit variance at the start) drowns the few per cent by which two captions' embeddings differ.

Caption embeddings are computed once per unique caption and kept on disk.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from ..checkpoint import SHIPPED_CHECKPOINTS
from ..data import load_world
from ..data.cache import default_cache_dir, rendered_images, save_array
from ..data.flowers import ATTRIBUTE_VALUES, SEEN_PAIRS, TEMPLATES_BY_NAME, swap_colours
from ..evaluation.text2image import FrechetMonitor, binding_report, sample_grid, seen_prompts
from ..models.latent_encoder import LatentEncoder
from ..models.projected_discriminator import ProjectedDiscriminator
from ..models.text2image_gan import Text2ImageConfig, Text2ImageDiscriminator, Text2ImageGenerator, recalibrate_batchnorm
from ..registry import load_text_encoder
from .attribute_guide import fit_attribute_guide, guide_loss
from .attribute_loss import attribute_loss
from .augment import diff_augment
from .ema import ema_copy, ema_decay_at, update_ema
from .loop import TrainingTask

# The two recipes `train text2image --discriminator` chooses between, and what each sets.
# Projected: a narrower generator (a CPU step must stay cheap) with text and noise in every
# upsampling block (DF-GAN's affine), Projected GAN's optimiser settings, and colour heads
# at 0.2: at 1 (the classic weight) a CPU run drew colour blobs and no flower for 2000
# steps; at 0 the generator ignored the text; at 0.2 stems, centres and petals appeared
# within 750 steps (README, measured). The condition is the text's mean (no conditioning
# augmentation, no KL), with the attribute guide at 0.5 and mode seeking at 1: from scratch on
# one CPU core, binding 0.45 and Frechet ratio 31 at step 2000 where the same recipe with
# the condition sampled and no guide stood at 0.13 and 43 (README, measured).
# Classic: exactly the seed's recipe.
RECIPES = {
    "projected": {"width": 24, "text_affine": True, "interpolation_share": 0.5, "auxiliary_weight": 0.2,
                  "discriminator_lr": 2e-4, "betas": (0.0, 0.99), "ema_warmup": True,
                  "condition_sampling": False, "kl_weight": 0.0, "guide_weight": 0.5, "mode_seeking_weight": 1.0},
    "classic": {"width": 32, "text_affine": False, "interpolation_share": 1.0, "auxiliary_weight": 1.0,
                "discriminator_lr": 4e-4, "betas": (0.5, 0.999), "ema_warmup": False,
                "condition_sampling": True, "kl_weight": 0.5, "guide_weight": 0.0, "mode_seeking_weight": 0.0},
}
# Settings a recipe chooses that a caller may override (``None``: the recipe's).
RECIPE_SETTINGS = ("condition_sampling", "kl_weight", "guide_weight", "mode_seeking_weight")
DISCRIMINATORS = tuple(RECIPES)


# The rose pairs drawn in the sample grids during training.
GRID_PROMPTS = ["a red flower with a yellow stem", "a yellow flower with a red stem",
                "a blue flower with a white stem", "a white flower with a blue stem"]


def discriminator_hinge_loss(real_right: torch.Tensor, real_wrong: torch.Tensor, fake_right: torch.Tensor) -> torch.Tensor:
    """Matching-aware hinge loss of D from its scores (B,) on the three kinds of pair."""
    return F.relu(1 - real_right).mean() + 0.5 * (F.relu(1 + real_wrong).mean() + F.relu(1 + fake_right).mean())


def generator_hinge_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """The generator's hinge loss: raise D's score of its images with their texts."""
    return -fake_scores.mean()


def mode_seeking_loss(images_a: torch.Tensor, images_b: torch.Tensor, noise_a: torch.Tensor, noise_b: torch.Tensor) -> torch.Tensor:
    """MSGAN's term for two images (B, 3, H, W) of the same captions drawn from noise (B, Z):
    the inverse of how far the images move per unit of noise, small when noise matters."""
    ratio = (images_a - images_b).abs().mean() / (noise_a - noise_b).abs().mean()
    return 1.0 / (ratio + 1e-5)


def kl_divergence(mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(log_variance)) || N(0, I)), summed over dims, averaged over the batch."""
    return 0.5 * torch.mean(torch.sum(mean**2 + log_variance.exp() - 1 - log_variance, dim=1))


def caption_embeddings(encoder_name: str, captions: list[str], cache_dir: Path | None = None) -> np.ndarray:
    """Embeddings (len(captions), dim) of ``captions`` under ``encoder_name``, cached on disk."""
    digest = hashlib.sha1(("\n".join(captions)).encode()).hexdigest()[:16]
    folder = Path(cache_dir) if cache_dir else default_cache_dir()
    path = folder / f"captions-{encoder_name}-{len(captions)}-{digest}.npy"
    if path.is_file():
        return np.load(path)
    vectors = load_text_encoder(encoder_name).encode(captions).astype(np.float32)
    save_array(path, vectors)
    return vectors


# Caption template slot -> the attribute it states.
SLOT_ATTRIBUTES = {"petal": "petal_colour", "stem": "stem_colour", "centre": "centre_colour",
                   "shape": "petal_shape", "count": "petal_count", "size": "size"}


class CaptionedFlowers(Dataset):
    """Rendered flowers with, per image, the ids of its captions and of their swapped twins.

    ``captions`` is the list of unique caption strings; ``caption_ids`` (N, T) and
    ``swapped_ids`` (N, T) index it, -1 where the swapped pair is held out of training.
    ``labels`` (N, A) are each image's attributes as class indices, in the order of
    ``ATTRIBUTE_VALUES``; ``caption_labels`` (C, A) the attributes each caption states,
    -1 where it says nothing of one. ``__getitem__`` returns (image (3, H, W) in [-1, 1],
    caption id, swapped id, image index), with the caption chosen at random among the
    image's T captions.
    """

    def __init__(self, world):
        self.images = rendered_images(world)
        index: dict[str, int] = {}
        captions: list[str] = []

        def caption_id(text: str) -> int:
            if text not in index:
                index[text] = len(captions)
                captions.append(text)
            return index[text]

        def stated(template: str, attributes: dict) -> list[int]:
            slots = {a for slot, a in SLOT_ATTRIBUTES.items() if "{" + slot + "}" in TEMPLATES_BY_NAME[template].text}
            return [values.index(attributes[a]) if a in slots else -1 for a, values in ATTRIBUTE_VALUES.items()]

        seen = set(SEEN_PAIRS)
        ids, swapped, labels, caption_labels = [], [], [], {}
        for s in world.samples(render=False):
            twin = swap_colours(s.attributes)
            twin_seen = (twin["petal_colour"], twin["stem_colour"]) in seen
            ids.append([caption_id(c) for c in s.captions])
            swapped.append([caption_id(TEMPLATES_BY_NAME[t].fill(twin)) if twin_seen else -1 for t in s.templates])
            labels.append([values.index(s.attributes[a]) for a, values in ATTRIBUTE_VALUES.items()])
            for t, i in zip(s.templates, ids[-1]):
                caption_labels[i] = stated(t, s.attributes)
            for t, i in zip(s.templates, swapped[-1]):
                if i >= 0:
                    caption_labels[i] = stated(t, twin)
        self.captions = captions
        self.caption_ids = np.asarray(ids, dtype=np.int64)
        self.swapped_ids = np.asarray(swapped, dtype=np.int64)
        self.labels = np.asarray(labels, dtype=np.int64)  # (N, A)
        self.caption_labels = np.asarray([caption_labels[i] for i in range(len(captions))], dtype=np.int64)  # (C, A)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        image = torch.from_numpy(np.array(self.images[i])).permute(2, 0, 1).float() / 127.5 - 1.0  # (3, H, W)
        k = int(torch.randint(self.caption_ids.shape[1], (1,)))
        return image, int(self.caption_ids[i, k]), int(self.swapped_ids[i, k]), i


@dataclass
class Text2ImageTaskConfig:
    """Data, losses and optimisation of a text-to-image run."""

    text_encoder: str = "use"
    train_size: int = 20000
    world_seed: int = 0
    generator_lr: float = 2e-4
    discriminator_lr: float = 4e-4
    betas: tuple = (0.5, 0.999)
    kl_weight: float = 0.5
    condition_sampling: bool = True  # conditioning augmentation: G trains on a condition sampled around the text's mean
    interpolation_weight: float = 1.0
    interpolation_share: float = 1.0  # GAN-INT images per matching image in the generator's step
    swapped_mismatch_rate: float = 0.5
    auxiliary_weight: float = 1.0  # weight of the colour heads' cross-entropy (TAC-GAN); 0 turns them off
    auxiliary_attributes: bool = False  # heads for every attribute, not only petal and stem colour
    attribute_reader: bool = False  # projected only: the heads read the fixed features through their own reader, trained on real images only
    mode_seeking_weight: float = 0.0  # weight of the MSGAN diversity term; 0 turns it off
    reconstruction_weight: float = 0.0  # projected only: BicycleGAN's cVAE term, L1 of real images redrawn from encoded noise; 0: off
    reconstruction_share: float = 0.25  # ... on this share of the batch
    latent_kl_weight: float = 0.05  # ... with this weight on the KL of the encoded noise to N(0, I)
    label_projection: bool = False  # projected only: D's projection term also reads the attributes each caption states
    condition_probe_weight: float = 0.0  # weight of the probe that reads the stated attributes off G's text condition; 0: off
    guide_weight: float = 0.0  # weight of the frozen low-resolution attribute guide's cross-entropy on G's images; 0: off
    discriminator: str = "projected"  # "projected" (frozen EfficientNet-Lite0 features) or "classic" (trained from scratch)
    translation: float = 0.125  # differentiable augmentation before D: shift up to this share of the image (0: off)
    cutout: float = 0.25  # ... and grey out a square of this side (0: off)
    ema_decay: float = 0.999
    ema_warmup: bool = True  # decay min(ema_decay, (1 + step) / (10 + step)); off reproduces the classic runs
    eval_prompts: int = 128
    model: dict = field(default_factory=dict)


def recipe_config(discriminator: str = "projected", width: int | None = None, auxiliary_weight: float | None = None,
                  projection: bool = True, **settings) -> Text2ImageTaskConfig:
    """The task config of one of :data:`RECIPES`; ``width``, ``auxiliary_weight`` and the
    :data:`RECIPE_SETTINGS` default to the recipe's (when missing or ``None``), and
    ``settings`` are any other fields of :class:`Text2ImageTaskConfig`."""
    if discriminator not in RECIPES:
        raise ValueError(f"unknown discriminator {discriminator!r}; choose one of {DISCRIMINATORS}")
    recipe = RECIPES[discriminator]
    for name in RECIPE_SETTINGS:
        if settings.get(name) is None:
            settings[name] = recipe[name]
    width = width or recipe["width"]
    model = {"generator_width": width, "discriminator_width": width, "projection": projection, "text_affine": recipe["text_affine"]}
    return Text2ImageTaskConfig(
        discriminator=discriminator, model=model,
        auxiliary_weight=recipe["auxiliary_weight"] if auxiliary_weight is None else auxiliary_weight,
        interpolation_share=recipe["interpolation_share"], discriminator_lr=recipe["discriminator_lr"],
        betas=recipe["betas"], ema_warmup=recipe["ema_warmup"], **settings,
    )


# Short names of the per-attribute accuracies logged at each evaluation.
LOGGED_ATTRIBUTES = {"petal": "petal_colour", "stem": "stem_colour", "centre": "centre_colour",
                     "shape": "petal_shape", "count": "petal_count", "size": "size"}

class ConditionProbe(nn.Module):
    """The generator's text condition (B, condition_dim) -> logits (B, classes) of every
    attribute by name: linear, so what it reads must be laid out plainly in the condition."""

    def __init__(self, condition_dim: int):
        super().__init__()
        self.heads = nn.ModuleDict({a: nn.Linear(condition_dim, len(v)) for a, v in ATTRIBUTE_VALUES.items()})

    def forward(self, condition: torch.Tensor) -> dict[str, torch.Tensor]:
        return {a: head(condition) for a, head in self.heads.items()}


class Text2ImageTask(TrainingTask):
    def __init__(self, config: Text2ImageTaskConfig, classifier_path: str | Path | None = SHIPPED_CHECKPOINTS / "flower-attributes"):
        self.config = config
        self.classifier_path = classifier_path
        self.frechet = None  # built at the first evaluation (it renders and reads real flowers)
        world = load_world("flowers", "train", size=config.train_size, seed=config.world_seed)
        self.data = CaptionedFlowers(world)
        self.embeddings = torch.from_numpy(caption_embeddings(config.text_encoder, self.data.captions))  # (C, D)
        if config.auxiliary_attributes and config.auxiliary_weight <= 0:
            raise ValueError("auxiliary_attributes needs the heads on (auxiliary_weight > 0)")
        heads = {"auxiliary_colours": len(ATTRIBUTE_VALUES["petal_colour"]) if config.auxiliary_weight > 0 else 0}
        if config.reconstruction_weight > 0 and config.discriminator != "projected":
            raise ValueError("reconstruction_weight needs the projected discriminator (its encoder reads the projected maps)")
        if config.attribute_reader:
            if config.discriminator != "projected" or config.auxiliary_weight <= 0:
                raise ValueError("attribute_reader needs the projected discriminator and the heads on (auxiliary_weight > 0)")
            heads["attribute_reader"] = True
        if config.auxiliary_attributes:
            heads["auxiliary_attributes"] = {a: len(v) for a, v in ATTRIBUTE_VALUES.items() if a not in ("petal_colour", "stem_colour")}
        if config.label_projection:
            if config.discriminator != "projected":
                raise ValueError("label_projection needs the projected discriminator")
            heads["label_projection"] = {a: len(v) for a, v in ATTRIBUTE_VALUES.items()}  # the columns of caption_labels
        model = {**heads, **config.model}
        self.model_config = Text2ImageConfig(text_encoder=config.text_encoder, text_dim=self.embeddings.shape[1], **model)
        # The heads' targets: each image's attributes (for D on real images) and what each caption states (for G).
        self.image_labels = torch.from_numpy(self.data.labels)  # (N, A)
        self.caption_labels = torch.from_numpy(self.data.caption_labels)  # (C, A)
        # The prompts measured during training, embedded once (and cached) like the captions.
        self.eval_prompts = seen_prompts(config.eval_prompts)
        texts = GRID_PROMPTS + [p.text for p in self.eval_prompts]
        self.eval_embeddings = torch.from_numpy(caption_embeddings(config.text_encoder, texts))  # (len(texts), D)
        self.guide = None
        if config.guide_weight > 0:
            self.guide, record = fit_attribute_guide(self.data.images, self.data.labels)
            print(f"attribute guide fitted in {record['seconds']} s; held-out accuracy {record['held_out_accuracy']}", flush=True)

    def build_modules(self):
        if self.config.discriminator not in DISCRIMINATORS:
            raise ValueError(f"unknown discriminator {self.config.discriminator!r}; choose one of {DISCRIMINATORS}")
        self.generator = Text2ImageGenerator(self.model_config)
        if self.config.discriminator == "projected":
            self.discriminator = ProjectedDiscriminator(self.model_config)
        else:
            self.discriminator = Text2ImageDiscriminator(self.model_config)
        self.generator.conditioning.standardize.fit(self.embeddings)
        self.discriminator.standardize.fit(self.embeddings)
        self.ema = ema_copy(self.generator)
        modules = {"generator": self.generator, "discriminator": self.discriminator, "ema": self.ema}
        if self.guide is not None:
            self.guide.to(self.device)  # frozen and never saved, so not a module of the run
        if self.config.condition_probe_weight > 0:
            modules["condition_probe"] = ConditionProbe(self.model_config.condition_dim)
        if self.config.reconstruction_weight > 0:
            middle = self.discriminator.projection.channel_mixing[1].out_channels
            modules["latent_encoder"] = self.latent_encoder = LatentEncoder(middle, self.model_config.noise_dim)
        return modules

    def build_optimizers(self, modules):
        c = self.config
        # The latent encoder (cVAE term) learns with the generator, as in BicycleGAN.
        generator_side = [p for name in ("generator", "latent_encoder", "condition_probe") if name in modules for p in modules[name].parameters()]
        self.g_optimizer = torch.optim.Adam(generator_side, lr=c.generator_lr, betas=tuple(c.betas))
        # Only what trains: the projected discriminator's feature network and projections are fixed.
        trainable = [p for p in modules["discriminator"].parameters() if p.requires_grad]
        self.d_optimizer = torch.optim.Adam(trainable, lr=c.discriminator_lr, betas=tuple(c.betas))
        return {"generator": self.g_optimizer, "discriminator": self.d_optimizer}

    def dataset(self):
        return self.data

    def train_step(self, batch, step):
        images, caption_ids, swapped_ids, image_ids = batch
        images = images.to(self.device)  # (B, 3, 64, 64)
        b = images.shape[0]
        table = self.embeddings.to(self.device)
        right = table[caption_ids.to(self.device)]  # (B, D)
        # Mismatched texts: another image's caption (a different colour pair), or the swapped twin.
        shift = torch.roll(torch.arange(b), 1)
        use_swap = (swapped_ids >= 0) & (torch.rand(b) < self.config.swapped_mismatch_rate)
        wrong_ids = torch.where(use_swap, swapped_ids, caption_ids[shift])
        wrong = table[wrong_ids.to(self.device)]  # (B, D)
        generator, discriminator = self.ddp["generator"], self.ddp["discriminator"]
        noise_dim = self.model_config.noise_dim
        sampling = self.config.condition_sampling

        auxiliary = self.config.auxiliary_weight > 0
        real_labels = self.image_labels[image_ids].to(self.device)  # (B, A)
        stated_labels = self.caption_labels[caption_ids].to(self.device)  # (B, A), -1 where the caption is silent


        # Discriminator step, on augmented images (the same kind of augmentation for real and fake).
        with torch.no_grad():
            fake = generator(right, torch.randn(b, noise_dim, device=self.device), sample_condition=sampling).images
        metrics = {}
        real_view, fake_view = self._view(images), self._view(fake)

        wrong_labels = self.caption_labels[wrong_ids].to(self.device)  # (B, A), what each mismatched caption states
        labelled = self.config.label_projection

        def judge(view, texts, labels, attributes=False):
            seen, maps = view
            extra = ({} if maps is None else {"maps": maps}) | ({"labels": labels} if labelled else {})
            return discriminator(seen, texts, return_attributes=attributes, **extra)

        if auxiliary:
            real_right, real_logits = judge(real_view, right, stated_labels, attributes=True)
            d_colour = attribute_loss(real_logits, real_labels)
            metrics["d_colour"] = d_colour.item()
        else:
            real_right, d_colour = judge(real_view, right, stated_labels), 0.0
        d_loss = discriminator_hinge_loss(real_right, judge(real_view, wrong, wrong_labels), judge(fake_view, right, stated_labels))
        d_loss_total = d_loss + self.config.auxiliary_weight * d_colour
        self.d_optimizer.zero_grad(set_to_none=True)
        d_loss_total.backward()
        self.d_optimizer.step()

        # Generator step: matching texts, and GAN-INT interpolations between two captions.
        # GAN-INT on interpolation_share of the batch: each image costs a generator and a
        # discriminator pass with gradients, the dearest part of a CPU step.
        m = max(1, round(b * self.config.interpolation_share))
        mixed = 0.5 * right[:m] + 0.5 * right[torch.randperm(b)[:m]]  # (M, D)
        both = torch.cat([right, mixed])  # (B + M, D)
        noise = torch.randn(len(both), noise_dim, device=self.device)  # (B + M, noise_dim)
        redraw = self._encoded_noise(images, b) if self.config.reconstruction_weight > 0 else None
        # One generator pass (DDP allows one forward per backward): random noise for the
        # B + M images the discriminator judges, then the R images to redraw from encoded
        # noise (cVAE term), then Q more images of the first captions from other noise
        # (mode-seeking term).
        texts, noises = [both], [noise]
        if redraw is not None:
            texts.append(right[: len(redraw[0])])
            noises.append(redraw[0])
        if self.config.mode_seeking_weight > 0:
            quarter = max(1, b // 4)
            other_noise = torch.randn(quarter, noise_dim, device=self.device)  # (Q, noise_dim)
            texts.append(right[:quarter])
            noises.append(other_noise)
        out = generator(torch.cat(texts), torch.cat(noises), sample_condition=sampling)  # images (B + M [+ R] [+ Q], 3, 64, 64)
        extra = len(both)
        judged = self._augment(out.images[: len(both)])
        # An interpolation states nothing: its label rows are -1.
        both_labels = {"labels": F.pad(stated_labels, (0, 0, 0, m), value=-1)} if labelled else {}  # (B + M, A)
        if auxiliary:
            scores, fake_logits = discriminator(judged, both, return_attributes=True, **both_labels)  # (B + M, ...), (B + M, classes) each
            # Only the matching half has attributes to name: an interpolation sits between two captions.
            g_colour = attribute_loss({name: logits[:b] for name, logits in fake_logits.items()}, stated_labels)
            metrics["g_colour"] = g_colour.item()
        else:
            scores, g_colour = discriminator(judged, both, **both_labels), 0.0  # (B + M,) classic, (B + M, scales) projected
        g_adv = generator_hinge_loss(scores[:b])
        g_int = generator_hinge_loss(scores[b:])
        kl = kl_divergence(out.mean[: len(both)], out.log_variance[: len(both)])
        g_loss = g_adv + self.config.interpolation_weight * g_int + self.config.kl_weight * kl + self.config.auxiliary_weight * g_colour
        if self.guide is not None:
            guide = guide_loss(self.guide, out.images[:b], stated_labels)
            g_loss = g_loss + self.config.guide_weight * guide
            metrics["guide"] = guide.item()
        if self.config.condition_probe_weight > 0:
            probe = attribute_loss(self.ddp["condition_probe"](out.mean[:b]), stated_labels)
            g_loss = g_loss + self.config.condition_probe_weight * probe
            metrics["probe"] = probe.item()
        if redraw is not None:
            z, mean, log_variance = redraw
            reconstruction = (out.images[extra : extra + len(z)] - images[: len(z)]).abs().mean()
            extra += len(z)
            latent_kl = kl_divergence(mean, log_variance)
            g_loss = g_loss + self.config.reconstruction_weight * reconstruction + self.config.latent_kl_weight * latent_kl
            metrics["reconstruction"], metrics["latent_kl"] = reconstruction.item(), latent_kl.item()
        if self.config.mode_seeking_weight > 0:
            others = out.images[extra : extra + quarter]  # (Q, 3, 64, 64), the first Q captions again
            mode_seeking = mode_seeking_loss(out.images[:quarter], others, noise[:quarter], other_noise)
            g_loss = g_loss + self.config.mode_seeking_weight * mode_seeking
            metrics["mode_seeking"] = mode_seeking.item()
        self.g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_optimizer.step()
        update_ema(self.ema, self.generator, ema_decay_at(step, self.config.ema_decay, self.config.ema_warmup))
        return {"d_loss": d_loss.item(), "g_loss": g_adv.item(), "g_int": g_int.item(), "kl": kl.item(), **metrics}

    def _encoded_noise(self, images: torch.Tensor, b: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """BicycleGAN's cVAE step: for the first R = reconstruction_share * B real images
        (B, 3, 64, 64), the noise the latent encoder proposes to redraw them, sampled with
        the reparameterisation trick, and its Gaussian: (z, mean, log-variance), (R, Z) each."""
        r = max(1, round(b * self.config.reconstruction_share))
        # The encoder sees the flower in grey: colours are what captions state, so they must
        # come from the text, and the noise is left what captions leave open (shape, count,
        # size, background). Measured: an encoder that saw colour carried them in the noise
        # and the generator ignored the caption's colours (binding 0.05 at step 1000).
        grey = (images[:r] * torch.tensor([0.299, 0.587, 0.114], device=images.device)[:, None, None]).sum(1, keepdim=True)
        with torch.no_grad():  # the fixed feature path; only the encoder's head learns
            maps = self.discriminator.project(grey.expand(-1, 3, -1, -1))
        mean, log_variance = self.ddp["latent_encoder"](maps[1])
        return mean + torch.randn_like(mean) * torch.exp(0.5 * log_variance), mean, log_variance

    def _view(self, images: torch.Tensor) -> tuple[torch.Tensor | None, list | None]:
        """What D's own step judges of a batch: (augmented images, None) for the classic
        recipe; (None, projected maps) for the projected one, whose fixed feature path runs
        once per batch without a graph (D's step needs no gradient through it)."""
        seen = self._augment(images)
        if self.config.discriminator != "projected":
            return seen, None
        with torch.no_grad():
            return None, self.discriminator.project(seen)

    def _augment(self, images: torch.Tensor) -> torch.Tensor:
        """Differentiable augmentation before D (the projected recipe; the classic one sees raw images)."""
        if self.config.discriminator != "projected":
            return images
        return diff_augment(images, translation=self.config.translation, cutout_ratio=self.config.cutout)

    def calibrated_ema(self, batches: int = 64) -> Text2ImageGenerator:
        """A copy of the averaged generator with batch-norm statistics (over ``batches``
        batches) that fit its own weights."""
        generator = copy.deepcopy(self.ema)
        recalibrate_batchnorm(generator, self.embeddings, batches=batches)
        return generator

    def evaluate(self, step, run_dir: Path):
        grid_embeddings = self.eval_embeddings[: len(GRID_PROMPTS)].to(self.device)
        generator = self.calibrated_ema(batches=16)  # a quarter of the export's: evaluations recur
        grid = sample_grid(generator, grid_embeddings, GRID_PROMPTS, per_prompt=6, seed=0)
        (run_dir / "samples").mkdir(exist_ok=True)
        grid.save(run_dir / "samples" / f"step-{step:06d}.png")
        if not self.classifier_path or not Path(self.classifier_path, "config.json").is_file():
            return {}
        prompts = self.eval_embeddings[len(GRID_PROMPTS):]
        report = binding_report(generator, self.config.text_encoder, self.eval_prompts, self.classifier_path, seed=step, embeddings=prompts)
        if self.frechet is None:
            self.frechet = FrechetMonitor(self.classifier_path)
        accuracy = report["attribute_accuracy"]
        return {"binding": report["binding_accuracy"], "frechet_ratio": self.frechet.ratio(generator, prompts, seed=step),
                **{name: accuracy[attribute] for name, attribute in LOGGED_ATTRIBUTES.items() if attribute in accuracy}}

    def export(self, folder: Path):
        self.calibrated_ema().save_pretrained(folder, dtype=torch.float16, metadata={"task": _plain(self.config)})


def _plain(config) -> dict:
    return dataclasses.asdict(config)

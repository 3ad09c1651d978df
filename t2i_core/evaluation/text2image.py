"""Measuring the text-to-image generators with the flower attribute classifier as judge.

Binding accuracy is the fraction of generated images whose petal colour and stem colour
are both as the prompt says, in four groups of prompts rendered from the caption
templates:

(a) ``seen``: seen colour pairs and seen templates (from the test split), new noise;
(b) ``heldout-templates``: seen pairs in the three held-out phrasings;
(c) ``heldout-pairs``: the eight held-out colour pairs in seen phrasings;
(d) ``swapped-twins``: for each prompt of (a) whose swapped pair is also seen, the same
    template with the two colours exchanged; a twin counts only when both images are right.

Diversity is the mean pairwise distance between images of one prompt in the
classifier's feature space; the Frechet distance compares Gaussians fitted to generated
and real features (not FID: Inception weights cannot be had offline), next to the
real-vs-real distance of two disjoint real samples as the floor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..data import load_world
from ..data.flowers import ATTRIBUTE_VALUES, SEEN_PAIRS, TEMPLATES_BY_NAME, swap_colours
from ..data.preview import make_image_grid

COLOUR_KEYS = ("petal_colour", "stem_colour")


@dataclass
class Prompt:
    """A caption and the attributes it states (at least petal and stem colour)."""

    text: str
    expected: dict[str, Any]
    template: str = ""
    group: str = ""


def _prompts_from_split(split: str, n: int, group: str, seed: int = 0) -> list[Prompt]:
    world = load_world("flowers", split, size=n, seed=seed + 1000)
    prompts = []
    for s in world.samples(render=False):
        template = TEMPLATES_BY_NAME[s.template]
        stated = {k: s.attributes[k] for k in ATTRIBUTE_VALUES if "{" + _slot(k) + "}" in template.text}
        prompts.append(Prompt(s.caption, stated, s.template, group))
    return prompts


def _slot(attribute: str) -> str:
    return {"petal_colour": "petal", "stem_colour": "stem", "centre_colour": "centre", "petal_shape": "shape", "petal_count": "count", "size": "size"}[attribute]


def seen_prompts(n: int = 200, seed: int = 0) -> list[Prompt]:
    """Group (a): seen pairs, seen templates (drawn like the test split, with their own seed)."""
    return _prompts_from_split("test", n, "seen", seed)


def heldout_template_prompts(n: int = 200, seed: int = 0) -> list[Prompt]:
    """Group (b): seen pairs in held-out phrasings."""
    return _prompts_from_split("heldout-templates", n, "heldout-templates", seed)


def heldout_pair_prompts(n: int = 200, seed: int = 0) -> list[Prompt]:
    """Group (c): held-out colour pairs in seen phrasings."""
    return _prompts_from_split("heldout-pairs", n, "heldout-pairs", seed)


def swapped_twins(prompts: list[Prompt]) -> list[tuple[Prompt, Prompt]]:
    """Group (d): each seen prompt with its colour-swapped twin, where the swapped pair is seen too."""
    seen = set(SEEN_PAIRS)
    twins = []
    for p in prompts:
        template = TEMPLATES_BY_NAME.get(p.template)
        if template is None:
            continue
        full = {**{k: ATTRIBUTE_VALUES[k][0] for k in ATTRIBUTE_VALUES}, **p.expected}
        swapped = swap_colours(full)
        if (swapped["petal_colour"], swapped["stem_colour"]) not in seen:
            continue
        expected = {k: swapped[k] for k in p.expected}
        twins.append((p, Prompt(template.fill(swapped), expected, p.template, "swapped-twins")))
    return twins


def load_prompts_file(path: str | Path) -> list[Prompt]:
    """User prompts: JSONL with ``text`` and ``expected`` (attribute -> value), or the attributes at top level."""
    prompts = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}, line {number}: not JSON ({error.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str) or not record["text"].strip():
            raise ValueError(f"{path}, line {number}: needs a non-empty \"text\"")
        expected = record.get("expected") or {k: record[k] for k in ATTRIBUTE_VALUES if k in record}
        for key in COLOUR_KEYS:
            if key not in expected:
                raise ValueError(f"{path}, line {number}: needs the expected {key}")
        for key, value in expected.items():
            if key not in ATTRIBUTE_VALUES:
                raise ValueError(f"{path}, line {number}: unknown attribute {key!r}; known: {sorted(ATTRIBUTE_VALUES)}")
            if value not in ATTRIBUTE_VALUES[key]:
                raise ValueError(f"{path}, line {number}: {key} must be one of {list(ATTRIBUTE_VALUES[key])}, got {value!r}")
        prompts.append(Prompt(record["text"].strip(), dict(expected), record.get("template", ""), "user"))
    if not prompts:
        raise ValueError(f"{path} holds no prompts")
    return prompts


@torch.no_grad()
def generate_images(generator, embeddings: torch.Tensor, per_prompt: int = 1, seed: int = 0, batch_size: int = 256) -> torch.Tensor:
    """Images (N * per_prompt, 3, H, W) in [0, 1] for embeddings (N, D); prompt-major order.

    The noise is drawn from a generator seeded with ``seed``, so the same call gives the
    same images; the conditioning is the mean (no augmentation noise) at evaluation.
    """
    device = next(generator.parameters()).device
    rng = torch.Generator().manual_seed(seed)
    repeated = embeddings.repeat_interleave(per_prompt, dim=0)  # (N * per_prompt, D)
    noise = torch.randn(len(repeated), generator.config.noise_dim, generator=rng)
    out = []
    for start in range(0, len(repeated), batch_size):
        images = generator(repeated[start : start + batch_size].to(device), noise[start : start + batch_size].to(device), sample_condition=False).images
        out.append((images.float().cpu() + 1) / 2)
    return torch.cat(out).clamp(0, 1)


def sample_grid(generator, embeddings: torch.Tensor, prompts: list[str], per_prompt: int = 6, seed: int = 0) -> Image.Image:
    """A grid with one row per prompt, ``per_prompt`` images each, captioned."""
    images = generate_images(generator, embeddings, per_prompt=per_prompt, seed=seed)
    pil = [Image.fromarray((im.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)) for im in images]
    captions = [p if j == 0 else "" for p in prompts for j in range(per_prompt)]
    return make_image_grid(pil, captions, columns=per_prompt, scale=2, caption_lines=2)


def binding_report(generator, encoder_name: str, prompts: list[Prompt], classifier_path, seed: int = 0) -> dict[str, Any]:
    """Binding accuracy and per-attribute accuracy of one image per prompt."""
    from ..models.flower_classifier import FlowerAttributeClassifier
    from ..registry import load_text_encoder

    classifier = FlowerAttributeClassifier.from_pretrained(classifier_path, device=next(generator.parameters()).device)
    embeddings = torch.from_numpy(load_text_encoder(encoder_name).encode([p.text for p in prompts]))
    images = generate_images(generator, embeddings, seed=seed)
    predicted = classifier.predict(images.to(next(classifier.parameters()).device))
    both = [all(predicted[k][i] == p.expected[k] for k in COLOUR_KEYS) for i, p in enumerate(prompts)]
    per_attribute = {}
    for key in ATTRIBUTE_VALUES:
        stated = [(i, p) for i, p in enumerate(prompts) if key in p.expected]
        if stated:
            per_attribute[key] = float(np.mean([predicted[key][i] == p.expected[key] for i, p in stated]))
    return {"n": len(prompts), "binding_accuracy": float(np.mean(both)), "attribute_accuracy": per_attribute}

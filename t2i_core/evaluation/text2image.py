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
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..data import load_world
from ..data.cache import rendered_images
from ..data.flowers import ATTRIBUTE_VALUES, SEEN_PAIRS, TEMPLATES_BY_NAME, swap_colours
from ..data.preview import make_image_grid
from ..models.flower_classifier import FlowerAttributeClassifier
from ..pipelines.flower_attributes import DEFAULT_CHECKPOINT, FlowerAttributesPipeline
from ..pipelines.text2image import Text2ImagePipeline, shipped_checkpoint
from ..registry import load_text_encoder
from .formatting import Block, Table, figure, percent

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
    return {"petal_colour": "petal", "stem_colour": "stem", "centre_colour": "centre",
            "petal_shape": "shape", "petal_count": "count", "size": "size"}[attribute]


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


def binding_report(generator, encoder_name: str, prompts: list[Prompt], classifier_path, seed: int = 0,
                   embeddings: torch.Tensor | None = None) -> dict[str, Any]:
    """Binding accuracy and per-attribute accuracy of one image per prompt.

    ``embeddings`` (len(prompts), D), when given, are the prompts' sentence embeddings
    (training passes precomputed ones); otherwise ``encoder_name`` encodes the prompts.
    """
    classifier = FlowerAttributeClassifier.from_pretrained(classifier_path, device=next(generator.parameters()).device)
    if embeddings is None:
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


# ------------------------------------------------------------------ the full evaluation
def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to feature sets a (N, F) and b (M, F).

    The trace term tr((C_a C_b)^(1/2)) is computed as tr((C_a^(1/2) C_b C_a^(1/2))^(1/2)),
    a symmetric form whose eigenvalues are real and non-negative, so features with dead
    (constant) dimensions and singular covariances give no complex or NaN results.
    """
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = _psd_sqrt(cov_a)
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = float(np.sqrt(np.clip(middle, 0, None)).sum())
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def mean_pairwise_distance(features: np.ndarray) -> float:
    """Mean Euclidean distance over all pairs of rows of (K, F) features."""
    k = len(features)
    distances = np.linalg.norm(features[:, None, :] - features[None, :, :], axis=-1)  # (K, K)
    return float(distances.sum() / (k * (k - 1)))


def _real_images_by_pair(size: int, seed: int) -> tuple[np.ndarray, list[tuple[str, str]]]:
    world = load_world("flowers", "test", size=size, seed=seed)
    pairs = [(s.attributes["petal_colour"], s.attributes["stem_colour"]) for s in world.samples(render=False)]
    return rendered_images(world), pairs


def _to_unit(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(images)).permute(0, 3, 1, 2).float().div(255.0)


def _score(judge, images: torch.Tensor, prompts: list[Prompt]) -> tuple[list[bool], dict[str, list[bool]]]:
    predicted = judge(images).attributes
    both = [all(predicted[i][k] == p.expected[k] for k in COLOUR_KEYS) for i, p in enumerate(prompts)]
    hits: dict[str, list[bool]] = {}
    for i, p in enumerate(prompts):
        for key, value in p.expected.items():
            hits.setdefault(key, []).append(predicted[i][key] == value)
    return both, hits


class FrechetMonitor:
    """The Frechet ratio of the full evaluation, cheap enough to log during training.

    ``n`` real test flowers against ``n`` generated images of seen prompts, in the judge's
    feature space, divided by the distance between two other sets of ``n`` real flowers
    (the floor at this sample size). Real features are computed once.
    """

    def __init__(self, classifier_path, n: int = 512, seed: int = 0):
        self.judge = FlowerAttributesPipeline(classifier_path)
        real, _ = _real_images_by_pair(2 * n, seed + 7)
        self.real = self.judge.features(_to_unit(real[:n]))  # (n, F)
        self.floor = frechet_distance(self.judge.features(_to_unit(real[n:])), self.real)
        self.n = n

    def ratio(self, generator, embeddings: torch.Tensor, seed: int = 0) -> float:
        """Frechet distance / floor for ``n`` images drawn evenly over the prompts' embeddings (P, D)."""
        per_prompt = -(-self.n // len(embeddings))
        images = generate_images(generator, embeddings, per_prompt=per_prompt, seed=seed)[: self.n]
        return frechet_distance(self.judge.features(images), self.real) / self.floor


def evaluate_text2image(
    encoders: list[str],
    n_prompts: int = 500,
    seed: int = 0,
    prompts_file: str | Path | None = None,
    classifier: str | Path | None = None,
    checkpoints: dict[str, str] | None = None,
    diversity_pairs: int = 24,
    images_per_prompt: int = 8,
) -> dict[str, Any]:
    """The measurements of the module docstring for each generator, as a JSON-able dict.

    Args:
        encoders: which shipped generators (``text2image-<encoder>``) to measure.
        n_prompts: prompts per group (a), (b), (c); (d) has one twin per eligible prompt of (a).
        prompts_file: also score the user's prompts (JSONL, see :func:`load_prompts_file`).
        classifier: the judge's checkpoint (default: the shipped ``flower-attributes``).
        checkpoints: encoder -> generator checkpoint, to measure unshipped runs.

    Raises:
        ValueError: an encoder with neither a shipped generator nor a checkpoint given, before anything is measured.
    """
    for encoder in encoders:
        if encoder not in (checkpoints or {}):
            shipped_checkpoint(encoder)
    started = time.time()
    judge = FlowerAttributesPipeline(classifier or DEFAULT_CHECKPOINT)
    real, real_pairs = _real_images_by_pair(2 * max(n_prompts, 500), seed + 7)
    half = len(real) // 2
    real_a, real_b = _to_unit(real[:half]), _to_unit(real[half:])
    real_features_a, real_features_b = judge.features(real_a), judge.features(real_b)
    truth = load_world("flowers", "test", size=len(real), seed=seed + 7)
    judge_accuracy = {}
    predicted = judge(_to_unit(real)).attributes
    for key in ATTRIBUTE_VALUES:
        judge_accuracy[key] = float(np.mean([predicted[s.index][key] == s.attributes[key] for s in truth.samples(render=False)]))

    # Diversity of real flowers of one colour pair: the figure generated ones are held to.
    by_pair: dict[tuple[str, str], list[int]] = {}
    for i, pair in enumerate(real_pairs):
        by_pair.setdefault(pair, []).append(i)
    diverse_pairs = [p for p in sorted(by_pair) if len(by_pair[p]) >= images_per_prompt][:diversity_pairs]
    real_diversity = float(np.mean([
        mean_pairwise_distance(judge.features(_to_unit(real[by_pair[p][:images_per_prompt]]))) for p in diverse_pairs
    ]))

    groups = {
        "seen": seen_prompts(n_prompts, seed),
        "heldout-templates": heldout_template_prompts(n_prompts, seed),
        "heldout-pairs": heldout_pair_prompts(n_prompts, seed),
    }
    if prompts_file:
        groups["user"] = load_prompts_file(prompts_file)
    report: dict[str, Any] = {
        "judge": {"checkpoint": str(classifier or DEFAULT_CHECKPOINT), "real_test_accuracy": judge_accuracy,
                  "min_accuracy": min(judge_accuracy.values()), "fit_to_judge": min(judge_accuracy.values()) >= 0.98, "n": len(real)},
        "real": {"diversity": real_diversity, "frechet_real_vs_real": frechet_distance(real_features_a, real_features_b)},
        "generators": {},
        "config": {"n_prompts": n_prompts, "seed": seed, "diversity_pairs": len(diverse_pairs), "images_per_prompt": images_per_prompt},
    }
    for encoder in encoders:
        pipe = Text2ImagePipeline(encoder, checkpoint=(checkpoints or {}).get(encoder))
        result: dict[str, Any] = {"binding_accuracy": {}, "attribute_accuracy": {}, "n": {}}

        def generate(prompts: list[Prompt], noise_seed: int) -> torch.Tensor:
            # Only called within this iteration, so the late-bound `pipe` is always this encoder's.
            return generate_images(pipe.generator, pipe.embed([p.text for p in prompts]), seed=noise_seed)  # noqa: B023

        seen_images = None
        for group, prompts in groups.items():
            images = generate(prompts, seed + 1)
            if group == "seen":
                seen_images = images
            both, hits = _score(judge, images, prompts)
            result["binding_accuracy"][group] = float(np.mean(both))
            result["attribute_accuracy"][group] = {k: float(np.mean(v)) for k, v in hits.items()}
            result["n"][group] = len(prompts)
        twins = swapped_twins(groups["seen"])
        originals, swapped = [t[0] for t in twins], [t[1] for t in twins]
        # Each twin uses the same noise as its original: only the word order differs.
        both_original, _ = _score(judge, generate(originals, seed + 1), originals)
        both_swapped, _ = _score(judge, generate(swapped, seed + 1), swapped)
        result["binding_accuracy"]["swapped-twins"] = float(np.mean([a and b for a, b in zip(both_original, both_swapped)]))
        result["n"]["swapped-twins"] = len(twins)
        # Diversity: several images of one simple prompt per colour pair.
        diversity = []
        for petal, stem in diverse_pairs:
            prompt = Prompt(f"a {petal} flower with a {stem} stem", {"petal_colour": petal, "stem_colour": stem})
            images = generate_images(pipe.generator, pipe.embed([prompt.text]), per_prompt=images_per_prompt, seed=seed + 2)
            diversity.append(mean_pairwise_distance(judge.features(images)))
        result["diversity"] = float(np.mean(diversity))
        result["diversity_ratio"] = result["diversity"] / real_diversity
        result["frechet"] = frechet_distance(judge.features(seen_images[: len(real_features_a)]), real_features_a)
        result["frechet_ratio"] = result["frechet"] / report["real"]["frechet_real_vs_real"]
        report["generators"][encoder] = result
    report["config"]["seconds"] = round(time.time() - started, 1)
    return report


SUMMARY_GROUPS = {"seen": "(a) seen", "heldout-templates": "(b) new phrasings", "heldout-pairs": "(c) new colour pairs",
                  "swapped-twins": "(d) swapped twins"}
STATED_ATTRIBUTES = {"centre_colour": "centre colour", "petal_shape": "petal shape", "petal_count": "petal count", "size": "size"}


def report_summary(report: dict) -> list[Block]:
    """The report of :func:`evaluate_text2image` as the About tab shows it: a row per
    generator (binding accuracy per group, diversity and Frechet distance against real
    flowers, each stated attribute), and what the columns mean. Empty when the report holds no generator."""
    if not report.get("generators"):
        return []
    rows = []
    for name, result in report["generators"].items():
        binding, stated = result["binding_accuracy"], result["attribute_accuracy"].get("seen", {})
        rows.append([f"`{name}`", *(percent(binding.get(group)) for group in SUMMARY_GROUPS),
                     figure(result["diversity_ratio"], 2), figure(result["frechet_ratio"], 2),
                     *(percent(stated.get(key)) for key in STATED_ATTRIBUTES)])
    header = ["generator", *SUMMARY_GROUPS.values(), "diversity / real", "Frechet / real-vs-real", *STATED_ATTRIBUTES.values()]
    judge = report["judge"]
    return [Table(header, rows),
            f"Binding accuracy: petal **and** stem colour as the prompt says, judged by a flower classifier "
            f"that reads real test flowers with at least {percent(judge['min_accuracy'])} accuracy per attribute "
            f"({report['config']['n_prompts']} prompts per group). The last four columns: how often an attribute "
            f"comes out as stated, on the seen prompts that state it."]


def report_details(report: dict) -> list[Block]:
    """What ``eval text2image`` prints below the summary: the judge's accuracy on real
    flowers, the binding accuracy on the user's prompts (``--prompts``), and diversity and
    Frechet distance themselves next to the real flowers' figures."""
    judge, generators = report["judge"], report["generators"]
    blocks: list[Block] = [
        f"Judge (flower attribute classifier) on {judge['n']} real test flowers: "
        + ", ".join(f"{key} {figure(value)}" for key, value in judge["real_test_accuracy"].items())
        + ("" if judge["fit_to_judge"] else ". BELOW 0.98: the figures above are not to be trusted.")]
    if generators:
        extra = [g for g in dict.fromkeys(g for r in generators.values() for g in r["binding_accuracy"]) if g not in SUMMARY_GROUPS]
        blocks.append(Table(["generator", *(f"binding {group}" for group in extra), "diversity", "Frechet"],
                            [[name, *(percent(r["binding_accuracy"].get(group)) for group in extra),
                              figure(r["diversity"], 2), figure(r["frechet"], 2)] for name, r in generators.items()]))
    real = report["real"]
    blocks.append(f"real flowers: diversity {real['diversity']:.2f}, Frechet real-vs-real {real['frechet_real_vs_real']:.2f}")
    return blocks

"""How captioners are measured: COCO caption metrics, the objects named, and attention pointing.

Caption metrics are those of ``pycocoevalcap``, the reference implementation of the COCO
caption evaluation: BLEU-1..4, METEOR (it runs Java), ROUGE-L and CIDEr (SPICE is left out:
it needs a download). Captions are lower-cased word lists joined by spaces, which is what
pycocoevalcap's scorers expect after tokenising.

Objects named asks whether a caption says what is there, whatever its order and wording
(BLEU punishes a true caption that lists the objects in another order). A caption names
an object when its colour word is directly followed by its shape word ("a large red
circle" names a red circle of either size); the objects may come in any order, and two
red circles need "red circle" twice. ``all_objects_named`` is the share of scenes whose
caption names every object, ``objects_named`` the share of all objects named.

Attention pointing asks whether the heatmaps mean something. For every generated word
that names a colour or a shape of an object in the scene, the word's attention map
(a grid, upsampled bilinearly to the image) is compared with that object's mask:

- ``pointing_accuracy``: the share of such words whose attention peak lies in the mask;
- ``attention_mass``: the mean share of the map's mass that lies in the mask.

Which object a generated word names: when the generated caption is one of the scene's
captions, the scene's own word groundings say it. Otherwise the word's phrase (the run of
size, colour and shape words around it, e.g. "large red circle") is matched against the
scene's objects; every object that fits all the phrase's words counts (a hit on any of
them is a hit), and a word whose phrase fits no object (a wrong colour, say) is not
scored but counted as ``unmatched_words``. A uniform map (Show and Tell has no attention)
scores the expected value of a random peak, i.e. its mass: the chance level.

Flowers (splits named ``flowers-<split>``, e.g. ``flowers-test``) have no objects to point
at: a flower caption is measured by the colours it gives the petals and the stem
(:func:`~t2i_core.data.flowers.read_colour_roles`): ``roles_named`` is the share of
flowers whose caption names both in their roles ("a red flower with a yellow stem" for a
red flower on a yellow stem; the same colours swapped count as wrong).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.meteor.meteor import Meteor
from pycocoevalcap.rouge.rouge import Rouge

from ..data import load_world
from ..data.cache import rendered_images, resized_images, world_images_key
from ..data.feature_cache import cached_features
from ..data.flowers import captioner_caption, read_colour_roles
from ..data.scenes import COLOURS, SHAPES, SIZES
from ..data.vocabulary import tokenize
from ..decoding import beam_search
from .formatting import Block, Table, figure, percent

ATTRIBUTE_WORDS = set(COLOURS) | set(SHAPES) | set(SIZES)
POINTED_WORDS = set(COLOURS) | set(SHAPES)
FLOWER_SPLIT_PREFIX = "flowers-"  # evaluation splits of the Flowers world: "flowers-test", "flowers-heldout-pairs"
DEFAULT_SCENES_SPLITS = ("test", "heldout-combos", "heldout-style")


# ---------------------------------------------------------------------- caption metrics
def _as_coco(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> tuple[dict, dict]:
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} reference sets")
    if not predictions:
        raise ValueError("nothing to score: no predictions")
    results, truths = {}, {}
    for i, (prediction, refs) in enumerate(zip(predictions, references)):
        if not refs:
            raise ValueError(f"prediction {i} has no reference captions")
        # An empty caption would crash the scorers; a placeholder word scores as a wrong caption.
        results[i] = [" ".join(tokenize(prediction)) or "empty"]
        truths[i] = [" ".join(tokenize(r)) for r in refs]
    return truths, results


@lru_cache(maxsize=1)
def _meteor():
    """One METEOR scorer per process: its Java start-up (loading paraphrase tables) takes seconds."""
    return Meteor()


def corpus_bleu4(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    """Corpus BLEU-4 of ``predictions`` against their reference sets (pycocoevalcap), in [0, 1]."""
    truths, results = _as_coco(predictions, references)
    score, _ = Bleu(4).compute_score(truths, results, verbose=0)
    return float(score[3])


def caption_metrics(predictions: Sequence[str], references: Sequence[Sequence[str]], meteor: bool = True) -> dict[str, float]:
    """BLEU-1..4, METEOR, ROUGE-L and CIDEr (pycocoevalcap) of ``predictions``, each in [0, 1] (CIDEr up to 10).

    Args:
        predictions: one caption per image.
        references: the reference captions of each image.
        meteor: METEOR needs Java; pass False to skip it.
    """
    truths, results = _as_coco(predictions, references)
    bleu, _ = Bleu(4).compute_score(truths, results, verbose=0)
    metrics = {f"BLEU-{n + 1}": float(b) for n, b in enumerate(bleu)}
    if meteor:
        metrics["METEOR"] = float(_meteor().compute_score(truths, results)[0])
    metrics["ROUGE-L"] = float(Rouge().compute_score(truths, results)[0])
    metrics["CIDEr"] = float(Cider().compute_score(truths, results)[0])
    return metrics


# ---------------------------------------------------------------------- objects named
def named_colour_shapes(words: Sequence[str]) -> Counter:
    """The (colour, shape) pairs a caption names: each colour word directly followed by a shape word.

    ``["a", "large", "red", "circle", ...]`` counts ``("red", "circle")`` once; a shape word
    alone ("the circle", a reference back) and a colour before another word name nothing.
    """
    words = list(words)
    return Counter((a, b) for a, b in zip(words, words[1:]) if a in COLOURS and b in SHAPES)


def objects_named(words: Sequence[str], objects: Sequence) -> int:
    """How many of ``objects`` (each with ``colour`` and ``shape``) the caption ``words`` names (see the module docstring)."""
    named = named_colour_shapes(words)
    present = Counter((obj.colour, obj.shape) for obj in objects)
    return sum(min(count, named[pair]) for pair, count in present.items())


def naming_report(captions: Sequence[Sequence[str]], scenes: Sequence) -> dict[str, float]:
    """``all_objects_named`` (share of scenes whose caption names every object) and ``objects_named`` (share of objects).

    Args:
        captions: the words of each scene's caption.
        scenes: the matching :class:`~t2i_core.data.scenes.SceneSample` (render=False is enough).
    """
    if len(captions) != len(scenes) or not scenes:
        raise ValueError(f"{len(captions)} captions for {len(scenes)} scenes")
    counts = [(objects_named(words, scene.objects), len(scene.objects)) for words, scene in zip(captions, scenes)]
    return {
        "all_objects_named": float(np.mean([named == total for named, total in counts])),
        "objects_named": sum(named for named, _ in counts) / max(1, sum(total for _, total in counts)),
    }


# ---------------------------------------------------------------------- flower colours named
def flower_roles_report(captions: Sequence[str | Sequence[str]], flowers: Sequence[dict[str, Any]]) -> dict[str, float]:
    """How often flower captions name the petal and the stem colour in their roles.

    Args:
        captions: each flower's caption, as text or as its words.
        flowers: the matching attributes (at least ``petal_colour`` and ``stem_colour``).

    Returns:
        ``roles_named`` (both colours right, each in its role), ``petal_named`` and ``stem_named``.
    """
    if len(captions) != len(flowers) or not flowers:
        raise ValueError(f"{len(captions)} captions for {len(flowers)} flowers")
    read = [read_colour_roles(c if isinstance(c, str) else " ".join(c)) for c in captions]
    petal = [r["petal_colour"] == f["petal_colour"] for r, f in zip(read, flowers)]
    stem = [r["stem_colour"] == f["stem_colour"] for r, f in zip(read, flowers)]
    return {
        "roles_named": float(np.mean([p and s for p, s in zip(petal, stem)])),
        "petal_named": float(np.mean(petal)),
        "stem_named": float(np.mean(stem)),
    }


# ---------------------------------------------------------------------- attention pointing
def named_objects(words: Sequence[str], scene) -> list[tuple[int, list[int]]]:
    """(word position, indices of the objects it names) for each colour or shape word of ``words``.

    ``scene`` is a :class:`~t2i_core.data.scenes.SceneSample`. Words whose phrase fits no
    object of the scene are left out (see the module docstring).
    """
    words = list(words)
    for caption, grounding in zip(scene.captions, scene.groundings):
        if caption.split() == words:
            return [(i, [g]) for i, (w, g) in enumerate(zip(words, grounding)) if w in POINTED_WORDS and g is not None]
    named = []
    i = 0
    while i < len(words):
        if words[i] not in ATTRIBUTE_WORDS:
            i += 1
            continue
        j = i
        while j < len(words) and words[j] in ATTRIBUTE_WORDS:
            j += 1
        phrase = words[i:j]
        fits = [
            k for k, obj in enumerate(scene.objects)
            if all(w in (obj.size, obj.colour, obj.shape) for w in phrase)
        ]
        if fits:
            named += [(p, fits) for p in range(i, j) if words[p] in POINTED_WORDS]
        i = j
    return named


def upsample_map(values: np.ndarray, size: int) -> np.ndarray:
    """A map (h, w) resized bilinearly to (size, size), non-negative and summing to 1."""
    grid = torch.as_tensor(np.asarray(values, dtype=np.float32))[None, None]
    up = F.interpolate(grid, size=(size, size), mode="bilinear", align_corners=False)[0, 0].clamp_min(0).numpy()
    total = up.sum()
    return up / total if total > 0 else np.full_like(up, 1.0 / up.size)


def point_scores(attention: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """(hit, mass) of one word's map (h, w) against a bool mask (S, S).

    hit is 1.0 when the upsampled map's peak is in the mask; for a uniform map it is the
    chance of a random peak landing there (the mask's share of the image).
    """
    up = upsample_map(attention, mask.shape[0])
    mass = float(up[mask].sum())
    if float(np.ptp(attention)) < 1e-9:
        return mass, mass
    peak = np.unravel_index(int(np.argmax(up)), up.shape)
    return float(mask[peak]), mass


def pointing_report(words_and_maps: Sequence[tuple[list[str], np.ndarray]], scenes: Sequence, grid_size: int) -> dict[str, float]:
    """Pointing accuracy and attention mass over every colour/shape word of every caption.

    Args:
        words_and_maps: per scene, the generated words and their attention (len(words), grid * grid).
        scenes: the matching :class:`~t2i_core.data.scenes.SceneSample` (render=False is enough).
        grid_size: side of the attention grid.
    """
    hits, masses, unmatched, scored_words = [], [], 0, 0
    for (words, attention), scene in zip(words_and_maps, scenes):
        named = named_objects(words, scene)
        unmatched += sum(1 for w in words if w in POINTED_WORDS) - len(named)
        for position, objects in named:
            mask = np.zeros_like(scene.objects[objects[0]].mask)
            for k in objects:
                mask |= scene.objects[k].mask
            hit, mass = point_scores(np.asarray(attention[position]).reshape(grid_size, grid_size), mask)
            hits.append(hit)
            masses.append(mass)
            scored_words += 1
    return {
        "pointing_accuracy": float(np.mean(hits)) if hits else 0.0,
        "attention_mass": float(np.mean(masses)) if masses else 0.0,
        "scored_words": scored_words,
        "unmatched_words": unmatched,
    }


def scenes_pointing(world, decoded: Sequence[tuple[list[str], np.ndarray]], grid_size: int) -> dict[str, float]:
    """:func:`pointing_report` for captions of the first ``len(decoded)`` scenes of ``world``."""
    scenes = [world.sample(i, render=False) for i in range(len(decoded))]
    return pointing_report(decoded, scenes, grid_size)


# ---------------------------------------------------------------------- decoding many images
@torch.no_grad()
def caption_images(
    model,
    vocabulary,
    inputs: np.ndarray,
    are_features: bool = False,
    beam_size: int = 3,
    length_penalty: float = 0.0,
    batch_size: int = 100,
    device: torch.device | str = "cpu",
) -> list[tuple[list[str], np.ndarray]]:
    """Words and attention (len(words), N) for each image of ``inputs``.

    ``inputs`` is uint8 images (M, H, W, 3) or, with ``are_features``, the encoder's
    features (M, N, D).
    """
    was_training = model.training
    model.eval()
    out = []
    for start in range(0, len(inputs), batch_size):
        chunk = torch.from_numpy(np.array(inputs[start : start + batch_size])).to(device)
        features = chunk.float() if are_features else model.encode(chunk.permute(0, 3, 1, 2).float() / 255.0)
        for d in beam_search(
            model.decoder, features, vocabulary.start_id, vocabulary.end_id,
            beam_size=beam_size, max_length=model.config.max_length, length_penalty=length_penalty,
        ):
            out.append((vocabulary.decode(d.tokens), d.attention.numpy()))
    model.train(was_training)
    return out


@torch.no_grad()
def encode_images(model, images: np.ndarray, cache_key: str | None = None, batch_size: int = 64) -> np.ndarray:
    """The encoder's features (M, N, D) of uint8 images (M, H, W, 3), once for every beam size.

    With ``cache_key`` they are read from (or written to) the feature cache, keyed by the
    encoder's weights; otherwise they are computed in memory.
    """
    if cache_key is not None:
        return cached_features(model.encoder, model.config.encoder, images, cache_key, batch_size=batch_size)
    model.eval()
    parts = []
    for start in range(0, len(images), batch_size):
        batch = torch.from_numpy(np.array(images[start : start + batch_size])).permute(0, 3, 1, 2).float() / 255.0
        parts.append(model.encode(batch).numpy())
    return np.concatenate(parts)


def _report_header(model, seed: int) -> dict[str, Any]:
    return {"model": model.config.kind, "encoder": model.config.encoder, "score": model.config.score, "world_seed": seed, "splits": {}}


def evaluate_on_scenes(
    model,
    vocabulary,
    splits: Sequence[str] = DEFAULT_SCENES_SPLITS,
    size: int | None = None,
    beam_sizes: Sequence[int] = (1, 3),
    seed: int = 0,
    meteor: bool = True,
    cache: bool = True,
) -> dict[str, Any]:
    """Caption metrics, objects named and pointing of ``model`` on Scenes splits at several beam sizes.

    Args:
        size: scenes per split (default: the whole split).
        cache: read rendered images and encoder features from the caches (written on
            first use); False computes them in memory, for quick checks that leave no files.

    Returns:
        ``{split: {"beam_<k>": {metric: value, ...}}}`` plus the model and data settings.
    """
    report = _report_header(model, seed)
    for split in splits:
        world = load_world("scenes", split, size=size, seed=seed, image_size=model.config.image_size)
        if cache:
            images = rendered_images(world)
        else:
            images = np.stack([np.asarray(world.sample(i).image, dtype=np.uint8) for i in range(len(world))])
        scenes = [world.sample(i, render=False) for i in range(len(world))]
        references = [s.captions for s in scenes]
        key = world_images_key(world) if cache else None  # the render version included: no features of older pictures
        features = encode_images(model.to("cpu"), images, key)
        per_beam = {}
        for beam in beam_sizes:
            decoded = caption_images(model, vocabulary, features, are_features=True, beam_size=beam, device="cpu")
            metrics = caption_metrics([" ".join(w) for w, _ in decoded], references, meteor=meteor)
            metrics["exact_match"] = float(np.mean([" ".join(w) in s.captions for (w, _), s in zip(decoded, scenes)]))
            metrics.update(naming_report([w for w, _ in decoded], scenes))
            metrics.update(pointing_report(decoded, scenes, model.grid_size))
            per_beam[f"beam_{beam}"] = metrics
        report["splits"][split] = {"scenes": len(world), **per_beam}
    return report


def evaluate_on_flowers(
    model,
    vocabulary,
    splits: Sequence[str] = ("test",),
    size: int | None = None,
    beam_sizes: Sequence[int] = (1, 3),
    seed: int = 0,
    cache: bool = True,
) -> dict[str, Any]:
    """Flower colours named (and BLEU-4, exact match) of ``model`` on Flowers splits at several beam sizes.

    The 64-pixel flowers are resized to the model's input as the pipelines resize any
    picture. Exact match compares with the phrasing captioners learn
    (:func:`~t2i_core.data.flowers.captioner_caption`); BLEU-4 takes every seen phrasing of
    the flower as a reference. No pointing: a flower has no object masks.

    Returns:
        ``{"splits": {"flowers-<split>": {"flowers": n, "beam_<k>": {metric: value}}}}`` plus the model settings.
    """
    side = model.config.image_size
    report = _report_header(model, seed)
    for split in splits:
        world = load_world("flowers", split, size=size, seed=seed)
        if cache:
            images = resized_images(world, side)
        else:
            images = np.stack([np.asarray(world.sample(i).image.resize((side, side), Image.Resampling.BICUBIC)) for i in range(len(world))])
        flowers = list(world.samples(render=False))
        features = encode_images(model.to("cpu"), images, world_images_key(world, resized_to=side) if cache else None)
        per_beam = {}
        for beam in beam_sizes:
            decoded = caption_images(model, vocabulary, features, are_features=True, beam_size=beam, device="cpu")
            texts = [" ".join(w) for w, _ in decoded]
            per_beam[f"beam_{beam}"] = {
                "BLEU-4": corpus_bleu4(texts, [f.captions for f in flowers]),
                "exact_match": float(np.mean([t == captioner_caption(f.attributes) for t, f in zip(texts, flowers)])),
                **flower_roles_report(texts, [f.attributes for f in flowers]),
            }
        report["splits"][f"{FLOWER_SPLIT_PREFIX}{split}"] = {"flowers": len(world), **per_beam}
    return report


def evaluate_captioner(
    model,
    vocabulary,
    splits: Sequence[str] = DEFAULT_SCENES_SPLITS,
    size: int | None = None,
    beam_sizes: Sequence[int] = (1, 3),
    seed: int = 0,
    meteor: bool = True,
    cache: bool = True,
) -> dict[str, Any]:
    """:func:`evaluate_on_scenes` for Scenes splits and :func:`evaluate_on_flowers` for ``flowers-<split>`` ones, in one report."""
    scenes = [s for s in splits if not s.startswith(FLOWER_SPLIT_PREFIX)]
    flowers = [s[len(FLOWER_SPLIT_PREFIX):] for s in splits if s.startswith(FLOWER_SPLIT_PREFIX)]
    report = evaluate_on_scenes(model, vocabulary, scenes, size, beam_sizes, seed, meteor, cache) if scenes else _report_header(model, seed)
    if flowers:
        report["splits"].update(evaluate_on_flowers(model, vocabulary, flowers, size, beam_sizes, seed, cache)["splits"])
    return report


MODEL_LABELS = {"show-attend-tell": "Show, Attend and Tell (soft attention)", "show-and-tell": "Show and Tell (no attention)"}


def report_summary(report: dict) -> list[Block]:
    """The report of ``eval caption`` as the About tab shows it: a row per captioner, test
    scenes (and Flowers) at beam 3, and what the columns mean. Empty when the report holds no captioner."""
    if not report.get("models"):
        return []
    rows = []
    for name, result in report["models"].items():
        figures = result["splits"].get("test", {}).get("beam_3", {})
        style = result["splits"].get("heldout-style", {}).get("beam_3", {})
        flowers = result["splits"].get(f"{FLOWER_SPLIT_PREFIX}test", {}).get("beam_3", {})
        attends = name == "show-attend-tell"
        rows.append([MODEL_LABELS.get(name, name), figure(figures.get("BLEU-4")), figure(figures.get("METEOR")),
                     figure(figures.get("CIDEr"), 2), percent(figures.get("all_objects_named")), percent(style.get("all_objects_named")),
                     percent(figures.get("pointing_accuracy")) if attends else "- (no attention)",
                     percent(figures.get("attention_mass")) if attends else "-", percent(flowers.get("roles_named"))])
    return [Table(["model", "BLEU-4", "METEOR", "CIDEr", "every object named", "every object named, held-out style", "pointing accuracy",
                   "attention mass on the object", "flowers: both colours named"], rows),
            "Test scenes (and Flowers test pictures), beam 3. Every object named: the caption names each object's colour "
            "and shape. Pointing: the attention peak of a word naming an object falls inside that object's mask."]


SCENE_METRICS = ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "METEOR", "ROUGE-L", "CIDEr", "exact_match", "all_objects_named", "objects_named",
                 "pointing_accuracy", "attention_mass")
FLOWER_METRICS = ("BLEU-4", "exact_match", "roles_named", "petal_named", "stem_named")


def report_details(report: dict) -> list[Block]:
    """What ``eval caption`` prints below the summary: a table per split (test first,
    Flowers last), a row per captioner and beam size, a column per metric."""
    blocks: list[Block] = []
    splits = list(dict.fromkeys(s for r in report["models"].values() for s in r["splits"]))
    splits.sort(key=lambda s: (s.startswith(FLOWER_SPLIT_PREFIX), s != "test"))  # test first, flowers last, else as measured
    for split in splits:
        entries = {name: r["splits"][split] for name, r in report["models"].items() if split in r["splits"]}
        first = next(iter(entries.values()))
        what = "flowers" if "flowers" in first else "scenes"  # the count of pictures says which world
        metrics = FLOWER_METRICS if what == "flowers" else SCENE_METRICS
        rows = [[name, beam.split("_")[1], *(figure(figures.get(m)) for m in metrics)]
                for name, entry in entries.items() for beam, figures in entry.items() if beam.startswith("beam_")]
        blocks.append(Table(["model", "beam", *metrics], rows, title=f"{split} ({first[what]} {what})"))
    blocks.append("Show and Tell has no attention: its pointing figures are the chance level of a uniform map.")
    return blocks

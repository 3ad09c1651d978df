"""The procedural worlds, their vocabularies and their disk caches: datasets rendered from a seed, with ground truth.

The worlds:

- ``world``: the base of every world, a deterministic, random-access PyTorch Dataset.
- ``flowers``: 64x64 flowers (petal, stem and centre colours, petal shape and count,
  size) with captions from templates that name the parts in different orders.
- ``scenes``: 128x128 scenes of 1-4 coloured shapes (shaded, flat, outlined or
  hand-drawn, on plain or textured backgrounds) with masks, boxes and relational
  captions.
- ``questions``: questions about Scenes with answers read off each scene's ground truth.
- ``dates``: human-written dates in many formats paired with ISO YYYY-MM-DD.
- ``rendering``: drawing primitives (backgrounds, shaded shapes, anti-aliasing).
- ``palette``: the named colours the worlds share.
- ``preview``: sample grids and tables for people to look at.

Text and files:

- ``vocabulary``: word vocabularies (tokenising, ids, JSON), for captions and questions.
- ``characters``: character vocabularies, for the date translator.
- ``karpathy``: real captioning datasets in Karpathy's split format (Flickr8k, Flickr30k, COCO).
- ``images``: pictures from outside the worlds (uploads, dataset photos) read safely as RGB, and batched as tensors.
- ``cache``: a world split's images rendered once and kept on disk as ``.npy``.
- ``feature_cache``: a frozen image encoder's grids of those images, kept on disk as fp16.

``load_world(name, split=..., size=..., seed=...)`` builds one split of a world. A layer
above ``checkpoint``; nothing here imports models, pipelines, evaluation or training.
"""

from __future__ import annotations

import importlib

from .world import Sample, World

# name -> "module:class", imported on first use so that loading one world does not
# import the others' dependencies.
WORLDS: dict[str, str] = {
    "flowers": "t2i_core.data.flowers:FlowersWorld",
    "scenes": "t2i_core.data.scenes:ScenesWorld",
    "dates": "t2i_core.data.dates:DatesWorld",
}


def world_class(name: str) -> type[World]:
    """The World subclass registered under ``name``."""
    try:
        target = WORLDS[name]
    except KeyError:
        raise ValueError(f"unknown world {name!r}; choose one of {sorted(WORLDS)}") from None
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def load_world(name: str, split: str = "train", size: int | None = None, seed: int = 0, **options) -> World:
    """One split of the world ``name``; ``options`` go to the world (e.g. ``image_size``)."""
    return world_class(name)(split=split, size=size, seed=seed, **options)


__all__ = ["WORLDS", "Sample", "World", "load_world", "world_class"]

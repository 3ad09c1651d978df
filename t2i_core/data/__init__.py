"""The procedural worlds: datasets rendered from a seed, with ground truth.

- ``flowers``: 64x64 flowers (petal, stem and centre colours, petal shape and count,
  size) with captions from templates that name the parts in different orders.
- ``scenes``: 128x128 scenes of 1-4 coloured shapes (shaded, flat, outlined or
  hand-drawn, on plain or textured backgrounds) with masks, boxes and relational
  captions.
- ``dates``: human-written dates in many formats paired with ISO YYYY-MM-DD.

``load_world(name, split=..., size=..., seed=...)`` builds one split of a world.
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

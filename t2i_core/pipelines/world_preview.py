"""A look at the procedural worlds: samples with their ground truth, a grid, statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from ..data import WORLDS, load_world, world_class

MAX_PREVIEW_SAMPLES = 64


@dataclass
class WorldPreview:
    """What :class:`WorldPreviewPipeline` returns.

    ``grid`` is a PIL image of the samples with captions; ``captions`` and
    ``attributes`` hold each sample's text and ground truth, in grid order;
    ``swapped_captions`` holds, for Flowers, each caption with its petal and stem
    colours exchanged (the order-swapped twin), and is empty for other worlds.
    """

    world: str
    split: str
    seed: int
    grid: Image.Image
    captions: list[str] = field(default_factory=list)
    attributes: list[dict[str, Any]] = field(default_factory=list)
    swapped_captions: list[str] = field(default_factory=list)


class WorldPreviewPipeline:
    """``pipe("flowers", split="train", n=16, seed=0)`` -> :class:`WorldPreview`."""

    worlds = tuple(WORLDS)

    def splits(self, world: str) -> list[str]:
        """The split names of ``world``."""
        return list(world_class(world).splits)

    def __call__(self, world: str, split: str = "train", n: int = 16, seed: int = 0, columns: int | None = None) -> WorldPreview:
        if not 1 <= int(n) <= MAX_PREVIEW_SAMPLES:
            raise ValueError(f"n must be between 1 and {MAX_PREVIEW_SAMPLES}, got {n}")
        data = load_world(world, split=split, seed=int(seed))
        chosen = list(data.samples(int(n)))
        return WorldPreview(
            world=world,
            split=split,
            seed=int(seed),
            grid=data.preview(int(n), columns=columns),
            captions=[s.caption for s in chosen],
            attributes=[dict(s.attributes) for s in chosen],
            swapped_captions=[s.swapped_caption for s in chosen if hasattr(s, "swapped_caption")],
        )

    def describe(self, world: str) -> dict[str, Any]:
        """How ``world`` is built and what it holds out."""
        return load_world(world, split="train").describe()

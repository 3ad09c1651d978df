"""The base of every procedural world: a deterministic, random-access PyTorch Dataset.

Sample ``i`` of split ``s`` is a pure function of ``(world name, seed, s, i)``: it is drawn
from its own ``numpy.random.Generator`` seeded with those numbers, so any sample can be
rendered alone, in any order, in any DataLoader worker, on any machine, and comes out
byte-identical. Nothing is stored on disk: a world is a recipe, not a download.

A world's splits are fixed by name. ``train``, ``val`` and ``test`` share one distribution
(the seen combinations and the seen caption templates); the ``heldout-*`` splits hold
what training never sees (colour pairs, colour-shape combinations, caption templates,
date formats), to test compositional generalisation and paraphrase.
"""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch.utils.data import Dataset


@dataclass
class Sample:
    """One sample of a world, in a form a person can read.

    ``caption`` is the canonical text (for Dates, the human-written date); ``captions``
    holds every phrasing the split allows for this sample (the canonical one first);
    ``attributes`` is the flat, categorical ground truth (colour names, counts, formats).
    Image worlds add ``image`` (a PIL RGB image); worlds add their own fields.
    """

    index: int
    split: str
    caption: str
    captions: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)


class World(Dataset):
    """A procedural dataset with named splits; subclasses render samples.

    Subclasses set ``name``, ``splits`` (split name -> default size) and implement
    :meth:`sample` and :meth:`__getitem__`. They must draw all randomness from
    :meth:`rng` so that the same seed gives the same bytes.

    Args:
        split: one of ``self.splits``.
        size: number of samples; defaults to the split's default size.
        seed: the world's seed; two worlds with the same seed and split are identical.
    """

    name: ClassVar[str] = "world"
    splits: ClassVar[dict[str, int]] = {}
    # Raised when a world's drawing changes, so caches of the old pictures are never read.
    render_version: ClassVar[int] = 1
    is_image_world: ClassVar[bool] = True

    def __init__(self, split: str = "train", size: int | None = None, seed: int = 0):
        if split not in self.splits:
            raise ValueError(
                f"the {self.name} world has no split {split!r}; choose one of {sorted(self.splits)}"
            )
        if size is not None and size < 0:
            raise ValueError(f"size must be >= 0, got {size}")
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.split = split
        self.size = self.splits[split] if size is None else int(size)
        self.seed = int(seed)
        # A stable number per (world, split): crc32, not hash(), which Python salts per process.
        self._stream = zlib.crc32(f"{self.name}/{split}".encode())

    def __len__(self) -> int:
        return self.size

    def _check_index(self, index: int) -> int:
        if index < 0:
            index += self.size
        if not 0 <= index < self.size:
            raise IndexError(f"index {index} out of range for {self.size} samples")
        return index

    def rng(self, index: int) -> np.random.Generator:
        """The generator that sample ``index`` is drawn from (PCG64, the same on every platform)."""
        return np.random.default_rng([self.seed, self._stream, index])

    def sample(self, index: int, render: bool = True) -> Sample:
        """Sample ``index`` as a readable record with its ground truth.

        With ``render=False`` image worlds skip drawing (``image`` is None) and return
        only what is decided before it (attributes, captions): fast, for statistics.
        """
        raise NotImplementedError

    def __getitem__(self, index: int) -> dict[str, Any]:
        """Sample ``index`` in a form that ``torch.utils.data.default_collate`` can batch."""
        raise NotImplementedError

    def samples(self, n: int | None = None, render: bool = True):
        """Yield the first ``n`` samples (all by default)."""
        for i in range(self.size if n is None else min(n, self.size)):
            yield self.sample(i, render=render)

    # ------------------------------------------------------------------ preview and stats
    def preview(self, n: int = 16, columns: int | None = None, scale: int = 2):
        """A grid of the first ``n`` samples with their captions, as a PIL image."""
        from .preview import make_image_grid

        chosen = list(self.samples(n))
        return make_image_grid(
            [s.image for s in chosen], [s.caption for s in chosen], columns=columns, scale=scale
        )

    def stats(self, n: int = 1000) -> dict[str, Any]:
        """Counts over the first ``n`` samples: attribute distributions and caption lengths.

        Attributes with more than 40 distinct values (dates, years) are summarised by
        their number of distinct values instead of a full histogram.
        """
        counters: dict[str, Counter] = {}
        lengths: list[int] = []
        vocabulary: set[str] = set()
        phrasings: set[str] = set()
        taken = 0
        for s in self.samples(n, render=False):
            taken += 1
            for key, value in s.attributes.items():
                counters.setdefault(key, Counter())[str(value)] += 1
            for text in s.captions or [s.caption]:
                words = text.split()
                lengths.append(len(words))
                vocabulary.update(w.strip(",.").lower() for w in words)
            phrasings.add(s.caption)
        attributes: dict[str, Any] = {}
        for key, counter in counters.items():
            if len(counter) > 40:
                attributes[key] = {"distinct": len(counter)}
            else:
                attributes[key] = dict(sorted(counter.items()))
        return {
            "world": self.name,
            "split": self.split,
            "size": self.size,
            "seed": self.seed,
            "sampled": taken,
            "attributes": attributes,
            "caption_words": {
                "mean": float(np.mean(lengths)) if lengths else 0.0,
                "min": int(min(lengths)) if lengths else 0,
                "max": int(max(lengths)) if lengths else 0,
            },
            "vocabulary_size": len(vocabulary),
            "distinct_captions": len(phrasings),
        }

    def describe(self) -> dict[str, Any]:
        """What the world holds out and how it is built, for ``data stats`` and the docs."""
        return {"name": self.name, "splits": dict(self.splits)}


def image_to_tensor(image) -> torch.Tensor:
    """A PIL RGB image as a float tensor in [0, 1], shape (3, H, W)."""
    array = np.asarray(image, dtype=np.uint8)  # (H, W, 3)
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float().div_(255.0)  # (3, H, W)

"""What every sentence encoder is: a name, a width, and ``encode``.

Encoders batch internally and keep at most ``cache_size`` recent sentences (an LRU
cache), so an app that re-encodes the same prompts stays fast without growing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np


class TextEncoder:
    """Base class: subclasses set ``name`` and ``dim`` and implement ``_encode_batch``.

    Args:
        batch_size: sentences per forward pass.
        cache_size: how many recent sentence embeddings to keep (0 = none).
    """

    name: str = "text-encoder"
    dim: int = 0

    def __init__(self, batch_size: int = 64, cache_size: int = 2048):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.batch_size = batch_size
        self.cache_size = max(0, int(cache_size))
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        """Embed one batch: (len(texts), dim) float32."""
        raise NotImplementedError

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed sentences.

        Args:
            texts: a list of strings (a lone string is refused, to avoid encoding its characters).

        Returns:
            float32 array of shape (len(texts), dim).
        """
        if isinstance(texts, str):
            raise TypeError("encode takes a list of sentences; wrap a single sentence in a list")
        texts = list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"sentence {i} is {type(text).__name__}, not str")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                out[i] = cached
            else:
                missing.setdefault(text, []).append(i)
        unique = list(missing)
        for start in range(0, len(unique), self.batch_size):
            chunk = unique[start : start + self.batch_size]
            vectors = np.asarray(self._encode_batch(chunk), dtype=np.float32)  # (len(chunk), dim)
            if vectors.shape != (len(chunk), self.dim):
                raise RuntimeError(f"{self.name} returned shape {vectors.shape} for {len(chunk)} sentences")
            for text, vector in zip(chunk, vectors):
                for i in missing[text]:
                    out[i] = vector
                self._remember(text, vector)
        return out

    def _remember(self, text: str, vector: np.ndarray) -> None:
        if self.cache_size == 0:
            return
        self._cache[text] = vector.copy()
        self._cache.move_to_end(text)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim})"


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of (N, D) and (N, D) arrays, shape (N,); a zero vector has cosine 0."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    dots = np.sum(a * b, axis=-1)
    return np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), 0.0)


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """All pairwise cosines of (N, D) vectors, shape (N, N); zero vectors give 0."""
    v = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    unit = np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)
    return unit @ unit.T

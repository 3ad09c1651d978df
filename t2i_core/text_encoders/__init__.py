"""Sentence encoders, chosen by name: ``t2i_core.load_text_encoder("use" | "glove-avg" | "use-tfhub")``.

Every encoder has ``.name``, ``.dim`` and ``.encode(list[str]) -> np.ndarray (N, dim) float32``.

- ``base``: :class:`TextEncoder` (batching, a cache of recent sentences) and cosine helpers.
- ``use``: ``use``, Google's Universal Sentence Encoder (multilingual v3), offline, in numpy.
- ``glove``: ``glove-avg``, the mean of GloVe 6B 50-d word vectors: blind to word order.
- ``tfhub``: ``use-tfhub``, the English USE from a TensorFlow Hub SavedModel (needs requirements-tf.txt).
"""

from .base import TextEncoder

__all__ = ["TextEncoder"]

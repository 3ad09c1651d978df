"""Sentence encoders, chosen by name: ``t2i_core.load_text_encoder("use" | "glove-avg" | "use-tfhub")``.

Every encoder has ``.name``, ``.dim`` and ``.encode(list[str]) -> np.ndarray (N, dim) float32``.
"""

from .base import TextEncoder

__all__ = ["TextEncoder"]

"""Decoding: turning a step-wise decoder into sequences (greedy, beam search) with attention.

- ``beam_search``: :func:`greedy_decode` and :func:`beam_search` for any decoder with the
  ``start``/``step`` protocol, batched, returning each token's attention (:class:`Decoded`).
"""

from .beam_search import Decoded, beam_search, greedy_decode

__all__ = ["Decoded", "beam_search", "greedy_decode"]

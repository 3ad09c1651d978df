"""Decoding: turning a step-wise decoder into sequences (greedy, beam search) with attention."""

from .beam_search import Decoded, beam_search, greedy_decode

__all__ = ["Decoded", "beam_search", "greedy_decode"]

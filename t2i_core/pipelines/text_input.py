"""Checking the text a person types before any model sees it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MAX_SENTENCE_CHARS = 2000
MAX_SENTENCES = 200


def check_sentence(text: Any, what: str = "the sentence") -> str:
    """``text`` stripped, or a ValueError that says what is wrong with it."""
    if not isinstance(text, str):
        raise ValueError(f"{what} must be text, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise ValueError(f"{what} is empty; type a sentence")
    if len(stripped) > MAX_SENTENCE_CHARS:
        raise ValueError(f"{what} has {len(stripped):,} characters; the limit is {MAX_SENTENCE_CHARS:,}")
    if any(ord(c) < 32 and c not in "\t\n" for c in stripped):
        raise ValueError(f"{what} contains control characters")
    return stripped


def check_sentences(texts: Sequence[Any]) -> list[str]:
    """Every sentence checked by :func:`check_sentence`; at most ``MAX_SENTENCES`` of them."""
    if len(texts) == 0:
        raise ValueError("no sentences given")
    if len(texts) > MAX_SENTENCES:
        raise ValueError(f"{len(texts)} sentences; the limit is {MAX_SENTENCES}")
    return [check_sentence(t, f"sentence {i + 1}") for i, t in enumerate(texts)]

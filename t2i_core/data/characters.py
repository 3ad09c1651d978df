"""A character vocabulary for character-level seq2seq (the date translator).

Ids 0-3 are reserved like the word vocabulary's: ``<pad>``, ``<start>``, ``<end>``,
``<unk>`` (a character never seen when the vocabulary was built). A translator has two:
the source characters (what people type) and the target characters (``0-9`` and ``-``),
saved together as ``vocabulary.json`` (``{"source": [...], "target": [...]}``) beside
the weights, so a checkpoint decodes its own ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ..checkpoint import read_json_file
from .vocabulary import END, PAD, SPECIAL_TOKENS, START, UNK, VOCABULARY_FILE, content_ids  # noqa: F401 (re-exported)


class CharacterVocabulary:
    """Characters <-> ids. ``symbols[i]`` is the symbol of id ``i``; the first four are special."""

    pad_id, start_id, end_id, unk_id = 0, 1, 2, 3

    def __init__(self, symbols: Iterable[str]):
        symbols = list(symbols)
        if tuple(symbols[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise ValueError(f"a character vocabulary must start with {SPECIAL_TOKENS}, got {symbols[:4]}")
        if len(set(symbols)) != len(symbols):
            raise ValueError("a character vocabulary must not repeat a symbol")
        if any(len(s) != 1 for s in symbols[len(SPECIAL_TOKENS):]):
            raise ValueError("every symbol after the special tokens must be one character")
        self.symbols = symbols
        self.index = {s: i for i, s in enumerate(symbols)}

    @classmethod
    def build(cls, texts: Iterable[str]) -> CharacterVocabulary:
        """Every character that occurs in ``texts``, sorted by code point (stable across runs)."""
        characters = sorted({c for text in texts for c in text})
        return cls(list(SPECIAL_TOKENS) + characters)

    def __len__(self) -> int:
        return len(self.symbols)

    def encode(self, text: str) -> list[int]:
        """One id per character of ``text`` (``<unk>`` for unseen ones); no start or end token."""
        return [self.index.get(c, self.unk_id) for c in text]

    def unknown(self, text: str) -> list[str]:
        """The characters of ``text`` this vocabulary does not know, in order of first appearance."""
        return list(dict.fromkeys(c for c in text if c not in self.index))

    def decode(self, ids: Iterable[int]) -> str:
        """The characters of ``ids`` up to the first end token; start and padding are skipped."""
        return "".join(self.symbols[i] if len(SPECIAL_TOKENS) <= i < len(self.symbols) else "?" for i in content_ids(ids))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharacterVocabulary) and self.symbols == other.symbols


def save_vocabularies(folder: str | Path, source: CharacterVocabulary, target: CharacterVocabulary) -> Path:
    """Write ``vocabulary.json`` (``{"source": [...], "target": [...]}``) into ``folder``."""
    path = Path(folder) / VOCABULARY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"source": source.symbols, "target": target.symbols}, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load_vocabularies(folder: str | Path) -> tuple[CharacterVocabulary, CharacterVocabulary]:
    """The (source, target) vocabularies saved in ``folder`` by :func:`save_vocabularies`."""
    path = Path(folder) / VOCABULARY_FILE
    data = read_json_file(path)
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), list) and all(isinstance(s, str) for s in data[k]) for k in ("source", "target")
    ):
        raise ValueError(f"{path} must hold {{'source': [characters], 'target': [characters]}}")
    return CharacterVocabulary(data["source"]), CharacterVocabulary(data["target"])

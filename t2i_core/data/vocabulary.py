"""A word vocabulary for captioning: tokenising, a frequency threshold, ids and back, JSON.

Ids 0-3 are reserved: ``<pad>`` (padding after the end), ``<start>`` (fed before the first
word), ``<end>`` (emitted after the last) and ``<unk>`` (any word seen fewer than
``min_count`` times when the vocabulary was built). The vocabulary is saved as a JSON
list of words beside the weights it belongs to, so a checkpoint decodes its own ids.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from ..checkpoint import read_json_file

PAD, START, END, UNK = "<pad>", "<start>", "<end>", "<unk>"
SPECIAL_TOKENS = (PAD, START, END, UNK)
VOCABULARY_FILE = "vocabulary.json"

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def content_ids(ids: Iterable[int]) -> list[int]:
    """The ids of a decoded sequence up to its first end token, start and padding skipped."""
    out = []
    for i in ids:
        i = int(i)
        if i == SPECIAL_TOKENS.index(END):
            break
        if i not in (SPECIAL_TOKENS.index(PAD), SPECIAL_TOKENS.index(START)):
            out.append(i)
    return out


def read_string_list(path: Path, what: str) -> list[str]:
    """A JSON list of strings from ``path`` (``what`` names its items in the error)."""
    items = read_json_file(path)
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ValueError(f"{path} must hold a JSON list of {what}")
    return items


def tokenize(text: str) -> list[str]:
    """Lower-case words of ``text``; punctuation is dropped ("A dog, running." -> a dog running)."""
    return _WORD.findall(text.lower())


class Vocabulary:
    """Words <-> ids. ``words[i]`` is the word of id ``i``; the first four are the special tokens."""

    def __init__(self, words: Iterable[str]):
        words = list(words)
        if tuple(words[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise ValueError(f"a vocabulary must start with {SPECIAL_TOKENS}, got {words[:4]}")
        if len(set(words)) != len(words):
            raise ValueError("a vocabulary must not repeat a word")
        self.words = words
        self.index = {w: i for i, w in enumerate(words)}

    pad_id, start_id, end_id, unk_id = 0, 1, 2, 3

    @classmethod
    def build(cls, captions: Iterable[str], min_count: int = 1) -> Vocabulary:
        """The words that occur at least ``min_count`` times in ``captions``, most frequent first."""
        if min_count < 1:
            raise ValueError(f"min_count must be at least 1, got {min_count}")
        counts = Counter(word for caption in captions for word in tokenize(caption))
        kept = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
        return cls(list(SPECIAL_TOKENS) + [w for w in kept if w not in SPECIAL_TOKENS])

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, caption: str, max_length: int | None = None) -> list[int]:
        """``<start> w1 ... wn <end>`` as ids, words cut to ``max_length`` (the end token is always kept)."""
        ids = [self.index.get(w, self.unk_id) for w in tokenize(caption)]
        if max_length is not None:
            ids = ids[:max_length]
        return [self.start_id, *ids, self.end_id]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Words of ``ids`` up to the first end token; start and padding are skipped."""
        return [self.words[i] if 0 <= i < len(self.words) else UNK for i in content_ids(ids)]

    def save(self, folder: str | Path) -> Path:
        """Write ``vocabulary.json`` (a JSON list of words) into ``folder``."""
        path = Path(folder) / VOCABULARY_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.words, indent=0) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: str | Path) -> Vocabulary:
        """The vocabulary saved in ``folder`` by :meth:`save`."""
        return cls(read_string_list(Path(folder) / VOCABULARY_FILE, "words"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.words == other.words

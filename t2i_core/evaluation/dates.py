"""Measuring date translators: exact match of the ISO output on the Dates splits.

``exact_match`` counts a date right only when all 10 characters are. ``evaluate_on_dates``
reports it on the ``test`` split (seen formats) and on ``heldout-formats`` (layouts never
seen in training), overall and per format, with the share of outputs that are real
calendar dates. The per-format figures are what measure single kinds of date on their own:
month-first dates with dots or dashes (``mm-dd-yyyy``: ``10-17-2008``), compact ones
(``ddMONyyyy``: ``22JAN2016``) and each held-out layout; each format's count and first
errors come with it, since one format is only a few hundred dates of a split.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import torch

from ..data.characters import CharacterVocabulary
from ..data.dates import DatesWorld
from ..models.date_translator import DateTranslator

ISO_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DEFAULT_SPLITS = ("test", "heldout-formats")


def is_calendar_date(iso: str) -> bool:
    """Whether ``iso`` is ``YYYY-MM-DD`` and names a real day (no 31 April, no 29 February 2021)."""
    if not ISO_PATTERN.match(iso):
        return False
    try:
        datetime.date.fromisoformat(iso)
    except ValueError:
        return False
    return True


def exact_match(predicted: Sequence[str], expected: Sequence[str]) -> float:
    """The share of ``predicted`` strings identical to ``expected``."""
    if len(predicted) != len(expected):
        raise ValueError(f"{len(predicted)} predictions for {len(expected)} references")
    if not expected:
        raise ValueError("exact match of nothing is undefined")
    return float(np.mean([p == e for p, e in zip(predicted, expected)]))


@torch.no_grad()
def translate_texts(
    model: DateTranslator,
    source_vocabulary: CharacterVocabulary,
    target_vocabulary: CharacterVocabulary,
    texts: Sequence[str],
    batch_size: int = 256,
    device: torch.device | str = "cpu",
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Greedy translations of non-empty ``texts`` no longer than the model's maximum.

    Returns, per text, (output string, attention (10, len(text)) float32 with rows summing
    to 1, log-probability of each output character (10,)). The caller checks lengths.
    """
    was_training = model.training
    model.eval()
    results = []
    for start in range(0, len(texts), batch_size):
        chunk = texts[start : start + batch_size]
        lengths = torch.tensor([len(t) for t in chunk], dtype=torch.long)
        source = torch.zeros(len(chunk), int(lengths.max()), dtype=torch.long)
        for i, text in enumerate(chunk):
            source[i, : len(text)] = torch.tensor(source_vocabulary.encode(text), dtype=torch.long)
        ids, attention, log_probs = model.generate(source.to(device), lengths.to(device))  # (B, T), (B, T, N), (B, T)
        ids, attention, log_probs = ids.cpu().numpy(), attention.float().cpu().numpy(), log_probs.float().cpu().numpy()
        for i, text in enumerate(chunk):
            results.append((target_vocabulary.decode(ids[i]), attention[i, :, : len(text)], log_probs[i]))
    model.train(was_training)
    return results


def evaluate_on_dates(
    model: DateTranslator,
    source_vocabulary: CharacterVocabulary,
    target_vocabulary: CharacterVocabulary,
    splits: Sequence[str] = DEFAULT_SPLITS,
    size: int | None = None,
    seed: int = 0,
) -> dict:
    """Exact match per split (and per format within it) of greedy translations.

    ``size`` dates per split (default: the whole split: 5000 test, 2000 held-out).

    Returns ``{split: {...}}`` with ``dates``, ``exact_match``, ``calendar_dates`` (the share
    of outputs that are real days), ``per_format`` (format name -> exact match),
    ``per_format_dates`` (format name -> number of dates), ``wrong_examples`` (the first 5
    errors) and ``wrong_examples_per_format`` (format name -> its first 2 errors; formats
    without errors are left out).
    """
    report = {}
    for split in splits:
        world = DatesWorld(split, size=size, seed=seed)
        samples = list(world.samples())
        outputs = translate_texts(model, source_vocabulary, target_vocabulary, [s.text for s in samples])
        predicted = [iso for iso, _, _ in outputs]
        by_format = defaultdict(list)
        wrong_by_format = defaultdict(list)
        wrong = []
        for s, p in zip(samples, predicted):
            by_format[s.format].append(p == s.iso)
            if p != s.iso:
                error = {"text": s.text, "expected": s.iso, "predicted": p}
                wrong.append(error)
                wrong_by_format[s.format].append(error)
        report[split] = {
            "dates": len(samples),
            "exact_match": exact_match(predicted, [s.iso for s in samples]),
            "calendar_dates": float(np.mean([is_calendar_date(p) for p in predicted])),
            "per_format": {name: float(np.mean(v)) for name, v in sorted(by_format.items())},
            "per_format_dates": {name: len(v) for name, v in sorted(by_format.items())},
            "wrong_examples": wrong[:5],
            "wrong_examples_per_format": {name: v[:2] for name, v in sorted(wrong_by_format.items())},
        }
    return report

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

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from ..data.characters import CharacterVocabulary
from ..data.dates import DatesWorld, is_calendar_date
from ..models.date_translator import DateTranslator, translate_texts
from .formatting import Block, Table, figure, percent

DEFAULT_SPLITS = ("test", "heldout-formats")


def exact_match(predicted: Sequence[str], expected: Sequence[str]) -> float:
    """The share of ``predicted`` strings identical to ``expected``."""
    if len(predicted) != len(expected):
        raise ValueError(f"{len(predicted)} predictions for {len(expected)} references")
    if not expected:
        raise ValueError("exact match of nothing is undefined")
    return float(np.mean([p == e for p, e in zip(predicted, expected)]))


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


def report_summary(report: dict) -> list[Block]:
    """The report of ``eval dates`` as the About tab shows it: exact match per attention
    score on the test split and the held-out formats, the default marked. Empty when the report holds no translator."""
    if not report.get("scores"):
        return []
    rows = [[f"`{score}`" + (" (default)" if score == report.get("default_score") else ""),
             *(percent(result["splits"].get(split, {}).get("exact_match")) for split in ("test", "heldout-formats"))]
            for score, result in report["scores"].items()]
    return [Table(["attention score", "test exact match", "held-out formats"], rows)]


def report_details(report: dict) -> list[Block]:
    """What ``eval dates`` prints below the summary: exact match on every split measured, to four decimals."""
    splits = sorted({s for r in report["scores"].values() for s in r["splits"]}, key=lambda s: (s != "test", s))
    return [Table(["score", *(f"{s} exact match" for s in splits)],
                  [[score, *(figure(r["splits"].get(s, {}).get("exact_match"), 4) for s in splits)]
                   for score, r in report["scores"].items()])]

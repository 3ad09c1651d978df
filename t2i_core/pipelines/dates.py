"""``load_pipeline("dates")``: a written date in, ISO ``YYYY-MM-DD`` and its attention out.

``pipe("5 April 09")`` returns a :class:`DateResult`; ``pipe([...])`` a list of them. The
shipped translators (one per attention score function, in ``checkpoints/dates/<score>``)
were trained on the Dates world: English month and weekday names, numeric dates with
``/``, ``.`` or ``-``, compact dates like ``22JAN2016`` and ``2016JAN22``, two-digit years
read by the strptime pivot (00-68 -> 2000s). Numeric dates follow the world's ambiguity
rule (:data:`t2i_core.data.dates.AMBIGUITY_RULE`): of the two leading numbers, one above
12 is the day whatever the separator (``10-17-2008`` is 17 October); when both could be
the month, slashes are read month-first and dots and dashes day-first. The pipeline
applies no rule of its own: the model learned the rule from the data.

What is not a date is answered, not crashed on: the result has ``valid == False`` and a
``reason`` when the input is empty, has no digit (every written date has its year in
digits), has characters the model never saw, gets an output that is no calendar day,
or gets an output the model is unsure of. Input longer than the model's maximum
(``max_input_length``, 64 characters) and anything that is not a string raise an error
that says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.characters import load_vocabularies
from ..data.dates import is_calendar_date
from ..device import select_device
from ..models.attention import SCORES
from ..models.date_translator import DateTranslator, translate_texts

CHECKPOINTS = Path(__file__).resolve().parents[2] / "checkpoints" / "dates"
# The score function whose translator is the default: the best on the validation split
# (see the date translator section of README.md for every score's figures).
DEFAULT_SCORE = "dot"
MIN_CONFIDENCE = 0.5
TRAINED_ON = (
    "Trained on the Dates world: English month and weekday names, numeric dates with / . or -, "
    "compact dates like 22JAN2016 and 2016JAN22, two-digit years read by the strptime pivot "
    "(00-68 are 2000-2068, 69-99 are 1969-1999); a number above 12 is the day whatever the "
    "separator (10-17-2008 is 17 October), and when both numbers could be the month, slashes "
    "are read month-first, dots and dashes day-first."
)


def shipped_checkpoint(score: str | None = None) -> Path:
    """The folder of the shipped translator with attention score ``score`` (default: the best)."""
    score = score or DEFAULT_SCORE
    if score not in SCORES:
        raise ValueError(f"unknown attention score {score!r}; choose one of {SCORES}")
    return CHECKPOINTS / score


def shipped_scores() -> list[str]:
    """The score functions that have a shipped translator, in the order of ``SCORES``."""
    return [s for s in SCORES if (CHECKPOINTS / s / "config.json").is_file()]


@dataclass
class DateResult:
    """One translation.

    Attributes:
        text: the input, with leading and trailing white space removed (what the model read).
        iso: the model's ``YYYY-MM-DD`` (empty for empty input).
        attention: (len(iso), len(text)) float64: row i is where output character i looked,
            each row summing to 1.
        valid: the input looks like a date, the model knows its characters and is confident,
            and ``iso`` is a real calendar day.
        confidence: the model's probability of the whole output (product over its characters).
        reason: why ``valid`` is False (None when it is True).
    """

    text: str
    iso: str
    attention: np.ndarray
    valid: bool
    confidence: float
    reason: str | None = None
    character_confidence: list[float] = field(default_factory=list)

    @property
    def input_characters(self) -> list[str]:
        return list(self.text)

    @property
    def output_characters(self) -> list[str]:
        return list(self.iso)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able record: text, iso, valid, reason, confidence, attention as nested lists."""
        return {
            "text": self.text,
            "iso": self.iso,
            "valid": self.valid,
            "reason": self.reason,
            "confidence": round(self.confidence, 6),
            "attention_shape": list(self.attention.shape),
            "attention": [[round(float(v), 5) for v in row] for row in self.attention],
        }


class DatesPipeline:
    """``pipe(text)`` -> :class:`DateResult`; ``pipe([texts])`` -> a list of them.

    Args:
        score: the shipped translator with this attention score (additive, dot, general;
            default: the best, :data:`DEFAULT_SCORE`).
        checkpoint: a translator folder instead of a shipped one.
        device: cpu, cuda, mps (default: automatic).
        min_confidence: outputs the model gives a lower probability are not ``valid``.
    """

    trained_on = TRAINED_ON

    def __init__(self, score: str | None = None, checkpoint: str | Path | None = None, device: str | None = None,
                 min_confidence: float = MIN_CONFIDENCE):
        folder = Path(checkpoint) if checkpoint is not None else shipped_checkpoint(score)
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence}")
        self.device = select_device(device)
        self.model = DateTranslator.from_pretrained(folder, device=self.device)
        self.source_vocabulary, self.target_vocabulary = load_vocabularies(folder)
        config = self.model.config
        if (len(self.source_vocabulary), len(self.target_vocabulary)) != (config.source_vocab_size, config.target_vocab_size):
            raise ValueError(f"{folder}: the vocabularies do not match the model's sizes")
        self.score = config.score
        self.max_input_length = config.max_input_length
        self.min_confidence = min_confidence

    def __call__(self, texts: str | Sequence[str]) -> DateResult | list[DateResult]:
        """Translate one written date or a list of them.

        Raises:
            TypeError: an input is not a string (or a list of strings).
            ValueError: an input is longer than ``max_input_length`` characters.
        """
        single = isinstance(texts, str)
        if not single and not isinstance(texts, (list, tuple)):
            raise TypeError(f"pass a date as a string, or a list of strings; got {type(texts).__name__}")
        items = [texts] if single else list(texts)
        cleaned = []
        for item in items:
            if not isinstance(item, str):
                raise TypeError(f"a date must be a string, got {type(item).__name__}")
            item = item.strip()
            if len(item) > self.max_input_length:
                raise ValueError(
                    f"input is {len(item)} characters long; the date translator reads at most "
                    f"{self.max_input_length} (no written date is that long)"
                )
            cleaned.append(item)
        to_translate = [t for t in cleaned if t]
        outputs = iter(translate_texts(self.model, self.source_vocabulary, self.target_vocabulary, to_translate, device=self.device)
                       if to_translate else [])
        results = [self._result(text, next(outputs)) if text else self._empty() for text in cleaned]
        return results[0] if single else results

    def _empty(self) -> DateResult:
        return DateResult(text="", iso="", attention=np.zeros((0, 0)), valid=False, confidence=0.0, reason="empty input")

    def _result(self, text: str, output: tuple[str, np.ndarray, np.ndarray]) -> DateResult:
        iso, attention, log_probs = output
        attention = attention.astype(np.float64)
        attention /= attention.sum(axis=1, keepdims=True).clip(min=1e-12)  # exactly 1 after float32 rounding
        confidence = math.exp(float(log_probs.sum()))
        unknown = self.source_vocabulary.unknown(text)
        reason = None
        if not any(c.isdigit() for c in text):
            reason = "no digits: every written date has its year in digits"
        elif unknown:
            reason = f"characters the model never saw: {''.join(unknown)!r}"
        elif not is_calendar_date(iso):
            reason = f"the output {iso!r} is not a calendar date"
        elif confidence < self.min_confidence:
            reason = f"the model is unsure (confidence {confidence:.2f} < {self.min_confidence})"
        return DateResult(
            text=text, iso=iso, attention=attention, valid=reason is None, confidence=confidence, reason=reason,
            character_confidence=[round(math.exp(float(v)), 6) for v in log_probs],
        )

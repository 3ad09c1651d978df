"""``load_pipeline("dates")``: a written date in, ISO ``YYYY-MM-DD`` and its attention out.

``pipe("5 April 09")`` and ``pipe([...])`` both return a :class:`DatesOutput`, whose fields
hold the batch; ``DatesPipeline.from_pretrained(folder_or_hub_id)`` loads a translator and
its character vocabularies by name. The shipped translators (one per attention score
function, in ``checkpoints/dates/<score>``) were trained on the Dates world: English month and weekday names, numeric dates with
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..checkpoint import SHIPPED_CHECKPOINTS, resolve_checkpoint_dir
from ..data.characters import load_vocabularies
from ..data.dates import is_calendar_date
from ..device import select_device
from ..models.attention import SCORES
from ..models.date_translator import DateTranslator, translate_texts
from .pretrained import PretrainedPipeline

CHECKPOINTS = SHIPPED_CHECKPOINTS / "dates"
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
class DatesOutput:
    """What :class:`DatesPipeline` returns: one translation per written date.

    A translation is ``valid`` when the input looks like a date, the model knows its
    characters and is confident, and the output is a real calendar day; ``reasons`` says
    why not otherwise.
    """

    texts: list[str]  # (B,) the inputs, surrounding white space removed (what the model read)
    iso_dates: list[str]  # (B,) the model's YYYY-MM-DD ("" for empty input)
    # B arrays (len(iso_dates[b]), len(texts[b])) float64: row i is where output character i
    # looked, each row summing to 1.
    attention: list[np.ndarray]
    valid: list[bool]  # (B,)
    confidences: list[float]  # (B,) the model's probability of the whole output (product over its characters)
    reasons: list[str | None]  # (B,) why a translation is not valid (None when it is)
    character_confidences: list[list[float]]  # (B, len(iso_dates[b])) each output character's probability

    def records(self) -> list[dict[str, Any]]:
        """One JSON-able record per date: text, iso, valid, reason, confidence, attention as nested lists."""
        return [
            {
                "text": text,
                "iso": iso,
                "valid": valid,
                "reason": reason,
                "confidence": round(confidence, 6),
                "attention_shape": list(attention.shape),
                "attention": [[round(float(v), 5) for v in row] for row in attention],
            }
            for text, iso, attention, valid, confidence, reason in zip(
                self.texts, self.iso_dates, self.attention, self.valid, self.confidences, self.reasons
            )
        ]


class DatesPipeline(PretrainedPipeline):
    """``pipe(text)`` or ``pipe([texts])`` -> :class:`DatesOutput`.

    ``DatesPipeline.from_pretrained(folder_or_hub_id)`` loads a translator by name, with the
    character vocabularies saved beside its weights.

    Args:
        score: the shipped translator with this attention score (additive, dot, general;
            default: the best, :data:`DEFAULT_SCORE`).
        checkpoint: a translator folder or hub id instead of a shipped one.
        device: cpu, cuda, mps (default: automatic).
        min_confidence: outputs the model gives a lower probability are not ``valid``.
    """

    trained_on = TRAINED_ON

    def __init__(self, score: str | None = None, checkpoint: str | Path | None = None, device: str | None = None,
                 min_confidence: float = MIN_CONFIDENCE):
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence}")
        folder = resolve_checkpoint_dir(checkpoint if checkpoint is not None else shipped_checkpoint(score))
        self.device = select_device(device)
        self.model = DateTranslator.from_pretrained(folder, device=self.device)
        self.source_vocabulary, self.target_vocabulary = load_vocabularies(folder)
        config = self.model.config
        if (len(self.source_vocabulary), len(self.target_vocabulary)) != (config.source_vocab_size, config.target_vocab_size):
            raise ValueError(f"{folder}: the vocabularies do not match the model's sizes")
        self.score = config.score
        self.max_input_length = config.max_input_length
        self.min_confidence = min_confidence

    def __call__(self, texts: str | Sequence[str]) -> DatesOutput:
        """Translate one written date or a list of them; one date is a batch of one.

        Raises:
            TypeError: an input is not a string (or a list of strings).
            ValueError: an input is longer than ``max_input_length`` characters.
        """
        # 1. check inputs
        if not isinstance(texts, (str, list, tuple)):
            raise TypeError(f"pass a date as a string, or a list of strings; got {type(texts).__name__}")
        items = [texts] if isinstance(texts, str) else list(texts)
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
        # 2. translate the non-empty ones in one batch
        to_translate = [t for t in cleaned if t]
        outputs = iter(translate_texts(self.model, self.source_vocabulary, self.target_vocabulary, to_translate, device=self.device)
                       if to_translate else [])
        # 3. judge each translation
        translations = [self._judge(text, next(outputs)) if text else _empty_translation() for text in cleaned]
        return DatesOutput(
            texts=[t.text for t in translations],
            iso_dates=[t.iso for t in translations],
            attention=[t.attention for t in translations],
            valid=[t.reason is None for t in translations],
            confidences=[t.confidence for t in translations],
            reasons=[t.reason for t in translations],
            character_confidences=[t.character_confidences for t in translations],
        )

    def _judge(self, text: str, output: tuple[str, np.ndarray, np.ndarray]) -> _Translation:
        """The translation of ``text`` (iso, attention (len(iso), len(text)), log-probabilities (len(iso),)), with the reason it is not valid."""
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
        return _Translation(text, iso, attention, confidence, reason, [round(math.exp(float(v)), 6) for v in log_probs])


class _Translation(NamedTuple):
    """One date of a :class:`DatesOutput`, while the batch is assembled."""

    text: str
    iso: str
    attention: np.ndarray  # (len(iso), len(text))
    confidence: float
    reason: str | None
    character_confidences: list[float]


def _empty_translation() -> _Translation:
    """An empty input: nothing to translate, so nothing is valid."""
    return _Translation("", "", np.zeros((0, 0)), 0.0, "empty input", [])

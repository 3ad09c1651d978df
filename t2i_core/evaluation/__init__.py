"""Evaluation: how models and encoders are measured, apart from how they are built and trained.

- ``encoders``: how much word order a sentence encoder keeps (order-swap triplets, a
  colour-binding probe on Flowers captions, STS correlation).
- ``text2image``: the text-to-image generators judged by the flower attribute classifier
  (binding accuracy, Frechet ratio, diversity).
- ``captioning``: captioners by COCO caption metrics, the objects named and attention pointing.
- ``round_trip``: prompt -> generator -> flower -> captioner -> caption, scored by its colours.
- ``dates``: date translators by exact match, per split and per format.
- ``vqa``: VQA models by accuracy per question type on held-out scenes, phrasings and looks.
- ``world_detector``: the out-of-world detector on the worlds' test splits and on real photos.
- ``formatting``: how a report is shown: the tables and paragraphs each module renders it as
  (``report_summary``, ``report_details``), written as Markdown for the app or as plain text for the CLI.

Evaluation stands on pipelines, models and data; training uses it, never the reverse.

Shipped results (``results/*.json``) are what ``python -m t2i_core eval ...`` wrote;
:func:`shipped_results` reads them, so the app shows measured figures, not typed ones.
"""

import json
from pathlib import Path
from typing import Any

from .encoders import (
    DEFAULT_ENCODERS,
    Triplet,
    binding_probe,
    evaluate_encoders,
    load_sts,
    load_triplets,
    sts_correlation,
    triplet_benchmark,
)

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def shipped_results(name: str) -> dict[str, Any] | None:
    """The shipped evaluation report ``results/<name>.json`` (e.g. ``text2image``), or None if absent."""
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


__all__ = [
    "DEFAULT_ENCODERS",
    "Triplet",
    "binding_probe",
    "evaluate_encoders",
    "load_sts",
    "load_triplets",
    "shipped_results",
    "sts_correlation",
    "triplet_benchmark",
]

"""Evaluation: how models and encoders are measured, apart from how they are built and trained.

- ``encoders``: how much word order a sentence encoder keeps (order-swap triplets, a
  colour-binding probe on Flowers captions, STS correlation).

Shipped results (``results/*.json``) are what ``python -m t2i_core eval ...`` wrote.
"""

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

__all__ = [
    "DEFAULT_ENCODERS",
    "Triplet",
    "binding_probe",
    "evaluate_encoders",
    "load_sts",
    "load_triplets",
    "sts_correlation",
    "triplet_benchmark",
]

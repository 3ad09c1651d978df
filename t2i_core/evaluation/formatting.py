"""How the evaluation reports write their figures in Markdown (shared by every ``report_markdown``)."""

from __future__ import annotations


def percent(share: float | None) -> str:
    """A share as a percentage with one decimal (``0.9525`` -> ``95.2%``); ``-`` where there is none."""
    return "-" if share is None else f"{share:.1%}"

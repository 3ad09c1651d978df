"""What every ``eval`` command shares: ``--checkpoint NAME=PATH`` options and writing the JSON report."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path


def parse_checkpoints(items: Sequence[str], names: Sequence[str] | None = None, what: str = "MODEL") -> dict[str, str]:
    """``["dot=runs/x/final", ...]`` -> ``{"dot": "runs/x/final"}``; each NAME one of ``names`` when given."""
    checkpoints = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or (names is not None and name not in names):
            known = f" with {what} one of {tuple(names)}" if names is not None else ""
            raise ValueError(f"--checkpoint takes {what}=PATH{known}, got {item!r}")
        checkpoints[name] = path
    return checkpoints


def write_report(report: dict, output: str | None) -> str:
    """The report as indented JSON text, also written to ``output`` (folders made) when given."""
    text = json.dumps(report, indent=2)
    if output:
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    return text

"""How an evaluation report is shown: each evaluation module renders its report once, as
a list of blocks (a :class:`Table` or a paragraph of text), and the two formatters here
write those blocks for the app (:func:`markdown`) and for the terminal (:func:`plain_text`).

So which rows and columns a report has is said in one place, next to its evaluation:
``report_summary`` (the figures the app's About tab shows, and the CLI prints first)
and, where the CLI prints more, ``report_details``.

Text may carry two of Markdown's inline marks, ``**strong**`` and backquotes around a name;
the terminal drops them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    """A table of a report: its column names, its rows (one text cell per column) and an
    optional title line above it."""

    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    title: str = ""


Block = Table | str  # a table, or a paragraph (several lines are kept as lines on the terminal)


def markdown(blocks: Sequence[Block]) -> str:
    """The blocks as Markdown, a blank line between them: pipe tables and paragraphs; ``""`` for none."""
    return "\n\n".join(_markdown_table(block) if isinstance(block, Table) else block for block in blocks)


def _markdown_table(table: Table) -> str:
    lines = ["| " + " | ".join(table.header) + " |", "|" + "---|" * len(table.header)]
    lines += ["| " + " | ".join(row) + " |" for row in table.rows]
    return (f"{table.title}\n\n" if table.title else "") + "\n".join(lines)


def plain_text(blocks: Sequence[Block]) -> str:
    """The blocks as terminal text, a blank line between them: tables padded to columns
    (:func:`text_table`) under their title, the Markdown marks dropped."""
    parts = []
    for block in blocks:
        if isinstance(block, Table):  # the marks go before the columns are padded
            lines = text_table([_unmarked(c) for c in block.header], [[_unmarked(c) for c in row] for row in block.rows])
            parts.append("\n".join([_unmarked(block.title), *lines] if block.title else lines))
        else:
            parts.append(_unmarked(block))
    return "\n\n".join(parts)


def _unmarked(text: str) -> str:
    return re.sub(r"\*\*|`", "", text)


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Plain-text table lines: the header, a dashed rule, the rows; each column as wide as its widest cell."""
    cells = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    cells.insert(1, ["-" * width for width in widths])
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in cells]


def figure(value: float | None, digits: int = 3) -> str:
    """A figure of a report with ``digits`` decimals; ``-`` where there is none."""
    return "-" if value is None else f"{value:.{digits}f}"


def percent(share: float | None) -> str:
    """A share as a percentage with one decimal (``0.9525`` -> ``95.2%``); ``-`` where there is none."""
    return "-" if share is None else f"{share:.1%}"

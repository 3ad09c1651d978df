"""The Dates world: human-written dates paired with ISO ``YYYY-MM-DD``, for seq2seq translators.

Each sample picks one of the named formats in :data:`FORMATS`, draws a date the format
may show, and writes it the way a person would: ``"Tuesday, March 3, 2020"``,
``"3/4/21"``, ``"22JAN2016"``, ``"the 1st of may 1999"``. The target is always the ISO
date. Each format is a pure function of the date, and the rules below make every string
read back to one date, so a model (e.g. Bahdanau attention) can learn an unambiguous
mapping.

Rules the data follows:

- **Ambiguity.** In a numeric date that starts with the day and the month, whichever of
  the two leading numbers is above 12 can only be the day, so it fixes the order whatever
  the separator: ``17-10-2008`` is day-first and ``10-17-2008`` month-first. Only when both leading
  numbers are 12 or less does the separator's convention decide
  (:data:`SEPARATOR_CONVENTION`): slashes are month-first (US, ``03/04/2021`` is 4 March
  2021), dots and dashes day-first (``03.04.2021`` and ``03-04-2021`` are 3 April 2021).
  A format whose order goes against its separator's convention (day-first with slashes:
  ``17/10/2008``; month-first with dots or dashes: ``10.17.2008``, ``10-17-2008``,
  ``4-17-2008``) is therefore only generated when the day is greater than 12
  (:meth:`DateFormat.allows`), so no sample contradicts the reading. Year-first formats
  (``2020.12.31``, ``2020/12/31``, ``20200303``) always write four-digit years, so a
  leading four-digit number is a year and they are unambiguous. Compact forms with the
  month as a word (``22JAN2016``, ``2016JAN22``) are unambiguous too: the word is the
  month, and the four-digit number the year.
- **Two-digit years** follow the POSIX / Python ``strptime`` pivot: 00-68 mean 2000-2068,
  69-99 mean 1969-1999 (:func:`parse_two_digit_year`). Formats with two-digit years are
  only generated for dates from 1969-01-01 to 2068-12-31.
- **Weekday names**, where a format has one, are the true weekday of the date (CLDR
  patterns through Babel compute them).
- **Year span.** Four-digit-year formats draw dates uniformly by day from 1900-01-01 to
  2099-12-31 (formats against their separator's convention: uniformly among the days
  after the 12th).

Splits: ``train``, ``val`` and ``test`` draw uniformly from the seen formats;
``heldout-formats`` draws only from :data:`HELDOUT_FORMAT_NAMES`, which recombine pieces
the seen formats teach, to test whether a translator generalises to new layouts:

- ``"Tue 3 March 2020"``, ``"3rd March 2020"``, ``"MARCH 3, 2020"``, ``"2020/3/4"``: new
  layouts of weekdays, ordinals, upper case and unpadded year-first numbers.
- ``"22Jan2016"`` (``ddmonyyyy``): the compact layout of ``22JAN2016`` and ``22jan2016``
  with the title-case abbreviation of ``3 Mar 2020``; only the letter case is new.
- ``"2016-JAN-22"`` (``yyyy-MON-dd``): a year-first order with dashes (``2020-03-03``)
  around an upper-case month word (``2016JAN22``); seen formats never put a word between
  a leading year and the day.
- ``"4.17.08"`` (``m.d.yy``, day > 12 only): the month-first order of ``10.17.2008`` and
  ``4-17-2008`` with the unpadded two-digit-year layout of ``3.4.21``; it measures whether
  "a number above 12 is the day" was learned as a rule rather than per format.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

from babel import Locale
from babel.dates import format_date

from .preview import make_text_table
from .world import Sample, World

_ENGLISH = Locale.parse("en")  # parsed once: format_date re-parses a locale string per call

FOUR_DIGIT_YEAR_SPAN = (date(1900, 1, 1), date(2099, 12, 31))
TWO_DIGIT_YEAR_SPAN = (date(1969, 1, 1), date(2068, 12, 31))

# How a numeric date whose two leading numbers are both 12 or less is read, per separator.
SEPARATOR_CONVENTION = {"/": "month-first", ".": "day-first", "-": "day-first"}

AMBIGUITY_RULE = (
    "In a numeric date that starts with the day and the month, whichever of the two leading "
    "numbers is above 12 is the day, whatever the separator (17-10-2008 and 10-17-2008 are both 17 October 2008). Only when "
    "both leading numbers are 12 or less does the separator decide: slashes are read month-first "
    "(US), dots and dashes day-first. Formats whose order goes against their separator "
    "(day-first with slashes, month-first with dots or dashes) are only written when the day is "
    "greater than 12. Year-first dates use four-digit years, and compact dates name the month "
    "with a word (22JAN2016), so both are unambiguous."
)
TWO_DIGIT_YEAR_RULE = (
    "Two-digit years follow the POSIX/Python strptime pivot: 00-68 are 2000-2068 and 69-99 are "
    "1969-1999; formats with two-digit years only show dates from 1969 to 2068."
)

# Day > 12 (formats against their separator's convention can show it), a one-digit month
# (padding shows), and a year inside the two-digit-year span, so every format can show it.
EXAMPLE_DATE = date(2008, 4, 17)

# Every target of the world: ISO 8601 calendar dates, always 10 characters.
ISO_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_two_digit_year(yy: int) -> int:
    """The four-digit year a two-digit year ``yy`` (0-99) stands for, by the strptime pivot."""
    if not 0 <= yy <= 99:
        raise ValueError(f"a two-digit year is 0-99, got {yy}")
    return 2000 + yy if yy <= 68 else 1900 + yy


def is_calendar_date(iso: str) -> bool:
    """Whether ``iso`` is ``YYYY-MM-DD`` and names a real day (no 31 April, no 29 February 2021)."""
    if not ISO_PATTERN.match(iso):
        return False
    try:
        datetime.date.fromisoformat(iso)
    except ValueError:
        return False
    return True


def ordinal(day: int) -> str:
    """``day`` as an English ordinal: 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 22nd."""
    if 11 <= day % 100 <= 13:  # the teens take "th": 11th, not 11st
        return f"{day}th"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _cldr(pattern: str, case: str = "as-is") -> Callable[[date], str]:
    """A renderer for the CLDR date ``pattern`` in English, optionally upper- or lower-cased."""

    def render(d: date) -> str:
        text = format_date(d, format=pattern, locale=_ENGLISH)
        return {"as-is": text, "upper": text.upper(), "lower": text.lower()}[case]

    return render


def _month(d: date) -> str:
    return format_date(d, format="MMMM", locale=_ENGLISH)


def _weekday(d: date) -> str:
    return format_date(d, format="EEEE", locale=_ENGLISH)


@dataclass(frozen=True)
class DateFormat:
    """One way people write dates.

    Attributes:
        name: a readable key, shaped like the output (``"dd/mm/yyyy"``, ``"month d, yyyy"``).
        render: the date -> its text in this format; deterministic.
        order: ``"day-first"``, ``"month-first"`` or ``"year-first"`` for numeric formats,
            ``"textual"`` where the month is a word.
        two_digit_year: whether the year is written with two digits (then dates are drawn
            from :data:`TWO_DIGIT_YEAR_SPAN`).
        separator: the character between numeric parts (``"/"``, ``"."``, ``"-"``, ``""``),
            or None for textual formats (compact ones like ``22JAN2016`` included).
        heldout: whether the format only appears in the ``heldout-formats`` split.
    """

    name: str
    render: Callable[[date], str]
    order: str
    two_digit_year: bool = False
    separator: str | None = None
    heldout: bool = False

    @property
    def span(self) -> tuple[date, date]:
        """The first and last date (inclusive) this format is drawn from."""
        return TWO_DIGIT_YEAR_SPAN if self.two_digit_year else FOUR_DIGIT_YEAR_SPAN

    @property
    def against_convention(self) -> bool:
        """Whether the order is day-first or month-first and not the one its separator implies.

        ``dd/mm/yyyy``, ``mm-dd-yyyy`` and ``mm.dd.yyyy`` are; ``mm/dd/yyyy``, ``dd-mm-yyyy``,
        year-first and textual formats are not (see :data:`SEPARATOR_CONVENTION`).
        """
        if self.order not in ("day-first", "month-first"):
            return False
        return self.order != SEPARATOR_CONVENTION[self.separator]

    def allows(self, d: date) -> bool:
        """Whether this format may show ``d`` without breaking the ambiguity rule."""
        first, last = self.span
        if not first <= d <= last:
            return False
        if self.against_convention:
            # Only a day above 12 overrides the separator: "05/04/2021" would be read
            # month-first, "04-05-2021" day-first.
            return d.day > 12
        return True

    @property
    def example(self) -> str:
        return self.render(EXAMPLE_DATE)


def _textual(name: str, render: Callable[[date], str], two_digit_year: bool = False, heldout: bool = False) -> DateFormat:
    return DateFormat(name, render, "textual", two_digit_year=two_digit_year, heldout=heldout)


def _numeric(name: str, pattern: str, order: str, separator: str, heldout: bool = False) -> DateFormat:
    # Numeric patterns here write the year as "yyyy" or "yy", nothing else.
    two_digit_year = "yyyy" not in pattern
    return DateFormat(name, _cldr(pattern), order, two_digit_year=two_digit_year, separator=separator, heldout=heldout)


FORMATS: tuple[DateFormat, ...] = (
    # Month as a word: unambiguous whatever the order.
    _textual("d month yy", _cldr("d MMMM yy"), two_digit_year=True),  # 5 April 09
    _textual("d month yyyy", _cldr("d MMMM y")),  # 3 March 2020
    _textual("d mon yyyy", _cldr("d MMM y")),  # 3 Mar 2020
    _textual("d MONTH yyyy", _cldr("d MMMM y", "upper")),  # 3 MARCH 2020
    _textual("d-mon-yyyy", _cldr("d-MMM-y")),  # 3-Mar-2020
    _textual("month d, yyyy", _cldr("MMMM d, y")),  # March 3, 2020
    _textual("mon d, yyyy", _cldr("MMM d, y")),  # Mar 3, 2020
    _textual("dd-mon-yy", _cldr("dd-MMM-yy"), two_digit_year=True),  # 17-Oct-08
    _textual("weekday, month d, yyyy", _cldr("EEEE, MMMM d, y")),  # Tuesday, March 3, 2020
    _textual("wkd, d mon yyyy", _cldr("EEE, d MMM y")),  # Tue, 3 Mar 2020
    _textual("weekday d month yyyy", _cldr("EEEE d MMMM y")),  # Tuesday 3 March 2020
    _textual("month dth, yyyy", lambda d: f"{_month(d)} {ordinal(d.day)}, {d.year}"),  # March 3rd, 2020
    _textual("the dth of month yyyy (lower)", lambda d: f"the {ordinal(d.day)} of {_month(d).lower()} {d.year}"),
    _textual(
        "weekday the dth of month yyyy",
        lambda d: f"{_weekday(d)} the {ordinal(d.day)} of {_month(d)} {d.year}",  # Tuesday the 3rd of March 2020
    ),
    # All numbers: the separator and the order decide how it reads (module docstring).
    _numeric("mm/dd/yyyy", "MM/dd/yyyy", "month-first", "/"),  # 03/04/2021
    _numeric("mm/dd/yy", "MM/dd/yy", "month-first", "/"),  # 03/04/21
    _numeric("m/d/yy", "M/d/yy", "month-first", "/"),  # 3/4/21
    _numeric("dd/mm/yyyy", "dd/MM/yyyy", "day-first", "/"),  # 17/10/2008, day > 12 only
    _numeric("dd/mm/yy", "dd/MM/yy", "day-first", "/"),  # 17/10/08, day > 12 only
    _numeric("dd.mm.yyyy", "dd.MM.yyyy", "day-first", "."),  # 17.10.2008
    _numeric("d.m.yyyy", "d.M.yyyy", "day-first", "."),  # 3.4.2021
    _numeric("d.m.yy", "d.M.yy", "day-first", "."),  # 3.4.21
    _numeric("dd-mm-yyyy", "dd-MM-yyyy", "day-first", "-"),  # 17-10-2008
    _numeric("mm-dd-yyyy", "MM-dd-yyyy", "month-first", "-"),  # 10-17-2008, day > 12 only
    _numeric("m-d-yyyy", "M-d-yyyy", "month-first", "-"),  # 4-17-2008, day > 12 only
    _numeric("mm.dd.yyyy", "MM.dd.yyyy", "month-first", "."),  # 10.17.2008, day > 12 only
    _numeric("yyyy-mm-dd", "yyyy-MM-dd", "year-first", "-"),  # 2020-03-03
    _numeric("yyyy.mm.dd", "yyyy.MM.dd", "year-first", "."),  # 2020.12.31
    _numeric("yyyy/mm/dd", "yyyy/MM/dd", "year-first", "/"),  # 2020/12/31
    _numeric("yyyymmdd", "yyyyMMdd", "year-first", ""),  # 20200303
    # Compact: no separators, the month as an abbreviation (military, airline and SAS style).
    _textual("ddMONyyyy", _cldr("ddMMMy", "upper")),  # 22JAN2016
    _textual("yyyyMONdd", _cldr("yMMMdd", "upper")),  # 2016JAN22
    _textual("ddmonyyyy (lower)", _cldr("ddMMMy", "lower")),  # 22jan2016
    # Held out: new layouts of pieces the seen formats teach.
    _textual("wkd d month yyyy", _cldr("EEE d MMMM y"), heldout=True),  # Tue 3 March 2020
    _textual("dth month yyyy", lambda d: f"{ordinal(d.day)} {_month(d)} {d.year}", heldout=True),  # 3rd March 2020
    _textual("MONTH d, yyyy", _cldr("MMMM d, y", "upper"), heldout=True),  # MARCH 3, 2020
    _numeric("yyyy/m/d", "yyyy/M/d", "year-first", "/", heldout=True),  # 2020/3/4
    _textual("ddmonyyyy", _cldr("ddMMMy"), heldout=True),  # 22Jan2016
    _textual("yyyy-MON-dd", _cldr("y-MMM-dd", "upper"), heldout=True),  # 2016-JAN-22
    _numeric("m.d.yy", "M.d.yy", "month-first", ".", heldout=True),  # 4.17.08, day > 12 only
)

FORMATS_BY_NAME: dict[str, DateFormat] = {f.name: f for f in FORMATS}
HELDOUT_FORMAT_NAMES: tuple[str, ...] = tuple(f.name for f in FORMATS if f.heldout)


def heldout_format_names() -> tuple[str, ...]:
    """The names of the formats that only the ``heldout-formats`` split uses."""
    return HELDOUT_FORMAT_NAMES


@dataclass
class DateSample(Sample):
    """A date written by a person (``text``, also the caption) and its ISO form (``iso``)."""

    text: str = ""
    iso: str = ""
    date: datetime.date | None = None
    format: str = ""


class DatesWorld(World):
    """Human-written dates in many formats, each paired with its ISO ``YYYY-MM-DD``.

    See the module docstring for the rules that keep the mapping unambiguous.

    Args:
        split: ``train``, ``val``, ``test`` (seen formats) or ``heldout-formats``.
        size: number of samples; defaults to the split's default size.
        seed: the world's seed.
    """

    name: ClassVar[str] = "dates"
    is_image_world: ClassVar[bool] = False
    splits: ClassVar[dict[str, int]] = {"train": 50000, "val": 2000, "test": 5000, "heldout-formats": 2000}

    def __init__(self, split: str = "train", size: int | None = None, seed: int = 0):
        super().__init__(split=split, size=size, seed=seed)
        want_heldout = split == "heldout-formats"
        self.formats: tuple[DateFormat, ...] = tuple(f for f in FORMATS if f.heldout == want_heldout)

    def sample(self, index: int, render: bool = True) -> DateSample:
        """Sample ``index``; ``render`` is accepted for the World interface (text is cheap, so always rendered)."""
        index = self._check_index(index)
        rng = self.rng(index)
        fmt = self.formats[int(rng.integers(len(self.formats)))]
        first, last = fmt.span
        n_days = (last - first).days + 1
        # Rejection keeps the draw uniform over the days the format allows (only formats
        # against their separator's convention reject, about 40% of draws).
        while True:
            day = first + timedelta(days=int(rng.integers(n_days)))
            if fmt.allows(day):
                break
        text, iso = fmt.render(day), day.isoformat()
        return DateSample(
            index=index,
            split=self.split,
            caption=text,
            captions=[text],
            attributes={"format": fmt.name, "order": fmt.order, "year": day.year, "iso": iso},
            text=text,
            iso=iso,
            date=day,
            format=fmt.name,
        )

    def __getitem__(self, index: int) -> dict[str, Any]:
        """``{"text": str, "iso": str, "format": str}``: strings, which default_collate batches as lists."""
        s = self.sample(index)
        return {"text": s.text, "iso": s.iso, "format": s.format}

    def preview(self, n: int = 16, columns: int | None = None, scale: int = 2):
        """The first ``n`` samples as a two-column table image (text, ISO).

        ``columns`` is ignored (a table has one layout); ``scale`` sets the font size (8 px per unit).
        """
        rows = [(s.text, s.iso) for s in self.samples(n)]
        return make_text_table(rows, header=("text", "iso"), font_size=8 * scale)

    def describe(self) -> dict[str, Any]:
        """The formats (name, example for :data:`EXAMPLE_DATE`, order), held-out names, rules and spans."""
        return {
            **super().describe(),
            "formats": [{"name": f.name, "example": f.example, "order": f.order} for f in FORMATS],
            "heldout_formats": list(HELDOUT_FORMAT_NAMES),
            "rules": {"ambiguity": AMBIGUITY_RULE, "two_digit_years": TWO_DIGIT_YEAR_RULE},
            "year_span": {
                "four_digit_years": [d.isoformat() for d in FOUR_DIGIT_YEAR_SPAN],
                "two_digit_years": [d.isoformat() for d in TWO_DIGIT_YEAR_SPAN],
            },
        }

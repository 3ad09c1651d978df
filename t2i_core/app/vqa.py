"""The Visual questions tab: questions about Scenes pictures, with where each attention hop looked."""

from __future__ import annotations

import gradio as gr
import plotly.graph_objects as go

from ..pipelines.vqa import EXAMPLE_QUESTIONS, TRAINED_ON
from .errors import engine_errors
from .pictures import HEATMAP_FORMAT, example_images, for_display, out_of_world_note, scene_image_input
from .serving import cached_examples
from .shipped import available, shipped

MAX_QUESTION_CHARACTERS = 200  # the longest training question has under 60


@engine_errors()
def answer_question(image, question: str, model: str, progress=gr.Progress()):
    """Answer a question about a picture of coloured shapes, with where the question looked.

    Args:
        image: the picture (a Scenes image; a photo is answered but flagged as out of the model's world).
        question: e.g. "what colour is the circle?", "how many objects are there?", "is there a red square?".
        model: "attention" (stacked attention) or "baseline" (no attention).

    Returns:
        the answer and its probability in Markdown, with a warning when the picture is not from the model's world
        a Plotly bar chart of the top answers
        one attention map per hop (empty for the baseline)
    """
    if model not in available("vqa"):
        raise gr.Error(f"no {model!r} VQA model is shipped in checkpoints/ yet")
    if image is None:
        raise gr.Error("Upload an image, render a scene or pick an example first.")
    if not question or not question.strip():
        raise gr.Error("Ask a question first, e.g. 'what color is the circle?'.")
    if len(question) > MAX_QUESTION_CHARACTERS:
        raise gr.Error(f"the question is {len(question):,} characters long; ask in at most {MAX_QUESTION_CHARACTERS}")
    progress(None, desc="answering")
    result = shipped("vqa", model)(image, question.strip())
    top_answers = result.top_answers[0]
    answers = [a for a, _ in top_answers][::-1]
    figure = go.Figure(go.Bar(x=[p for _, p in top_answers][::-1], y=answers, orientation="h", marker_color="#f97316"))
    figure.update_layout(height=260, margin={"l": 10, "r": 10, "t": 10, "b": 30}, xaxis={"range": [0, 1], "title": "probability"})
    maps = []
    if result.has_attention:
        hops = len(result.attention[0])
        maps = [(for_display(result.overlay(0, hop=h)), f"hop {h + 1} of {hops}") for h in range(hops)]
    note = "" if result.has_attention else " The baseline has no attention to show."
    warning = out_of_world_note(result.in_world[0], result.in_world_scores[0])
    return f"{warning}## {result.answers[0]}\nprobability {result.confidences[0]:.3f}.{note}", figure, maps


def example_answer(image, question: str):
    """An example picture and question answered by the attention model (the model control set to it): what the cached examples show."""
    return *answer_question(image, question, "attention"), "attention"


def build_vqa() -> None:
    """Lay out the tab in the current ``gr.Tab`` and wire its event (``/answer_question``)."""
    gr.Markdown(
        "The baseline of the VQA literature (Antol et al., 2015) multiplies a CNN image vector by an LSTM "
        "question vector; the attention model lets the question weigh the cells of the image's feature grid "
        "first, in hops as in stacked attention networks (Yang et al., 2016), and the maps show where each hop "
        f"looked. **{TRAINED_ON}**"
    )
    models = available("vqa")
    if not models:
        gr.Markdown("**No VQA model is shipped in `checkpoints/` yet**: train one with `python -m t2i_core train vqa`.")
    # Every example question, each about one of the four test scenes in turn; the first fills the tab when the page opens.
    scenes = example_images()[:4]
    examples = [[scenes[i % len(scenes)], q] for i, q in enumerate(EXAMPLE_QUESTIONS)]
    with gr.Row():
        with gr.Column(scale=1) as picture_column:
            image = scene_image_input("vqa", 1, api_name=False, value=examples[0][0])  # /render_scene does the same
        with gr.Column(scale=1):
            question = gr.Textbox(value=examples[0][1], label="Question", max_lines=1, elem_id="vqa-question")
            models = models or ["attention"]
            model = gr.Radio(models, value=models[0], label="Model", elem_id="vqa-model")
            run = gr.Button("Answer", variant="primary", elem_id="vqa-run")
            answer = gr.Markdown(elem_id="vqa-answer")
            chart = gr.Plot(label="Top answers", elem_id="vqa-chart")
    maps = gr.Gallery(label="Where the question looked (one map per attention hop)", columns=4, height="auto", format=HEATMAP_FORMAT,
                      elem_id="vqa-maps")
    with picture_column:
        cached_examples(examples, [image, question], [answer, chart, maps, model], example_answer, "Test scenes and questions", preload=0,
                        cached="attention" in available("vqa"))
    run.click(answer_question, [image, question, model], [answer, chart, maps], api_name="answer_question")
    question.submit(answer_question, [image, question, model], [answer, chart, maps], api_visibility="private")

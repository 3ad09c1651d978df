"""The Image to caption tab: an image in, a caption out; click a word to see where the model looked."""

from __future__ import annotations

import gradio as gr

from ..evaluation.captioning import MODEL_LABELS
from ..pipelines.caption import TRAINED_ON
from .errors import engine_errors
from .pictures import example_images, for_display, out_of_world_note, scene_image_input
from .shipped import available, shipped


def captioner(model: str):
    """The shipped captioner ``model``, or a message saying it is not shipped."""
    if model not in available("caption"):
        raise gr.Error(f"no {MODEL_LABELS.get(model, model)} captioner is shipped in checkpoints/ yet")
    return shipped("caption", model)


@engine_errors()
def caption_image(image, model: str, beam: float, progress=gr.Progress()):
    """Caption an image: the clickable words, the first word's heatmap, every word's map, the result and a summary."""
    if image is None:
        raise gr.Error("Upload an image or pick an example first.")
    pipe = captioner(model)
    progress(None, desc="captioning")
    result = pipe(image, beam_size=int(beam))
    words = [(word, "word") for word in result.words[0]]
    if not result.words[0]:
        return words, None, None, None, "The model produced an empty caption."
    note = "" if result.has_attention else " Show and Tell has no attention: its maps are uniform."
    summary = (f"**{result.captions[0]}** (beam {int(beam)}, log-probability {result.scores[0]:.2f}).{note} "
               "Click a word to see where the model looked.")
    warning = out_of_world_note(result.in_world[0], result.in_world_scores[0])
    return words, for_display(result.overlay(0)), result.strip(), result, warning + summary


def show_word_attention(result, event: gr.SelectData):
    """The heatmap of the clicked word."""
    if result is None:
        raise gr.Error("Caption an image first.")
    index = event.index if isinstance(event.index, int) else event.index[0]
    words = result.words[0]
    if not 0 <= index < len(words):
        raise gr.Error("That word is not part of the caption.")
    return for_display(result.overlay(index)), f"Attention for **{words[index]}** (word {index + 1} of {len(words)})"


def build_caption() -> None:
    """Lay out the tab in the current ``gr.Tab`` and wire its events (``/caption``, ``/render_scene``)."""
    gr.Markdown(
        "Show, Attend and Tell (Xu et al., 2015) looks at a grid of image features and, for every word it "
        "writes, weighs the cells: that weighting is the heatmap. Show and Tell (Vinyals et al., 2015) sees the "
        f"image once and has no attention. **{TRAINED_ON}**"
    )
    if not available("caption"):
        gr.Markdown("**No captioner is shipped in `checkpoints/` yet**: train one with `python -m t2i_core train caption`.")
    with gr.Row():
        with gr.Column(scale=1):
            image = scene_image_input("cap", 0, example_images(), "Test scenes, flowers and photos (photos are marked as out of world)",
                                      api_name="render_scene")
        with gr.Column(scale=1):
            model = gr.Radio(list(MODEL_LABELS), value="show-attend-tell", label="Model", elem_id="cap-model")
            beam = gr.Slider(1, 5, value=3, step=1, label="Beam size", elem_id="cap-beam")
            run = gr.Button("Caption", variant="primary", elem_id="cap-run")
            summary = gr.Markdown(elem_id="cap-summary")
            words = gr.HighlightedText(label="Caption (click a word)", color_map={"word": "#dbeafe"}, show_inline_category=False,
                                       interactive=False, elem_id="cap-words")
            heatmap = gr.Image(type="pil", label="Where the model looked", elem_id="cap-heatmap")
            word_note = gr.Markdown(elem_id="cap-word-note")
    strip = gr.Image(type="pil", label="Every word's attention", elem_id="cap-strip")
    result = gr.State(None)
    run.click(caption_image, [image, model, beam], [words, heatmap, strip, result, summary], api_name="caption")
    words.select(show_word_attention, result, [heatmap, word_note], api_name=False)

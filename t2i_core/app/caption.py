"""The Image to caption tab: an image in, a caption out; click a word to see where the model looked."""

from __future__ import annotations

import gradio as gr

from ..evaluation.captioning import MODEL_LABELS
from ..pipelines.caption import TRAINED_ON, CaptionOutput
from .errors import engine_errors
from .pictures import HEATMAP_FORMAT, example_images, for_display, out_of_world_note, scene_image_input
from .serving import cached_examples
from .shipped import available, shipped


def captioner(model: str):
    """The shipped captioner ``model``, or a message saying it is not shipped."""
    if model not in available("caption"):
        raise gr.Error(f"no {MODEL_LABELS.get(model, model)} captioner is shipped in checkpoints/ yet")
    return shipped("caption", model)


@engine_errors()
def caption_image(image, model: str, beam: float, progress=gr.Progress()):
    """Caption a picture with Show, Attend and Tell or Show and Tell, with where the model looked for each word.

    Args:
        image: the picture: a Scenes image, a flower, or any photo (flagged as out of the model's world).
        model: "show-attend-tell" (with attention) or "show-and-tell" (without).
        beam: beam size of the search, 1 to 5.

    Returns:
        the caption's words
        the first word's attention heatmap
        every word's heatmap, in one strip
        the full result, kept by the page for clicks on words
        the caption and its log-probability in Markdown, with a warning when the picture is not from the model's world
    """
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


EXAMPLE_MODEL, EXAMPLE_BEAM = "show-attend-tell", 3


def example_caption(image):
    """An example picture captioned by Show, Attend and Tell at beam 3: what the cached examples show.

    The model control is set to it too (the summary names the beam). The result object is not
    cached (it is not a file or JSON): a click on a word of a cached caption recomputes it once
    with these settings (:func:`show_word_attention`).
    """
    words, heatmap, strip, _, summary = caption_image(image, EXAMPLE_MODEL, EXAMPLE_BEAM)
    return words, heatmap, strip, None, summary, EXAMPLE_MODEL


def show_word_attention(result, image, event: gr.SelectData):
    """The heatmap of the clicked word, and the caption result (recomputed when the caption came from the examples' cache)."""
    if not isinstance(result, CaptionOutput):  # None, or what the examples' cache stored for it (not the object)
        if image is None:
            raise gr.Error("Caption an image first.")
        result = captioner(EXAMPLE_MODEL)(image, beam_size=EXAMPLE_BEAM)  # only an example's caption has no result
    index = event.index if isinstance(event.index, int) else event.index[0]
    words = result.words[0]
    if not 0 <= index < len(words):
        raise gr.Error("That word is not part of the caption.")
    return for_display(result.overlay(index)), f"Attention for **{words[index]}** (word {index + 1} of {len(words)})", result


def build_caption() -> None:
    """Lay out the tab in the current ``gr.Tab`` and wire its events (``/caption``, ``/render_scene``)."""
    gr.Markdown(
        "Show, Attend and Tell (Xu et al., 2015) looks at a grid of image features and, for every word it "
        "writes, weighs the cells: that weighting is the heatmap. Show and Tell (Vinyals et al., 2015) sees the "
        f"image once and has no attention. **{TRAINED_ON}**"
    )
    if not available("caption"):
        gr.Markdown("**No captioner is shipped in `checkpoints/` yet**: train one with `python -m t2i_core train caption`.")
    examples = [[path] for path in example_images()]
    with gr.Row():
        with gr.Column(scale=1) as picture_column:
            image = scene_image_input("cap", 0, api_name="render_scene", value=examples[0][0])
        with gr.Column(scale=1):
            model = gr.Radio(list(MODEL_LABELS), value="show-attend-tell", label="Model", elem_id="cap-model")
            beam = gr.Slider(1, 5, value=3, step=1, label="Beam size", elem_id="cap-beam")
            run = gr.Button("Caption", variant="primary", elem_id="cap-run")
            summary = gr.Markdown(elem_id="cap-summary")
            words = gr.HighlightedText(label="Caption (click a word)", color_map={"word": "#dbeafe"}, show_inline_category=False,
                                       interactive=False, elem_id="cap-words")
            heatmap = gr.Image(type="pil", label="Where the model looked", format=HEATMAP_FORMAT, elem_id="cap-heatmap",
                               alt_text="The picture with a heatmap of where the captioner looked to choose the selected word")
            word_note = gr.Markdown(elem_id="cap-word-note")
    strip = gr.Image(type="pil", label="Every word's attention", format=HEATMAP_FORMAT, elem_id="cap-strip",
                     alt_text="One heatmap per word of the caption, side by side, each word written under its map")
    result = gr.State(None)
    captioned = [words, heatmap, strip, result, summary]
    with picture_column:
        label = "Test scenes, flowers and photos (photos are marked as out of world)"
        cached_examples(examples, [image], captioned + [model], example_caption, label, preload=0, cached=EXAMPLE_MODEL in available("caption"))
    run.click(caption_image, [image, model, beam], captioned, api_name="caption")
    words.select(show_word_attention, [result, image], [heatmap, word_note, result], api_visibility="private")

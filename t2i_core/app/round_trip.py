"""The Round trip tab: a live check of both models, the caption of a generated flower next to the sentence that made it."""

from __future__ import annotations

import gradio as gr

from ..text_encoders.base import cosine_similarity
from .caption import captioner
from .errors import engine_errors
from .pictures import FLOWER_FORMAT, HEATMAP_FORMAT
from .shipped import available, shipped
from .text_to_image import ROSE_PAIR

# The flower arrives at the generator's 64 pixels; the page draws it at the box's size.
ROUND_TRIP_CSS = "#rt-image img { width: 100%; height: 100%; object-fit: contain; }"


@engine_errors()
def round_trip(sentence: str, seed: float, progress=gr.Progress()):
    """Draw a flower from a sentence with the USE generator, caption it, and compare the two sentences.

    Args:
        sentence: an English sentence about one flower, e.g. "a red flower with a yellow stem".
        seed: noise seed of the drawn flower.

    Returns:
        the generated flower, at the generator's size (the page enlarges it)
        every caption word's attention map, in one strip
        a table row: the sentence, the caption, and their Universal Sentence Encoder cosine
    """
    if "use" not in available("text2image"):
        raise gr.Error("the USE text-to-image generator is not shipped in checkpoints/ yet")
    caption_pipe = captioner("show-attend-tell")
    generator = shipped("text2image", "use")
    progress(None, desc="drawing")
    (image,) = generator(sentence, num_images=1, seed=int(seed)).images[0]
    progress(None, desc="captioning")
    result = caption_pipe(image, beam_size=3)
    caption = result.captions[0]
    vectors = generator.encoder.encode([sentence.strip(), caption or "(empty)"])  # (2, 512)
    cosine = float(cosine_similarity(vectors[:1], vectors[1:])[0])
    # The flower goes out at its own size and the browser enlarges it: encoding a 256-pixel copy cost
    # about a fifth of the handler's time.
    return image, result.strip(), [[sentence.strip(), caption, round(cosine, 3)]]


def build_round_trip() -> None:
    """Lay out the tab in the current ``gr.Tab`` and wire its event (``/round_trip``)."""
    gr.Markdown(
        "A sentence goes to the USE generator, its image to the default captioner (Show, Attend and Tell, "
        "trained on Scenes and Flowers together), and the two sentences are compared by their Universal "
        "Sentence Encoder cosine. The cycle closes when the caption gives the petals and the stem the "
        "sentence's colours (\"a red flower with a yellow stem\"); `python -m t2i_core eval round-trip` "
        "measures how often it does on seen prompts (the cycle score)."
    )
    with gr.Row():
        sentence = gr.Textbox(value=ROSE_PAIR[0], label="Sentence", max_lines=2, elem_id="rt-sentence")
        seed = gr.Number(value=0, precision=0, minimum=0, label="Seed", elem_id="rt-seed")
        run = gr.Button("Round trip", variant="primary", elem_id="rt-run")
    with gr.Row():
        image = gr.Image(type="pil", label="Generated", height=280, format=FLOWER_FORMAT, elem_id="rt-image",
                         alt_text="The flower the USE generator drew for the sentence")
        with gr.Column(scale=2):
            table = gr.Dataframe(headers=["sentence", "caption of its image", "USE cosine"], label="Both sentences", wrap=True,
                                 column_widths=["35%", "50%", "15%"], elem_id="rt-table")
    strip = gr.Image(type="pil", label="Where the captioner looked for each word of its caption", format=HEATMAP_FORMAT, elem_id="rt-strip",
                     alt_text="One heatmap per word of the generated flower's caption, each word written under its map")
    run.click(round_trip, [sentence, seed], [image, strip, table], api_name="round_trip")

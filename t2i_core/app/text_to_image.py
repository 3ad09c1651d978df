"""The Text to image tab: prompt in, flowers out, from the USE-conditioned GAN and the averaged-GloVe one side by side."""

from __future__ import annotations

import gradio as gr

from ..data.flowers import swap_colour_words
from ..data.preview import make_image_grid
from ..pipelines.flower_attributes import AttributeVerdict
from .errors import engine_errors
from .pictures import FLOWER_FORMAT, FlowerGallery
from .serving import cached_examples
from .shipped import available, shipped

ENCODER_LABELS = {"use": "Universal Sentence Encoder", "glove-avg": "averaged GloVe vectors"}
ROSE_PAIR = ("a red flower with a yellow stem", "a yellow flower with a red stem")
PROMPT_EXAMPLES = [
    ROSE_PAIR[0],
    ROSE_PAIR[1],
    "this flower has a blue stem and white petals",
    "the petals are purple and the stem is green",
    "a small pink flower with eight pointed petals and an orange stem",
    "a flower whose petals are orange and whose stem is blue",
]


def _encoders(choice: str) -> list[str]:
    """The generators of ``choice`` ("both", "use" or "glove-avg"), each shipped, or a message naming the missing."""
    names = list(ENCODER_LABELS) if choice == "both" else [choice]
    missing = [n for n in names if n not in available("text2image")]
    if missing:
        raise gr.Error(f"no generator for {', '.join(missing)} is shipped in checkpoints/ yet")
    return names


def _judged(images: list, prompt: str | list[str]) -> list[list[AttributeVerdict]]:
    """The judge's verdicts on every attribute ``prompt`` (or each image's own prompt) states, per image (empty lists when it states none)."""
    return shipped("flower-attributes").check(images, prompt)


def _share_right(verdicts: list[list[AttributeVerdict]]) -> str:
    """ "11 of 16 stated attributes right (69%)", or a note that the prompt states none the judge reads."""
    checked = [v.right for image in verdicts for v in image]
    if not checked:
        return "the prompt states no attribute the judge reads"
    return f"{sum(checked)} of {len(checked)} stated attributes right ({sum(checked) / len(checked):.0%})"


def _captioned(images: list, verdicts: list[list[AttributeVerdict]]) -> list[tuple]:
    """Gallery items: each image with the judge's verdict as its caption, which the gallery also uses as the image's alt text.

    "1: petals red ✓, stem yellow ✗ (drew red)"; the gallery's label names the generator.
    """
    return [(image, f"{i + 1}: " + (", ".join(v.label() for v in verdict) or "nothing stated to check"))
            for i, (image, verdict) in enumerate(zip(images, verdicts))]


@engine_errors()
def generate_flowers(prompt: str, encoder: str, count: float, seed: float, show_masks: bool, progress=gr.Progress()):
    """Draw flowers for a prompt with the USE generator, the averaged-GloVe generator or both, each judged.

    Every image's caption is the flower judge's verdict on each attribute the prompt states
    (petal, stem and centre colour, petal shape and count, size): right, or wrong and what it drew.

    Args:
        prompt: an English sentence about one flower, e.g. "a red flower with a yellow stem".
        encoder: "both", "use" (Universal Sentence Encoder, reads word order) or "glove-avg" (averaged GloVe vectors).
        count: images per generator, 1 to 16.
        seed: noise seed; the same seed gives the same flowers.
        show_masks: also return the 16x16 residual-attention mask over each image.

    Returns:
        the USE generator's images, each with the judge's verdict as its caption (empty if not chosen)
        the averaged-GloVe generator's images, each with its verdict (empty if not chosen)
        the attention-mask overlays (empty unless show_masks)
        a Markdown line with each generator's share of stated attributes drawn right
    """
    outputs, verdicts, masks = {}, [], []
    for name in _encoders(encoder):
        progress(None, desc=f"drawing with {ENCODER_LABELS[name]}")
        result = shipped("text2image", name)(prompt, num_images=int(count), seed=int(seed), return_masks=bool(show_masks))
        judged = _judged(result.images[0], prompt)
        outputs[name] = _captioned(result.images[0], judged)
        verdicts.append(f"**{ENCODER_LABELS[name]}**: {_share_right(judged)}")
        if show_masks:
            masks += [(im, f"{name}: 16x16 mask, image {i + 1}") for i, im in enumerate(result.mask_overlays(0, resolution=16))]
    summary = "The flower judge's verdict: " + "; ".join(verdicts) + "."
    return outputs.get("use", []), outputs.get("glove-avg", []), masks, summary


def example_flowers(prompt: str):
    """An example prompt drawn by both generators, 8 images at seed 0, without masks: what the cached examples show.

    The encoder control is set to "both" too. Only text controls are set: Gradio's example cache
    stores every value as text and hands a number or a checkbox back as a string ("false" ticks a box).
    """
    return *generate_flowers(prompt, "both", 8, 0, False), "both"


def masks_gallery(show_masks: bool) -> gr.Gallery:
    """The masks gallery, shown while its checkbox is ticked (a page event, not part of the API)."""
    return gr.Gallery(visible=bool(show_masks))


@engine_errors()
def swap_and_compare(prompt: str, count: float, seed: float, progress=gr.Progress()):
    """Exchange the prompt's two colours and draw the prompt and its twin with the same noise, per generator.

    Averaged GloVe vectors give both twins one vector, so its generator draws the same flowers
    twice; the Universal Sentence Encoder reads word order, so its flowers swap their colours.

    Args:
        prompt: a sentence naming two different colours, e.g. "a red flower with a yellow stem".
        count: images per prompt and generator, 1 to 16.
        seed: noise seed shared by the prompt and its twin.

    Returns:
        the swapped prompt
        the USE generator's pair of image grids: the prompt's, the twin's (None if not shipped)
        the averaged-GloVe generator's pair of image grids: the prompt's, the twin's (None if not shipped)
        a Markdown summary of the judge's verdicts on both prompts, per generator
    """
    swapped = swap_colour_words(prompt)
    names = available("text2image")
    if not names:
        raise gr.Error("no text-to-image generator is shipped in checkpoints/ yet")
    pairs, lines = {}, []
    for name in names:
        progress(None, desc=f"drawing with {ENCODER_LABELS[name]}")
        original_images, swapped_images = shipped("text2image", name)([prompt, swapped], num_images=int(count), seed=int(seed)).images
        pairs[name] = (make_image_grid(original_images, columns=min(4, len(original_images))),
                       make_image_grid(swapped_images, columns=min(4, len(swapped_images))))
        judged = _judged(original_images + swapped_images, [prompt] * len(original_images) + [swapped] * len(swapped_images))  # one batch
        lines.append(f"- **{ENCODER_LABELS[name]}**: *{prompt.strip()}*: {_share_right(judged[: len(original_images)])}; "
                     f"*{swapped}*: {_share_right(judged[len(original_images):])}")
    summary = "The flower judge's verdict on each twin:\n" + "\n".join(lines)
    return swapped, pairs.get("use"), pairs.get("glove-avg"), summary


@engine_errors()
def interpolate_flowers(text_a: str, text_b: str, encoder: str, steps: float, seed: float):
    """Images walking from one sentence to another in sentence-embedding space, with the noise fixed.

    Args:
        text_a: the sentence the walk starts from.
        text_b: the sentence it ends at.
        encoder: "use" or "glove-avg": whose generator and embedding space to walk.
        steps: images along the walk, 2 to 16.
        seed: noise seed, the same for every step.

    Returns:
        the images of the walk, first to last
    """
    (name,) = _encoders(encoder)
    return shipped("text2image", name).interpolate(text_a, text_b, steps=int(steps), seed=int(seed))


def build_text_to_image() -> None:
    """Lay out the tab in the current ``gr.Tab`` and wire its events (``/text_to_image``, ``/swap_colours``, ``/interpolate``)."""
    gr.Markdown(
        "Two GANs (GAN-INT-CLS with residual attention) trained on the same flowers, differing only in how "
        "they read the sentence: the **Universal Sentence Encoder** reads word order; the **average of GloVe "
        "vectors** gives *a red flower with a yellow stem* and *a yellow flower with a red stem* the very "
        "same vector, so its GAN cannot know which colour goes where. Under every flower, the flower judge "
        "(a classifier trained on real flowers) says which stated attributes it drew right. Press **Swap the colours** to see it."
    )
    if not available("text2image"):
        gr.Markdown("**No generator is shipped in `checkpoints/` yet**: train one with `python -m t2i_core train text2image`.")
    # Outputs are made first (unrendered) so the cached examples can fill them; they are placed below.
    use_gallery = FlowerGallery(label="Universal Sentence Encoder", columns=4, height="auto", format=FLOWER_FORMAT, elem_id="t2i-use-gallery", render=False)
    glove_gallery = FlowerGallery(label="Averaged GloVe vectors", columns=4, height="auto", format=FLOWER_FORMAT, elem_id="t2i-glove-gallery", render=False)
    verdicts = gr.Markdown(elem_id="t2i-verdicts", render=False)
    masks = FlowerGallery(label="Where the attention modules boosted features", columns=8, height="auto", visible=False, format=FLOWER_FORMAT,
                       elem_id="t2i-mask-gallery", render=False)
    with gr.Row():
        with gr.Column(scale=3) as prompt_column:
            # The first example (the rose); its cached flowers fill the galleries when the page opens.
            prompt = gr.Textbox(value=PROMPT_EXAMPLES[0], label="Prompt", max_lines=3, elem_id="t2i-prompt")
        with gr.Column(scale=2):
            encoder = gr.Radio(["both", "use", "glove-avg"], value="both", label="Sentence encoder", elem_id="t2i-encoder")
            with gr.Row():
                count = gr.Slider(1, 16, value=8, step=1, label="Images", elem_id="t2i-count")
                seed = gr.Number(value=0, precision=0, minimum=0, label="Seed", elem_id="t2i-seed")
            show_masks = gr.Checkbox(value=False, label="Show the residual-attention masks (16x16)", elem_id="t2i-masks")
    with prompt_column:  # under the prompt, made now that the controls it sets exist
        cached_examples([[p] for p in PROMPT_EXAMPLES], [prompt], [use_gallery, glove_gallery, masks, verdicts, encoder],
                        example_flowers, "Examples (both encoders, 8 images, seed 0)", preload=0, cached=set(available("text2image")) == set(ENCODER_LABELS))
    with gr.Row():
        generate = gr.Button("Generate", variant="primary", elem_id="t2i-generate")
        swap = gr.Button("Swap the colours", elem_id="t2i-swap")
    verdicts.render()
    with gr.Row():
        use_gallery.render()
        glove_gallery.render()
    masks.render()
    gr.Markdown("**The prompt and its colour-swapped twin, same noise**: press **Swap the colours**, then drag the slider "
                "(left: the prompt, right: its twin).")
    # The twin has a box of its own: the prompt box keeps the prompt whose flowers the galleries above show.
    twin = gr.Textbox(label="Its colour-swapped twin", interactive=False, max_lines=3, elem_id="t2i-twin")
    with gr.Row():
        use_slider = gr.ImageSlider(label="Universal Sentence Encoder: prompt | twin", type="pil", format=FLOWER_FORMAT, elem_id="t2i-use-slider")
        glove_slider = gr.ImageSlider(label="Averaged GloVe vectors: prompt | twin", type="pil", format=FLOWER_FORMAT, elem_id="t2i-glove-slider")
    twin_verdicts = gr.Markdown(elem_id="t2i-twin-verdicts")
    with gr.Accordion("Walk between two sentences", open=False):
        with gr.Row():
            text_a = gr.Textbox(value=ROSE_PAIR[0], label="From", elem_id="t2i-from")
            text_b = gr.Textbox(value="a blue flower with a white stem", label="To", elem_id="t2i-to")
        with gr.Row():
            walk_encoder = gr.Radio(["use", "glove-avg"], value="use", label="Sentence encoder")
            steps = gr.Slider(2, 16, value=8, step=1, label="Steps")
            walk_seed = gr.Number(value=0, precision=0, minimum=0, label="Seed")
            walk = gr.Button("Walk", elem_id="t2i-walk")
        path = FlowerGallery(label="Interpolation with fixed noise", columns=8, height="auto", format=FLOWER_FORMAT, elem_id="t2i-walk-gallery")

    drawn = [use_gallery, glove_gallery, masks, verdicts]
    generate.click(generate_flowers, [prompt, encoder, count, seed, show_masks], drawn, api_name="text_to_image")
    prompt.submit(generate_flowers, [prompt, encoder, count, seed, show_masks], drawn, api_visibility="private")
    swap.click(swap_and_compare, [prompt, count, seed], [twin, use_slider, glove_slider, twin_verdicts], api_name="swap_colours")
    walk.click(interpolate_flowers, [text_a, text_b, walk_encoder, steps, walk_seed], path, api_name="interpolate")
    show_masks.change(masks_gallery, show_masks, masks, api_visibility="private", show_progress="hidden")

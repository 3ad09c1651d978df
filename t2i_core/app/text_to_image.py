"""The Text to image tab: prompt in, flowers out, from the USE-conditioned GAN and the averaged-GloVe one side by side."""

from __future__ import annotations

import gradio as gr

from ..data.flowers import swap_colour_words
from .errors import engine_errors
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


@engine_errors()
def generate_flowers(prompt: str, encoder: str, count: float, seed: float, show_masks: bool, progress=gr.Progress()):
    """Images of ``prompt`` from each chosen generator; masks of the residual attention on request.

    Three galleries, each a plain list whatever the request: the images of each generator (empty
    for one not chosen), then the masks as (image, label) pairs (empty when ``show_masks`` is off),
    so an API client reads one shape; the checkbox shows or hides the masks gallery with its own event.
    """
    outputs = {}
    masks = []
    for name in _encoders(encoder):
        progress(None, desc=f"drawing with {ENCODER_LABELS[name]}")
        result = shipped("text2image", name)(prompt, num_images=int(count), seed=int(seed), return_masks=True)
        outputs[name] = result.images[0]
        if show_masks:
            masks += [(im, f"{name}: 16x16 mask, image {i + 1}") for i, im in enumerate(result.mask_overlays(0, resolution=16))]
    return outputs.get("use", []), outputs.get("glove-avg", []), masks


def masks_gallery(show_masks: bool) -> gr.Gallery:
    """The masks gallery, shown while its checkbox is ticked (a page event, not part of the API)."""
    return gr.Gallery(visible=bool(show_masks))


@engine_errors()
def swap_and_compare(prompt: str, count: float, seed: float, progress=gr.Progress()):
    """The prompt with its colours exchanged, and both prompts drawn by every shipped generator with one noise."""
    swapped = swap_colour_words(prompt)
    names = available("text2image")
    if not names:
        raise gr.Error("no text-to-image generator is shipped in checkpoints/ yet")
    gallery = []
    for name in names:
        progress(None, desc=f"drawing with {ENCODER_LABELS[name]}")
        original_images, swapped_images = shipped("text2image", name)([prompt, swapped], num_images=int(count), seed=int(seed)).images
        gallery += [(im, f"{name} | {prompt.strip()}") for im in original_images]
        gallery += [(im, f"{name} | {swapped}") for im in swapped_images]
    return swapped, gallery


@engine_errors()
def interpolate_flowers(text_a: str, text_b: str, encoder: str, steps: float, seed: float):
    """Images walking from one sentence to another in embedding space, with the noise fixed."""
    (name,) = _encoders(encoder)
    return shipped("text2image", name).interpolate(text_a, text_b, steps=int(steps), seed=int(seed))


def build_text_to_image() -> None:
    """Lay out the tab in the current ``gr.Tab`` and wire its events (``/text_to_image``, ``/swap_colours``, ``/interpolate``)."""
    gr.Markdown(
        "Two GANs (GAN-INT-CLS with residual attention, judged in training by a projected discriminator on frozen "
        "EfficientNet-Lite0 features) trained on the same flowers, differing only in how "
        "they read the sentence: the **Universal Sentence Encoder** reads word order; the **average of GloVe "
        "vectors** gives *a red flower with a yellow stem* and *a yellow flower with a red stem* the very "
        "same vector, so its GAN cannot know which colour goes where. Press **Swap the colours** to see it."
    )
    if not available("text2image"):
        gr.Markdown("**No generator is shipped in `checkpoints/` yet**: train one with `python -m t2i_core train text2image`.")
    with gr.Row():
        with gr.Column(scale=3):
            prompt = gr.Textbox(value=ROSE_PAIR[0], label="Prompt", max_lines=3, elem_id="t2i-prompt")
            gr.Examples(PROMPT_EXAMPLES, inputs=prompt, label="Examples")
        with gr.Column(scale=2):
            encoder = gr.Radio(["both", "use", "glove-avg"], value="both", label="Sentence encoder", elem_id="t2i-encoder")
            with gr.Row():
                count = gr.Slider(1, 16, value=8, step=1, label="Images", elem_id="t2i-count")
                seed = gr.Number(value=0, precision=0, minimum=0, label="Seed", elem_id="t2i-seed")
            show_masks = gr.Checkbox(value=False, label="Show the residual-attention masks (16x16)", elem_id="t2i-masks")
    with gr.Row():
        generate = gr.Button("Generate", variant="primary", elem_id="t2i-generate")
        swap = gr.Button("Swap the colours", elem_id="t2i-swap")
    with gr.Row():
        use_gallery = gr.Gallery(label="Universal Sentence Encoder", columns=4, height="auto", elem_id="t2i-use-gallery")
        glove_gallery = gr.Gallery(label="Averaged GloVe vectors", columns=4, height="auto", elem_id="t2i-glove-gallery")
    masks = gr.Gallery(label="Where the attention modules boosted features", columns=8, height="auto", visible=False, elem_id="t2i-mask-gallery")
    comparison = gr.Gallery(label="The prompt and its colour-swapped twin, same noise", columns=8, height="auto", elem_id="t2i-swap-gallery")
    with gr.Accordion("Walk between two sentences", open=False):
        with gr.Row():
            text_a = gr.Textbox(value=ROSE_PAIR[0], label="From", elem_id="t2i-from")
            text_b = gr.Textbox(value="a blue flower with a white stem", label="To", elem_id="t2i-to")
        with gr.Row():
            walk_encoder = gr.Radio(["use", "glove-avg"], value="use", label="Sentence encoder")
            steps = gr.Slider(2, 16, value=8, step=1, label="Steps")
            walk_seed = gr.Number(value=0, precision=0, minimum=0, label="Seed")
            walk = gr.Button("Walk", elem_id="t2i-walk")
        path = gr.Gallery(label="Interpolation with fixed noise", columns=8, height="auto", elem_id="t2i-walk-gallery")

    generate.click(generate_flowers, [prompt, encoder, count, seed, show_masks], [use_gallery, glove_gallery, masks], api_name="text_to_image")
    prompt.submit(generate_flowers, [prompt, encoder, count, seed, show_masks], [use_gallery, glove_gallery, masks], api_name=False)
    swap.click(swap_and_compare, [prompt, count, seed], [prompt, comparison], api_name="swap_colours")
    walk.click(interpolate_flowers, [text_a, text_b, walk_encoder, steps, walk_seed], path, api_name="interpolate")
    show_masks.change(masks_gallery, show_masks, masks, api_name=False, show_progress="hidden")

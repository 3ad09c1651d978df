"""The Worlds tab: samples of the procedural datasets every model here is trained on, with their ground truth."""

from __future__ import annotations

import gradio as gr

from .errors import engine_errors
from .shipped import shipped


@engine_errors()
def show_world(world: str, split: str, n: float, seed: float):
    """Render samples of one of the procedural worlds the models are trained on, with their ground truth.

    Args:
        world: "flowers", "scenes" or "dates".
        split: a split of that world, e.g. "train", "test", "heldout-pairs", "heldout-style".
        n: how many samples, 1 to 64.
        seed: the seed the world is drawn from.

    Returns:
        one image of the samples in a grid
        a table of each sample's caption and attributes
    """
    preview = shipped("world-preview")(world, split=split, n=int(n), seed=int(seed))
    rows = [[c, ", ".join(f"{k}={v}" for k, v in a.items())] for c, a in zip(preview.captions, preview.attributes)]
    return preview.grid, rows


def world_splits(world: str):
    """The split dropdown for ``world``."""
    splits = shipped("world-preview").splits(world)
    return gr.Dropdown(choices=splits, value=splits[0])


def build_worlds(demo: gr.Blocks) -> None:
    """Lay out the tab in the current ``gr.Tab`` and wire its events (``/world_preview``; a first grid when ``demo`` loads)."""
    gr.Markdown(
        "Every model in this demo is trained on worlds rendered from a seed, with ground truth for "
        "every sample: **flowers** (text to image), **scenes** (captioning, VQA), **dates** (seq2seq). "
        "The `heldout-*` splits hold combinations that training never sees."
    )
    preview = shipped("world-preview")
    with gr.Row():
        world = gr.Dropdown(choices=list(preview.worlds), value="flowers", label="World", elem_id="world-name")
        split = gr.Dropdown(choices=preview.splits("flowers"), value="train", label="Split", elem_id="world-split")
        count = gr.Slider(1, 32, value=12, step=1, label="Samples", elem_id="world-count")
        seed = gr.Number(value=0, precision=0, minimum=0, label="Seed", elem_id="world-seed")
        render = gr.Button("Render", variant="primary", elem_id="world-render")
    grid = gr.Image(label="Samples", type="pil", elem_id="world-grid", alt_text="A grid of samples of the chosen world, each with its caption below")
    truth = gr.Dataframe(headers=["caption", "ground truth"], label="Ground truth", wrap=True, elem_id="world-truth")
    world.change(world_splits, world, split, api_name=False)
    render.click(show_world, [world, split, count, seed], [grid, truth], api_name="world_preview")
    demo.load(show_world, [world, split, count, seed], [grid, truth], api_name=False)

"""The Gradio app: the demo's front door, and the file a Hugging Face Space runs.

The page is built from pipelines only (``t2i_core.load_pipeline``); no model code here.
Tabs are added by feature; each tab is one function that lays out its components and
wires its events, so the page reads as a description of itself.
"""

from __future__ import annotations

import os

# No network here and on most laptops' trains: never let a library wait for a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

import t2i_core

WORLD_PREVIEW = t2i_core.load_pipeline("world-preview")


def show_world(world: str, split: str, n: float, seed: float):
    """Render ``n`` samples of a world split; returns the grid and the ground truth."""
    try:
        preview = WORLD_PREVIEW(world, split=split, n=int(n), seed=int(seed))
    except ValueError as error:
        raise gr.Error(str(error)) from None
    rows = [[c, ", ".join(f"{k}={v}" for k, v in a.items())] for c, a in zip(preview.captions, preview.attributes)]
    return preview.grid, rows


def world_splits(world: str):
    """The split dropdown for ``world``."""
    splits = WORLD_PREVIEW.splits(world)
    return gr.Dropdown(choices=splits, value=splits[0])


def worlds_tab(demo: gr.Blocks) -> None:
    """The procedural datasets every model here is trained on."""
    gr.Markdown(
        "Every model in this demo is trained on worlds rendered from a seed, with ground truth for "
        "every sample: **flowers** (text to image), **scenes** (captioning, VQA), **dates** (seq2seq). "
        "The `heldout-*` splits hold combinations that training never sees."
    )
    with gr.Row():
        world = gr.Dropdown(choices=list(WORLD_PREVIEW.worlds), value="flowers", label="World", elem_id="world-name")
        split = gr.Dropdown(choices=WORLD_PREVIEW.splits("flowers"), value="train", label="Split", elem_id="world-split")
        count = gr.Slider(1, 32, value=12, step=1, label="Samples", elem_id="world-count")
        seed = gr.Number(value=0, precision=0, minimum=0, label="Seed", elem_id="world-seed")
        render = gr.Button("Render", variant="primary", elem_id="world-render")
    grid = gr.Image(label="Samples", type="pil", elem_id="world-grid")
    truth = gr.Dataframe(headers=["caption", "ground truth"], label="Ground truth", wrap=True, elem_id="world-truth")
    world.change(world_splits, world, split, api_name=False)
    render.click(show_world, [world, split, count, seed], [grid, truth], api_name="world_preview")
    demo.load(show_world, [world, split, count, seed], [grid, truth], api_name=False)


def about_tab() -> None:
    gr.Markdown(
        "**t2i_core** shows what attention and sentence encoders do, with models trained here and "
        "measured on worlds with ground truth. Text to image (a GAN conditioned on the Universal "
        "Sentence Encoder against averaged GloVe vectors), image captioning with attention, a date "
        "translator and visual question answering arrive as their models are trained and measured.\n\n"
        f"Registered pipelines: {', '.join(t2i_core.PIPELINES.names())} "
        "(a pipeline whose model is not shipped yet says so when loaded)."
    )


def build_demo() -> gr.Blocks:
    """The whole page; tests build it without launching a server."""
    with gr.Blocks(title="t2i_core: attention in multimodal deep learning") as demo:
        gr.Markdown("# t2i_core: attention in multimodal deep learning")
        with gr.Tab("Worlds"):
            worlds_tab(demo)
        with gr.Tab("About"):
            about_tab()
    demo.queue(default_concurrency_limit=2, max_size=32)
    return demo


demo = build_demo()

if __name__ == "__main__":
    demo.launch()

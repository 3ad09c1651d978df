"""The Gradio app: the demo's front door, and the file a Hugging Face Space runs.

This file only assembles the page: each tab is a module of ``t2i_core/app/`` with a
``build_<tab>()`` that lays out its components and wires its events to short handlers
that call the pipelines. No model is loaded to build the page; the first request that
needs one loads it (``t2i_core/app/shipped.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

# No network here and on most laptops' trains: never let a library wait for a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

# These imports need the environment set above first (hence noqa: E402).
import gradio as gr  # noqa: E402

from t2i_core.app.about import build_about  # noqa: E402
from t2i_core.app.caption import build_caption  # noqa: E402
from t2i_core.app.dates import build_dates  # noqa: E402
from t2i_core.app.round_trip import ROUND_TRIP_CSS, build_round_trip  # noqa: E402
from t2i_core.app.serving import (  # noqa: E402
    CACHE_SETTINGS,
    configure_queue,
    fix_mmap_threshold,
    install_atomic_cache_writes,
    install_single_resolution_static_check,
    pin_examples_cache,
)
from t2i_core.app.text_to_image import build_text_to_image  # noqa: E402
from t2i_core.app.vqa import build_vqa  # noqa: E402
from t2i_core.app.worlds import build_worlds  # noqa: E402

ROOT = Path(__file__).resolve().parent


def build_demo() -> gr.Blocks:
    """The whole page; tests build it without launching a server (the examples are drawn and cached at launch)."""
    pin_examples_cache(ROOT / "checkpoints", ROOT / "t2i_core")  # a retrained model or changed code never shows stale examples
    install_atomic_cache_writes()  # identical concurrent requests never get a truncated image
    install_single_resolution_static_check()  # each output file's path resolved once, not 6 times
    fix_mmap_threshold()  # the server's memory levels off under load (t2i_core/app/serving.py)
    with gr.Blocks(title="t2i_core: attention in multimodal deep learning", delete_cache=CACHE_SETTINGS) as demo:
        gr.Markdown("# t2i_core: attention in multimodal deep learning")
        with gr.Tab("Text to image"):
            build_text_to_image()
        with gr.Tab("Image to caption"):
            build_caption()
        with gr.Tab("Round trip"):
            build_round_trip()
        with gr.Tab("Dates"):
            build_dates()
        with gr.Tab("Visual questions"):
            build_vqa()
        with gr.Tab("Worlds"):
            build_worlds(demo)
        with gr.Tab("About"):
            build_about()
    # Measured with benchmarks/app_latency.py on 2 CPU cores: one request takes 0.2-0.5 s, and
    # torch already uses both cores, so more than 2 at once only slows each; 40 requests from
    # 8 clients finished in 11 s (p95 2.4 s). A queue of 32 keeps the worst wait under ~10 s;
    # past it a visitor is told the demo is busy.
    return configure_queue(demo, concurrency=2, max_size=32)


demo = build_demo()

if __name__ == "__main__":
    # mcp_server: every public endpoint is also an MCP tool (at /gradio_api/mcp/), described by its docstring.
    # css: page rules that Gradio 6 takes at launch (the round trip's 64-pixel flower drawn at its box's size).
    demo.launch(mcp_server=True, css=ROUND_TRIP_CSS)

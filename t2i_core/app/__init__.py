"""The pages people use: the Gradio app (``app.py`` at the repository root assembles it) and the Streamlit dashboard.

- ``shipped``: the pipelines of the shipped checkpoints, each loaded on first use and kept;
  which checkpoints are shipped. Shared by the app and ``dashboard/app.py``; no Gradio.
- ``errors``: the one place the engine's input errors become ``gr.Error`` messages.
- ``pictures``: how images come in and go out: an upload that cannot fail, fresh scenes,
  example files, heatmaps enlarged for reading, the out-of-world warning.
- One module per tab, each with a ``build_<tab>()`` that lays the tab out and wires its
  events, and the tab's handlers: ``text_to_image``, ``caption``, ``round_trip``,
  ``dates``, ``vqa``, ``worlds``, ``about``.

This is the top layer: it calls pipelines and reads evaluation reports; nothing in the engine imports it.
"""

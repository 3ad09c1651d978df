"""The Gradio app builds and answers from the pipelines."""

import pytest


def test_gradio_app_builds_and_renders_a_world():
    import app

    demo = app.build_demo()
    assert demo is not None
    grid, rows = app.show_world("scenes", "heldout-combos", 4, 1)
    assert grid.size[0] > 0 and len(rows) == 4 and "object0_colour=" in rows[0][1]


def test_gradio_app_turns_bad_requests_into_messages():
    import gradio as gr

    import app

    with pytest.raises(gr.Error):
        app.show_world("flowers", "bogus-split", 4, 0)
    with pytest.raises(gr.Error):
        app.show_world("flowers", "train", 500, 0)


"""The Gradio app and the Streamlit dashboard build and answer from the pipelines."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


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


def test_streamlit_dashboard_runs_and_shows_swapped_twins():
    from streamlit.testing.v1 import AppTest

    page = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run()
    assert not page.exception
    assert "word order" in page.title[0].value
    table = page.table[0].value
    assert list(table.columns) == ["caption", "order-swapped twin"] and len(table) == 8

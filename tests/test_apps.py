"""The Gradio app builds and answers from the pipelines."""

import pytest

from t2i_core.app.worlds import show_world


def test_gradio_app_builds_and_renders_a_world():
    import app

    demo = app.build_demo()
    assert demo is not None
    grid, rows = show_world("scenes", "heldout-combos", 4, 1)
    assert grid.size[0] > 0 and len(rows) == 4 and "object0_colour=" in rows[0][1]


def test_gradio_app_turns_bad_requests_into_messages():
    import gradio as gr

    with pytest.raises(gr.Error):
        show_world("flowers", "bogus-split", 4, 0)
    with pytest.raises(gr.Error):
        show_world("flowers", "train", 500, 0)



def test_the_page_builds_without_loading_a_model(monkeypatch):
    import app
    from t2i_core.app import shipped

    loaded, load = [], shipped.load_pipeline

    def recording_load(task, **options):
        loaded.append(task)
        return load(task, **options)

    monkeypatch.setattr(shipped, "load_pipeline", recording_load)
    shipped._load.cache_clear()
    app.build_demo()
    assert set(loaded) <= {"world-preview"}


def test_a_shipped_pipeline_is_loaded_once_and_only_checkpoints_on_disk_are_available(monkeypatch, tmp_path):
    from t2i_core.app.shipped import CHECKPOINTS, available, shipped

    assert shipped("world-preview") is shipped("world-preview")
    (tmp_path / "dot").mkdir()
    (tmp_path / "dot" / "config.json").write_text("{}")
    monkeypatch.setitem(CHECKPOINTS, "dates", ("score", ("additive", "dot"), lambda score: tmp_path / score))
    assert available("dates") == ["dot"]


def test_the_masks_checkbox_shows_and_hides_the_masks_gallery_outside_the_api():
    import app

    demo = app.build_demo()
    (toggle,) = [f for f in demo.fns.values()
                 if [c.elem_id for c in f.inputs] == ["t2i-masks"] and [c.elem_id for c in f.outputs] == ["t2i-mask-gallery"]]
    assert [event for _, event in toggle.targets] == ["change"] and toggle.api_visibility == "private"
    for ticked in (True, False):
        assert toggle.fn(ticked).visible is ticked


def test_the_examples_are_in_the_inputs_from_the_start_and_opening_the_page_writes_only_outputs():
    """What a visitor types as the page opens stays: no event run on load writes to a text box or an image input."""
    import app
    from t2i_core.app.dates import DATE_EXAMPLES
    from t2i_core.app.shipped import available

    demo = app.build_demo()
    by_id = {block.elem_id: block for block in demo.blocks.values() if getattr(block, "elem_id", None)}
    assert by_id["t2i-prompt"].value == "a red flower with a yellow stem"
    assert by_id["dates-text"].value == DATE_EXAMPLES[1] and by_id["vqa-question"].value == "what color is the circle?"
    assert by_id["cap-image"].value is not None and by_id["vqa-image"].value is not None  # test scenes, as files
    typed = {"t2i-prompt", "dates-text", "vqa-question", "cap-image", "vqa-image"}
    on_load = [f for f in demo.fns.values() if any(event == "load" for _, event in f.targets)]
    written = {c.elem_id for f in on_load for c in f.outputs}
    assert not written & typed, written & typed
    if available("text2image"):  # the rose pair's cached flowers are what opening the page loads
        assert {"t2i-use-gallery", "t2i-glove-gallery", "t2i-verdicts"} <= written


def test_the_apps_accessor_names_the_shipped_encoders_for_an_unknown_one():
    from t2i_core.app.shipped import available, shipped

    with pytest.raises(ValueError, match="unknown encoder 'bogus'; shipped text-to-image encoders: ") as raised:
        shipped("text2image", "bogus")
    listed = str(raised.value).rsplit(": ", 1)[1].split(", ")
    assert sorted(listed) == sorted(available("text2image")) == ["glove-avg", "use"]


def test_the_error_adapter_turns_engine_errors_into_messages_with_the_same_words():
    import inspect

    import gradio as gr

    from t2i_core.app.errors import engine_errors

    @engine_errors()
    def handler(text: str, progress=gr.Progress()):
        if text == "bad":
            raise ValueError("the prompt is empty")
        if text == "wrong type":
            raise TypeError("a question must be a string")
        if text == "already a message":
            raise gr.Error("Upload an image first.", title="Upload")
        if text == "a bug":
            raise KeyError("not a user's mistake")
        return text

    assert handler("fine") == "fine"
    assert list(inspect.signature(handler).parameters) == ["text", "progress"]  # Gradio still finds gr.Progress
    for text, message in [("bad", "the prompt is empty"), ("wrong type", "a question must be a string")]:
        with pytest.raises(gr.Error, match=message) as raised:
            handler(text)
        assert type(raised.value) is gr.Error
    with pytest.raises(gr.Error) as raised:
        handler("already a message")
    assert raised.value.title == "Upload"
    with pytest.raises(KeyError):
        handler("a bug")


@pytest.mark.parametrize("name, module, rows", [
    ("text2image", "text2image", "generators"), ("encoders", "encoders", "encoders"), ("caption", "captioning", "models"),
    ("vqa", "vqa", "models"), ("dates", "dates", "scores"),
])
def test_every_shipped_report_renders_as_a_markdown_table_with_a_row_per_model(name, module, rows):
    import importlib

    from t2i_core.evaluation import shipped_results
    from t2i_core.evaluation.formatting import markdown

    report = shipped_results(name)
    if report is None:
        pytest.skip(f"no {name} report shipped")
    summary = importlib.import_module(f"t2i_core.evaluation.{module}").report_summary
    table = [line for line in markdown(summary(report)).splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(report[rows])
    assert len({line.count("|") for line in table}) == 1  # every row has the header's columns
    assert summary({**report, rows: {}}) == []


def test_the_round_trip_report_renders_as_its_cycle_score():
    from t2i_core.evaluation.formatting import markdown
    from t2i_core.evaluation.round_trip import report_summary

    assert "cycle score on 40 seen prompts: **72.5%**" in markdown(report_summary({"n": 40, "cycle_score": 0.725}))

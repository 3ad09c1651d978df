"""The running Gradio app, called through gradio_client: bad input gets a message, the server keeps serving, load is absorbed."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from servers import free_loopback_port
from t2i_core.app.shipped import available

gradio_client = pytest.importorskip("gradio_client")


@pytest.fixture(scope="module")
def server():
    import app

    if not available("text2image"):
        pytest.skip("no text-to-image generator shipped")
    port = free_loopback_port()
    app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, mcp_server=True)  # as app.py launches it
    yield f"http://127.0.0.1:{port}/"
    app.demo.close()


@pytest.fixture(scope="module")
def client(server):
    return gradio_client.Client(server, verbose=False, download_files=False)


def _generate(client, prompt, encoder="use", count=2, seed=0):
    return client.predict(prompt, encoder, count, seed, False, api_name="/text_to_image")


BAD_PROMPTS = {
    "empty": ("", "empty"),
    "whitespace": ("   \n\t ", "empty"),
    "ten thousand characters": ("a red flower " * 770, "limit"),
    "control characters": ("a red\x07 flower with a \x1b yellow stem", "control characters"),
}


@pytest.mark.parametrize("case", list(BAD_PROMPTS))
def test_a_bad_prompt_gets_a_clear_message(client, case):
    prompt, message = BAD_PROMPTS[case]
    with pytest.raises(gradio_client.exceptions.AppError, match=message):
        _generate(client, prompt)


@pytest.mark.parametrize("prompt", ["a 🌹 flower with a 🌿 yellow stem ✨", "وردة حمراء بساق صفراء", "פרח אדום עם גבעול צהוב"])
def test_emoji_and_right_to_left_prompts_still_draw(client, prompt):
    use_images, _, _, _ = _generate(client, prompt, count=1)
    assert len(use_images) == 1


@pytest.mark.parametrize("show_masks", [False, True], ids=["masks off", "masks on"])
def test_every_output_of_text_to_image_is_a_list_with_or_without_masks(client, show_masks):
    use_images, glove_images, masks, verdicts = client.predict("a red flower with a yellow stem", "use", 2, 0, show_masks, api_name="/text_to_image")
    assert isinstance(use_images, list) and len(use_images) == 2
    assert glove_images == []  # not chosen: an empty gallery, not an update
    assert isinstance(masks, list), masks
    assert [item["caption"] for item in masks] == (["use: 16x16 mask, image 1", "use: 16x16 mask, image 2"] if show_masks else [])
    assert "Universal Sentence Encoder" in verdicts and "averaged GloVe" not in verdicts


def test_every_flower_carries_the_judges_verdict_on_each_stated_attribute(client):
    import re

    prompt = "a small pink flower with eight pointed petals and an orange stem"
    use_images, glove_images, _, verdicts = client.predict(prompt, "both", 3, 0, False, api_name="/text_to_image")
    right = 0
    for i, item in enumerate(use_images + glove_images):
        caption = item["caption"]
        assert caption.startswith(f"{i % 3 + 1}: "), caption
        # one verdict per stated attribute, in the order the app lists them, each right or wrong with what was drawn
        parts = caption.split(": ", 1)[1].split(", ")
        assert [p.split(" ✓")[0].split(" ✗")[0] for p in parts] == ["petals pink", "stem orange", "petal shape pointed", "petal count 8", "size small"]
        assert all(p.endswith(" ✓") or re.search(r" ✗ \(drew [a-z0-9]+\)$", p) for p in parts), caption
        right += sum(p.endswith(" ✓") for p in parts)
    # the summary's shares add up to the verdicts under the images
    counts = [int(a) for a, _ in re.findall(r"(\d+) of (\d+) stated attributes right", verdicts)]
    assert re.findall(r"of (\d+) stated", verdicts) == ["15", "15"] and sum(counts) == right


def test_swapping_needs_two_colours_and_otherwise_draws_both_twins_for_the_slider(client):
    with pytest.raises(gradio_client.exceptions.AppError, match="two different colours"):
        client.predict("a flower with a stem", 1, 0, api_name="/swap_colours")
    swapped, use_pair, glove_pair, summary = client.predict("a red flower with a yellow stem", 2, 0, api_name="/swap_colours")
    assert swapped == "a yellow flower with a red stem"
    for pair in (use_pair, glove_pair):
        assert isinstance(pair, (list, tuple)) and len(pair) == 2  # the prompt's grid, the twin's grid
    assert summary.count("stated attributes right") == 2 * len(available("text2image"))


def test_every_public_endpoint_is_an_mcp_tool_with_its_parameters_described(server):
    """Gradio serves the app's named endpoints as MCP tools; their docstrings' Args describe each parameter."""
    import json
    import urllib.request

    with urllib.request.urlopen(server + "gradio_api/mcp/schema", timeout=30) as response:
        tools = {tool["meta"]["endpoint_name"]: tool for tool in json.load(response)}
    expected = {"text_to_image": ["prompt", "encoder", "count", "seed", "show_masks"], "swap_colours": ["prompt", "count", "seed"],
                "interpolate": ["text_a", "text_b", "encoder", "steps", "seed"], "render_scene": ["seed"],
                "caption": ["image", "model", "beam"], "round_trip": ["sentence", "seed"], "translate_date": ["text", "score"],
                "answer_question": ["image", "question", "model"], "world_preview": ["world", "split", "n", "seed"]}
    assert sorted(tools) == sorted(expected)  # no private helper (examples, word clicks, the masks toggle) is a tool
    for name, parameters in expected.items():
        properties = tools[name]["inputSchema"]["properties"]
        assert list(properties) == parameters, name
        assert all(properties[p].get("description") for p in parameters), (name, properties)
        assert "Returns:" in tools[name]["description"], name


def test_the_server_still_serves_after_bad_input_and_gives_the_same_images_for_the_same_seed(client):
    for prompt, _ in BAD_PROMPTS.values():
        with pytest.raises(gradio_client.exceptions.AppError):
            _generate(client, prompt)
    first = _generate(client, "a blue flower with a white stem", count=2, seed=7)[0]
    second = _generate(client, "a blue flower with a white stem", count=2, seed=7)[0]
    assert len(first) == 2
    read = lambda item: open(item["image"]["path"] if isinstance(item.get("image"), dict) else item["image"], "rb").read()  # noqa: E731
    assert [read(i) for i in first] == [read(i) for i in second]


def test_forty_requests_from_eight_clients_all_succeed(server):
    def worker(k):
        own = gradio_client.Client(server, verbose=False, download_files=False)
        return [len(_generate(own, f"a red flower with a green stem, request {k}-{j}", encoder="both", count=1, seed=j)[0]) for j in range(5)]

    with ThreadPoolExecutor(8) as pool:
        results = [n for batch in pool.map(worker, range(8)) for n in batch]
    assert results == [1] * 40


# ---------------------------------------------------------------- image to caption
def _bad_images(folder):
    """Every kind of upload a person can send, as files: name -> (path, expected message or None for a caption)."""
    from PIL import Image

    folder.mkdir(exist_ok=True)
    cases = {}
    (folder / "notes.png").write_bytes(b"this is a text file with an image's name")
    cases["not an image"] = (folder / "notes.png", "not an image")
    Image.new("RGB", (128, 128), "red").save(folder / "whole.png")
    (folder / "truncated.png").write_bytes((folder / "whole.png").read_bytes()[:60])
    cases["truncated png"] = (folder / "truncated.png", "image")
    Image.new("1", (20000, 20000)).save(folder / "huge.png")
    cases["20000x20000"] = (folder / "huge.png", "limit")
    Image.new("RGB", (1, 1), "blue").save(folder / "tiny.png")
    cases["1x1"] = (folder / "tiny.png", None)
    Image.new("CMYK", (96, 80), (0, 255, 255, 0)).save(folder / "cmyk.jpg")
    cases["cmyk jpeg"] = (folder / "cmyk.jpg", None)
    Image.fromarray(__import__("numpy").full((64, 64), 40000, dtype="uint16")).save(folder / "deep.png")
    cases["16-bit png"] = (folder / "deep.png", None)
    frames = [Image.new("P", (64, 64), i) for i in range(3)]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:], duration=100)
    cases["animated gif"] = (folder / "animated.gif", None)
    Image.new("RGBA", (64, 64), (255, 0, 0, 0)).save(folder / "transparent.png")
    cases["transparent rgba"] = (folder / "transparent.png", None)
    return cases


@pytest.fixture(scope="module")
def bad_images(tmp_path_factory):
    return _bad_images(tmp_path_factory.mktemp("uploads"))


def _caption(client, path, model="show-attend-tell", beam=3):
    return client.predict(gradio_client.handle_file(str(path)), model, beam, api_name="/caption")


@pytest.mark.parametrize("case", ["not an image", "truncated png", "20000x20000", "1x1", "cmyk jpeg", "16-bit png", "animated gif", "transparent rgba"])
def test_every_upload_gets_a_caption_or_a_clear_message(client, bad_images, case):
    if "show-attend-tell" not in available("caption"):
        pytest.skip("no captioner shipped")
    path, message = bad_images[case]
    if message is None:
        words, heatmap, strip, summary = _caption(client, path)
        assert words and heatmap is not None and strip is not None and "Click a word" in summary
    else:
        with pytest.raises(gradio_client.exceptions.AppError, match=message):
            _caption(client, path)


def test_a_scene_is_captioned_after_bad_uploads_and_the_round_trip_closes(client, bad_images):
    if "show-attend-tell" not in available("caption"):
        pytest.skip("no captioner shipped")
    for case in ("not an image", "truncated png", "20000x20000"):
        with pytest.raises(gradio_client.exceptions.AppError):
            _caption(client, bad_images[case][0])
    path, truth = client.predict(5, api_name="/render_scene")
    words, _, _, summary = _caption(client, path["path"] if isinstance(path, dict) else path)
    caption = " ".join(w["token"] for w in words)
    from t2i_core.data.scenes import SHAPES

    shapes = set(SHAPES)
    assert shapes & set(caption.split()), caption  # a Scenes-style caption names a shape
    image, strip, table = client.predict("a red flower with a yellow stem", 0, api_name="/round_trip")
    sentence, their_caption, cosine = table["data"][0]
    assert sentence == "a red flower with a yellow stem" and their_caption and -1.0 <= cosine <= 1.0


def test_the_round_trip_returns_a_flower_caption(client):
    """The default captioner knows flowers: a generated flower comes back as a flower caption, not a scene's."""
    if "show-attend-tell" not in available("caption") or "use" not in available("text2image"):
        pytest.skip("the round trip needs the USE generator and the captioner")
    from t2i_core.data.flowers import read_colour_roles

    _, _, table = client.predict("a red flower with a yellow stem", 0, api_name="/round_trip")
    their_caption = table["data"][0][1]
    assert "flower" in their_caption.split() and "stem" in their_caption.split(), their_caption
    assert None not in read_colour_roles(their_caption).values(), their_caption


# ---------------------------------------------------------------- dates
BAD_DATES = {"empty": ("", "Type a date"), "whitespace": ("  \t ", "Type a date"), "500 characters": ("1" * 500, "at most")}


@pytest.mark.parametrize("case", list(BAD_DATES))
def test_a_bad_date_gets_a_clear_message(client, case):
    if not available("dates"):
        pytest.skip("no date translator shipped")
    text, message = BAD_DATES[case]
    with pytest.raises(gradio_client.exceptions.AppError, match=message):
        client.predict(text, available("dates")[0], api_name="/translate_date")


def test_dates_translate_and_text_that_is_no_date_is_called_invalid(client):
    if not available("dates"):
        pytest.skip("no date translator shipped")
    for score in available("dates"):
        summary, figure = client.predict("Tuesday, March 3, 2020", score, api_name="/translate_date")
        assert "2020-03-03" in summary and "a real calendar date" in summary
        assert figure is not None
    summary, _ = client.predict("hello 🌹", available("dates")[0], api_name="/translate_date")
    assert "not valid" in summary


# ---------------------------------------------------------------- visual questions
def _ask(client, path, question, model="attention"):
    return client.predict(gradio_client.handle_file(str(path)), question, model, api_name="/answer_question")


def test_questions_get_answers_or_clear_messages_and_the_server_keeps_serving(client, bad_images, tmp_path):
    from t2i_core.data import load_world

    if "attention" not in available("vqa"):
        pytest.skip("no VQA model shipped")
    scene = tmp_path / "scene.png"
    load_world("scenes", "test", size=1, seed=3).sample(0).image.save(scene)
    for question, message in [("", "Ask a question"), ("   ", "Ask a question"), ("what hue is the blob?", "unknown words"),
                              ("what color is the circle? " * 400, "at most")]:
        with pytest.raises(gradio_client.exceptions.AppError, match=message):
            _ask(client, scene, question)
    with pytest.raises(gradio_client.exceptions.AppError, match="not an image"):
        _ask(client, bad_images["not an image"][0], "what color is the circle?")
    for model in available("vqa"):
        answer, chart, maps = _ask(client, scene, "how many squares are there?", model)
        assert answer.startswith("## ") and chart is not None
        assert (len(maps) > 0) == (model == "attention")

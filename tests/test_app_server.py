"""The running Gradio app, called through gradio_client: bad input gets a message, the server keeps serving, load is absorbed."""

import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

gradio_client = pytest.importorskip("gradio_client")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    import app

    if not app.TEXT2IMAGE:
        pytest.skip("no text-to-image generator shipped")
    port = _free_port()
    app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
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
    use_images, _, _ = _generate(client, prompt, count=1)
    assert len(use_images) == 1


def test_swapping_needs_two_colours_and_otherwise_draws_both_twins(client):
    with pytest.raises(gradio_client.exceptions.AppError, match="two different colours"):
        client.predict("a flower with a stem", 1, 0, api_name="/swap_colours")
    swapped, gallery = client.predict("a red flower with a yellow stem", 2, 0, api_name="/swap_colours")
    assert swapped == "a yellow flower with a red stem"
    assert len(gallery) == 2 * 2 * len(__import__("app").TEXT2IMAGE)


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

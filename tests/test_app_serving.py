"""Serving under load (issue 14): identical concurrent requests get whole images, the cache is bounded, a full queue says so."""

import inspect
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from gradio import processing_utils  # noqa: E402
from gradio import utils as gradio_utils  # noqa: E402
from gradio_client.utils import QueueError  # noqa: E402

from servers import free_loopback_port  # noqa: E402
from t2i_core.app import serving  # noqa: E402

GRADIO_WRITER = serving.GRADIO_WRITERS["save_pil_to_cache"]


def _picture(seed: int = 0, size: int = 256) -> Image.Image:
    """A noisy picture: its WebP is tens of kilobytes, so a write is not instantaneous."""
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8))


def served_file_stays_whole(writer, cache: Path, monkeypatch) -> bool:
    """The minimal reproduction: request 1 saves an output image and its client starts downloading
    it; request 2 produces the same image and saves it again. Every write is paused halfway
    to look at the file request 1's client is reading. True when that file was whole every time."""
    picture = _picture()
    served = Path(writer(picture, str(cache)))
    whole = served.read_bytes()
    seen_whole = []
    write_bytes = Path.write_bytes

    def write_in_two_halves(path, data):
        with open(path, "wb") as f:
            f.write(data[: len(data) // 2])
            f.flush()
            seen_whole.append(served.read_bytes() == whole)  # what request 1's client reads at this moment
            f.write(data[len(data) // 2:])
        return len(data)

    monkeypatch.setattr(Path, "write_bytes", write_in_two_halves)
    try:
        assert Path(writer(picture, str(cache))) == served
    finally:
        monkeypatch.setattr(Path, "write_bytes", write_bytes)
    return all(seen_whole) and served.read_bytes() == whole


def test_the_reproduction_catches_gradios_own_writer_truncating_a_served_image(tmp_path, monkeypatch):
    """The installed Gradio's writer rewrites the served file in place: its client reads half an image.
    (If a future Gradio writes atomically this test fails, and the patch can go.)"""
    assert not served_file_stays_whole(GRADIO_WRITER, tmp_path, monkeypatch)


def test_the_apps_writer_never_lets_a_client_read_part_of_an_image(tmp_path, monkeypatch):
    assert served_file_stays_whole(serving.save_pil_to_cache, tmp_path / "same", monkeypatch)
    # A file left truncated by another writer is replaced whole, in one step.
    served = Path(serving.save_pil_to_cache(_picture(1), str(tmp_path / "cut")))
    whole = served.read_bytes()
    served.write_bytes(whole[:100])
    assert Path(serving.save_pil_to_cache(_picture(1), str(tmp_path / "cut"))) == served
    assert served.read_bytes() == whole
    assert not [p for p in served.parent.iterdir() if p.name.endswith(".partial")]


def test_eight_threads_saving_the_same_images_while_a_reader_reads_never_show_a_part(tmp_path):
    pictures = [_picture(seed) for seed in range(3)]
    served = [Path(serving.save_pil_to_cache(p, str(tmp_path))) for p in pictures]
    whole = [path.read_bytes() for path in served]
    stop, torn = threading.Event(), []

    def reader():
        while not stop.is_set():
            for path, data in zip(served, whole):
                if path.read_bytes() != data:
                    torn.append(path)

    def writer(k):
        for j in range(20):
            assert serving.save_pil_to_cache(pictures[(k + j) % 3], str(tmp_path)) == str(served[(k + j) % 3])

    watching = threading.Thread(target=reader)
    watching.start()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(writer, range(8)))
    stop.set()
    watching.join()
    assert not torn


def test_the_app_installs_the_writer_a_bounded_cache_and_the_busy_message():
    import app

    assert processing_utils.save_pil_to_cache is serving.save_pil_to_cache
    assert processing_utils.save_bytes_to_cache is serving.save_bytes_to_cache
    assert app.demo.delete_cache == (3600, 3600)
    assert app.demo._queue.max_size == 32 and getattr(app.demo._queue.push, "busy_message", False)


def test_a_gradio_whose_writers_changed_is_refused_loudly(monkeypatch):
    monkeypatch.setattr(processing_utils, "save_pil_to_cache", lambda image, folder: folder)
    with pytest.raises(RuntimeError, match="not the writer"):
        serving.install_atomic_cache_writes()


def test_the_replacements_take_gradios_arguments():
    for name, parameters in serving._WRITERS.items():
        assert list(inspect.signature(getattr(serving, name)).parameters) == parameters


def test_a_burst_larger_than_the_queue_is_told_the_demo_is_busy_and_the_rest_are_served():
    def slow_echo(text: str) -> str:
        time.sleep(1.0)
        return text.upper()

    with gr.Blocks() as demo:
        box, out = gr.Textbox(), gr.Textbox()
        gr.Button().click(slow_echo, box, out, api_name="echo")
    serving.configure_queue(demo, concurrency=1, max_size=2)
    port = free_loopback_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        def ask(k):
            try:
                return gradio_client.Client(url, verbose=False).predict(f"request {k}", api_name="/echo")
            except Exception as error:  # noqa: BLE001 - the outcome is what is measured
                return error

        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(ask, range(8)))
        served = [o for o in outcomes if isinstance(o, str)]
        refused = [o for o in outcomes if not isinstance(o, str)]
        assert served and refused, outcomes
        assert all(o.startswith("REQUEST ") for o in served)
        assert all(isinstance(o, QueueError) for o in refused), refused  # the API client's own "Queue is full! Please try again."

        # What any HTTP client reads: 503 and the busy message, while the queue is full.
        config = httpx.get(f"{url}config").json()
        fn_index = next(i for i, d in enumerate(config["dependencies"]) if d.get("api_name") == "echo")
        join = f"{url}{config.get('api_prefix', '/gradio_api').strip('/')}/queue/join"

        def post(k):
            return httpx.post(join, json={"data": [f"raw {k}"], "fn_index": fn_index, "session_hash": f"burst{k}"}, timeout=30)

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(post, range(8)))
        full = [a for a in answers if a.status_code == 503]
        assert full and all(a.json()["detail"] == serving.BUSY_MESSAGE for a in full), [(a.status_code, a.text) for a in answers]
        time.sleep(3.5)  # the admitted ones finish; the server serves again
        assert ask(99) == "REQUEST 99"
    finally:
        demo.close()


def test_identical_fresh_scene_requests_never_hand_gradio_a_half_written_file():
    """/render_scene writes the scene of a seed to one file; identical requests (seed 0) used to rewrite it in place
    while Gradio copied it (the soak benchmark caught a 0-byte scene)."""
    from t2i_core.app.pictures import fresh_scene

    served = Path(fresh_scene(7)[0])
    whole = served.read_bytes()
    stop, torn = threading.Event(), []

    def reader():
        while not stop.is_set():
            if served.read_bytes() != whole:
                torn.append(True)

    watching = threading.Thread(target=reader)
    watching.start()
    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(lambda _: fresh_scene(7)[0], range(24))) == {str(served)}
    stop.set()
    watching.join()
    assert not torn


def test_the_servers_malloc_settings_take_on_this_machine():
    import sys

    if sys.platform.startswith("linux"):
        assert serving.fix_mmap_threshold() is True


def test_a_short_soak_of_every_endpoint_has_no_failures(tmp_path):
    """8 clients x 20 requests over every named endpoint (identical, different and hostile inputs; every file
    downloaded and decoded), the server in a process of its own. The full soak (1000 requests) is in the README."""
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    report = tmp_path / "soak.json"
    run = subprocess.run([sys.executable, str(root / "benchmarks" / "soak.py"), "--requests", "160", "--clients", "8",
                          "--json", str(report), "--server-log", str(tmp_path / "server.log")],
                         cwd=root, capture_output=True, text=True, timeout=900)
    figures = json.loads(report.read_text())
    assert figures["requests"] == 160 and figures["failures"] == [], run.stdout[-3000:]
    # The target (within 15%) is measured over 1000 requests; 160 requests leave the first climb a larger share.
    assert figures["memory_mib"]["growth"] < 0.3, figures["memory_mib"]


def test_the_flower_gallery_answers_what_gradios_gallery_answers_from_a_static_folder(tmp_path, monkeypatch):
    """FlowerGallery writes its images where Gradio serves them unmoved; the browser must get the same pictures and captions."""
    from gradio.data_classes import _StaticFiles

    from t2i_core.app.pictures import FlowerGallery

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    monkeypatch.setattr(_StaticFiles, "all_paths", [])
    serving.install_atomic_cache_writes()
    ours, gradios = FlowerGallery(format="png"), gr.Gallery(format="png")
    flowers = [(_picture(seed, size=64), f"{seed + 1}: petals red ✓") for seed in range(3)] + [(_picture(0, size=64), "4: the first again")]
    answer, expected = ours.postprocess(flowers), gradios.postprocess(flowers)

    def without_paths(data):
        return [{**item, "image": {**item["image"], "path": None}} for item in data.model_dump()]

    assert without_paths(answer) == without_paths(expected)  # captions, names, types
    assert [Image.open(item.image.path).tobytes() for item in answer.root] == [f.tobytes() for f, _ in flowers]
    folder = Path(serving.static_output_folder(ours.GRADIO_CACHE))
    assert folder.is_relative_to(tmp_path) and folder.resolve() in _StaticFiles.all_paths
    paths = [item.image.path for item in answer.root]
    assert all(Path(p).parent == folder for p in paths) and paths[0] == paths[3]  # identical images share a file
    assert set(paths) <= ours.temp_files  # so the cache's deletion by age removes them
    assert all(gradio_utils.is_static_file(p) for p in paths)  # served where they lie, not moved
    assert _StaticFiles.all_paths.count(folder.resolve()) == 1  # registered once however many answers
    bare = [f for f, _ in flowers]  # no captions
    assert without_paths(ours.postprocess(bare)) == without_paths(gradios.postprocess(bare))
    files = [str(tmp_path / "a.png")]  # not PIL images: Gradio's own code answers
    Image.new("RGB", (4, 4)).save(files[0])
    assert ours.postprocess(files).model_dump() == gradios.postprocess(files).model_dump()
    assert ours.postprocess(None).root == [] and ours.get_block_name() == "gallery"


def test_content_named_files_are_written_whole_once(tmp_path, monkeypatch):
    """A new image goes in under a staging name and is renamed whole; the same bytes again only touch the file."""
    data = b"\x89PNG not really"
    path = serving.write_content_named(str(tmp_path), data, ".png")
    assert Path(path).read_bytes() == data and Path(path).name.endswith(".png") and list(tmp_path.iterdir()) == [Path(path)]
    old = 1_000_000_000
    os.utime(path, (old, old))
    renames = []
    monkeypatch.setattr(serving.os, "replace", lambda *a: renames.append(a))
    assert serving.write_content_named(str(tmp_path), data, ".png") == path
    assert renames == [] and Path(path).stat().st_mtime > old  # touched, not rewritten
    monkeypatch.setattr(serving.os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        serving.write_content_named(str(tmp_path), b"other bytes", ".png")
    assert list(tmp_path.iterdir()) == [Path(path)]  # no staging file left behind


def test_the_single_resolution_static_check_answers_what_gradios_answers(tmp_path):
    """Every kind of path Gradio asks about, with a symlink and a static folder and file: the same verdicts."""
    from gradio.data_classes import FileData

    static_dir, static_file, outside = tmp_path / "static", tmp_path / "icon.svg", tmp_path / "cache" / "image.png"
    for path in (static_dir / "sub" / "a.png", static_file, outside):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    (tmp_path / "link").symlink_to(static_dir)
    statics = [static_dir.resolve(), static_file.resolve()]
    asked = [str(static_dir / "sub" / "a.png"), static_dir / "sub" / "a.png", str(static_file), str(outside), outside,
             str(tmp_path / "link" / "sub" / "a.png"), str(tmp_path / "static" / ".." / "cache" / "image.png"),
             str(tmp_path / "missing.png"), tmp_path / "static" / "missing.png", FileData(path=str(static_file)),
             FileData(path=str(outside)), 42, None]
    ours = [serving.under_static_paths(path, statics) for path in asked]
    assert ours == [gradio_utils._is_static_file(path, statics) for path in asked]
    assert ours == [True, True, True, False, False, True, False, False, True, True, False, False, False]
    assert serving.under_static_paths(str(static_file), []) is False


def test_the_static_check_is_installed_once_and_refuses_an_unknown_gradio(monkeypatch):
    monkeypatch.setattr(gradio_utils, "is_static_file", serving.GRADIO_STATIC_CHECK)
    serving.install_single_resolution_static_check()
    serving.install_single_resolution_static_check()
    assert gradio_utils.is_static_file is serving.is_static_file
    monkeypatch.setattr(gradio_utils, "is_static_file", lambda file_path, strict=True: False)
    with pytest.raises(RuntimeError, match="is not the check"):
        serving.install_single_resolution_static_check()


def test_output_pngs_are_lossless_keep_their_text_and_are_compressed():
    import io

    picture = _picture(3, size=64)
    picture.info["parameters"] = "a red flower with a yellow stem, seed 3"
    data = serving.encode_image(picture, "png")
    decoded = Image.open(io.BytesIO(data))
    assert decoded.tobytes() == picture.tobytes() and decoded.info.get("parameters") == picture.info["parameters"]
    smooth = Image.new("RGB", (64, 64), (200, 40, 40))  # compresses to almost nothing at any zlib level above 0
    assert len(serving.encode_image(smooth, "png")) < 64 * 64 * 3 / 10
    assert serving.encode_image(picture, "jpeg")[:2] == b"\xff\xd8"  # other formats: Gradio's own encoder

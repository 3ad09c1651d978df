"""How the app serves many visitors at once: whole output files, a bounded cache, a queue that says no clearly.

Settings of the Gradio server that the page's layout does not show:

- **Whole images under identical load.** Gradio saves every output image to its cache
  under a folder named by the hash of the image's bytes (``processing_utils.save_pil_to_cache``),
  with a plain ``write_bytes``: a second request that produces the same image (many
  visitors pressing the same example, seed 0) truncates and refills the very file the first
  request's client is still downloading, and that client gets a cut-off body ("Too little
  data for declared Content-Length"). :func:`install_atomic_cache_writes` replaces the
  writers Gradio's components call with ones that write to a temporary file beside the
  target and ``os.replace`` it into place, and that leave an existing file of the same
  content alone (its name is the hash of its content, so it is already right). A reader
  therefore sees either no file or the whole file, never a part.
- **Each output file resolved once.** For every file an answer holds, Gradio asks twice
  whether it lies under a static path (the icons Gradio registers), and its
  ``is_in_or_equal`` resolves both the file and the static path on every comparison, in
  Python, a system call per path component: 96 comparisons (192 resolutions) for the 16
  flowers of one ``/text_to_image`` answer. :func:`install_single_resolution_static_check` resolves the file
  once and each static path once per process.
- **Flowers served where they are written.** Every file an answer holds then goes through
  Gradio's move to its cache: a check that the path may be served (three more resolutions,
  against the blocked, allowed and upload folders) and a check that it already lies in the
  cache. For the 16 flowers of a ``/text_to_image`` answer that and writing each flower into a
  folder of its own (``mkdir``, ``mkstemp``, a second ``open``) were the largest part of what the
  app added to the generators in a py-spy profile. :func:`static_output_folder` is one folder
  under the cache, registered with ``gr.set_static_paths`` (Gradio's documented way to serve
  files that never change where they lie), and :func:`write_content_named` writes each image
  there under the hash of its bytes, whole (a temporary name, then ``os.replace``): a file
  is never changed once written, identical images share it, and Gradio serves it without
  the move. The gallery registers each file with its block, so the cache's deletion by age
  (below) removes these too.
- **A bounded cache.** Each request adds files to that cache; :data:`CACHE_SETTINGS` makes
  Gradio delete files older than an hour, every hour (``gr.Blocks(delete_cache=...)``).
- **Memory that levels off.** glibc's malloc raises its mmap threshold each time a large
  block is freed, so the images and tensors of later requests come from the heap, whose
  freed pieces are rarely returned to the system: under 8 clients the server grew 38-57%
  over 450-1000 requests, with every Python and numpy object accounted for.
  :func:`fix_mmap_threshold` pins the threshold at 1 MiB (blocks above it are mapped and
  unmapped whole): +14% over 450 requests in the same soak, at the same throughput.
- **Cached examples that cannot go stale.** The examples are drawn once and served from
  Gradio's example cache, a folder Gradio names by component id and never checks against
  the code or the weights that filled it; :func:`pin_examples_cache` names the folder by a
  fingerprint of the shipped checkpoints and of the package's code instead, so a retrained
  model or a changed handler gets a fresh cache and an unchanged app reuses its own.
- **A queue that says no clearly.** Past the queue's ``max_size`` Gradio answers HTTP 503
  with "Queue is full. Max size is 32 and size is 32."; :func:`configure_queue` makes that
  answer :data:`BUSY_MESSAGE`, which a visitor understands.
"""

from __future__ import annotations

import ctypes
import hashlib
import inspect
import io
import os
import sys
import threading
from pathlib import Path
from typing import Any

import gradio as gr
from gradio import processing_utils, utils
from gradio.data_classes import FileData, _StaticFiles

CACHE_MAX_AGE_S = 3600
CACHE_SETTINGS = (CACHE_MAX_AGE_S, CACHE_MAX_AGE_S)  # gr.Blocks(delete_cache=(how often, how old)), seconds
BUSY_MESSAGE = "The demo is busy: too many requests are waiting. Please try again in a moment."

# The signatures of the Gradio writers replaced below (Gradio 4-6). A Gradio that changes them
# makes install_atomic_cache_writes refuse loudly rather than patch a function it does not know.
_WRITERS = {
    "save_pil_to_cache": ["img", "cache_dir", "name", "format"],
    "save_bytes_to_cache": ["data", "file_name", "cache_dir"],
}
GRADIO_WRITERS = {name: getattr(processing_utils, name, None) for name in _WRITERS}  # as Gradio ships them, before any patch


M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8  # mallopt's parameter numbers, from glibc's malloc.h
MALLOC_ARENAS = 2  # one per core: the request threads (up to 40) otherwise each grow an arena of their own
MMAP_THRESHOLD_BYTES = 1 << 20  # soak-tested: 128 KiB kept memory flatter (+9%) but cost a fifth of the throughput


def fix_mmap_threshold(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Pin glibc malloc's mmap threshold (which also turns off its growth) and cap its arenas at
    :data:`MALLOC_ARENAS`; True where it was set (Linux with glibc)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # musl or another C library: nothing to pin
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, threshold)) and bool(libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS))


def write_whole(folder: Path, filename: str, data: bytes) -> str:
    """Write ``data`` to ``folder / filename`` so that no reader ever sees part of it; the resolved path.

    An existing file that already holds ``data`` is kept (and touched, so the cache's
    age-based deletion counts from this use): Gradio names its cache folders by the hash of
    the content, so identical requests find their file there. Otherwise the bytes go to a
    temporary file in the same folder, renamed over the target in one step (``os.replace``
    is atomic on POSIX and Windows within a file system), so a reader never sees a part.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = (folder / filename).resolve()
    try:
        if target.stat().st_size == len(data) and target.read_bytes() == data:
            os.utime(target)
            return str(target)
    except FileNotFoundError:
        pass
    _write_then_rename(str(target), data)
    return str(target)


def _write_then_rename(target: str, data: bytes) -> None:
    """Write ``data`` under a name of this process and thread beside ``target``, then rename it to ``target`` (atomic).

    One ``open`` of a name no other writer uses: ``mkstemp``'s random names and its second
    ``open`` were a visible share of an answer's time in a profile of the server.
    """
    staging = f"{os.path.dirname(target)}/.{os.path.basename(target)}.{os.getpid()}-{threading.get_ident()}.partial"
    try:
        with open(staging, "xb") as handle:
            handle.write(data)
        os.replace(staging, target)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


# The folder under Gradio's cache that holds the app's generated flowers, registered as a static path.
STATIC_OUTPUT_FOLDER = "t2i-outputs"


def static_output_folder(cache_dir: str | Path) -> str:
    """``cache_dir/t2i-outputs``, created and registered with ``gr.set_static_paths`` once per process; its absolute path.

    Files written there (by :func:`write_content_named`) are served by Gradio where they lie,
    without its per-file move into the cache.
    """
    folder = Path(os.path.abspath(cache_dir)) / STATIC_OUTPUT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    if folder.resolve() not in _StaticFiles.all_paths:
        gr.set_static_paths([folder])
    return str(folder)


def write_content_named(folder: str, data: bytes, suffix: str) -> str:
    """Write ``data`` to ``folder/<hash of data><suffix>`` whole, unless it is there already; the file's path.

    The name is the hash of the content (Gradio's ``hash_bytes``), so an existing file already
    holds these bytes and is only touched (the cache's deletion by age counts from this use). A
    new file is written under a name of this process and thread, then renamed into place
    (``os.replace``, atomic), so a reader sees no file or the whole file. ``folder`` must exist.
    """
    target = os.path.join(folder, processing_utils.hash_bytes(data) + suffix)
    try:
        os.utime(target)
        return target
    except FileNotFoundError:
        pass
    _write_then_rename(target, data)
    return target


# zlib level of the PNGs the app serves (the flowers). PIL's default, 6, took 11 ms for the 16 flowers of a
# /text_to_image answer on this 2-core machine, level 1 took 5 ms, for files a fifth larger (5.0 KB
# against 4.2 KB a flower); PNG stays lossless at every level.
PNG_COMPRESS_LEVEL = 1


def encode_image(img: Any, format: str) -> bytes:  # noqa: A002 - Gradio's name
    """Gradio's ``encode_pil_to_bytes``, with PNG at :data:`PNG_COMPRESS_LEVEL` (and Gradio's metadata)."""
    if format.lower() != "png":
        return processing_utils.encode_pil_to_bytes(img, format)
    with io.BytesIO() as output:
        img.save(output, "png", pnginfo=processing_utils.get_pil_metadata(img), compress_level=PNG_COMPRESS_LEVEL)
        return output.getvalue()


def save_pil_to_cache(img: Any, cache_dir: str, name: str = "image", format: str = "webp") -> str:  # noqa: A002 - Gradio's name
    """Gradio's ``save_pil_to_cache``, written whole (see :func:`write_whole`), PNG encoded fast (:func:`encode_image`)."""
    data = encode_image(img, format)
    return write_whole(Path(cache_dir) / processing_utils.hash_bytes(data), f"{name}.{format}", data)


def save_bytes_to_cache(data: bytes, file_name: str, cache_dir: str) -> str:
    """Gradio's ``save_bytes_to_cache`` (audio, SVG), written whole."""
    if not Path(file_name).suffix:
        file_name += processing_utils.detect_audio_format(data)
    return write_whole(Path(cache_dir) / processing_utils.hash_bytes(data), Path(file_name).name, data)


def install_atomic_cache_writes() -> None:
    """Make Gradio's output writers write whole files (idempotent).

    Gradio's components call these through the ``processing_utils`` module (and
    ``save_img_array_to_cache`` calls ``save_pil_to_cache`` by its module-level name), so
    replacing the module attributes covers every output image. ``save_file_to_cache``
    (outputs given as file paths) already writes atomically in the installed Gradio.

    Raises:
        RuntimeError: the installed Gradio's writers are not the ones this replaces.
    """
    for name, parameters in _WRITERS.items():
        current = getattr(processing_utils, name, None)
        if current is None:
            raise RuntimeError(f"gradio.processing_utils has no {name}; t2i_core/app/serving.py needs updating for Gradio {gr.__version__}")
        if current in (save_pil_to_cache, save_bytes_to_cache):  # installed already
            continue
        found = list(inspect.signature(current).parameters)
        if found != parameters:
            raise RuntimeError(f"gradio.processing_utils.{name}{tuple(found)} is not the writer t2i_core/app/serving.py replaces "
                               f"{tuple(parameters)} (Gradio {gr.__version__})")
    processing_utils.save_pil_to_cache = save_pil_to_cache
    processing_utils.save_bytes_to_cache = save_bytes_to_cache


GRADIO_STATIC_CHECK = utils.is_static_file  # as Gradio ships it, before any patch
_RESOLVED_STATIC: dict[Path, Path] = {}


def under_static_paths(file_path: Any, static_paths: list[Path]) -> bool:
    """Gradio's ``utils._is_static_file``: whether ``file_path`` (a str, Path or FileData) lies under
    one of ``static_paths`` after symlinks are resolved; a str or FileData path that does not
    exist is not. The file is resolved once; each static path once per process."""
    if isinstance(file_path, FileData):
        file_path = file_path.path
    elif not isinstance(file_path, (str, Path)):
        return False
    if isinstance(file_path, str):
        file_path = Path(file_path)
        if not file_path.exists():
            return False
    if not static_paths:
        return False
    resolved = utils.abspath(file_path).resolve()
    for static in static_paths:
        if static not in _RESOLVED_STATIC:
            _RESOLVED_STATIC[static] = utils.abspath(static).resolve()
        if resolved.is_relative_to(_RESOLVED_STATIC[static]):
            return True
    return False


def is_static_file(file_path: Any) -> bool:
    """Gradio's ``utils.is_static_file`` (the paths registered with ``gr.set_static_paths``), resolving the file once."""
    return under_static_paths(file_path, _StaticFiles.all_paths)


def install_single_resolution_static_check() -> None:
    """Make Gradio's static-path check resolve each output file once (idempotent; see the module docstring).

    Raises:
        RuntimeError: the installed Gradio's check is not the one this replaces.
    """
    current = utils.is_static_file
    if current is is_static_file:
        return
    found = list(inspect.signature(current).parameters)
    if current is not GRADIO_STATIC_CHECK or found != ["file_path"] or not hasattr(utils, "_is_static_file"):
        raise RuntimeError(f"gradio.utils.is_static_file{tuple(found)} is not the check t2i_core/app/serving.py replaces (Gradio {gr.__version__})")
    utils.is_static_file = is_static_file


def configure_queue(demo: gr.Blocks, concurrency: int, max_size: int) -> gr.Blocks:
    """``demo.queue(...)``, with the answer past ``max_size`` replaced by :data:`BUSY_MESSAGE` (HTTP 503 as before)."""
    demo.queue(default_concurrency_limit=concurrency, max_size=max_size)
    queue = demo._queue  # Gradio's Queue; push() decides admission and returns (ok, message or event id, state)
    if getattr(queue.push, "busy_message", False):
        return demo
    admit = queue.push

    async def push(*args: Any, **kwargs: Any):
        admitted, answer, state = await admit(*args, **kwargs)
        if state == "queue_full":
            return admitted, BUSY_MESSAGE, state
        return admitted, answer, state

    push.busy_message = True
    queue.push = push
    return demo


def examples_fingerprint(checkpoints: Path, package: Path) -> str:
    """A short hash of every shipped checkpoint file and every source file of the package: what cached outputs depend on."""
    digest = hashlib.sha256()
    for base, patterns in ((checkpoints, ("*.json", "*.safetensors")), (package, ("*.py",))):
        for f in sorted(f for pattern in patterns for f in base.rglob(pattern)):
            digest.update(str(f.relative_to(base)).encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def pin_examples_cache(checkpoints: Path, package: Path, root: Path = Path(".gradio/cached_examples")) -> Path:
    """Make Gradio cache the examples under ``root/<fingerprint>`` (unless ``GRADIO_EXAMPLES_CACHE`` is set); returns the folder.

    Must run before the page is built: ``gr.Examples`` reads the folder when it is created.
    """
    if "GRADIO_EXAMPLES_CACHE" not in os.environ:
        os.environ["GRADIO_EXAMPLES_CACHE"] = str(root / examples_fingerprint(checkpoints, package))
    return Path(os.environ["GRADIO_EXAMPLES_CACHE"])


def cached_examples(examples: list[list], inputs: list, outputs: list, fn, label: str, preload: int | None = None,
                    cached: bool = True) -> gr.Examples:
    """Examples whose outputs are computed once, when the server starts, and shown at once when clicked.

    Eager caching: every example is drawn at launch (measured start-up in the README), so a
    click costs nothing. The folder the outputs go to is named by a fingerprint of the code and
    the weights (:func:`pin_examples_cache`), so they cannot go stale. The event that shows a
    cached example is private: the API and the MCP tools are the tabs' own endpoints. With
    ``cached=False`` (the model ``fn`` needs is not shipped) they only fill the inputs.

    ``preload`` (an index) names the example whose cached outputs fill the tab when the page
    opens. The tab builds its inputs with that example's values, so they are in the page from
    the start: Gradio's own preload sets the inputs by an event after the page opens, over
    whatever the visitor has typed by then. Here only the outputs are loaded.
    """
    for component, example in zip(inputs, examples[preload] if preload is not None else []):
        value = getattr(component, "value", None)  # a text as given; a file as Gradio's cached copy
        if value in (None, "") or (isinstance(value, str) and value != example):
            raise ValueError(f"preload={preload}: build {component.label!r} with value={example!r}, the preloaded example's")
    if not cached:
        return gr.Examples(examples, inputs=inputs, label=label)
    shown = gr.Examples(examples, inputs=inputs, outputs=outputs, fn=fn, cache_examples=True, cache_mode="eager", preload=False,
                        label=label, api_visibility="private")
    if preload is not None:
        def preloaded_outputs(request: gr.Request):
            return utils.resolve_singleton(shown.load_from_cache(preload, request))

        # Queued like a click, so an answer the visitor asks for right away comes after it, not under it.
        shown.root_block.load(preloaded_outputs, outputs=outputs, postprocess=False, show_progress="hidden", api_visibility="private")
    return shown

"""Rendered images of a world split, drawn once and kept on disk as a plain ``.npy`` array.

Training reads every image many times; drawing a flower costs ~15 ms, reading it from
a memory-mapped array costs nothing. The cache key holds everything that changes the
pixels (world and its ``render_version``, split, size, seed, image size, package
version), so a stale file is never read. Rendering runs in parallel processes; each
sample is still a pure function of its index, so the array is identical however many
processes drew it.

Every cached array is built by one process: :func:`cached_array` holds a lock file while it
builds, so the ranks of a ``torchrun`` job on an empty cache (or two runs sharing one) do
not all draw the same pictures; the others wait and map the file it wrote.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

from .. import __version__
from .world import World

try:
    import fcntl  # POSIX file locks; without them (Windows) processes build a missing cache side by side
except ImportError:
    fcntl = None

CACHE_ENV = "T2I_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$T2I_CACHE_DIR``, else ``~/.cache/t2i_core``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "t2i_core")


def cache_file(folder: Path, name: str) -> Path:
    """``folder/<name>-<digest>.npy``: the name says what the array holds, the digest of the name keeps
    two names that a file system would fold together (case, length) apart."""
    return folder / f"{name}-{hashlib.sha1(name.encode()).hexdigest()[:10]}.npy"


def save_array(path: Path, array: np.ndarray) -> None:
    """Write ``array`` to ``path`` (.npy) through a temporary file, so readers never see half a file.

    The temporary file is private to this process and ``os.replace`` is atomic, so several
    processes (the ranks of a ``torchrun`` job on an empty cache) may write the same file
    at once: each reader maps one whole file, and the last writer's identical copy stays.
    """
    partial = _partial_path(path)
    np.save(partial, array)
    os.replace(partial, path)


def _partial_path(path: Path) -> Path:
    """Where this process writes ``path`` before renaming it into place (its folder made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f"{path.stem}.{os.getpid()}.partial.npy")


@contextmanager
def build_lock(path: Path) -> Iterator[None]:
    """Hold ``<path>.lock`` exclusively: one process at a time builds ``path``.

    The lock is released when the block ends or the process dies, so a killed builder
    never blocks the next one. Without ``fcntl`` the block runs unlocked (builds are
    still atomic, only repeated).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def cached_array(path: Path, build: Callable[[], np.ndarray]) -> np.ndarray:
    """The array at ``path`` (.npy) memory-mapped; if absent, ``build()`` it and save it first.

    One process builds (:func:`build_lock`); any other that asks meanwhile waits for it
    and maps its file.
    """
    return _cached(path, lambda: save_array(path, build()))


def _cached(path: Path, write: Callable[[], None]) -> np.ndarray:
    """The array at ``path`` memory-mapped, after ``write()`` has made it if it was absent (by one process at a time)."""
    if not path.is_file():
        with build_lock(path):
            if not path.is_file():  # another process may have built it while this one waited
                write()
    return np.load(path, mmap_mode="r")


def save_rows(path: Path, count: int, chunks: Iterable[np.ndarray]) -> None:
    """Write the ``count`` rows that ``chunks`` yield, in order, to ``path`` (.npy) as they come.

    The rows go straight into a memory-mapped temporary file, so one chunk at a time is in
    memory and a cache larger than the machine's memory can be built (the 64000 training
    scenes' encoder grids are 3 GB, their pictures 3 GB more). The file is renamed into place
    once whole, as :func:`save_array` does; a build that fails leaves nothing behind.
    """
    partial = _partial_path(path)
    out, row, empty = None, 0, None  # empty: no rows of the chunks' dtype and row shape (not a view that keeps a chunk alive)
    try:
        for chunk in chunks:
            chunk = np.asarray(chunk)
            if empty is None:
                empty = np.empty((0, *chunk.shape[1:]), dtype=chunk.dtype)
            if row + len(chunk) > count:
                raise ValueError(f"the build gave more than the {count} rows asked for")
            if out is None and count:
                out = np.lib.format.open_memmap(partial, mode="w+", dtype=chunk.dtype, shape=(count, *chunk.shape[1:]))
            if len(chunk):
                out[row : row + len(chunk)] = chunk
            row += len(chunk)
        if empty is None or row != count:
            raise ValueError(f"the build gave {row} rows of the {count} asked for")
        if out is None:  # no rows: a memory map cannot be empty
            np.save(partial, empty)
        else:
            out.flush()
            del out
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def cached_chunks(path: Path, count: int, build: Callable[[], Iterable[np.ndarray]]) -> np.ndarray:
    """As :func:`cached_array`, for a build that yields its ``count`` rows in chunks (written as they come, :func:`save_rows`)."""
    return _cached(path, lambda: save_rows(path, count, build()))


def cached_prefix(path_of_first: Callable[[int], Path], count: int) -> np.ndarray | None:
    """The largest cache of the first ``m < count`` rows, memory-mapped, or None if there is none.

    ``path_of_first(m)`` names the cache of the first ``m`` rows; it must hold ``-n<m>-``
    (as :func:`world_images_key` does), which is how the folder is searched.
    """
    folder = path_of_first(count).parent
    best: tuple[int, Path] | None = None
    for path in folder.glob("*.npy") if folder.is_dir() else ():
        for m in {int(found) for found in re.findall(r"-n(\d+)-", path.name)}:
            if m < count and (best is None or m > best[0]) and path_of_first(m) == path:
                best = (m, path)
    if best is None:
        return None
    rows = np.load(best[1], mmap_mode="r")
    return rows if len(rows) == best[0] else None


def cached_rows(path_of_first: Callable[[int], Path], count: int,
                build_rows: Callable[[int, int], Iterable[np.ndarray]]) -> np.ndarray:
    """The ``count`` rows cached at ``path_of_first(count)``, memory-mapped; built by ``build_rows(start, stop)`` if absent.

    For arrays whose row ``i`` depends on ``i`` alone, as a world's sample ``i`` does (it is
    drawn from a generator seeded with the world's seed, stream and ``i``, whatever the
    split's size). So a larger split reuses the largest smaller split's cache as its first
    rows and builds only the rest: growing a training set from 32000 to 64000 scenes draws
    32000 pictures, not 64000. ``build_rows`` yields the rows in chunks (an array is one
    chunk); they are written to the file as they come (:func:`save_rows`).
    """

    def build() -> Iterator[np.ndarray]:
        prefix = cached_prefix(path_of_first, count)
        start = 0 if prefix is None else len(prefix)
        if start:
            print(f"reusing the first {start} rows from {path_of_first(start).name}")
            for first in range(0, start, _COPY_ROWS):  # read from its file a slice at a time
                yield prefix[first : first + _COPY_ROWS]
        rest = build_rows(start, count)
        yield from ([rest] if isinstance(rest, np.ndarray) else rest)

    return cached_chunks(path_of_first(count), count, build)


_COPY_ROWS = 1024  # rows of a smaller split's cache copied at a time


def world_images_key(world: World, resized_to: int | None = None, count: int | None = None) -> str:
    """The name of a world split's pictures, for every cache of them (images, encoder features).

    It holds everything that changes the pixels: the world and its ``render_version``, the
    split, the number of samples, the seed and the image size (and, with ``resized_to``, the
    side they are resized to by :func:`resized_images`). A cache named by it is never read
    for pictures drawn by another version of the world. With ``count``, the key of the split's
    first ``count`` samples (the same split drawn at that size).
    """
    size = getattr(world, "image_size", 0)
    # Version 1 adds nothing, so the caches written before worlds had versions stay valid.
    name = world.name if world.render_version == 1 else f"{world.name}.r{world.render_version}"
    key = f"{name}-{world.split}-n{len(world) if count is None else count}-seed{world.seed}-px{size}"
    return key if resized_to is None or resized_to == size else f"{key}-to{resized_to}"


def _world_cache_paths(world: World, folder: Path, resized_to: int | None = None) -> Callable[[int], Path]:
    """Where the pictures of ``world``'s first ``count`` samples (resized to ``resized_to``) are cached, as a function of ``count``."""

    def path_of_first(count: int) -> Path:
        return cache_file(folder, f"{world_images_key(world, resized_to=resized_to, count=count)}-v{__version__}")

    return path_of_first


def _render_range(args) -> np.ndarray:
    world, start, stop = args
    return np.stack([np.asarray(world.sample(i).image, dtype=np.uint8) for i in range(start, stop)])


def rendered_images(world: World, cache_dir: str | os.PathLike | None = None, workers: int | None = None) -> np.ndarray:
    """Every image of ``world`` as uint8, shape (N, H, W, 3), memory-mapped from the cache.

    Args:
        world: an image world split (``world.sample(i).image`` is a PIL image).
        cache_dir: where the ``.npy`` files live (default :func:`default_cache_dir`).
        workers: rendering processes (default: the number of CPU cores).
    """
    size = getattr(world, "image_size", 0)
    folder = Path(cache_dir) if cache_dir else default_cache_dir()
    processes = max(1, workers or os.cpu_count() or 1)

    def render(start: int, stop: int) -> Iterator[np.ndarray]:
        chunk = 256
        ranges = [(world, s, min(s + chunk, stop)) for s in range(start, stop, chunk)]
        if not ranges:
            yield np.zeros((0, size, size, 3), np.uint8)
        elif processes == 1 or len(ranges) == 1:
            yield from (_render_range(r) for r in ranges)
        else:
            with ProcessPoolExecutor(max_workers=processes) as pool:
                yield from pool.map(_render_range, ranges)  # in order, each written as it arrives

    return cached_rows(_world_cache_paths(world, folder), len(world), render)


def resized_images(world: World, size: int, cache_dir: str | os.PathLike | None = None) -> np.ndarray:
    """Every image of ``world`` resized to ``size`` squared, uint8 (N, size, size, 3), memory-mapped from the cache.

    Resized as the pipelines resize any picture they are given (PIL bicubic,
    ``data/images.py``), so a model trained on these sees what it will be shown: a
    64-pixel flower enlarged to a captioner's 128 pixels, say. A world already drawn at
    ``size`` is returned as :func:`rendered_images` gives it.
    """
    images = rendered_images(world, cache_dir)
    if images.shape[1:3] == (size, size):
        return images
    folder = Path(cache_dir) if cache_dir else default_cache_dir()

    def resize(start: int, stop: int) -> np.ndarray:
        resized = np.zeros((stop - start, size, size, 3), dtype=np.uint8)
        for i in range(start, stop):
            resized[i - start] = np.asarray(Image.fromarray(np.asarray(images[i])).resize((size, size), Image.Resampling.BICUBIC))
        return resized

    return cached_rows(_world_cache_paths(world, folder, resized_to=size), len(world), resize)

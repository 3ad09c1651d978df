"""The pipelines of the shipped checkpoints, each loaded on first use and kept for the process.

The pages build without loading a model: a tab asks :func:`available` which checkpoints
are shipped (a look in ``checkpoints/``), and the first request that needs one asks
:func:`shipped` for its pipeline, which loads it then. The Gradio app and the Streamlit
dashboard share these, so a process loads each model once.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..models.attention import SCORES
from ..models.captioning import CAPTION_MODELS
from ..models.vqa import VQA_MODELS
from ..pipelines import caption, dates, text2image, vqa
from ..registry import load_pipeline

TEXT2IMAGE_ENCODERS = ("use", "glove-avg")

# task -> (the pipeline option that names a shipped checkpoint, the names, in the order the
# pages show them, and the folder of each). Tasks not listed here need no checkpoint.
CHECKPOINTS: dict[str, tuple[str, tuple[str, ...], Callable[[str], Path]]] = {
    "text2image": ("encoder", TEXT2IMAGE_ENCODERS, lambda encoder: text2image.CHECKPOINTS / f"text2image-{encoder}"),
    "caption": ("model", CAPTION_MODELS, caption.shipped_checkpoint),
    "vqa": ("model", VQA_MODELS, vqa.shipped_checkpoint),
    "dates": ("score", SCORES, dates.shipped_checkpoint),
}

# Requests run in threads; the lock keeps two first requests from loading one model twice.
_loading = threading.Lock()


def available(task: str) -> list[str]:
    """The names of the shipped checkpoints of ``task`` (e.g. ``["use", "glove-avg"]`` for text2image), without loading them."""
    _, names, folder = CHECKPOINTS[task]
    return [name for name in names if (folder(name) / "config.json").is_file()]


def shipped(task: str, name: str | None = None) -> Any:
    """The pipeline ``task`` on the shipped checkpoint ``name`` (``shipped("caption", "show-attend-tell")``), loaded once.

    ``name`` is None for the pipelines that need no checkpoint (``world-preview``,
    ``encoder-comparison``). Checkpointed models run on the CPU, as the app has always run them.

    Raises:
        FileNotFoundError: ``name`` is not shipped (see :func:`available`); for ``text2image`` a
            ValueError that names the shipped encoders.
    """
    with _loading:
        return _load(task, name)


@functools.cache
def _load(task: str, name: str | None) -> Any:
    if name is None:
        return load_pipeline(task)
    option = CHECKPOINTS[task][0]
    return load_pipeline(task, **{option: name}, device="cpu")

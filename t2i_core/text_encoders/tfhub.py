"""``use-tfhub``: the English Universal Sentence Encoder, run by TensorFlow from a SavedModel.

The USE paper (Cer et al., 2018) compares two encoders, both on TensorFlow Hub:

- ``"dan"``: a Deep Averaging Network, word and bigram embeddings averaged then passed
  through a feed-forward net; fast, and sees word order only through bigrams.
- ``"transformer"``: a Transformer encoder; slower, reads word order.

Both take a 1-D string tensor and return (N, 512) float32 vectors, roughly unit length.

TensorFlow is optional (``pip install -r requirements-tf.txt``) and imported only when
an encoder is built, so ``import t2i_core`` never loads it. The model comes from
``handle``: a local SavedModel folder (the only choice without internet), or a hub URL.
To make the folder, on a machine with internet, download the model's ``.tar.gz`` from
its TF Hub / Kaggle page and unpack it (the folder holds ``saved_model.pb``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .base import TextEncoder

HANDLE_ENV = "T2I_USE_TFHUB_HANDLE"

DEFAULT_HANDLES = {
    "dan": "https://tfhub.dev/google/universal-sentence-encoder/4",
    "transformer": "https://tfhub.dev/google/universal-sentence-encoder-large/5",
}

_INSTALL_HINT = "pip install -r requirements-tf.txt"
_OFFLINE_HINT = (
    f"without internet, pass a local SavedModel folder: handle='/path/to/folder' or ${HANDLE_ENV}"
)


def _import_tensorflow() -> tuple[Any, Any]:
    """``(tensorflow, tensorflow_hub)``, or an ImportError that says how to install them."""
    try:  # TensorFlow is optional (requirements-tf.txt, about 2 GB) and slow to import
        import tensorflow as tf

        with warnings.catch_warnings():
            # tensorflow-hub 0.16.1 imports pkg_resources, which warns that it is deprecated.
            warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
            import tensorflow_hub as hub
    except ImportError as err:
        # The cause is kept: a broken install fails here too, not only a missing one.
        raise ImportError(
            f"the 'use-tfhub' encoder needs tensorflow and tensorflow-hub: {_INSTALL_HINT} ({err})"
        ) from err
    _share_gpus_with_torch(tf)
    return tf, hub


def _share_gpus_with_torch(tf: Any) -> None:
    """Let TensorFlow take GPU memory as it needs it, instead of all of it at start-up.

    By default TF reserves nearly all GPU memory on its first op, which would starve the
    torch models in the same process. This only works before TF has touched a GPU.
    """
    try:
        for gpu in tf.config.list_physical_devices("GPU"):
            tf.config.experimental.set_memory_growth(gpu, True)
    except (RuntimeError, ValueError):
        pass  # TF's GPUs are already initialised; their settings stay as they are.


def _is_remote(handle: str) -> bool:
    return "://" in handle


def _load_saved_model(hub: Any, handle: str) -> Any:
    """The SavedModel at ``handle`` (a local folder or a hub URL), with a clear error if absent."""
    if _is_remote(handle):
        try:
            return hub.load(handle)
        except Exception as err:  # hub raises URL, HTTP, IO and TF errors alike
            raise OSError(f"could not load {handle!r} from TensorFlow Hub ({err}); {_OFFLINE_HINT}") from err
    folder = Path(handle).expanduser()
    if not ((folder / "saved_model.pb").is_file() or (folder / "saved_model.pbtxt").is_file()):
        raise FileNotFoundError(
            f"no SavedModel at {str(folder)!r} (expected a folder with saved_model.pb); {_OFFLINE_HINT}"
        )
    return hub.load(str(folder))


def _sentence_function(model: Any) -> Callable[[Any], Any]:
    """What to call with a string tensor: the model itself (TF2 SavedModels such as USE v4,
    large v5) or, failing that, its serving signature."""
    if callable(model):
        return model
    signatures = getattr(model, "signatures", {})
    for key in ("default", "serving_default"):
        if key in signatures:
            return signatures[key]
    raise TypeError("the SavedModel is not callable and has no 'default' or 'serving_default' signature")


class TFHubUniversalSentenceEncoder(TextEncoder):
    """English USE from TF Hub: ``variant`` ``"dan"`` or ``"transformer"``, or any ``handle``.

    Args:
        handle: a local SavedModel folder or a hub URL. When None, ``$T2I_USE_TFHUB_HANDLE``
            is used if set, else the TF Hub URL of ``variant`` (which needs internet).
        variant: ``"dan"`` (universal-sentence-encoder/4) or ``"transformer"``
            (universal-sentence-encoder-large/5); used only when no handle is given.
        batch_size: sentences per forward pass.
        cache_size: how many recent sentence embeddings to keep (0 = none).

    ``dim`` is read from the model's output on one sentence at load (512 for USE).

    Raises:
        ImportError: tensorflow or tensorflow-hub is not installed.
        FileNotFoundError: ``handle`` is a path with no SavedModel in it.
        OSError: ``handle`` is a URL that could not be loaded (no internet, say).
    """

    name = "use-tfhub"

    def __init__(self, handle: str | None = None, variant: str = "dan", batch_size: int = 64, cache_size: int = 2048):
        super().__init__(batch_size=batch_size, cache_size=cache_size)
        if variant not in DEFAULT_HANDLES:
            raise ValueError(f"unknown USE variant {variant!r}; choose one of {', '.join(DEFAULT_HANDLES)}")
        self.variant = variant
        self.handle = str(handle or os.environ.get(HANDLE_ENV, "").strip() or DEFAULT_HANDLES[variant])
        self._tf, hub = _import_tensorflow()
        self._model = _load_saved_model(hub, self.handle)  # kept alive: the function below belongs to it
        self._embed = _sentence_function(self._model)
        probe = self._run(["a red flower with a yellow stem"])  # (1, dim)
        if probe.ndim != 2 or probe.shape[0] != 1:
            raise ValueError(f"the SavedModel at {self.handle!r} returned shape {probe.shape} for one sentence, not (1, dim)")
        self.dim = int(probe.shape[1])

    def _run(self, texts: list[str]) -> np.ndarray:
        outputs = self._embed(self._tf.constant(texts, dtype=self._tf.string))  # (N, dim)
        if isinstance(outputs, dict):  # a signature returns named outputs
            key = next((k for k in ("outputs", "default") if k in outputs), next(iter(outputs)))
            outputs = outputs[key]
        return np.asarray(outputs.numpy(), dtype=np.float32)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        return self._run(texts)  # (N, dim)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(handle={self.handle!r}, dim={self.dim})"

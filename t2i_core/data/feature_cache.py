"""Grid features of a frozen image encoder, computed once and kept on disk as fp16 ``.npy``.

A frozen encoder gives the same features for an image every epoch, so a captioner's
training (and its evaluation at several beam sizes) reads them from a memory-mapped
array instead of running EfficientNet again. The cache key holds what changes the
numbers: the images' name, the encoder's name, a digest of its weights and the package
version, so features of other weights are never read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import __version__
from .cache import cache_file, cached_chunks, cached_rows, default_cache_dir


def weights_digest(module: nn.Module) -> str:
    """A short digest of ``module``'s parameters and buffers (changes when any weight does)."""
    digest = hashlib.sha1()
    for name, value in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(value.detach().cpu().float().numpy().tobytes())
    return digest.hexdigest()[:10]


@torch.no_grad()
def cached_features(
    encoder: nn.Module,
    encoder_name: str,
    images: np.ndarray,
    key: str,
    batch_size: int = 64,
    key_of_first: Callable[[int], str] | None = None,
) -> np.ndarray:
    """The encoder's grid for every image (uint8 (M, H, W, 3)) as fp16 (M, N, D), memory-mapped.

    Args:
        encoder: a frozen image encoder (images in [0, 1] -> (B, N, D)).
        encoder_name: its registered name, for the file name.
        key: names the images (world, split, size, seed, or a dataset file's digest).
        key_of_first: for a world split's pictures, the key of its first ``m`` images
            (:func:`~t2i_core.data.cache.world_images_key` with ``count``): the features of
            a smaller split of the same world are then reused as the first rows.
    """

    weights = weights_digest(encoder)

    def path_of(images_key: str) -> Path:
        return cache_file(default_cache_dir(), f"captionfeat-{encoder_name}-{weights}-{images_key}-v{__version__}")

    def encode(start: int, stop: int) -> Iterator[np.ndarray]:
        was_training = encoder.training
        encoder.eval()
        try:
            for first in range(start, stop, batch_size):
                batch = torch.from_numpy(np.array(images[first : min(first + batch_size, stop)])).permute(0, 3, 1, 2).float() / 255.0
                yield encoder(batch).half().cpu().numpy()  # (b, N, D), written to the file before the next batch
        finally:
            encoder.train(was_training)

    if key_of_first is None:
        return cached_chunks(path_of(key), len(images), lambda: encode(0, len(images)))
    return cached_rows(lambda count: path_of(key_of_first(count)), len(images), encode)

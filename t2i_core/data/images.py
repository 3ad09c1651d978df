"""Pictures from outside the worlds: whatever a user or a dataset hands in, read safely as
an RGB image (:func:`load_rgb`), and a batch of them as the tensor a model reads
(:func:`to_tensor_batch`).

Accepts a PIL image, a path, raw bytes or a numpy array, in any mode (RGB, RGBA, L, P,
CMYK, I;16, animated GIF: the first frame), honours EXIF rotation, and refuses images
whose pixel count would blow up memory before decoding them. The pipelines read their
inputs with it; training reads a Karpathy dataset's photos with it.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # ~6300x6300; larger uploads are refused before decoding


class ImageInputError(ValueError):
    """The input is not an image this project can read."""


def load_rgb(image: Any, draft_size: int | None = None) -> Image.Image:
    """``image`` as a PIL RGB image. Raises :class:`ImageInputError` with a clear message.

    ``draft_size``: a JPEG read from a path or bytes is decoded at the smallest of 1/2, 1/4
    or 1/8 scale that keeps both sides at least this many pixels (far less memory for a
    big photo that will be shrunk anyway).
    """
    opened_here = isinstance(image, (str, os.PathLike, bytes, bytearray))
    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        if not path.is_file():
            raise ImageInputError(f"no image file at {str(path)!r}")
        image = path.read_bytes()
    if isinstance(image, (bytes, bytearray)):
        try:
            opened = Image.open(io.BytesIO(image))
        except UnidentifiedImageError:
            raise ImageInputError("the file is not an image Pillow can read (PNG, JPEG, GIF, WebP, BMP, TIFF...)") from None
        except Image.DecompressionBombError:
            # Pillow refuses, at open, images of more than twice its own pixel limit.
            raise ImageInputError(f"the image has far more pixels than the limit of {MAX_PIXELS:,} pixels") from None
        image = opened
    if isinstance(image, np.ndarray):
        image = _array_to_image(image)
    if not isinstance(image, Image.Image):
        raise ImageInputError(f"expected an image, a path, bytes or a numpy array, got {type(image).__name__}")
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageInputError("the image is empty")
    if width * height > MAX_PIXELS:
        raise ImageInputError(f"the image is {width}x{height} pixels; the limit is {MAX_PIXELS:,} pixels")
    if draft_size and opened_here and image.format == "JPEG":
        image.draft("RGB", (draft_size, draft_size))
    try:
        image.seek(0)  # first frame of an animation
    except (EOFError, AttributeError):
        pass
    try:
        image = ImageOps.exif_transpose(image)
        image.load()
    except (OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise ImageInputError(f"the image could not be decoded ({error}); is the file truncated?") from None
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        top = array.max() or 1.0
        image = Image.fromarray(np.round(array / top * 255).astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


def _array_to_image(array: np.ndarray) -> Image.Image:
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4) or 0 in array.shape:
        raise ImageInputError(f"a numpy image must be (H, W), (H, W, 3) or (H, W, 4); got shape {array.shape}")
    if array.dtype != np.uint8:
        values = array.astype(np.float64)
        if np.issubdtype(array.dtype, np.floating) and values.max(initial=0) <= 1.0:
            values = values * 255
        elif values.max(initial=0) > 255:
            values = values / values.max() * 255
        array = np.clip(np.round(values), 0, 255).astype(np.uint8)
    if array.shape[2] == 1:
        return Image.fromarray(array[..., 0], "L")
    return Image.fromarray(array, "RGB" if array.shape[2] == 3 else "RGBA")


def to_tensor_batch(images: list[Image.Image], size: int):
    """RGB PIL images resized to size x size as a float tensor (N, 3, size, size) in [0, 1]."""
    arrays = [np.asarray(im.resize((size, size), Image.Resampling.BICUBIC) if im.size != (size, size) else im, dtype=np.uint8) for im in images]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float().div(255.0)

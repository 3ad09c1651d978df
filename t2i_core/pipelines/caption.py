"""``load_pipeline("caption")``: an image in, a caption and each word's attention map out.

The shipped captioners are trained on the Scenes world (1-4 coloured shapes, shaded,
flat, outlined or hand-drawn, on plain or textured backgrounds) and the Flowers world
(one flower, captioned "a red flower with a yellow stem"): one model captions both, so a
flower drawn by the text-to-image generator comes back as a flower caption. Any other
picture, a photo included, still gets a caption in those words ("a large red circle to
the left of ..."), not a description of what a person sees; the out-of-world detector
marks it (``CaptionResult.in_world`` False) so that no one has to take it at its word.

Any image the safe loader reads is accepted (PIL, path, bytes, numpy; RGB, RGBA, L, P,
CMYK, 16-bit; EXIF rotation honoured). Images above the pixel limit are refused before
decoding; large JPEGs are decoded at reduced size (Pillow's draft mode) since the model
only needs its input size; everything is then resized to the model's square input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

from ..data.vocabulary import Vocabulary
from ..decoding import beam_search
from ..device import select_device
from ..models.captioning import CAPTION_MODELS, Captioner
from ..models.image_encoders import build_image_encoder
from ..models.world_detector import WorldVerdict
from .heatmaps import heatmap_overlay
from .images import load_rgb, to_tensor_batch
from .world_check import load_world_detector

CHECKPOINTS = Path(__file__).resolve().parents[2] / "checkpoints"
DISPLAY_SIZE = 512  # the result keeps the input image at most this big, for overlays
DETECTOR_IMAGE_SIZE = 128  # the out-of-world detector was fitted on pictures resized to this (models/world_detector.py)
MAX_BEAM = 16
WORLD_DESCRIPTIONS = {
    "scenes": "the Scenes world (1-4 coloured shapes, shaded, flat, outlined or hand-drawn, on plain or textured backgrounds)",
    "flowers": "the Flowers world (one flower: 'a red flower with a yellow stem')",
}


def trained_on_note(worlds: tuple[str, ...]) -> str:
    """One sentence saying what a captioner trained on ``worlds`` (see :func:`trained_worlds`) knows, for the app."""
    known = [WORLD_DESCRIPTIONS[w] for w in worlds if w in WORLD_DESCRIPTIONS]
    if not known:
        return "Trained on captioned photos (a Karpathy-format dataset)."
    return (f"Trained on {' and '.join(known)}: any other picture, a photo included, is marked as out of its world "
            "and still gets a caption in those words.")


TRAINED_ON = trained_on_note(("scenes", "flowers"))  # the shipped captioners


def trained_worlds(folder: str | Path) -> tuple[str, ...]:
    """The data a captioner checkpoint was trained on, from its ``config.json`` metadata.

    ``("scenes",)``, ``("flowers",)``, ``("scenes", "flowers")`` (saved as "scenes+flowers"),
    or ``("karpathy:PATH",)`` for photos; a checkpoint that does not say is a Scenes one
    (the first shipped captioners did not).
    """
    stored = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8")).get("metadata", {})
    return tuple(str(stored.get("data", "scenes")).split("+"))


def shipped_checkpoint(model: str) -> Path:
    """The folder of the shipped captioner ``model`` (show-attend-tell or show-and-tell)."""
    if model not in CAPTION_MODELS:
        raise ValueError(f"unknown caption model {model!r}; choose one of {CAPTION_MODELS}")
    return CHECKPOINTS / f"caption-{model}"


@dataclass
class CaptionResult:
    """A caption with the attention map of every word.

    ``attention`` is (len(words), h, w), each map summing to 1: where the model looked to
    choose that word (uniform for Show and Tell, which has no attention). ``image`` is the
    input as RGB (at most ``DISPLAY_SIZE`` on a side), the image the overlays are drawn on.
    ``in_world`` says whether the picture looks like the worlds the model was trained on,
    and ``in_world_score`` how typical it is of them (the out-of-world detector's p-value,
    ``models/world_detector.py``): when False the caption is still given, but it describes a
    picture the model has no words for. A captioner trained on photos (Karpathy-format
    data) has no world to check: ``in_world`` is True and ``in_world_score`` NaN.
    """

    text: str
    words: list[str]
    attention: np.ndarray
    image: Image.Image
    score: float
    finished: bool
    in_world: bool
    in_world_score: float
    has_attention: bool = True

    def overlay(self, index: int, opacity: float = 0.6) -> Image.Image:
        """The image with word ``index``'s map as a smoothed heatmap on top (PIL RGB)."""
        if not -len(self.words) <= index < len(self.words):
            raise IndexError(f"word index {index} is out of range for a caption of {len(self.words)} words")
        return heatmap_overlay(self.image, self.attention[index], opacity=opacity)

    def overlays(self) -> list[Image.Image]:
        """One overlay per word."""
        return [self.overlay(i) for i in range(len(self.words))]

    def strip(self, tile: int = 128) -> Image.Image:
        """Every word's overlay side by side, ``tile`` pixels square, with the word written under it."""
        label = 18
        strip = Image.new("RGB", (max(1, len(self.words)) * tile, tile + label), "white")
        pen = ImageDraw.Draw(strip)
        for i, word in enumerate(self.words):
            strip.paste(self.overlay(i).resize((tile, tile), Image.Resampling.LANCZOS), (i * tile, 0))
            width = pen.textlength(word)
            pen.text((i * tile + (tile - width) / 2, tile + 3), word, fill="black")
        return strip


def _open(image: Any, size: int) -> Image.Image:
    """``image`` as RGB via the safe loader (big JPEGs decoded at reduced size), at most DISPLAY_SIZE a side."""
    rgb = load_rgb(image, draft_size=2 * size)
    if max(rgb.size) > DISPLAY_SIZE:
        rgb.thumbnail((DISPLAY_SIZE, DISPLAY_SIZE), Image.Resampling.LANCZOS)
    return rgb


class CaptionPipeline:
    """``pipe(image, beam_size=3)`` -> :class:`CaptionResult`.

    Args:
        model: ``show-attend-tell`` (soft attention, the default) or ``show-and-tell``.
        checkpoint: a checkpoint folder (default: the shipped one for ``model``).
        device: cpu, cuda, mps (default: automatic).
    """

    trained_on = TRAINED_ON

    def __init__(self, model: str = "show-attend-tell", checkpoint: str | Path | None = None, device: str | None = None):
        folder = Path(checkpoint) if checkpoint is not None else shipped_checkpoint(model)
        self.device = select_device(device)
        self.model = Captioner.from_pretrained(folder, device=self.device)
        self.vocabulary = Vocabulary.load(folder)
        if len(self.vocabulary) != self.model.config.vocab_size:
            raise ValueError(f"{folder}: vocabulary has {len(self.vocabulary)} words, the model {self.model.config.vocab_size}")
        self.name = self.model.config.kind
        # The worlds the captioner was trained on: the checkpoint says ("scenes", "flowers", or both joined by "+").
        worlds = trained_worlds(folder)
        self.trained_on = trained_on_note(worlds)
        # A captioner of real photos (Karpathy-format data) has no procedural world to check against,
        # so it needs no detector; one of the worlds does.
        self.worlds = worlds if set(worlds) <= set(WORLD_DESCRIPTIONS) else None
        self.world_detector, self.detector_encoder = None, None
        if self.worlds:
            self.world_detector = load_world_detector(device=self.device)
            unknown = set(self.worlds) - set(self.world_detector.config.worlds)
            if unknown:
                raise ValueError(f"the out-of-world detector was not fitted on {sorted(unknown)}; refit it with `train world-detector`")
            config = self.model.config
            if not (config.encoder in ("efficientnet-lite0", "efficientnet-lite0+colour") and config.freeze_encoder
                    and config.image_size == DETECTOR_IMAGE_SIZE):
                # The detector reads the frozen EfficientNet-Lite0's grid of a 128-pixel picture; a captioner
                # that sees the picture otherwise (small CNN, fine-tuned encoder) gets that grid computed apart.
                self.detector_encoder = build_image_encoder("efficientnet-lite0").to(self.device).eval()

    @torch.no_grad()
    def __call__(self, image: Any, beam_size: int = 3, length_penalty: float = 0.0, max_length: int | None = None) -> CaptionResult:
        """Caption one image (PIL, path, bytes or numpy array in any mode).

        Raises:
            ImageInputError: the input is not a readable image, or is too large.
            ValueError: a bad beam size or length.
        """
        if not isinstance(beam_size, int) or not 1 <= beam_size <= MAX_BEAM:
            raise ValueError(f"beam_size must be an integer from 1 to {MAX_BEAM}, got {beam_size!r}")
        max_length = max_length or self.model.config.max_length
        if max_length < 1:
            raise ValueError(f"max_length must be at least 1, got {max_length}")
        size = self.model.config.image_size
        rgb = _open(image, size)
        batch = to_tensor_batch([rgb], size).to(self.device)  # (1, 3, size, size) in [0, 1]
        features = self.model.encode(batch)  # (1, N, D)
        verdict = WorldVerdict(True, float("nan"), "")
        if self.worlds:
            # The detector reads EfficientNet's 112 features of each cell (the colour encoder appends its own after them).
            grid = features[..., :112] if self.detector_encoder is None else self.detector_encoder(to_tensor_batch([rgb], DETECTOR_IMAGE_SIZE).to(self.device))
            verdict = self.world_detector.judge(grid, worlds=self.worlds)[0]
        best = beam_search(
            self.model.decoder, features, self.vocabulary.start_id, self.vocabulary.end_id,
            beam_size=beam_size, max_length=max_length, length_penalty=length_penalty,
        )[0]
        words = self.vocabulary.decode(best.tokens)
        g = self.model.grid_size
        attention = best.attention.numpy().reshape(len(best.tokens), g, g).astype(np.float64)
        attention /= attention.sum(axis=(1, 2), keepdims=True).clip(min=1e-12)  # exactly 1 after float32 rounding
        return CaptionResult(
            text=" ".join(words),
            words=words,
            attention=attention,
            image=rgb,
            score=best.score,
            finished=best.finished,
            in_world=verdict.in_world,
            in_world_score=verdict.score,
            has_attention=self.model.config.kind == "show-attend-tell",
        )

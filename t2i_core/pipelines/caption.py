"""``load_pipeline("caption")``: an image in, a caption and each word's attention map out.

The shipped captioners are trained on the Scenes world (1-4 coloured shapes, shaded,
flat, outlined or hand-drawn, on plain or textured backgrounds) and the Flowers world
(one flower, captioned "a red flower with a yellow stem"): one model captions both, so a
flower drawn by the text-to-image generator comes back as a flower caption. Any other
picture, a photo included, still gets a caption in those words ("a large red circle to
the left of ..."), not a description of what a person sees; the out-of-world detector
marks it (``CaptionOutput.in_world`` False) so that no one has to take it at its word.

``pipe(image)`` and ``pipe([images])`` both return a :class:`CaptionOutput`, whose fields
hold the batch; ``CaptionPipeline.from_pretrained(folder_or_hub_id)`` loads a captioner and
the vocabulary beside its weights by name.

Any image the safe loader reads is accepted (PIL, path, bytes, numpy; RGB, RGBA, L, P,
CMYK, 16-bit; EXIF rotation honoured). Images above the pixel limit are refused before
decoding; large JPEGs are decoded at reduced size (Pillow's draft mode) since the model
only needs its input size; everything is then resized to the model's square input.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

from ..checkpoint import SHIPPED_CHECKPOINTS, read_config_file, resolve_checkpoint_dir
from ..data.images import load_rgb, to_tensor_batch
from ..data.vocabulary import Vocabulary
from ..decoding import beam_search
from ..device import select_device
from ..models.captioning import CAPTION_MODELS, Captioner
from ..models.image_encoders import EFFICIENTNET_GRID_CHANNELS, build_image_encoder
from ..models.world_detector import WorldVerdict
from .heatmaps import heatmap_overlay
from .pretrained import PretrainedPipeline
from .world_check import load_world_detector

CHECKPOINTS = SHIPPED_CHECKPOINTS
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
    """The data the captioner checkpoint ``folder`` (a folder or hub id) was trained on, from its ``config.json`` metadata.

    ``("scenes",)``, ``("flowers",)``, ``("scenes", "flowers")`` (saved as "scenes+flowers"),
    or ``("karpathy:PATH",)`` for photos; a checkpoint that does not say is a Scenes one
    (the first shipped captioners did not).
    """
    stored = read_config_file(resolve_checkpoint_dir(folder)).get("metadata", {})
    return tuple(str(stored.get("data", "scenes")).split("+"))


def shipped_checkpoint(model: str) -> Path:
    """The folder of the shipped captioner ``model`` (show-attend-tell or show-and-tell)."""
    if model not in CAPTION_MODELS:
        raise ValueError(f"unknown caption model {model!r}; choose one of {CAPTION_MODELS}")
    return CHECKPOINTS / f"caption-{model}"


@dataclass
class CaptionOutput:
    """What :class:`CaptionPipeline` returns: a caption per image, with the attention map of every word.

    ``in_world`` says whether each picture looks like the worlds the model was trained on,
    and ``in_world_scores`` how typical it is of them (the out-of-world detector's p-value,
    ``models/world_detector.py``): when False the caption is still given, but it describes a
    picture the model has no words for. A captioner trained on photos (Karpathy-format
    data) has no world to check: ``in_world`` is True and the score NaN.
    """

    captions: list[str]  # (B,) each image's caption, its words joined by spaces
    words: list[list[str]]  # (B, words_b) the words of each caption
    # B arrays (words_b, h, w) float64, each word's map summing to 1: where the model looked to
    # choose that word (uniform for Show and Tell, which has no attention).
    attention: list[np.ndarray]
    images: list[Image.Image]  # (B,) the inputs as RGB, at most DISPLAY_SIZE on a side: what the overlays are drawn on
    scores: list[float]  # (B,) each caption's log-probability (divided by the length penalty, if any)
    finished: list[bool]  # (B,) whether each caption ended before max_length
    in_world: list[bool]  # (B,)
    in_world_scores: list[float]  # (B,) in [0, 1]
    has_attention: bool = True  # False for Show and Tell

    def overlay(self, word: int, item: int = 0, opacity: float = 0.6) -> Image.Image:
        """Image ``item`` with the map of its caption's word ``word`` as a smoothed heatmap on top (PIL RGB)."""
        words = self.words[item]
        if not -len(words) <= word < len(words):
            raise IndexError(f"word index {word} is out of range for a caption of {len(words)} words")
        return heatmap_overlay(self.images[item], self.attention[item][word], opacity=opacity)

    def overlays(self, item: int = 0) -> list[Image.Image]:
        """One overlay per word of caption ``item``."""
        return [self.overlay(i, item) for i in range(len(self.words[item]))]

    def strip(self, item: int = 0, tile: int = 128) -> Image.Image:
        """Every word's overlay of caption ``item`` side by side, ``tile`` pixels square, with the word written under it."""
        label = 18
        words = self.words[item]
        strip = Image.new("RGB", (max(1, len(words)) * tile, tile + label), "white")
        pen = ImageDraw.Draw(strip)
        # Drawn at the tile's size from a small copy of the image: the same picture as each
        # word's full overlay reduced, at a fraction of the pixels.
        small = self.images[item].resize((tile, tile), Image.Resampling.LANCZOS)
        for i, word in enumerate(words):
            strip.paste(heatmap_overlay(small, self.attention[item][i]), (i * tile, 0))
            width = pen.textlength(word)
            pen.text((i * tile + (tile - width) / 2, tile + 3), word, fill="black")
        return strip


def _open(image: Any, size: int) -> Image.Image:
    """``image`` as RGB via the safe loader (big JPEGs decoded at reduced size), at most DISPLAY_SIZE a side."""
    rgb = load_rgb(image, draft_size=2 * size)
    if max(rgb.size) > DISPLAY_SIZE:
        rgb.thumbnail((DISPLAY_SIZE, DISPLAY_SIZE), Image.Resampling.LANCZOS)
    return rgb


class CaptionPipeline(PretrainedPipeline):
    """``pipe(image, beam_size=3)`` or ``pipe([images])`` -> :class:`CaptionOutput`.

    ``CaptionPipeline.from_pretrained(folder_or_hub_id)`` loads a captioner by name, with the
    vocabulary saved beside its weights.

    Args:
        model: ``show-attend-tell`` (soft attention, the default) or ``show-and-tell``.
        checkpoint: a checkpoint folder or hub id (default: the shipped one for ``model``).
        device: cpu, cuda, mps (default: automatic).
    """

    trained_on = TRAINED_ON

    def __init__(self, model: str = "show-attend-tell", checkpoint: str | Path | None = None, device: str | None = None):
        folder = resolve_checkpoint_dir(checkpoint if checkpoint is not None else shipped_checkpoint(model))
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
    def __call__(self, images: Any, beam_size: int = 3, length_penalty: float = 0.0, max_length: int | None = None) -> CaptionOutput:
        """Caption one image or a list of them (each PIL, path, bytes or numpy array in any mode); one image is a batch of one.

        Raises:
            ImageInputError: an input is not a readable image, or is too large.
            ValueError: a bad beam size or length, or an empty list.
        """
        # 1. check inputs
        if not isinstance(beam_size, int) or not 1 <= beam_size <= MAX_BEAM:
            raise ValueError(f"beam_size must be an integer from 1 to {MAX_BEAM}, got {beam_size!r}")
        max_length = max_length or self.model.config.max_length
        if max_length < 1:
            raise ValueError(f"max_length must be at least 1, got {max_length}")
        items = list(images) if isinstance(images, (list, tuple)) else [images]
        if not items:
            raise ValueError("no image to caption")
        # 2. read the images and encode them
        size = self.model.config.image_size
        rgbs = [_open(item, size) for item in items]
        batch = to_tensor_batch(rgbs, size).to(self.device)  # (B, 3, size, size) in [0, 1]
        features = self.model.encode(batch)  # (B, N, D)
        # 3. ask the out-of-world detector
        verdicts = self._world_verdicts(rgbs, features)
        # 4. decode with beam search
        best = beam_search(
            self.model.decoder, features, self.vocabulary.start_id, self.vocabulary.end_id,
            beam_size=beam_size, max_length=max_length, length_penalty=length_penalty,
        )  # B decoded sequences
        # 5. words and their maps
        words = [self.vocabulary.decode(b.tokens) for b in best]
        return CaptionOutput(
            captions=[" ".join(w) for w in words],
            words=words,
            attention=[self._maps(b) for b in best],
            images=rgbs,
            scores=[b.score for b in best],
            finished=[b.finished for b in best],
            in_world=[v.in_world for v in verdicts],
            in_world_scores=[v.score for v in verdicts],
            has_attention=self.model.config.kind == "show-attend-tell",
        )

    def _world_verdicts(self, rgbs: list[Image.Image], features: torch.Tensor) -> list[WorldVerdict]:
        """The detector's verdict on each picture; features (B, N, D) are the captioner's grid, reused when the detector reads that grid."""
        if not self.worlds:
            return [WorldVerdict(True, float("nan"), "") for _ in rgbs]
        # The detector reads EfficientNet's features of each cell (the colour encoder appends its own after them).
        if self.detector_encoder is None:
            grid = features[..., :EFFICIENTNET_GRID_CHANNELS]
        else:
            grid = self.detector_encoder(to_tensor_batch(rgbs, DETECTOR_IMAGE_SIZE).to(self.device))
        return self.world_detector.judge(grid, worlds=self.worlds)

    def _maps(self, decoded) -> np.ndarray:
        """The attention of each word of one decoded caption as (words, g, g) float64, each map summing to 1."""
        g = self.model.grid_size
        attention = decoded.attention.numpy().reshape(len(decoded.tokens), g, g).astype(np.float64)
        attention /= attention.sum(axis=(1, 2), keepdims=True).clip(min=1e-12)  # exactly 1 after float32 rounding
        return attention

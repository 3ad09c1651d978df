"""Registries: the names by which users, the CLI, the app and configs choose things.

A registry maps a name to a loader given as ``"module:attribute"``, imported on first
use, so that ``import t2i_core`` stays light and listing what exists loads no weights.
Each feature adds its entries here, so this file is the table of what can be loaded.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RegistryEntry:
    """One loadable thing: its name, a one-line description and its loader."""

    name: str
    target: str | Callable[..., Any]
    description: str = ""

    def resolve(self) -> Callable[..., Any]:
        """The loader itself, importing its module if needed."""
        if callable(self.target):
            return self.target
        module_name, _, attribute = self.target.partition(":")
        obj: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            obj = getattr(obj, part)
        return obj


class Registry:
    """Named loaders of one kind (pipelines, text encoders)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, RegistryEntry] = {}

    def register(self, name: str, target: str | Callable[..., Any], description: str = "", *, replace: bool = False) -> None:
        """Add ``name``; ``target`` is a callable or ``"module:attribute"``."""
        if not name or not name.strip():
            raise ValueError(f"a {self.kind} needs a non-empty name")
        if name in self._entries and not replace:
            raise ValueError(f"{self.kind} {name!r} is already registered; pass replace=True to override it")
        self._entries[name] = RegistryEntry(name, target, description)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)

    def describe(self) -> dict[str, str]:
        """Name -> one-line description."""
        return {name: self._entries[name].description for name in self.names()}

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def get(self, name: str) -> RegistryEntry:
        """The entry for ``name``, or a ValueError that lists what exists."""
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.names()) or "none yet"
            raise ValueError(f"unknown {self.kind} {name!r}; available: {known}") from None

    def load(self, name: str, **options: Any) -> Any:
        """Call the loader of ``name`` with ``options``."""
        return self.get(name).resolve()(**options)


PIPELINES = Registry("pipeline")
TEXT_ENCODERS = Registry("text encoder")

PIPELINES.register(
    "world-preview",
    "t2i_core.pipelines.world_preview:WorldPreviewPipeline",
    "samples of a procedural world (flowers, scenes, dates) with ground truth and a preview grid",
)
PIPELINES.register(
    "encoder-comparison",
    "t2i_core.pipelines.encoder_comparison:EncoderComparisonPipeline",
    "cosines, similarity matrices and PCA maps of sentences under several sentence encoders",
)
PIPELINES.register(
    "text2image",
    "t2i_core.pipelines.text2image:Text2ImagePipeline",
    "sentence -> 64x64 flower images from the GAN (encoder='use' or 'glove-avg'), interpolation, attention masks",
)
PIPELINES.register(
    "flower-attributes",
    "t2i_core.pipelines.flower_attributes:FlowerAttributesPipeline",
    "flower images -> predicted petal, stem and centre colour, petal shape and count, size",
)
PIPELINES.register(
    "caption",
    "t2i_core.pipelines.caption:CaptionPipeline",
    "image -> caption with each word's attention map (model='show-attend-tell' or 'show-and-tell'; trained on Scenes and Flowers)",
)
PIPELINES.register(
    "dates",
    "t2i_core.pipelines.dates:DatesPipeline",
    "written date -> ISO YYYY-MM-DD with each output character's attention over the input (score='additive', 'dot' or 'general')",
)
PIPELINES.register(
    "vqa",
    "t2i_core.pipelines.vqa:VQAPipeline",
    "image + question -> answer, top answers and the attention map over the image (model='attention' or 'baseline'; trained on Scenes)",
)

TEXT_ENCODERS.register(
    "use",
    "t2i_core.text_encoders.use:UniversalSentenceEncoder",
    "Universal Sentence Encoder, multilingual v3 (512-d, numpy, offline); reads word order",
)
TEXT_ENCODERS.register(
    "glove-avg",
    "t2i_core.text_encoders.glove:GloveAverageEncoder",
    "mean of GloVe 6B 50-d word vectors; blind to word order",
)
TEXT_ENCODERS.register(
    "use-tfhub",
    "t2i_core.text_encoders.tfhub:TFHubUniversalSentenceEncoder",
    "English USE (DAN or Transformer) from a TensorFlow Hub SavedModel; needs requirements-tf.txt",
)


def load_pipeline(task: str, **options: Any) -> Any:
    """The pipeline for ``task`` (see ``PIPELINES.describe()``); ``options`` go to its loader."""
    return PIPELINES.load(task, **options)


def load_text_encoder(name: str, **options: Any) -> Any:
    """The sentence encoder registered as ``name``; ``options`` go to its loader."""
    return TEXT_ENCODERS.load(name, **options)

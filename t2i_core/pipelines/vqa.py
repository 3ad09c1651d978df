"""``load_pipeline("vqa")``: an image and a question in, the answer and where the model looked out.

``pipe(image, "what color is the circle?")`` returns a :class:`VQAOutput`, and so do a list
of questions about one image, one question about a list of images, and a list of each
(paired in order): its fields hold one entry per question.
``VQAPipeline.from_pretrained(folder_or_hub_id)`` loads a model, its question vocabulary
and its answer list by name. The shipped models (``attention``, the default, and
``baseline``, in ``checkpoints/vqa-<model>``) were trained on questions about the Scenes
world (1-4 coloured shapes in four drawing styles): any other picture still gets a Scenes
answer, and the out-of-world detector marks it (``VQAOutput.in_world`` False).

Any image the safe loader reads is accepted (PIL, path, bytes, numpy; any mode); it is
resized to the model's input size, as the training scenes were. The question may use
only words of the training questions: an empty question, or one with unknown words
(named in the message), raises ValueError.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..checkpoint import SHIPPED_CHECKPOINTS, resolve_checkpoint_dir
from ..data.feature_cache import weights_digest
from ..data.images import load_rgb, to_tensor_batch
from ..data.vocabulary import Vocabulary
from ..device import select_device
from ..models.image_encoders import build_image_encoder
from ..models.vqa import VQA_MODELS, check_encoder, encode_questions, load_answers, load_vqa_model
from .heatmaps import heatmap_overlay
from .pretrained import PretrainedPipeline
from .world_check import load_world_detector

CHECKPOINTS = SHIPPED_CHECKPOINTS
DISPLAY_SIZE = 512  # the result keeps the input image at most this big, for overlays
TRAINED_ON = (
    "Trained on questions about the Scenes world (1-4 coloured shapes, shaded, flat, outlined or hand-drawn): "
    "colour, shape, count ('how many objects are there?'), existence, position ('what is left of the triangle?') "
    "and things that are not there ('what colour is the star?' -> 'there is no star'); any other picture "
    "is marked as out of its world and still gets a Scenes answer."
)
EXAMPLE_QUESTIONS = (
    "what color is the circle?",
    "what shape is the red object?",
    "how many objects are there?",
    "how many squares are there?",
    "is there a blue star?",
    "what is left of the triangle?",
    "what colour is the star?",
)


def shipped_checkpoint(model: str = "attention") -> Path:
    """The folder of the shipped VQA model ``model`` (attention or baseline)."""
    if model not in VQA_MODELS:
        raise ValueError(f"unknown VQA model {model!r}; choose one of {VQA_MODELS}")
    return CHECKPOINTS / f"vqa-{model}"


def load_checked_model(folder: str | Path, device: torch.device | str = "cpu"):
    """A VQA model from ``folder`` (a folder or hub id), checked against its vocabulary and answers files."""
    folder = resolve_checkpoint_dir(folder)
    model = load_vqa_model(folder, device=device)
    vocabulary, answers = Vocabulary.load(folder), load_answers(folder)
    if len(vocabulary) != model.config.vocab_size or len(answers) != model.config.num_answers:
        raise ValueError(f"{folder}: the vocabulary or answers do not match the model's sizes")
    return model


@dataclass
class VQAOutput:
    """What :class:`VQAPipeline` returns: one entry per question asked.

    ``in_world`` says whether the picture a question was asked of looks like the Scenes
    world the model knows (the out-of-world detector, ``models/world_detector.py``); when
    False the answer is still given, but about a picture the model has never seen the like of.
    """

    questions: list[str]  # (Q,) the questions as asked
    answers: list[str]  # (Q,) the most probable answer to each
    confidences: list[float]  # (Q,) its probability
    top_answers: list[list[tuple[str, float]]]  # (Q, top) the most probable answers as (answer, probability), best first
    # (Q, hops, h, w) float64, every map summing to 1: where each attention hop looked
    # (the last hop is the one the answer reads); None for the baseline, which has no attention.
    attention: np.ndarray | None
    images: list[Image.Image]  # (Q,) the image each question was asked of, RGB, at most DISPLAY_SIZE on a side
    in_world: list[bool]  # (Q,)
    in_world_scores: list[float]  # (Q,) the detector's p-value: how typical the picture is of the worlds
    model: str  # attention or baseline

    @property
    def has_attention(self) -> bool:
        return self.attention is not None

    def overlay(self, question: int = 0, hop: int = -1, opacity: float = 0.6) -> Image.Image:
        """The image of question ``question`` with hop ``hop``'s map (default: the last) as a heatmap on top (PIL RGB)."""
        if self.attention is None:
            raise ValueError("the baseline VQA model has no attention to draw")
        hops = self.attention[question]  # (hops, h, w)
        if not -len(hops) <= hop < len(hops):
            raise IndexError(f"hop {hop} is out of range for {len(hops)} hops")
        return heatmap_overlay(self.images[question], hops[hop], opacity=opacity)

    def records(self) -> list[dict[str, Any]]:
        """One JSON-able record per question: question, answer, confidence, top answers, the last hop's map as nested lists."""
        records = []
        for q, question in enumerate(self.questions):
            record = {
                "question": question,
                "answer": self.answers[q],
                "confidence": round(self.confidences[q], 6),
                "top_answers": [{"answer": a, "probability": round(p, 6)} for a, p in self.top_answers[q]],
                "model": self.model,
                "in_world": self.in_world[q],
                "in_world_score": round(self.in_world_scores[q], 6),
                "attention": None,
            }
            if self.attention is not None:
                last = self.attention[q, -1]  # (h, w)
                record["attention_shape"] = list(last.shape)
                record["attention"] = [[round(float(v), 5) for v in row] for row in last]
            records.append(record)
        return records


class VQAPipeline(PretrainedPipeline):
    """``pipe(image, question)`` -> :class:`VQAOutput`, for one question or many, about one image or many.

    ``VQAPipeline.from_pretrained(folder_or_hub_id)`` loads a model by name, with the
    question vocabulary and the answer list saved beside its weights.

    Args:
        model: ``attention`` (stacked attention, the default) or ``baseline``.
        checkpoint: a VQA model folder or hub id (default: the shipped one for ``model``).
        device: cpu, cuda, mps (default: automatic).
    """

    trained_on = TRAINED_ON
    example_questions = EXAMPLE_QUESTIONS

    def __init__(self, model: str = "attention", checkpoint: str | Path | None = None, device: str | None = None):
        folder = resolve_checkpoint_dir(checkpoint if checkpoint is not None else shipped_checkpoint(model))
        self.device = select_device(device)
        self.model = load_checked_model(folder, device=self.device)
        self.vocabulary = Vocabulary.load(folder)
        self.answers = load_answers(folder)
        config = self.model.config
        self.encoder = build_image_encoder(config.encoder).eval()
        check_encoder(self.model, weights_digest(self.encoder))
        self.encoder.to(self.device)
        self.name = config.kind
        self.world_detector = load_world_detector(device=self.device)

    @property
    def vocabulary_words(self) -> list[str]:
        """The words a question may use."""
        return sorted(w for w in self.vocabulary.words if not w.startswith("<"))

    @torch.no_grad()
    def __call__(self, images: Any, questions: str | Sequence[str], top: int = 5) -> VQAOutput:
        """Answer questions about images (each PIL, path, bytes or numpy array in any mode).

        One image and one question is a batch of one; one image and a list of questions asks
        each about that image; a list of images and one question asks it of each image; two
        lists of one length pair them in order.

        Raises:
            ImageInputError: an input is not a readable image, or is too large.
            ValueError: a question is empty or has words the model never saw (named), or
                the lists of images and questions differ in length.
            TypeError: a question is not a string.
        """
        # 1. check inputs
        if not isinstance(questions, (str, list, tuple)):
            raise TypeError(f"pass a question as a string, or a list of strings; got {type(questions).__name__}")
        texts = [questions] if isinstance(questions, str) else list(questions)
        if not texts:
            raise ValueError("no question to answer")
        items = list(images) if isinstance(images, (list, tuple)) else [images]
        if not items:
            raise ValueError("no image to ask about")
        if len(items) > 1 and len(texts) == 1:
            texts = texts * len(items)
        if len(items) not in (1, len(texts)):
            raise ValueError(f"{len(items)} images and {len(texts)} questions: pass one image, one question, or as many of each")
        if not isinstance(top, int) or top < 1:
            raise ValueError(f"top must be a positive integer, got {top!r}")
        config = self.model.config
        # 2. encode the questions (their words are checked first)
        ids, lengths = encode_questions(self.vocabulary, texts, config.max_question_words)  # (Q, T), (Q,)
        # 3. read and encode the images; ask the out-of-world detector
        rgbs = [load_rgb(item) for item in items]
        batch = to_tensor_batch(rgbs, config.image_size).to(self.device)  # (I, 3, size, size) in [0, 1]
        features = self.encoder(batch)  # (I, N, D)
        verdicts = self.world_detector.judge(features, worlds=("scenes",))  # VQA knows Scenes only
        image_of = [0] * len(texts) if len(items) == 1 else list(range(len(texts)))  # the image of each question
        features = features.expand(len(texts), -1, -1) if len(items) == 1 else features  # (Q, N, D)
        # 4. answer
        logits, maps = self.model(features, ids.to(self.device), lengths)  # (Q, A), (Q, hops, M) or None
        probabilities = torch.softmax(logits.float(), dim=1).cpu().numpy().astype(np.float64)  # (Q, A)
        # 5. the answers, their probabilities and the maps
        for rgb in rgbs:
            if max(rgb.size) > DISPLAY_SIZE:
                rgb.thumbnail((DISPLAY_SIZE, DISPLAY_SIZE), Image.Resampling.LANCZOS)
        orders = [np.argsort(-row)[: min(top, len(self.answers))] for row in probabilities]
        attention = None
        if maps is not None:
            side = int(round(maps.shape[2] ** 0.5))
            attention = maps.float().cpu().numpy().astype(np.float64).reshape(len(texts), -1, side, side)  # (Q, hops, h, w)
            attention /= attention.sum(axis=(2, 3), keepdims=True).clip(min=1e-12)  # exactly 1 after float32 rounding
        return VQAOutput(
            questions=texts,
            answers=[self.answers[int(order[0])] for order in orders],
            confidences=[float(probabilities[q, int(order[0])]) for q, order in enumerate(orders)],
            top_answers=[[(self.answers[int(i)], float(probabilities[q, int(i)])) for i in order] for q, order in enumerate(orders)],
            attention=attention,
            images=[rgbs[i] for i in image_of],
            in_world=[verdicts[i].in_world for i in image_of],
            in_world_scores=[verdicts[i].score for i in image_of],
            model=self.name,
        )

"""``load_pipeline("vqa")``: an image and a question in, the answer and where the model looked out.

``pipe(image, "what color is the circle?")`` returns a :class:`VQAResult`; a list of
questions about one image returns a list of them. The shipped models (``attention``, the
default, and ``baseline``, in ``checkpoints/vqa-<model>``) were trained on questions
about the Scenes world (1-4 coloured shapes in four drawing styles): any other picture still
gets a Scenes answer, and the out-of-world detector marks it (``VQAResult.in_world`` False).

Any image the safe loader reads is accepted (PIL, path, bytes, numpy; any mode); it is
resized to the model's input size, as the training scenes were. The question may use
only words of the training questions: an empty question, or one with unknown words
(named in the message), raises ValueError.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from PIL import Image

from ..data.feature_cache import weights_digest
from ..data.vocabulary import Vocabulary
from ..device import select_device
from ..evaluation.vqa import check_encoder, encode_questions
from ..models.image_encoders import build_image_encoder
from ..models.vqa import VQA_MODELS, load_vqa_model
from ..training.vqa_task import load_answers
from .images import load_rgb, to_tensor_batch
from .world_check import load_world_detector

CHECKPOINTS = Path(__file__).resolve().parents[2] / "checkpoints"
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
    """A VQA model from ``folder``, checked against its vocabulary and answers files."""
    folder = Path(folder)
    model = load_vqa_model(folder, device=device)
    vocabulary, answers = Vocabulary.load(folder), load_answers(folder)
    if len(vocabulary) != model.config.vocab_size or len(answers) != model.config.num_answers:
        raise ValueError(f"{folder}: the vocabulary or answers do not match the model's sizes")
    return model


@dataclass
class VQAResult:
    """One answered question.

    Attributes:
        question: the question as asked.
        answer: the most probable answer.
        confidence: its probability.
        top_answers: the most probable answers as (answer, probability), best first.
        attention: (h, w) float64 summing to 1: where the last attention hop looked
            (None for the baseline, which has no attention).
        attention_hops: (hops, h, w), every hop's map (None for the baseline).
        image: the input as RGB (at most ``DISPLAY_SIZE`` on a side), for overlays.
        model: ``attention`` or ``baseline``.
        in_world: whether the picture looks like the Scenes world the model knows (the
            out-of-world detector, ``models/world_detector.py``); when False the answer is
            still given, but about a picture the model has never seen the like of.
        in_world_score: the detector's p-value: how typical the picture is of the worlds.
    """

    question: str
    answer: str
    confidence: float
    top_answers: list[tuple[str, float]]
    attention: np.ndarray | None
    attention_hops: np.ndarray | None
    image: Image.Image
    model: str
    in_world: bool
    in_world_score: float

    @property
    def has_attention(self) -> bool:
        return self.attention is not None

    def overlay(self, hop: int = -1, opacity: float = 0.6) -> Image.Image:
        """The image with hop ``hop``'s map (default: the last) as a heatmap on top (PIL RGB)."""
        from .heatmaps import heatmap_overlay

        if self.attention_hops is None:
            raise ValueError("the baseline VQA model has no attention to draw")
        if not -len(self.attention_hops) <= hop < len(self.attention_hops):
            raise IndexError(f"hop {hop} is out of range for {len(self.attention_hops)} hops")
        return heatmap_overlay(self.image, self.attention_hops[hop], opacity=opacity)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able record: question, answer, confidence, top answers, attention as nested lists."""
        record = {
            "question": self.question,
            "answer": self.answer,
            "confidence": round(self.confidence, 6),
            "top_answers": [{"answer": a, "probability": round(p, 6)} for a, p in self.top_answers],
            "model": self.model,
            "in_world": self.in_world,
            "in_world_score": round(self.in_world_score, 6),
            "attention": None,
        }
        if self.attention is not None:
            record["attention_shape"] = list(self.attention.shape)
            record["attention"] = [[round(float(v), 5) for v in row] for row in self.attention]
        return record


class VQAPipeline:
    """``pipe(image, question)`` -> :class:`VQAResult`; ``pipe(image, [questions])`` -> a list.

    Args:
        model: ``attention`` (stacked attention, the default) or ``baseline``.
        checkpoint: a VQA model folder (default: the shipped one for ``model``).
        device: cpu, cuda, mps (default: automatic).
    """

    trained_on = TRAINED_ON
    example_questions = EXAMPLE_QUESTIONS

    def __init__(self, model: str = "attention", checkpoint: str | Path | None = None, device: str | None = None):
        folder = Path(checkpoint) if checkpoint is not None else shipped_checkpoint(model)
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
    def __call__(self, image: Any, questions: str | Sequence[str], top: int = 5) -> VQAResult | list[VQAResult]:
        """Answer one question (or several) about one image (PIL, path, bytes or numpy array in any mode).

        Raises:
            ImageInputError: the input is not a readable image, or is too large.
            ValueError: a question is empty or has words the model never saw (named).
            TypeError: a question is not a string.
        """
        single = isinstance(questions, str)
        if not single and not isinstance(questions, (list, tuple)):
            raise TypeError(f"pass a question as a string, or a list of strings; got {type(questions).__name__}")
        texts = [questions] if single else list(questions)
        if not texts:
            raise ValueError("no question to answer")
        if not isinstance(top, int) or top < 1:
            raise ValueError(f"top must be a positive integer, got {top!r}")
        config = self.model.config
        ids, lengths = encode_questions(self.vocabulary, texts, config.max_question_words)  # checks the words first
        rgb = load_rgb(image)
        batch = to_tensor_batch([rgb], config.image_size).to(self.device)  # (1, 3, size, size) in [0, 1]
        features = self.encoder(batch)  # (1, N, D)
        verdict = self.world_detector.judge(features, worlds=("scenes",))[0]  # VQA knows Scenes only
        features = features.expand(len(texts), -1, -1)  # (Q, N, D)
        logits, maps = self.model(features, ids.to(self.device), lengths)  # (Q, A), (Q, hops, M) or None
        probabilities = torch.softmax(logits.float(), dim=1).cpu().numpy().astype(np.float64)
        if max(rgb.size) > DISPLAY_SIZE:
            rgb.thumbnail((DISPLAY_SIZE, DISPLAY_SIZE), Image.Resampling.LANCZOS)
        results = []
        for q, text in enumerate(texts):
            order = np.argsort(-probabilities[q])[: min(top, len(self.answers))]
            hops = None
            if maps is not None:
                side = int(round(maps.shape[2] ** 0.5))
                hops = maps[q].float().cpu().numpy().astype(np.float64).reshape(-1, side, side)  # (hops, h, w)
                hops /= hops.sum(axis=(1, 2), keepdims=True).clip(min=1e-12)  # exactly 1 after float32 rounding
            best = int(order[0])
            results.append(VQAResult(
                question=text,
                answer=self.answers[best],
                confidence=float(probabilities[q, best]),
                top_answers=[(self.answers[int(i)], float(probabilities[q, int(i)])) for i in order],
                attention=None if hops is None else hops[-1],
                attention_hops=hops,
                image=rgb,
                model=self.name,
                in_world=verdict.in_world,
                in_world_score=verdict.score,
            ))
        return results[0] if single else results

"""Training a VQA model (stacked attention or the element-wise-product baseline) in the shared loop.

The Scenes ``train`` images are rendered once into the cache and their grids computed
once by the frozen EfficientNet-Lite0 (the same cache the captioner fills: the same
images and weights give the same file), so a step costs only the VQA head. Questions
are generated from each scene's ground truth with the training phrasings only
(``per_kind`` of each type per scene); the vocabulary is every word in them.

Attention supervision (``focus_weight``, attention model only). Left alone, the first hop
finds the object a question names only roughly (its centre of attention 28 pixels away
on average), so "left of the triangle" is measured from the wrong place and
position questions on three-object scenes stay near chance. The generator knows which
objects each question is about (:attr:`Question.focus`: the named object; for position,
the reference and then the answer), so hop k is also trained to put its attention on the
cells that object covers: the loss adds ``-log(attention mass on the object's cells)``,
weighted by ``focus_weight``, as attention supervision in VQA does (Qiao et al., 2018,
"Exploring human-like attention supervision in visual question answering"). Only
training reads the focus; answering never does.

The learning rate follows a cosine from ``learning_rate`` down to a tenth over
``total_steps``. Every ``eval_every`` steps the task answers the validation questions
and logs the accuracy, overall and per type; the held-out phrasings of the validation
scenes are measured too, for the log only: nothing is chosen on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..data.feature_cache import weights_digest
from ..data.questions import ANSWERS, Question, question_vocabulary_words, scene_objects, split_questions
from ..data.vocabulary import Vocabulary
from ..evaluation.vqa import accuracy_by_type, answer_questions, split_features
from ..models.image_encoders import build_image_encoder
from ..models.vqa import VQAConfig, box_cells, build_vqa_model, save_answers
from .loop import TrainingTask
from .schedule import set_cosine_learning_rate


@dataclass
class VQATaskConfig:
    """Data and optimisation of a VQA run."""

    train_size: int = 8000  # Scenes training images
    val_size: int = 500  # validation scenes answered at each evaluation
    per_kind: int = 2  # questions of each type per training scene
    world_seed: int = 0
    learning_rate: float = 2e-3
    weight_decay: float = 1e-5
    total_steps: int = 6000  # the learning rate decays to a tenth along a cosine over these steps
    grad_clip: float = 5.0
    focus_weight: float = 1.0  # weight of the attention-supervision loss (0: none); see the module docstring
    model: VQAConfig = None

    def __post_init__(self):
        if self.model is None:
            self.model = VQAConfig()
        elif isinstance(self.model, dict):
            self.model = VQAConfig(**self.model)


def focus_masks(questions: list[Question], scenes, hops: int, image_size: int, grid: int) -> np.ndarray:
    """(Q, hops, grid * grid) bool: for each question, the cells of the object hop k must attend to (none: all False).

    ``scenes[q.scene]`` are the objects of a question's scene (:func:`scene_objects`).
    """
    masks = np.zeros((len(questions), hops, grid * grid), dtype=bool)
    for i, question in enumerate(questions):
        objects = scenes[question.scene]
        for hop, k in enumerate(question.focus[:hops]):
            masks[i, hop] = box_cells(objects[k].box, image_size, grid)
    return masks


class QuestionPairs(Dataset):
    """(grid of the question's scene, question ids, answer index, focus cells) tuples.

    ``features`` is fp16 (M, N, D), memory-mapped; ``questions`` index into it by ``scene``.
    ``focus`` is (Q, hops, cells) bool from :func:`focus_masks`, or None.
    """

    def __init__(self, features: np.ndarray, questions: list[Question], vocabulary: Vocabulary, focus: np.ndarray | None = None):
        self.features = features
        self.scenes = [q.scene for q in questions]
        self.ids = [vocabulary.encode(q.text) for q in questions]
        self.answers = [ANSWERS.index(q.answer) for q in questions]
        self.focus = focus

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int):
        grid = torch.from_numpy(np.array(self.features[self.scenes[index]]))  # (N, D) fp16
        focus = None if self.focus is None else torch.from_numpy(self.focus[index])  # (hops, cells)
        return grid, self.ids[index], self.answers[index], focus


def pad_questions(items: list) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """grids (B, N, D), ids (B, T) right-padded with 0, lengths (B,), answers (B,), focus (B, hops, cells) or None."""
    grids = torch.stack([item[0] for item in items])
    lengths = torch.tensor([len(item[1]) for item in items], dtype=torch.long)
    ids = torch.zeros(len(items), int(lengths.max()), dtype=torch.long)
    for row, item in enumerate(items):
        ids[row, : len(item[1])] = torch.tensor(item[1], dtype=torch.long)
    answers = torch.tensor([item[2] for item in items], dtype=torch.long)
    focus = None if items[0][3] is None else torch.stack([item[3] for item in items])
    return grids, ids, lengths, answers, focus


def focus_loss(maps: torch.Tensor, focus: torch.Tensor) -> torch.Tensor:
    """Mean of -log(attention mass on the focus cells) over the (question, hop) pairs that have a focus.

    maps (B, hops, cells) summing to 1 over cells; focus (B, hops, cells) bool.
    """
    supervised = focus.any(dim=2)  # (B, hops)
    if not supervised.any():
        return maps.sum() * 0.0
    mass = (maps * focus).sum(dim=2)  # (B, hops)
    return -torch.log(mass[supervised].clamp_min(1e-6)).mean()


class VQATask(TrainingTask):
    """One VQA model on Scenes questions; see the module docstring."""

    def __init__(self, config: VQATaskConfig):
        self.config = config
        encoder = build_image_encoder(config.model.encoder)
        size = config.model.image_size
        self.train_world, self.train_features = split_features("train", config.train_size, seed=config.world_seed, image_size=size, encoder=encoder)
        self.val_world, self.val_features = split_features("val", config.val_size, seed=config.world_seed, image_size=size, encoder=encoder)
        # Placed once: the questions, the focus masks and the evaluation all read them.
        self.train_scenes, self.val_scenes = scene_objects(self.train_world), scene_objects(self.val_world)
        self.questions = split_questions(self.train_world, phrasing="train", per_kind=config.per_kind, seed=config.world_seed, scenes=self.train_scenes)
        self.val_questions = split_questions(self.val_world, phrasing="train", seed=config.world_seed, scenes=self.val_scenes)
        self.val_heldout = split_questions(self.val_world, phrasing="heldout", seed=config.world_seed, scenes=self.val_scenes)
        # Every word the training phrasings can write, not only those the sampled questions use: a small
        # run's validation questions may hold a word its few training questions lack. Counting each once
        # more keeps a full run's vocabulary (where every word occurs) and so its ids as they were.
        self.vocabulary = Vocabulary.build([*(q.text for q in self.questions), " ".join(question_vocabulary_words())])
        config.model.vocab_size = len(self.vocabulary)
        config.model.num_answers = len(ANSWERS)
        config.model.encoder_digest = weights_digest(encoder)
        config.model.grid_size = encoder.grid_size
        config.model.feature_dim = encoder.feature_dim

    # ------------------------------------------------------------------ the loop's hooks
    def build_modules(self):
        self.model = build_vqa_model(self.config.model)
        return {"vqa": self.model}

    def build_optimizers(self, modules):
        self.optimizer = torch.optim.AdamW(modules["vqa"].parameters(), lr=self.config.learning_rate, weight_decay=self.config.weight_decay)
        return {"adam": self.optimizer}

    def dataset(self):
        focus = None
        if self.config.model.kind == "attention" and self.config.focus_weight > 0:
            model = self.config.model
            focus = focus_masks(self.questions, self.train_scenes, model.hops, model.image_size, model.grid_size // model.pool)
        return QuestionPairs(self.train_features, self.questions, self.vocabulary, focus)

    def collate(self, items):
        return pad_questions(items)

    def train_step(self, batch, step):
        grids, ids, lengths, answers, focus = batch
        grids, ids, answers = grids.to(self.device).float(), ids.to(self.device), answers.to(self.device)
        set_cosine_learning_rate(self.optimizer, self.config.learning_rate, step, self.config.total_steps, floor=0.1)
        logits, maps = self.ddp["vqa"](grids, ids, lengths)  # (B, A), (B, hops, cells) or None
        loss = answer_loss = torch.nn.functional.cross_entropy(logits, answers)
        logs = {}
        if focus is not None:
            supervision = focus_loss(maps, focus.to(self.device))
            loss = loss + self.config.focus_weight * supervision
            logs = {"answer_loss": answer_loss.item(), "focus_loss": supervision.item()}
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        return {"loss": loss.item(), **logs, "accuracy": (logits.argmax(1) == answers).float().mean().item()}

    def evaluate(self, step, run_dir: Path):
        results = {}
        for name, questions in (("val", self.val_questions), ("val_heldout_phrasings", self.val_heldout)):
            probabilities, _ = answer_questions(self.model, self.vocabulary, self.val_features, [q.scene for q in questions],
                                                [q.text for q in questions], device=self.device)
            measured = accuracy_by_type(questions, [ANSWERS[i] for i in probabilities.argmax(1)])
            results[f"{name}_accuracy"] = measured["accuracy"]
            if name == "val":
                results.update({f"val_{kind}": v for kind, v in measured["per_type"].items()})
                # Only with three or more objects does a position question test the side (see evaluate_vqa).
                three = [i for i, q in enumerate(questions) if q.kind == "position" and len(self.val_scenes[q.scene]) >= 3]
                if three:
                    results["val_position_three_objects"] = float(np.mean([ANSWERS[probabilities[i].argmax()] == questions[i].answer for i in three]))
        return results

    def export(self, folder: Path):
        self.model.save_pretrained(folder, metadata={"data": "scenes", "train_size": self.config.train_size, "per_kind": self.config.per_kind})
        self.vocabulary.save(folder)
        save_answers(folder)

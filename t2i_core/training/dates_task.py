"""Training a date translator in the shared loop.

The Dates ``train`` split is rendered once into memory (50,000 strings take about 8 s);
the source vocabulary is every character in it. The learning rate follows a cosine from
``learning_rate`` down to a tenth over ``total_steps``. Every ``eval_every`` steps the task
decodes ``val_size`` validation dates greedily and logs their exact-match accuracy; the
held-out formats are measured too, for the log only: nothing is chosen on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from ..data.characters import CharacterVocabulary, save_vocabularies
from ..data.dates import DatesWorld
from ..evaluation.dates import exact_match
from ..models.date_translator import DateTranslator, DateTranslatorConfig, translate_texts
from .loop import TrainingTask
from .schedule import set_cosine_learning_rate

TARGET_CHARACTERS = "0123456789-"


@dataclass
class DatesTaskConfig:
    """Data and optimisation of a date-translator run."""

    train_size: int = 50000
    val_size: int = 1000  # validation dates decoded at each evaluation
    world_seed: int = 0
    learning_rate: float = 3e-3
    total_steps: int = 3000  # the learning rate decays to a tenth along a cosine over these steps
    grad_clip: float = 1.0
    model: DateTranslatorConfig = None

    def __post_init__(self):
        if self.model is None:
            self.model = DateTranslatorConfig()
        elif isinstance(self.model, dict):
            self.model = DateTranslatorConfig(**self.model)


def target_vocabulary() -> CharacterVocabulary:
    """The output alphabet of every date translator: the special tokens, 0-9 and "-"."""
    return CharacterVocabulary(["<pad>", "<start>", "<end>", "<unk>", *TARGET_CHARACTERS])


class DatePairs(Dataset):
    """(source ids, target ids) pairs as lists of ints; :func:`pad_sources` batches them."""

    def __init__(self, sources: list[list[int]], targets: list[list[int]]):
        self.sources, self.targets = sources, targets

    def __len__(self) -> int:
        return len(self.sources)

    def __getitem__(self, index: int) -> tuple[list[int], list[int]]:
        return self.sources[index], self.targets[index]


def pad_sources(items: list[tuple[list[int], list[int]]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-pad sources with 0: source (B, N), lengths (B,), target (B, T)."""
    lengths = torch.tensor([len(s) for s, _ in items], dtype=torch.long)
    source = torch.zeros(len(items), int(lengths.max()), dtype=torch.long)
    for i, (s, _) in enumerate(items):
        source[i, : len(s)] = torch.tensor(s, dtype=torch.long)
    target = torch.tensor([t for _, t in items], dtype=torch.long)
    return source, lengths, target


class DatesTask(TrainingTask):
    """One date translator (one score function) on the Dates world."""

    def __init__(self, config: DatesTaskConfig):
        self.config = config
        train = DatesWorld("train", size=config.train_size, seed=config.world_seed)
        samples = [train.sample(i) for i in range(len(train))]
        self.texts = [s.text for s in samples]
        self.isos = [s.iso for s in samples]
        self.source_vocabulary = CharacterVocabulary.build(self.texts)
        self.target_vocabulary = target_vocabulary()
        config.model.source_vocab_size = len(self.source_vocabulary)
        config.model.target_vocab_size = len(self.target_vocabulary)
        longest = max(len(t) for t in self.texts)
        if longest > config.model.max_input_length:
            raise ValueError(f"a training date has {longest} characters, more than max_input_length {config.model.max_input_length}")
        val = DatesWorld("val", size=config.val_size, seed=config.world_seed)
        heldout = DatesWorld("heldout-formats", size=config.val_size, seed=config.world_seed)
        self.val = [(s.text, s.iso) for s in val.samples()]
        self.heldout = [(s.text, s.iso) for s in heldout.samples()]

    # ------------------------------------------------------------------ the loop's hooks
    def build_modules(self):
        self.model = DateTranslator(self.config.model)
        return {"translator": self.model}

    def build_optimizers(self, modules):
        self.optimizer = torch.optim.Adam(modules["translator"].parameters(), lr=self.config.learning_rate)
        return {"adam": self.optimizer}

    def dataset(self):
        sources = [self.source_vocabulary.encode(t) for t in self.texts]
        targets = [self.target_vocabulary.encode(iso) for iso in self.isos]
        return DatePairs(sources, targets)

    def collate(self, items):
        return pad_sources(items)

    def train_step(self, batch, step):
        source, lengths, target = (x.to(self.device) for x in batch)
        set_cosine_learning_rate(self.optimizer, self.config.learning_rate, step, self.config.total_steps, floor=0.1)
        logits, _ = self.ddp["translator"](source, lengths, target)  # (B, T, V)
        loss = self.model.loss(logits, target)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        correct = logits.argmax(2) == target  # (B, T)
        return {"loss": loss.item(), "char_accuracy": correct.float().mean().item(), "exact_match": correct.all(1).float().mean().item()}

    def evaluate(self, step, run_dir: Path):
        results = {}
        for name, pairs in (("val", self.val), ("heldout", self.heldout)):
            predicted = translate_texts(self.model, self.source_vocabulary, self.target_vocabulary, [t for t, _ in pairs], device=self.device)
            results[f"{name}_exact_match"] = exact_match([iso for iso, _, _ in predicted], [iso for _, iso in pairs])
        return results

    def export(self, folder: Path):
        self.model.save_pretrained(folder, metadata={"data": "dates", "train_size": self.config.train_size})
        save_vocabularies(folder, self.source_vocabulary, self.target_vocabulary)

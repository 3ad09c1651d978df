"""Training a captioner (Show and Tell or Show, Attend and Tell) in the shared loop.

Data is the Scenes world (canonical captions; images rendered once into the cache) or a
Karpathy-format dataset (``karpathy:PATH/dataset_flickr8k.json``; every reference caption
is a training pair). With a frozen encoder (efficientnet-lite0) the grid features of every
image are computed once and cached as fp16 ``.npy`` in the t2i cache folder, so an epoch
costs only the decoder.

Every ``eval_every`` steps (the CLI makes that one epoch) the task decodes the validation
images greedily and logs BLEU-4 (and, on Scenes, attention pointing). The best weights so
far (by ``select``: BLEU-4, or on Scenes the lower of BLEU-4 and pointing accuracy) are
kept in ``<run>/best``; after ``patience`` evaluations without a better score the task
stops training (the loop's remaining steps do nothing) and the best weights are exported.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..data.cache import default_cache_dir, rendered_images, save_array, world_images_key
from ..data.feature_cache import cached_features
from ..data.vocabulary import Vocabulary
from ..models.captioning import Captioner, CaptionerConfig
from .loop import TrainingTask
from .schedule import set_cosine_learning_rate

BEST = "best"


@dataclass
class CaptionTaskConfig:
    """Data, vocabulary and optimisation of a captioner run."""

    data: str = "scenes"  # or "karpathy:PATH" to a dataset_*.json
    image_dir: str | None = None  # Karpathy images (default: beside the JSON)
    train_size: int = 8000  # Scenes training images
    val_size: int = 500  # validation images decoded at each evaluation
    world_seed: int = 0
    min_count: int = 1  # words rarer than this in the training captions become <unk>
    # Training captions are cut to this many words: a Scenes canonical caption reaches 34 (four
    # objects, every relation "to the ... of") and "there is" before it 36, so nothing of Scenes is cut.
    max_words: int = 36
    learning_rate: float = 2e-3
    weight_decay: float = 1e-5
    total_steps: int = 6000  # the learning rate decays to a tenth along a cosine over these steps
    grad_clip: float = 5.0
    patience: int = 3  # evaluations without a better selection score before stopping
    # What "best" means: "bleu4", or "min-bleu4-pointing", the lower of validation BLEU-4 and
    # pointing accuracy (Scenes with attention only; elsewhere BLEU-4). Longer training keeps
    # raising BLEU-4 while the maps drift off the objects; this keeps captions whose maps point.
    select: str = "min-bleu4-pointing"
    model: CaptionerConfig = None

    def __post_init__(self):
        if self.select not in ("bleu4", "min-bleu4-pointing"):
            raise ValueError(f"select must be 'bleu4' or 'min-bleu4-pointing', got {self.select!r}")
        if self.model is None:
            self.model = CaptionerConfig()
        elif isinstance(self.model, dict):
            self.model = CaptionerConfig(**self.model)


class CaptionPairs(Dataset):
    """(image or cached features, caption ids) pairs.

    ``inputs`` is uint8 images (M, H, W, 3) or fp16 features (M, N, D); ``pairs`` lists
    (input index, caption ids) with the ids as ``<start> ... <end>``.
    """

    def __init__(self, inputs: np.ndarray, pairs: list[tuple[int, list[int]]], are_features: bool):
        self.inputs, self.pairs, self.are_features = inputs, pairs, are_features

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int):
        source, ids = self.pairs[index]
        array = torch.from_numpy(np.array(self.inputs[source]))
        if not self.are_features:
            array = array.permute(2, 0, 1)  # (3, H, W) uint8; scaled to [0, 1] per batch
        return array, torch.tensor(ids, dtype=torch.long)


def pad_captions(items: list) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack inputs and right-pad caption ids with 0 (<pad>): (B, ...) and (B, T)."""
    inputs = torch.stack([x for x, _ in items])
    longest = max(len(c) for _, c in items)
    captions = torch.zeros(len(items), longest, dtype=torch.long)
    for i, (_, c) in enumerate(items):
        captions[i, : len(c)] = c
    return inputs, captions


class CaptionData:
    """Training and validation images with their captions, from Scenes or a Karpathy file."""

    def __init__(self, config: CaptionTaskConfig):
        size = config.model.image_size
        if config.data == "scenes":
            from ..data import load_world

            self.name = "scenes"
            train = load_world("scenes", "train", size=config.train_size, seed=config.world_seed, image_size=size)
            self.val_world = load_world("scenes", "val", size=config.val_size, seed=config.world_seed, image_size=size)
            self.train_images = rendered_images(train)
            self.val_images = rendered_images(self.val_world)
            self.train_captions = [[s.caption] for s in train.samples(render=False)]
            self.val_captions = [s.captions for s in self.val_world.samples(render=False)]
            # Named by the pictures (render version included): features of an older Scenes are never read.
            self.train_key, self.val_key = world_images_key(train), world_images_key(self.val_world)
        elif config.data.startswith("karpathy:"):
            from ..data.karpathy import load_karpathy

            path = Path(config.data.split(":", 1)[1])
            self.name = "karpathy"
            self.val_world = None
            train = load_karpathy(path, config.image_dir, "train")
            val = load_karpathy(path, config.image_dir, "val")[: config.val_size]
            if not train or not val:
                raise ValueError(f"{path} needs images in both the train and the val split")
            self.train_images = karpathy_images(train, size, path)
            self.val_images = karpathy_images(val, size, path, split="val")
            self.train_captions = [im.captions for im in train]
            self.val_captions = [im.captions for im in val]
            stat = path.stat()
            self.key = f"karpathy-{hashlib.sha1(f'{path.resolve()}-{stat.st_mtime_ns}-{stat.st_size}'.encode()).hexdigest()[:10]}-px{size}"
            self.train_key, self.val_key = f"{self.key}-train", f"{self.key}-val"
        else:
            raise ValueError(f"unknown caption data {config.data!r}; use 'scenes' or 'karpathy:PATH/dataset_*.json'")


def karpathy_images(images, size: int, json_path: Path, split: str = "train") -> np.ndarray:
    """The images, loaded safely and resized to ``size`` squared, as uint8 (M, size, size, 3), cached."""
    from PIL import Image

    from ..pipelines.images import load_rgb

    stat = json_path.stat()
    name = f"karpathy-{split}-{json_path.stem}-px{size}-n{len(images)}"
    digest = hashlib.sha1(f"{json_path.resolve()}-{stat.st_mtime_ns}-{stat.st_size}-{name}".encode()).hexdigest()[:10]
    path = default_cache_dir() / f"{name}-{digest}.npy"
    if path.is_file():
        return np.load(path, mmap_mode="r")
    arrays = [np.asarray(load_rgb(im.path).resize((size, size), Image.Resampling.BICUBIC), dtype=np.uint8) for im in images]
    save_array(path, np.stack(arrays))
    return np.load(path, mmap_mode="r")


class CaptionTask(TrainingTask):
    """One captioner on Scenes or a Karpathy dataset; see the module docstring."""

    def __init__(self, config: CaptionTaskConfig, run_dir: str | Path, resume: bool = True):
        self.config = config
        self.run_dir = Path(run_dir)
        if not resume:  # a fresh run forgets the best weights of an earlier one in the same folder
            shutil.rmtree(self.run_dir / BEST, ignore_errors=True)
        self.data = CaptionData(config)
        self.vocabulary = Vocabulary.build((c for caps in self.data.train_captions for c in caps), min_count=config.min_count)
        config.model.vocab_size = len(self.vocabulary)
        self.best_score, self.stale, self.stopped = -1.0, 0, False
        record = self.run_dir / BEST / "best.json"
        if record.is_file():  # a resumed run remembers its best evaluation so far
            saved = json.loads(record.read_text(encoding="utf-8"))
            self.best_score, self.stale, self.stopped = saved["score"], saved["stale"], saved["stopped"]

    # ------------------------------------------------------------------ the loop's hooks
    def build_modules(self):
        self.model = Captioner(self.config.model, pretrained_encoder=True)
        return {"captioner": self.model}

    def build_optimizers(self, modules):
        trainable = [p for p in modules["captioner"].parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(trainable, lr=self.config.learning_rate, weight_decay=self.config.weight_decay)
        return {"adam": self.optimizer}

    @property
    def uses_cached_features(self) -> bool:
        return self.model.encoder.frozen

    def _inputs(self, images: np.ndarray, key: str) -> np.ndarray:
        if not self.uses_cached_features:
            return images
        return cached_features(self.model.encoder, self.model.config.encoder, images, key)

    def dataset(self):
        inputs = self._inputs(self.data.train_images, self.data.train_key)
        pairs = [
            (i, self.vocabulary.encode(caption, self.config.max_words))
            for i, captions in enumerate(self.data.train_captions)
            for caption in captions
        ]
        return CaptionPairs(inputs, pairs, are_features=self.uses_cached_features)

    def collate(self, items):
        return pad_captions(items)

    def _stopped_everywhere(self) -> bool:
        """Whether early stopping has fired; under DDP rank 0 (the one that evaluates) decides for all."""
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            return self.stopped
        flag = torch.tensor([float(self.stopped)], device=self.device)
        dist.broadcast(flag, src=0)
        self.stopped = bool(flag.item())
        return self.stopped

    def train_step(self, batch, step):
        if self._stopped_everywhere():
            return {}  # early stopping: the best weights are kept; the remaining steps are skipped
        inputs, captions = batch
        inputs, captions = inputs.to(self.device), captions.to(self.device)
        set_cosine_learning_rate(self.optimizer, self.config.learning_rate, step, self.config.total_steps, floor=0.1)
        model = self.ddp["captioner"]
        if self.uses_cached_features:
            logits, alphas = model(captions, features=inputs.float())
        else:
            logits, alphas = model(captions, images=inputs.float() / 255.0)
        loss, cross_entropy = self.model.loss(logits, alphas, captions, pad_id=self.vocabulary.pad_id)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        targets = captions[:, 1:]
        real = targets != self.vocabulary.pad_id
        accuracy = ((logits.argmax(2) == targets) & real).sum().item() / max(real.sum().item(), 1)
        return {"loss": loss.item(), "cross_entropy": cross_entropy.item(), "word_accuracy": accuracy}

    def evaluate(self, step, run_dir: Path):
        if self.stopped:
            return {}
        from ..evaluation.captioning import (
            caption_images,
            corpus_bleu4,
            scenes_pointing,
        )

        inputs = self._inputs(self.data.val_images, self.data.val_key)
        decoded = caption_images(self.model, self.vocabulary, inputs, are_features=self.uses_cached_features, beam_size=1, device=self.device)
        texts = [" ".join(words) for words, _ in decoded]
        results = {"val_bleu4": corpus_bleu4(texts, self.data.val_captions)}
        if self.data.val_world is not None and self.model.config.kind == "show-attend-tell":
            results.update({f"val_{k}": v for k, v in scenes_pointing(self.data.val_world, decoded, self.model.grid_size).items() if k in ("pointing_accuracy", "attention_mass")})
        score = self.selection_score(results)
        if score > self.best_score:
            self.best_score, self.stale = score, 0
            self._save(self.run_dir / BEST, metadata={"step": step, **results})
        else:
            self.stale += 1
            if self.stale >= self.config.patience:
                self.stopped = True
                print(f"early stopping at step {step}: no better validation {self.config.select} for {self.stale} evaluations")
        record = {"score": self.best_score, "select": self.config.select, "stale": self.stale, "stopped": self.stopped, "step": step}
        (self.run_dir / BEST).mkdir(parents=True, exist_ok=True)
        (self.run_dir / BEST / "best.json").write_text(json.dumps(record) + "\n", encoding="utf-8")
        return results | {"selection_score": score, "best_selection_score": self.best_score}

    def selection_score(self, results: dict[str, float]) -> float:
        """The number the best weights and early stopping go by (see ``CaptionTaskConfig.select``)."""
        if self.config.select == "bleu4" or "val_pointing_accuracy" not in results:
            return results["val_bleu4"]
        return min(results["val_bleu4"], results["val_pointing_accuracy"])

    def _save(self, folder: Path, metadata: dict | None = None) -> None:
        self.model.save_pretrained(folder, dtype=torch.float16, metadata={"data": self.config.data, **(metadata or {})})
        self.vocabulary.save(folder)

    def export(self, folder: Path):
        best = self.run_dir / BEST
        if (best / "model.safetensors").is_file():
            if folder.exists():
                shutil.rmtree(folder)
            shutil.copytree(best, folder, ignore=shutil.ignore_patterns("best.json"))
        else:
            self._save(folder)

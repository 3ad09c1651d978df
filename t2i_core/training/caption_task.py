"""Training a captioner (Show and Tell or Show, Attend and Tell) in the shared loop.

Data (``CaptionTaskConfig.data``) is one procedural world or several joined by "+", or a
Karpathy-format dataset:

- ``scenes``: ``train_size`` Scenes training pictures with their canonical captions;
- ``flowers``: ``flower_train_size`` Flowers training pictures, each with the one phrasing
  that is a function of the flower (``a red flower with a yellow stem``,
  :data:`~t2i_core.data.flowers.CAPTIONER_TEMPLATE`). Flowers are drawn at 64 pixels and
  resized to the captioner's input as the pipelines resize any picture, so a model
  trained on them sees what the text-to-image generator's 64-pixel flowers look like;
- ``scenes+flowers``: both in one model (the default captioner captions both worlds);
  the vocabulary holds the words of both, and the checkpoint's ``metadata["data"]`` says
  which worlds the out-of-world detector should check against;
- ``karpathy:PATH/dataset_flickr8k.json``: every reference caption is a training pair;
- ``+generated`` after worlds that include flowers: flowers drawn by the shipped
  text-to-image generators from Flowers training captions, labelled with the prompt's
  colours where the flower judge confirms them (``training/generated_flowers.py``), so the
  captioner reads the generator's flowers in the round trip; validated on flowers drawn
  from validation captions with other noise.

Images of the worlds are rendered once into the cache. With a frozen encoder
(efficientnet-lite0) the grid features of every image are computed once and cached as
fp16 ``.npy`` in the t2i cache folder, named by the pictures (world, render version,
split, size, seed), so an epoch costs only the decoder and no picture's features outlive
its drawing.

Every ``eval_every`` steps (the CLI makes that one epoch) the task decodes the validation
images greedily and logs BLEU-4 (of the Scenes or Karpathy captions; of the flower captions
when flowers are all there is), on Scenes the share of scenes whose every object is named
and the attention pointing, and with flowers the share of validation flowers whose petal
and stem colours are named in their roles. The task's ``best_metric`` is its selection
score (by ``select``), so the loop keeps the best weights so far in ``<run>/best``, ends the
run after ``patience`` evaluations without a better score and ships the best weights.

Attention supervision (``focus_weight``; Show, Attend and Tell on Scenes). Left to the
caption loss alone, the maps of the randomised Scenes drift off the objects as training
goes on: validation pointing peaked at 0.66 (step 1250) and fell to 0.62 by step 3125
while BLEU-4 rose from 0.81 to 0.87, so the run stopped early with captions that named all
objects of only 0.77 of the scenes. Every Scenes caption comes with its groundings (which
object each colour and shape word names), so the step that emits such a word is also
trained to look at that object: the loss adds ``-log(attention on the object)``, where a
cell counts by the share of it the object's mask covers (scaled so the object's
best-covered cell counts fully), weighted by ``focus_weight``. This is attention
supervision as in "Attention correctness in neural image captioning" (Liu et al., 2017)
and as the VQA model here does; only training reads the masks, captioning never does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import Dataset

from ..data import load_world
from ..data.cache import build_lock, cached_array, default_cache_dir, rendered_images, resized_images, save_array, world_images_key
from ..data.feature_cache import cached_features
from ..data.flowers import captioner_caption, read_colour_roles
from ..data.images import load_rgb
from ..data.karpathy import load_karpathy
from ..data.vocabulary import Vocabulary
from ..data.world import World
from ..decoding import greedy_decode
from ..evaluation.captioning import POINTED_WORDS, caption_images, corpus_bleu4, flower_roles_report, naming_report, scenes_pointing
from ..models.captioning import Captioner, CaptionerConfig
from .ema import ema_copy, ema_decay_at, update_ema
from .generated_flowers import generated_flowers
from .loop import TrainingTask
from .schedule import set_cosine_learning_rate
from .self_critical import self_critical_loss

CAPTION_WORLDS = ("scenes", "flowers")  # the worlds ``data`` may join with "+"
GENERATED = "generated"  # ... and the generators' flowers, which ``data`` may add after them


@dataclass
class CaptionTaskConfig:
    """Data, vocabulary and optimisation of a captioner run."""

    data: str = "scenes"  # "scenes", "flowers", "scenes+flowers", or "karpathy:PATH" to a dataset_*.json
    image_dir: str | None = None  # Karpathy images (default: beside the JSON)
    train_size: int = 8000  # Scenes training images
    val_size: int = 500  # Scenes (or Karpathy) validation images decoded at each evaluation
    # Flowers, when ``data`` names them. A flower's caption is two colour words in a fixed
    # phrase, far easier than a scene's: 4000 give 83 flowers per seen colour pair and a third
    # of every batch, while the scenes stay as many as a Scenes-only captioner sees.
    flower_train_size: int = 4000
    flower_val_size: int = 250
    # With "+generated": prompts of generated flowers (about 0.8 are kept), and validation ones.
    generated_train_size: int = 3000
    generated_val_size: int = 250
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
    # pointing accuracy (Scenes with attention only; elsewhere BLEU-4), and of the share of
    # validation flowers named right when flowers are in the data. Longer training keeps
    # raising BLEU-4 while the maps drift off the objects; this keeps captions whose maps point.
    select: str = "min-bleu4-pointing"
    # Weight of the attention-supervision loss on Scenes words that name an object (0: none;
    # Show, Attend and Tell only); see the module docstring.
    focus_weight: float = 1.0
    # Decay of an exponential moving average of the captioner's weights, which is then what is
    # evaluated, kept as best and exported (0: none, the live weights; see training/ema.py).
    ema_decay: float = 0.0
    # Weight of the self-critical loss on Scenes pictures (0: none; training/self_critical.py).
    self_critical: float = 0.0
    # A captioner checkpoint folder to start from (same model config and vocabulary), e.g. to
    # fine-tune a teacher-forced captioner with the self-critical loss; None: random weights.
    init_from: str | None = None
    model: CaptionerConfig = None

    def __post_init__(self):
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.select not in ("bleu4", "min-bleu4-pointing"):
            raise ValueError(f"select must be 'bleu4' or 'min-bleu4-pointing', got {self.select!r}")
        if self.model is None:
            self.model = CaptionerConfig()
        elif isinstance(self.model, dict):
            self.model = CaptionerConfig(**self.model)

    @property
    def worlds(self) -> tuple[str, ...]:
        """The procedural worlds ``data`` names, in its order (empty for Karpathy data)."""
        if self.data.startswith("karpathy:"):
            return ()
        parts = tuple(self.data.split("+"))
        worlds = tuple(p for p in parts if p != GENERATED)
        if (not worlds or any(w not in CAPTION_WORLDS for w in worlds) or len(set(parts)) != len(parts)
                or (GENERATED in parts and "flowers" not in worlds)):
            raise ValueError(
                f"unknown caption data {self.data!r}; use 'scenes', 'flowers', 'scenes+flowers', "
                "'scenes+flowers+generated' or 'karpathy:PATH/dataset_*.json'"
            )
        return worlds

    @property
    def generated(self) -> bool:
        """Whether the generators' flowers join the data (``+generated``)."""
        return GENERATED in self.data.split("+") and not self.data.startswith("karpathy:")


@dataclass
class CaptionSource:
    """One world's (or dataset's) pictures for a captioner, with their captions.

    ``images`` is uint8 (M, S, S, 3) at the captioner's input side S; ``captions`` holds,
    per image, its training captions (training) or its reference captions (validation);
    ``key`` names the images in the feature cache; ``world`` is the world split they come
    from (None for Karpathy data).
    """

    name: str  # "scenes", "flowers", "generated" or "karpathy"
    images: np.ndarray
    captions: list[list[str]]
    key: str
    world: World | None = None

    def key_of_first(self, count: int) -> str:
        """The key of the first ``count`` of these pictures, drawn from a smaller split of the same world."""
        if self.world is None:
            raise ValueError(f"the {self.name} pictures are not a world split")
        return world_images_key(self.world, resized_to=self.images.shape[1], count=count)


class CaptionPairs(Dataset):
    """(image or cached features, caption ids[, focus]) pairs drawn from one or more sources.

    ``inputs`` holds one array per source: uint8 images (M, H, W, 3) or fp16 features
    (M, N, D), memory-mapped is fine; ``pairs`` lists (source, row, caption ids) with the
    ids as ``<start> ... <end>``. With ``focus`` (one entry per source: None, or the
    :class:`SceneFocus` of its training captions) every item also carries, per predicted
    token, the object it names (-1: none) and its scene's object covers (K, N).
    """

    def __init__(self, inputs: list[np.ndarray], pairs: list[tuple[int, int, list[int]]], are_features: bool, focus: list | None = None):
        self.inputs, self.pairs, self.are_features, self.focus = inputs, pairs, are_features, focus

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int):
        source, row, ids = self.pairs[index]
        array = torch.from_numpy(np.array(self.inputs[source][row]))
        if not self.are_features:
            array = array.permute(2, 0, 1)  # (3, H, W) uint8; scaled to [0, 1] per batch
        if self.focus is None:
            return array, torch.tensor(ids, dtype=torch.long)
        focus = self.focus[source]
        named = torch.full((len(ids) - 1,), -1, dtype=torch.long)  # the object each predicted token names
        if focus is None:
            covers = torch.zeros(MAX_FOCUS_OBJECTS, 1)
        else:
            words = torch.from_numpy(focus.named[row].astype(np.int64))[: len(ids) - 2]  # the caption's words; <end> names nothing
            named[: len(words)] = words
            covers = torch.from_numpy(focus.covers[row].astype(np.float32))  # (K, N)
        return array, torch.tensor(ids, dtype=torch.long), named, covers


MAX_FOCUS_OBJECTS = 4  # Scenes hold 1 to 4 objects


@dataclass
class SceneFocus:
    """What attention supervision needs of a Scenes source: ``named`` (M, max_words) int8, the
    object each word of an image's training caption names (-1: none); ``covers`` (M, K, N)
    fp16, the share of each of the N grid cells that object k's mask covers, scaled so its
    best-covered cell is 1 (zeros for absent objects)."""

    named: np.ndarray
    covers: np.ndarray


def object_covers(masks: list[np.ndarray], grid: int) -> np.ndarray:
    """(MAX_FOCUS_OBJECTS, grid * grid) float32: each mask (S, S) bool averaged over a grid x grid
    split of the image (the cells the upsampled attention map is read on), scaled to a peak of 1."""
    covers = np.zeros((MAX_FOCUS_OBJECTS, grid * grid), dtype=np.float32)
    for k, mask in enumerate(masks):
        share = F.adaptive_avg_pool2d(torch.from_numpy(mask.astype(np.float32))[None, None], grid).reshape(-1).numpy()  # (grid * grid,)
        covers[k] = share / max(float(share.max()), 1e-6)
    return covers


def scene_focus(world: World, key: str, grid: int, max_words: int) -> SceneFocus:
    """The :class:`SceneFocus` of a Scenes split's canonical captions, cached next to its images."""
    name = f"captionfocus-{key}-g{grid}-w{max_words}"
    folder = default_cache_dir()
    named_path, covers_path = folder / f"{name}-named.npy", folder / f"{name}-covers.npy"
    if not (named_path.is_file() and covers_path.is_file()):
        with build_lock(named_path):  # one process builds both files; the others wait for them
            if not (named_path.is_file() and covers_path.is_file()):
                named = np.full((len(world), max_words), -1, dtype=np.int8)
                covers = np.zeros((len(world), MAX_FOCUS_OBJECTS, grid * grid), dtype=np.float16)
                for i, scene in enumerate(world.samples(render=False)):
                    words = scene.caption.split()[:max_words]
                    grounding = scene.groundings[scene.captions.index(scene.caption)]
                    named[i, : len(words)] = [g if (g is not None and w in POINTED_WORDS) else -1 for w, g in zip(words, grounding)]
                    covers[i] = object_covers([obj.mask for obj in scene.objects], grid)
                save_array(covers_path, covers)
                save_array(named_path, named)
    return SceneFocus(np.load(named_path, mmap_mode="r"), np.load(covers_path, mmap_mode="r"))


def focus_loss(alphas: torch.Tensor, named: torch.Tensor, covers: torch.Tensor) -> torch.Tensor | None:
    """Mean of -log(attention on the named object) over the tokens that name one (None if none do).

    alphas (B, T, N) summing to 1 over cells; named (B, T) object index or -1; covers (B, K, N).
    """
    supervised = named >= 0  # (B, T)
    if not bool(supervised.any()):
        return None
    index = named.clamp_min(0).unsqueeze(2).expand(-1, -1, covers.shape[2])  # (B, T, N)
    target = torch.gather(covers, 1, index)  # (B, T, N): the named object's cover at each token
    mass = (alphas * target).sum(2)  # (B, T)
    return -torch.log(mass[supervised].clamp_min(1e-6)).mean()


def pad_captions(items: list) -> tuple[torch.Tensor, ...]:
    """Stack inputs and right-pad caption ids with 0 (<pad>): (B, ...) and (B, T); with focus
    also the named objects (B, T - 1), padded with -1, and the covers (B, K, N)."""
    inputs = torch.stack([item[0] for item in items])
    longest = max(len(item[1]) for item in items)
    captions = torch.zeros(len(items), longest, dtype=torch.long)
    for i, item in enumerate(items):
        captions[i, : len(item[1])] = item[1]
    if len(items[0]) == 2:
        return inputs, captions
    named = torch.full((len(items), longest - 1), -1, dtype=torch.long)
    cells = max(item[3].shape[1] for item in items)
    covers = torch.zeros(len(items), MAX_FOCUS_OBJECTS, cells)
    for i, item in enumerate(items):
        named[i, : len(item[2])] = item[2]
        covers[i, :, : item[3].shape[1]] = item[3]
    return inputs, captions, named, covers


def world_source(name: str, split: str, size: int, seed: int, image_size: int) -> CaptionSource:
    """A split of the world ``name`` (scenes or flowers) as a :class:`CaptionSource` at ``image_size``.

    Scenes are drawn at ``image_size`` and captioned canonically (training) or with every
    paraphrase (references); flowers are drawn at their own 64 pixels, resized, and
    captioned with :func:`~t2i_core.data.flowers.captioner_caption`.
    """
    if name == "scenes":
        world = load_world("scenes", split, size=size, seed=seed, image_size=image_size)
        samples = list(world.samples(render=False))
        captions = [[s.caption] for s in samples] if split == "train" else [s.captions for s in samples]
        return CaptionSource("scenes", rendered_images(world), captions, world_images_key(world), world)
    if name == "flowers":
        world = load_world("flowers", split, size=size, seed=seed)
        captions = [[captioner_caption(s.attributes)] for s in world.samples(render=False)]
        return CaptionSource("flowers", resized_images(world, image_size), captions, world_images_key(world, resized_to=image_size), world)
    raise ValueError(f"no captions for the world {name!r}; choose from {CAPTION_WORLDS}")


def generated_source(split: str, size: int, seed: int, image_size: int) -> CaptionSource:
    """The generators' flowers drawn from ``size`` captions of the Flowers ``split``, those the judge confirmed."""
    images, captions, stats = generated_flowers(split, size, seed, image_size)
    print(f"generated flowers ({split}): the judge confirmed {stats['kept']} of {stats['drawn']}")
    key = f"generated-flowers-{split}-n{size}-s{seed}-k{stats['kept']}-{hashlib.sha1(' '.join(captions).encode()).hexdigest()[:10]}-px{image_size}"
    return CaptionSource(GENERATED, images, [[c] for c in captions], key)


class CaptionData:
    """Training and validation sources (one per world, or one Karpathy dataset) with their captions.

    ``train`` and ``val`` list :class:`CaptionSource`, Scenes before Flowers.
    """

    def __init__(self, config: CaptionTaskConfig):
        size = config.model.image_size
        if config.data.startswith("karpathy:"):
            path = Path(config.data.split(":", 1)[1])
            self.name = "karpathy"
            train = load_karpathy(path, config.image_dir, "train")
            val = load_karpathy(path, config.image_dir, "val")[: config.val_size]
            if not train or not val:
                raise ValueError(f"{path} needs images in both the train and the val split")
            stat = path.stat()
            key = f"karpathy-{hashlib.sha1(f'{path.resolve()}-{stat.st_mtime_ns}-{stat.st_size}'.encode()).hexdigest()[:10]}-px{size}"
            self.train = [CaptionSource("karpathy", karpathy_images(train, size, path), [im.captions for im in train], f"{key}-train")]
            self.val = [CaptionSource("karpathy", karpathy_images(val, size, path, split="val"), [im.captions for im in val], f"{key}-val")]
            return
        self.name = config.data
        sizes = {"scenes": (config.train_size, config.val_size), "flowers": (config.flower_train_size, config.flower_val_size)}
        worlds = [w for w in CAPTION_WORLDS if w in config.worlds]  # Scenes first, whatever order data names them in
        self.train = [world_source(w, "train", sizes[w][0], config.world_seed, size) for w in worlds]
        self.val = [world_source(w, "val", sizes[w][1], config.world_seed, size) for w in worlds]
        if config.generated:
            self.train.append(generated_source("train", config.generated_train_size, config.world_seed, size))
            self.val.append(generated_source("val", config.generated_val_size, config.world_seed, size))

    @property
    def train_captions(self) -> list[list[str]]:
        """The training captions of every image of every source, in order."""
        return [captions for source in self.train for captions in source.captions]


def karpathy_images(images, size: int, json_path: Path, split: str = "train") -> np.ndarray:
    """The images, loaded safely and resized to ``size`` squared, as uint8 (M, size, size, 3), cached."""
    stat = json_path.stat()
    name = f"karpathy-{split}-{json_path.stem}-px{size}-n{len(images)}"
    digest = hashlib.sha1(f"{json_path.resolve()}-{stat.st_mtime_ns}-{stat.st_size}-{name}".encode()).hexdigest()[:10]

    def load() -> np.ndarray:
        return np.stack([np.asarray(load_rgb(im.path).resize((size, size), Image.Resampling.BICUBIC), dtype=np.uint8) for im in images])

    return cached_array(default_cache_dir() / f"{name}-{digest}.npy", load)


class CaptionTask(TrainingTask):
    """One captioner on Scenes, Flowers, both, or a Karpathy dataset; see the module docstring.

    The loop keeps its best weights by :meth:`selection_score` and stops it after
    ``config.patience`` evaluations without a better one. ``run_dir`` and ``resume`` are
    accepted for the callers' sake; the loop owns the run folder and what resuming remembers.
    """

    best_metric = "selection_score"

    def __init__(self, config: CaptionTaskConfig, run_dir: str | Path | None = None, resume: bool = True):
        self.config = config
        self.patience = config.patience
        self.data = CaptionData(config)
        self.vocabulary = Vocabulary.build((c for caps in self.data.train_captions for c in caps), min_count=config.min_count)
        config.model.vocab_size = len(self.vocabulary)
        self.evaluation: dict[str, float] = {}  # the step and results of the latest evaluation, kept in the export

    # ------------------------------------------------------------------ the loop's hooks
    def build_modules(self):
        self.model = Captioner(self.config.model, pretrained_encoder=True)
        if self.config.init_from:
            self._start_from(Path(self.config.init_from))
        self.ema = ema_copy(self.model) if self.config.ema_decay > 0 else None
        return {"captioner": self.model} | ({"ema": self.ema} if self.ema is not None else {})

    def _start_from(self, folder: Path):
        """Copy the weights of the captioner in ``folder`` (its decoder's when the encoder is frozen), which must
        match this run's model and vocabulary."""
        start = Captioner.from_pretrained(folder)
        if start.config != self.model.config:
            raise ValueError(f"--init-from {folder}: its model config differs from this run's: {start.config} vs {self.model.config}")
        if Vocabulary.load(folder).words != self.vocabulary.words:
            raise ValueError(f"--init-from {folder}: its vocabulary differs from this run's (train it on the same data)")
        if self.model.encoder.frozen:
            # A frozen encoder keeps its own pretrained weights: the checkpoint's are stored in fp16,
            # and features computed with those would not be the cached ones training reads.
            self.model.decoder.load_state_dict(start.decoder.state_dict())
        else:
            self.model.load_state_dict(start.state_dict())

    @property
    def evaluated_model(self) -> Captioner:
        """What is evaluated and exported: the weights' moving average when there is one, else the live weights."""
        return self.ema if self.ema is not None else self.model

    def build_optimizers(self, modules):
        trainable = [p for p in modules["captioner"].parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(trainable, lr=self.config.learning_rate, weight_decay=self.config.weight_decay)
        return {"adam": self.optimizer}

    @property
    def uses_cached_features(self) -> bool:
        return self.model.encoder.frozen

    def _inputs(self, source: CaptionSource) -> np.ndarray:
        if not self.uses_cached_features:
            return source.images
        key_of_first = source.key_of_first if source.world is not None else None  # a smaller split's features are reused
        return cached_features(self.model.encoder, self.model.config.encoder, source.images, source.key, key_of_first=key_of_first)

    def dataset(self):
        inputs = [self._inputs(source) for source in self.data.train]
        pairs = [
            (s, row, self.vocabulary.encode(caption, self.config.max_words))
            for s, source in enumerate(self.data.train)
            for row, captions in enumerate(source.captions)
            for caption in captions
        ]
        return CaptionPairs(inputs, pairs, are_features=self.uses_cached_features, focus=self._focus())

    @property
    def supervises_attention(self) -> bool:
        return self.config.focus_weight > 0 and self.model.config.kind == "show-attend-tell" and any(
            source.name == "scenes" for source in self.data.train)

    def _focus(self) -> list | None:
        """Per training source its :class:`SceneFocus` (Scenes) or None; None when attention is not supervised."""
        if not self.supervises_attention:
            return None
        return [
            scene_focus(source.world, source.key, self.model.grid_size, self.config.max_words) if source.name == "scenes" else None
            for source in self.data.train
        ]

    def collate(self, items):
        return pad_captions(items)

    def train_step(self, batch, step):
        inputs, captions = batch[0].to(self.device), batch[1].to(self.device)
        set_cosine_learning_rate(self.optimizer, self.config.learning_rate, step, self.config.total_steps, floor=0.1)
        model = self.ddp["captioner"]
        sampling = {}
        if self.config.self_critical > 0:
            sampling = {"sample_length": self.config.max_words + 1, "start_id": self.vocabulary.start_id, "end_id": self.vocabulary.end_id}
        if self.uses_cached_features:
            outputs = model(captions, features=inputs.float(), **sampling)
        else:
            outputs = model(captions, images=inputs.float() / 255.0, **sampling)
        logits, alphas = outputs[:2]
        loss, cross_entropy = self.model.loss(logits, alphas, captions, pad_id=self.vocabulary.pad_id)
        logs = {}
        if sampling:
            critical, rewards = self_critical_loss(outputs[2], outputs[3], captions, self.vocabulary,
                                                   baseline=lambda rows: self._greedy_words(inputs[rows], sampling["sample_length"]))
            if critical is not None:
                loss = loss + self.config.self_critical * critical
                logs.update(rewards)
        if len(batch) == 4:
            supervision = focus_loss(alphas, batch[2].to(self.device), batch[3].to(self.device))
            if supervision is not None:
                loss = loss + self.config.focus_weight * supervision
                logs["focus_loss"] = supervision.item()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        if self.ema is not None:
            update_ema(self.ema, self.model, ema_decay_at(step, self.config.ema_decay))
        targets = captions[:, 1:]
        real = targets != self.vocabulary.pad_id
        accuracy = ((logits.argmax(2) == targets) & real).sum().item() / max(real.sum().item(), 1)
        return {"loss": loss.item(), "cross_entropy": cross_entropy.item(), "word_accuracy": accuracy, **logs}

    @torch.no_grad()
    def _greedy_words(self, inputs: torch.Tensor, max_length: int) -> list[list[str]]:
        """The live weights' greedy captions of ``inputs`` (cached features or uint8 images), as words: the self-critical baseline."""
        # With a trainable encoder this encodes the pictures a second time (the training forward's
        # features carry its graph); self-critical runs so far train on cached features.
        features = inputs.float() if self.uses_cached_features else self.model.encode(inputs.float() / 255.0)
        decoder = self.model.decoder
        decoder.eval()  # the baseline is the caption the model would give: no dropout
        decoded = greedy_decode(decoder, features, self.vocabulary.start_id, self.vocabulary.end_id, max_length)
        decoder.train()
        return [self.vocabulary.decode(d.tokens) for d in decoded]

    def evaluate(self, step, run_dir: Path):
        """The validation results and the ``selection_score`` the loop keeps the best weights by."""
        results = self.validation_results()
        self.evaluation = {"step": step, **results}
        return results | {"selection_score": self.selection_score(results)}

    def validation_results(self) -> dict[str, float]:
        """Greedy captions of every validation source, measured.

        ``val_bleu4`` is BLEU-4 of the Scenes (or Karpathy) captions, of the flower captions
        when flowers are all there is; Scenes add ``val_all_objects_named`` and, with
        attention, ``val_pointing_accuracy`` and ``val_attention_mass``; Flowers add
        ``val_flower_roles_named`` (petal and stem colour both named in their roles); generated
        flowers ``val_generated_roles_named`` (the same, of the colours their prompts stated).
        """
        results = {}
        for source in self.data.val:
            inputs = self._inputs(source)
            decoded = caption_images(self.evaluated_model, self.vocabulary, inputs, are_features=self.uses_cached_features, beam_size=1, device=self.device)
            words = [w for w, _ in decoded]
            if source.name == GENERATED:  # the colours each caption states, read back from it
                stated = [read_colour_roles(captions[0]) for captions in source.captions]
                results["val_generated_roles_named"] = flower_roles_report(words, stated)["roles_named"]
                continue
            if source.name == "flowers":
                attributes = [s.attributes for s in source.world.samples(render=False)]
                results["val_flower_roles_named"] = flower_roles_report(words, attributes)["roles_named"]
                if len(self.data.val) > 1:
                    continue  # BLEU-4 stays the Scenes figure it always was
            results["val_bleu4"] = corpus_bleu4([" ".join(w) for w in words], source.captions)
            if source.name == "scenes":
                scenes = [source.world.sample(i, render=False) for i in range(len(decoded))]
                results["val_all_objects_named"] = naming_report(words, scenes)["all_objects_named"]
                if self.model.config.kind == "show-attend-tell":
                    pointing = scenes_pointing(source.world, decoded, self.model.grid_size)
                    results.update({f"val_{k}": pointing[k] for k in ("pointing_accuracy", "attention_mass")})
        return results

    def selection_score(self, results: dict[str, float]) -> float:
        """The number the best weights and early stopping go by (see ``CaptionTaskConfig.select``)."""
        if self.config.select == "bleu4":
            return results["val_bleu4"]
        return min(results[k] for k in ("val_bleu4", "val_pointing_accuracy", "val_flower_roles_named", "val_generated_roles_named") if k in results)

    def export(self, folder: Path):
        """The captioner (fp16) and its vocabulary; the metadata says its data and its latest evaluation.
        "data" names the worlds the out-of-world detector checks against; "sources" all the training data."""
        worlds = "+".join(self.config.worlds) or self.config.data
        self.evaluated_model.save_pretrained(folder, dtype=torch.float16, metadata={"data": worlds, "sources": self.config.data, **self.evaluation})
        self.vocabulary.save(folder)

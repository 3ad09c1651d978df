"""Flowers drawn by the shipped text-to-image generators, as captioner training pictures.

The round trip (prompt -> generator -> flower -> captioner) fails where the captioner has
only seen rendered flowers: the generator's 64-pixel flowers are softer, their colours
bleed, and a captioner trained on the renders alone read about half of them as scenes
(cycle score 0.385 while the judge found the prompt's colours in 0.950 of the images).
So the captioner also learns from generated flowers:

- prompts are Flowers *training* captions (every phrasing of the world), so nothing of the
  evaluation's prompts is chosen here; the noise of flower ``i`` comes from seed
  ``NOISE_SEED + i``, far from the seeds the round trip draws with (0 onward);
- each generator (``use`` and ``glove-avg``) draws half of them;
- the label is the captioner's phrasing of the prompt's colours
  (:func:`~t2i_core.data.flowers.captioner_caption`), but only where the flower attribute
  classifier (the judge) reads both colours off the picture as the prompt states them. A
  flower the generator got wrong would teach the captioner to name colours that are not
  there, so it is dropped, not relabelled.

The pictures are cached by split, size, seed, image side and the digests of the generator
and judge weights they came from.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..checkpoint import SHIPPED_CHECKPOINTS
from ..data import load_world
from ..data.cache import default_cache_dir, save_array
from ..data.flowers import captioner_caption
from ..models.flower_classifier import FlowerAttributeClassifier
from ..models.text2image_gan import Text2ImageGenerator
from .text2image_task import caption_embeddings

NOISE_SEED = 10_000_000  # flower i of a split draws its noise from NOISE_SEED + i (+ 5_000_000 for val)
GENERATORS = ("use", "glove-avg")
BATCH = 64
CHECKPOINTS = SHIPPED_CHECKPOINTS


def _digest(folder: Path) -> str:
    return hashlib.sha1((folder / "model.safetensors").read_bytes()).hexdigest()[:10]


def generated_flowers(split: str, size: int, seed: int, image_size: int, checkpoints: Path = CHECKPOINTS) -> tuple[np.ndarray, list[str], dict]:
    """(images uint8 (M, image_size, image_size, 3), captions (M,), stats) of the flowers kept.

    ``size`` flowers of the Flowers ``split`` (world seed ``seed``) give the prompts; ``stats``
    counts how many each generator drew and how many the judge confirmed.
    """
    folders = {name: Path(checkpoints) / f"text2image-{name}" for name in GENERATORS}
    judge_folder = Path(checkpoints) / "flower-attributes"
    key = "-".join([f"generated-flowers-{split}-n{size}-s{seed}-px{image_size}", *(_digest(f) for f in folders.values()), _digest(judge_folder)])
    folder = default_cache_dir()
    images_path, captions_path = folder / f"{key}.npy", folder / f"{key}-captions.txt"
    if images_path.is_file() and captions_path.is_file():
        lines = captions_path.read_text(encoding="utf-8").splitlines()
        stats = {"kept": len(lines) - 1, "drawn": int(lines[0])}
        return np.load(images_path, mmap_mode="r"), lines[1:], stats
    world = load_world("flowers", split, size=size, seed=seed)
    samples = list(world.samples(render=False))
    prompts = [s.captions[i % len(s.captions)] for i, s in enumerate(samples)]  # every phrasing of the world, in turn
    offset = NOISE_SEED + (0 if split == "train" else 5_000_000)
    judge = FlowerAttributeClassifier.from_pretrained(judge_folder).eval()
    kept_images, kept_captions = [], []
    for g, name in enumerate(GENERATORS):
        rows = list(range(g, len(samples), len(GENERATORS)))
        generator = Text2ImageGenerator.from_pretrained(folders[name]).eval()
        embeddings = torch.from_numpy(caption_embeddings(name, [prompts[i] for i in rows]))  # (R, D)
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            noise = torch.cat([torch.randn(1, generator.config.noise_dim, generator=torch.Generator().manual_seed(offset + i)) for i in chunk])
            with torch.no_grad():
                drawn = generator(embeddings[start : start + len(chunk)], noise, sample_condition=False).images  # (b, 3, 64, 64) in [-1, 1]
                pixels = ((drawn.clamp(-1, 1) + 1) * 127.5).round().byte()  # (b, 3, 64, 64) uint8, as the pipeline's PIL images
                read = judge.predict(pixels.float() / 255.0)
            for j, i in enumerate(chunk):
                stated = samples[i].attributes
                if read["petal_colour"][j] == stated["petal_colour"] and read["stem_colour"][j] == stated["stem_colour"]:
                    picture = Image.fromarray(pixels[j].permute(1, 2, 0).numpy(), "RGB")
                    if picture.size != (image_size, image_size):
                        picture = picture.resize((image_size, image_size), Image.Resampling.BICUBIC)  # as the pipelines resize
                    kept_images.append(np.asarray(picture, dtype=np.uint8))
                    kept_captions.append(captioner_caption(stated))
    if not kept_images:
        raise RuntimeError("the judge confirmed none of the generated flowers; are the shipped generators intact?")
    save_array(images_path, np.stack(kept_images))
    partial = captions_path.with_name(f"{captions_path.name}.{os.getpid()}.partial")  # atomic, as save_array
    partial.write_text("\n".join([str(len(samples)), *kept_captions]) + "\n", encoding="utf-8")
    os.replace(partial, captions_path)
    return np.load(images_path, mmap_mode="r"), kept_captions, {"kept": len(kept_captions), "drawn": len(samples)}

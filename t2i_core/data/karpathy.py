"""Real captioning datasets in Karpathy's split format (Flickr8k, Flickr30k, COCO).

``dataset_flickr8k.json`` (and its Flickr30k and COCO siblings) looks like::

    {"dataset": "flickr8k",
     "images": [{"filename": "1000268201_693b08cb0e.jpg", "filepath": "",   # COCO: "val2014"
                 "split": "train",                                       # train, val, test, restval
                 "sentences": [{"raw": "A child in a pink dress ...", "tokens": ["a", "child", ...]}, ...]},
                ...]}

An image's file is ``<image_dir>/<filepath>/<filename>``. ``restval`` images count as
training images, as in Karpathy's own code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

KARPATHY_SPLITS = ("train", "val", "test")


@dataclass
class KarpathyImage:
    """One image of the dataset: where it is, its split and its reference captions."""

    path: Path
    split: str
    captions: list[str] = field(default_factory=list)


def load_karpathy(json_path: str | Path, image_dir: str | Path | None = None, split: str | None = None) -> list[KarpathyImage]:
    """The images of a Karpathy split file, optionally of one split, in file order.

    Args:
        json_path: the ``dataset_*.json`` file.
        image_dir: the folder the image paths are relative to (default: the JSON file's
            folder, or its ``images/`` subfolder if that exists).
        split: ``train`` (with ``restval``), ``val`` or ``test``; None for all.

    Raises:
        FileNotFoundError: no JSON file, or an image file it names is missing.
        ValueError: the JSON is not in Karpathy's format.
    """
    json_path = Path(json_path)
    if not json_path.is_file():
        raise FileNotFoundError(f"no Karpathy split file at {str(json_path)!r}")
    if split is not None and split not in KARPATHY_SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {KARPATHY_SPLITS}")
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{json_path} is not valid JSON: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise ValueError(f"{json_path} is not in Karpathy's format: it needs an 'images' list")
    if image_dir is None:
        image_dir = json_path.parent / "images" if (json_path.parent / "images").is_dir() else json_path.parent
    image_dir = Path(image_dir)
    images = []
    for number, entry in enumerate(data["images"]):
        try:
            own_split = "train" if entry["split"] == "restval" else entry["split"]
            captions = [s["raw"] if "raw" in s else " ".join(s["tokens"]) for s in entry["sentences"]]
            path = image_dir / entry.get("filepath", "") / entry["filename"]
        except (KeyError, TypeError) as error:
            raise ValueError(f"image {number} of {json_path} lacks {error}; expected filename, split and sentences") from None
        if own_split not in KARPATHY_SPLITS:
            raise ValueError(f"image {number} of {json_path} has unknown split {entry['split']!r}")
        if split is not None and own_split != split:
            continue
        if not path.is_file():
            raise FileNotFoundError(f"{json_path} names {str(path)!r}, which does not exist; pass the image folder")
        if not captions:
            raise ValueError(f"image {number} of {json_path} ({entry['filename']}) has no sentences")
        images.append(KarpathyImage(path=path, split=own_split, captions=captions))
    return images

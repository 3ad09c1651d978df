"""The procedural worlds on the command line: ``data preview``, ``data render`` and ``data stats``, to look at a world
before training on it, and to have one of its pictures as a file for ``caption`` and ``vqa``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..data import WORLDS, load_world, world_class
from .common import Command, Verb, add_num, add_seed, at_least


# ---------------------------------------------------------------------- data preview
def preview_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("world", choices=sorted(WORLDS))
    add_num(parser, 16, "number of samples (default 16)")
    parser.add_argument("-o", "--output", default=None, help="PNG path (default <world>-preview.png)")
    parser.add_argument("--split", default="train", help="split name (default train)")
    add_seed(parser, what="the world")
    parser.add_argument("--columns", type=int, default=None, help="grid columns (default: square)")
    parser.add_argument("--scale", type=int, default=2, help="enlargement of each image (default 2)")


def run_preview(args: argparse.Namespace) -> int:
    world = load_world(args.world, split=args.split, seed=args.seed)
    output = Path(args.output or f"{args.world}-preview.png")
    if output.suffix.lower() != ".png":
        raise ValueError(f"the output must be a .png file, got {str(output)!r}")
    output.parent.mkdir(parents=True, exist_ok=True)
    world.preview(min(args.num, len(world)), columns=args.columns, scale=args.scale).save(output)
    print(f"wrote {output} ({min(args.num, len(world))} samples of {args.world}/{args.split}, seed {args.seed})")
    return 0


# ---------------------------------------------------------------------- data render
IMAGE_WORLDS = sorted(name for name in WORLDS if world_class(name).is_image_world)


def render_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("world", choices=IMAGE_WORLDS)
    parser.add_argument("--index", type=at_least(0), default=0, help="which sample of the split (default 0)")
    parser.add_argument("--split", default="test", help="split name (default test)")
    add_seed(parser, what="the world")
    parser.add_argument("--image-size", type=int, default=None, metavar="PIXELS",
                        help="side of the picture (default: the world's, 64 for flowers, 128 for scenes)")
    parser.add_argument("-o", "--output", default=None, help="PNG path (default <world>-<split>-<index>.png)")


def run_render(args: argparse.Namespace) -> int:
    options = {} if args.image_size is None else {"image_size": args.image_size}
    world = load_world(args.world, split=args.split, seed=args.seed, **options)
    if args.index >= len(world):
        raise ValueError(f"--index {args.index} is out of range: the {args.world} {args.split} split has {len(world)} samples (0 to {len(world) - 1})")
    output = Path(args.output or f"{args.world}-{args.split}-{args.index}.png")
    if output.suffix.lower() != ".png":
        raise ValueError(f"the output must be a .png file, got {str(output)!r}")
    sample = world.sample(args.index)
    output.parent.mkdir(parents=True, exist_ok=True)
    sample.image.save(output)
    print(f"wrote {output} ({args.world}/{args.split} sample {args.index}, seed {args.seed}, "
          f"{sample.image.width}x{sample.image.height}): {sample.caption}")
    return 0


# ---------------------------------------------------------------------- data stats
def stats_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("world", choices=sorted(WORLDS))
    parser.add_argument("--split", default=None, help="one split (default: every split)")
    add_num(parser, 1000, "samples counted per split (default 1000)")
    add_seed(parser, what="the world")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def run_stats(args: argparse.Namespace) -> int:
    cls = world_class(args.world)
    splits = [args.split] if args.split else list(cls.splits)
    report = {
        "world": args.world,
        "description": load_world(args.world, split=splits[0], seed=args.seed).describe(),
        "splits": {s: load_world(args.world, split=s, seed=args.seed).stats(args.num) for s in splits},
    }
    print(json.dumps(report, indent=2, default=str) if args.json else format_stats(report))
    return 0


def format_stats(report: dict) -> str:
    """The stats report as readable text."""
    lines = [f"world: {report['world']}"]
    for key, value in report["description"].items():
        if key == "name":
            continue
        if isinstance(value, dict) and len(value) > 3:
            lines.append(f"{key}:")
            lines.extend(f"  {k}: {v}" for k, v in value.items())
        elif isinstance(value, list) and len(value) > 3:
            lines.append(f"{key}:")
            for item in value:
                shown = ", ".join(f"{k} {v}" for k, v in item.items()) if isinstance(item, dict) else item
                lines.append(f"  {shown}")
        else:
            lines.append(f"{key}: {value}")
    for split, stats in report["splits"].items():
        words = stats["caption_words"]
        lines.append("")
        lines.append(
            f"[{split}] size {stats['size']}, counted {stats['sampled']}; "
            f"caption words mean {words['mean']:.1f} (min {words['min']}, max {words['max']}), "
            f"vocabulary {stats['vocabulary_size']}, distinct captions {stats['distinct_captions']}"
        )
        for attribute, counts in stats["attributes"].items():
            shown = ", ".join(f"{k} {v}" for k, v in counts.items())
            lines.append(f"  {attribute}: {shown}")
    return "\n".join(lines)


VERB = Verb(
    "data",
    help="look at the procedural worlds",
    description="Look at the procedural worlds.",
    metavar="<data command>",
    commands=(
        Command(
            "preview",
            help="save a grid of samples with their captions",
            description="Render the first N samples of a world split into one PNG grid with captions.",
            options=preview_options,
            run=run_preview,
        ),
        Command(
            "render",
            help="save one sample's picture as a PNG (an input for caption and vqa)",
            description=(
                "Write the bare picture of one sample of an image world (no caption, no grid), e.g. "
                "`data render scenes --index 7 -o scene.png`, to caption it or ask questions about it."
            ),
            options=render_options,
            run=run_render,
        ),
        Command(
            "stats",
            help="print attribute distributions, caption lengths and what is held out",
            description="Count attributes and caption statistics over the first N samples of each split.",
            options=stats_options,
            run=run_stats,
        ),
    ),
)

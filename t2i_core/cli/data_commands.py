"""``data preview`` and ``data stats``: look at a procedural world before training on it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..data import WORLDS, load_world, world_class


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``data`` and its sub-commands."""
    data = commands.add_parser("data", help="look at the procedural worlds", description="Look at the procedural worlds.")
    sub = data.add_subparsers(dest="data_command", metavar="<data command>")
    sub.required = True

    preview = sub.add_parser(
        "preview",
        help="save a grid of samples with their captions",
        description="Render the first N samples of a world split into one PNG grid with captions.",
    )
    preview.add_argument("world", choices=sorted(WORLDS))
    preview.add_argument("-n", "--num", type=int, default=16, help="number of samples (default 16)")
    preview.add_argument("-o", "--output", default=None, help="PNG path (default <world>-preview.png)")
    preview.add_argument("--split", default="train", help="split name (default train)")
    preview.add_argument("--seed", type=int, default=0, help="world seed (default 0)")
    preview.add_argument("--columns", type=int, default=None, help="grid columns (default: square)")
    preview.add_argument("--scale", type=int, default=2, help="enlargement of each image (default 2)")
    preview.set_defaults(func=run_preview)

    stats = sub.add_parser(
        "stats",
        help="print attribute distributions, caption lengths and what is held out",
        description="Count attributes and caption statistics over the first N samples of each split.",
    )
    stats.add_argument("world", choices=sorted(WORLDS))
    stats.add_argument("--split", default=None, help="one split (default: every split)")
    stats.add_argument("-n", "--num", type=int, default=1000, help="samples counted per split (default 1000)")
    stats.add_argument("--seed", type=int, default=0, help="world seed (default 0)")
    stats.add_argument("--json", action="store_true", help="print JSON instead of text")
    stats.set_defaults(func=run_stats)


def run_preview(args: argparse.Namespace) -> int:
    if args.num < 1:
        raise ValueError(f"-n must be at least 1, got {args.num}")
    world = load_world(args.world, split=args.split, seed=args.seed)
    output = Path(args.output or f"{args.world}-preview.png")
    if output.suffix.lower() != ".png":
        raise ValueError(f"the output must be a .png file, got {str(output)!r}")
    output.parent.mkdir(parents=True, exist_ok=True)
    world.preview(min(args.num, len(world)), columns=args.columns, scale=args.scale).save(output)
    print(f"wrote {output} ({min(args.num, len(world))} samples of {args.world}/{args.split}, seed {args.seed})")
    return 0


def run_stats(args: argparse.Namespace) -> int:
    if args.num < 1:
        raise ValueError(f"-n must be at least 1, got {args.num}")
    cls = world_class(args.world)
    splits = [args.split] if args.split else list(cls.splits)
    report = {
        "world": args.world,
        "description": load_world(args.world, split=splits[0], seed=args.seed).describe(),
        "splits": {s: load_world(args.world, split=s, seed=args.seed).stats(args.num) for s in splits},
    }
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print(format_stats(report))
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

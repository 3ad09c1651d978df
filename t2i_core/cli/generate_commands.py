"""``generate``: flower images from a sentence with a shipped text-to-image generator."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data.preview import make_image_grid


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "generate",
        help="sentence -> flower images (text-to-image GAN)",
        description="Generate flower images for a sentence and save them as one PNG grid.",
    )
    parser.add_argument("prompt", nargs="+", help='e.g. "a red flower with a yellow stem"; several prompts give a row each')
    parser.add_argument("--encoder", default="use", help="use or glove-avg: which generator (default use)")
    parser.add_argument("-n", "--num-images", type=int, default=8, help="images (default 8)")
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    parser.add_argument("-o", "--output", default="generated.png", help="PNG path (default generated.png)")
    parser.add_argument("--checkpoint", default=None, help="a generator folder or hub id instead of the shipped one")
    parser.add_argument("--masks", action="store_true", help="also save the residual-attention masks beside the grid")
    parser.set_defaults(func=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    from ..pipelines.text2image import Text2ImagePipeline

    output = Path(args.output)
    if output.suffix.lower() != ".png":
        raise ValueError(f"the output must be a .png file, got {str(output)!r}")
    pipe = Text2ImagePipeline(args.encoder, checkpoint=args.checkpoint)
    results = pipe(args.prompt, num_images=args.num_images, seed=args.seed, return_masks=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    # One prompt: its images wrap at 8 a row, uncaptioned; several: a captioned row per prompt.
    columns = min(8, args.num_images) if len(results) == 1 else args.num_images
    captions = None if len(results) == 1 else [r.prompt if j == 0 else "" for r in results for j in range(args.num_images)]
    make_image_grid([im for r in results for im in r.images], captions, columns=columns, scale=2, caption_lines=2).save(output)
    print(f"wrote {output}: {args.num_images} images of each of {len(results)} prompt(s) ({args.encoder}, seed {args.seed})")
    if args.masks:
        from PIL import Image

        for size in results[0].masks:
            tiles = [Image.fromarray((m / max(m.max(), 1e-6) * 255).astype("uint8"), "L").resize((64, 64), Image.Resampling.BILINEAR)
                     for r in results for m in r.masks[size]]
            path = output.with_name(f"{output.stem}-mask{size}.png")
            make_image_grid(tiles, captions, columns=columns, scale=2, caption_lines=2).save(path)
            print(f"wrote {path}: attention masks at {size}x{size}")
    return 0

"""Training throughput of the text-to-image GAN: the classic and the projected recipe side by side.

Run: ``python benchmarks/text2image_train_speed.py [--batch-size 32] [--steps 6] [--threads 1]``.
Each recipe runs its real ``train_step`` (discriminator step, generator step, EMA update)
on real rendered flowers, with the sizes ``train text2image`` uses for it by default; the
first step is a warm-up. Prints seconds per step and training images per second, and
the projected recipe's speed-up, measured in the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from t2i_core.training.text2image_task import RECIPES, Text2ImageTask, recipe_config  # noqa: E402


def seconds_per_step(recipe: str, batch_size: int, steps: int, train_size: int) -> list[float]:
    """Wall seconds of each of ``steps`` training steps (after one warm-up) of ``recipe``."""
    task = Text2ImageTask(recipe_config(recipe, text_encoder="use", train_size=train_size), classifier_path=None)
    modules = task.build_modules()
    task.build_optimizers(modules)
    task.ddp = modules
    loader = torch.utils.data.DataLoader(task.dataset(), batch_size=batch_size, shuffle=True, drop_last=True)
    batches = iter(loader)
    times = []
    for step in range(steps + 1):
        batch = next(batches)
        start = time.perf_counter()
        task.train_step(batch, step)
        if step:
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--train-size", type=int, default=512, help="flowers to draw batches from (rendered once, cached)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rates = {}
    print(f"batch {args.batch_size}, {args.threads} thread(s), {args.steps} timed steps each, 64x64 images")
    for recipe in ("classic", "projected"):
        times = seconds_per_step(recipe, args.batch_size, args.steps, args.train_size)
        median = sorted(times)[len(times) // 2]
        rates[recipe] = args.batch_size / median
        width = RECIPES[recipe]["width"]
        print(f"  {recipe:9s} (width {width}): {median:6.2f} s/step, {rates[recipe]:6.1f} training images/s")
    print(f"  projected / classic: {rates['projected'] / rates['classic']:.1f}x the images per second")


if __name__ == "__main__":
    main()

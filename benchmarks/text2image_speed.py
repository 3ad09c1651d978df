"""How fast the shipped text-to-image pipeline answers: a batch of 8 images, text encoding included.

Run: ``python benchmarks/text2image_speed.py [--encoder use] [--repeats 20]``. Prints the
median and 90th percentile wall time of ``pipe(prompt, num_images=8)`` with fresh prompts
(so the encoder's cache does not help), and the same for the generator alone.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from timing import median_and  # noqa: E402

import t2i_core  # noqa: E402
from t2i_core.data.flowers import FLOWER_COLOURS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--encoder", default="use")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoint", default=None, help="a generator folder (default: the shipped one)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    pipe = t2i_core.load_pipeline("text2image", encoder=args.encoder, checkpoint=args.checkpoint)
    pipe("a red flower with a yellow stem", num_images=8)  # warm-up
    prompts = [f"a {FLOWER_COLOURS[i % 8]} flower with a {FLOWER_COLOURS[(i + 3) % 8]} stem, picture {i}" for i in range(args.repeats)]
    end_to_end, generator_only = [], []
    for i, prompt in enumerate(prompts):
        start = time.perf_counter()
        pipe(prompt, num_images=8, seed=i)
        end_to_end.append(time.perf_counter() - start)
        embedding = pipe.embed([prompt]).expand(8, -1)
        noise = pipe._noise(8, i)
        start = time.perf_counter()
        pipe.generate(embedding, noise)
        generator_only.append(time.perf_counter() - start)

    def summary(values):
        return median_and(values, 0.9)

    print(f"encoder {args.encoder}, {args.threads} threads, {args.repeats} fresh prompts, 8 images of 64x64 each")
    print(f"  prompt -> 8 images (encoding included): {summary(end_to_end)}")
    print(f"  generator alone:                        {summary(generator_only)}")


if __name__ == "__main__":
    main()

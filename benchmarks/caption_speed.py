"""How fast the shipped captioner answers: one 128x128 scene, encoder and beam search included.

Run: ``python benchmarks/caption_speed.py [--model show-attend-tell] [--beam 3] [--repeats 30]``.
Prints the median and 90th percentile wall time of ``pipe(image, beam_size=...)`` on fresh
Scenes test images (PIL in, caption and maps out), and of the encoder alone.
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
from t2i_core.data import load_world  # noqa: E402
from t2i_core.data.images import to_tensor_batch  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="show-attend-tell")
    parser.add_argument("--checkpoint", default=None, help="a captioner folder (default: the shipped one)")
    parser.add_argument("--beam", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    pipe = t2i_core.load_pipeline("caption", model=args.model, checkpoint=args.checkpoint, device="cpu")
    world = load_world("scenes", "test", size=args.repeats + 1, seed=7)
    images = [world.sample(i).image for i in range(args.repeats + 1)]
    pipe(images[-1], beam_size=args.beam)  # warm-up
    end_to_end, encoder_only = [], []
    for image in images[:-1]:
        start = time.perf_counter()
        pipe(image, beam_size=args.beam)
        end_to_end.append(time.perf_counter() - start)
        batch = to_tensor_batch([image], pipe.model.config.image_size)
        start = time.perf_counter()
        with torch.no_grad():
            pipe.model.encode(batch)
        encoder_only.append(time.perf_counter() - start)

    def summary(values):
        return median_and(values, 0.9)

    print(f"{pipe.name} ({pipe.model.config.encoder}), beam {args.beam}, {args.threads} threads, {args.repeats} Scenes images of 128x128")
    print(f"  image -> caption + maps: {summary(end_to_end)}")
    print(f"  encoder alone:           {summary(encoder_only)}")


if __name__ == "__main__":
    main()

"""``train world-detector`` and ``eval world-detector``: the out-of-world detector of captioning and VQA."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from .reports import write_report

SHIPPED = Path(__file__).resolve().parents[2] / "checkpoints" / "world-detector"


def add_train_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "world-detector",
        help="the out-of-world detector shared by the captioners and VQA (a closed-form fit, minutes on a CPU)",
        description="Fit one Gaussian per world (Scenes, Flowers) to the frozen EfficientNet-Lite0 grid statistics of "
                    "its training split; p-values come from its validation split.",
    )
    parser.add_argument("--train-size", type=int, default=4000, help="training pictures per world (default 4000)")
    parser.add_argument("--val-size", type=int, default=1000, help="validation pictures per world, for the p-values (default 1000)")
    parser.add_argument("--threshold", type=float, default=0.01,
                        help="in world when at least this share of the world's own validation pictures is as atypical (default 0.01)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the worlds' splits (default 0)")
    parser.add_argument("--output", default="runs/world-detector", help="folder of the fitted detector (default runs/world-detector)")
    parser.add_argument("--ship", action="store_true", help="copy it into checkpoints/world-detector")
    parser.set_defaults(func=run_train)


def add_eval_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "world-detector",
        help="share of each world's test pictures called in world, and of scikit-image's photos called out",
        description="Measure the out-of-world detector: in-world rate on Scenes (test, held-out style, held-out "
                    "combinations) and Flowers test; out-of-world rate on scikit-image's sample photos and crops of them.",
    )
    parser.add_argument("--checkpoint", default=None, metavar="PATH", help="the detector (default: shipped)")
    parser.add_argument("-n", "--size", type=int, default=500, help="pictures per world split (default 500)")
    parser.add_argument("--crops", type=int, default=4, help="random crops per photo besides the whole photo (default 4)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the splits and crops (default 1)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("-o", "--output", default=None, metavar="FILE", help="also write the JSON report here")
    parser.set_defaults(func=run_eval)


def run_train(args: argparse.Namespace) -> int:
    from ..training.world_detector_fit import fit_world_detector

    if args.train_size < 10 or args.val_size < 10:
        raise ValueError("--train-size and --val-size must be at least 10")
    if not 0 < args.threshold < 1:
        raise ValueError(f"--threshold must be between 0 and 1, got {args.threshold}")
    detector = fit_world_detector(args.train_size, args.val_size, seed=args.seed, threshold=args.threshold)
    reproduce = (f"python -m t2i_core train world-detector --train-size {args.train_size} --val-size {args.val_size} "
                 f"--threshold {args.threshold} --seed {args.seed}")
    output = Path(args.output)
    detector.save_pretrained(output, metadata={"reproduce": reproduce})
    print(f"fitted in {detector.config.fit['seconds']} s -> {output}")
    if args.ship:
        if SHIPPED.exists():
            shutil.rmtree(SHIPPED)
        shutil.copytree(output, SHIPPED)
        print(f"shipped {output} -> {SHIPPED}")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from ..evaluation.world_detector import evaluate_world_detector
    from ..models.world_detector import WorldDetector

    detector = WorldDetector.from_pretrained(args.checkpoint or SHIPPED)
    report = evaluate_world_detector(detector, size=args.size, seed=args.seed, crops_per_photo=args.crops)
    text = write_report(report, args.output)
    if args.json:
        print(text)
        return 0
    print(f"threshold (p-value): {report['threshold']}")
    for split, rate in report["in_world_rate"].items():
        print(f"  {split:<24} in world {rate:.3f}  (median score {report['median_score'][split]:.3f})")
    photos = report["photos"]
    print(f"  photos ({photos['n']}, whole and crops)  out of world {photos['out_of_world_rate']:.3f}; "
          f"whole photos out {photos['whole_photos_out']:.3f}")
    if photos["called_in_world"]:
        print("  photos called in world: " + ", ".join(photos["called_in_world"]))
    return 0

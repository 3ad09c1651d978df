"""Convergence of text-to-image runs: Frechet ratio against minutes of training, from their logs.

Run: ``python benchmarks/text2image_convergence.py --run projected=runs/text2image-use
--run classic=runs/classic-use -o docs/text2image-convergence.png``. Needs matplotlib
(``pip install matplotlib``; only this script uses it). Each run's ``metrics.jsonl`` gives
the evaluations the training loop logged (``frechet_ratio``: judge-feature Frechet
distance over the real-vs-real floor, 512 images) and the seconds each session had
trained; sessions of a resumed run are laid end to end. Also prints the table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def training_minutes_by_step(records: list[dict]) -> dict[int, float]:
    """Step -> minutes trained up to it, summed over the run's sessions (each restarts its clock)."""
    minutes, offset, last = {}, 0.0, 0.0
    for record in records:
        if "seconds" not in record:
            continue
        if record["seconds"] < last:  # a new session of a resumed run
            offset += last
        last = record["seconds"]
        minutes[record["step"]] = (offset + last) / 60
    return minutes


def curve(run_dir: Path, metric: str = "frechet_ratio") -> list[tuple[int, float, float]]:
    """(step, minutes, value) of every logged evaluation of ``metric`` in a run folder."""
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    minutes = training_minutes_by_step(records)
    points = []
    for record in records:
        value = record.get("eval", {}).get(metric)
        if value is not None and record["step"] in minutes:
            points.append((record["step"], minutes[record["step"]], float(value)))
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", action="append", required=True, metavar="LABEL=FOLDER", help="a run folder and its label (repeat)")
    parser.add_argument("--metric", default="frechet_ratio")
    parser.add_argument("--reference", action="append", default=[], metavar="LABEL=VALUE",
                        help="a horizontal line, e.g. the shipped generator's figure on the same monitor (repeat)")
    parser.add_argument("-o", "--output", default="docs/text2image-convergence.png")
    parser.add_argument("--title", default="Frechet distance / real-vs-real floor (lower is better), 2-core CPU")
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4), dpi=120)
    for item in args.run:
        label, _, folder = item.partition("=")
        if not folder:
            raise SystemExit(f"--run takes LABEL=FOLDER, got {item!r}")
        points = curve(Path(folder), args.metric)
        if not points:
            raise SystemExit(f"{folder}: no logged {args.metric}")
        print(f"{label}: " + ", ".join(f"{m:.0f} min {v:.2f}" for _, m, v in points))
        axis.plot([m for _, m, _ in points], [v for _, _, v in points], marker="o", label=label)
    axis.set_yscale("log")
    for item in args.reference:
        label, _, value = item.partition("=")
        axis.axhline(float(value), color="black", linestyle=":", linewidth=1, label=label)
    axis.axhline(3.0, color="grey", linestyle="--", linewidth=1, label="target (3x)")
    axis.set_xlabel("minutes of training (one CPU core each)")
    axis.set_ylabel(args.metric.replace("_", " "))
    axis.set_title(args.title, fontsize=10)
    axis.legend()
    axis.grid(alpha=0.3)
    figure.tight_layout()
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

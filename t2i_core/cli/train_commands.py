"""``train <model>``: one command per shipped model, a fixed seed, resumable, DDP-ready.

Every run writes ``run_config.json`` (how to reproduce it), ``metrics.jsonl``, sample
grids, a resumable ``last/`` state and the exported checkpoint in ``final/``; with
``--ship`` the checkpoint is also copied into ``checkpoints/``. Runs under
``torchrun --nproc_per_node=N python -m t2i_core train ...`` use DistributedDataParallel.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from ..device import describe_machine, select_device
from ..training import TrainConfig, train
from ..training.text2image_task import RECIPES

SHIPPED = Path(__file__).resolve().parents[2] / "checkpoints"

def _common(parser: argparse.ArgumentParser, steps: int, batch: int, output: str) -> None:
    parser.add_argument("--steps", type=int, default=steps, help=f"optimisation steps (default {steps})")
    parser.add_argument("--batch-size", type=int, default=batch, help=f"global batch size (default {batch})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the run (default 0)")
    parser.add_argument("--output", default=output, help=f"run folder (default {output})")
    parser.add_argument("--eval-every", type=int, default=500, help="steps between evaluations (default 500)")
    parser.add_argument("--save-every", type=int, default=250, help="steps between resumable saves (default 250)")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: automatic, or $T2I_DEVICE)")
    parser.add_argument("--time-limit", type=float, default=None, metavar="MINUTES",
                        help="stop early after this many minutes of training (saves, evaluates and exports at the step reached)")
    parser.add_argument("--fresh", action="store_true", help="start over instead of resuming from <output>/last")
    parser.add_argument("--ship", action="store_true", help="copy the final checkpoint into checkpoints/")


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``train`` and one sub-command per trainable model."""
    group = commands.add_parser("train", help="train a model from scratch (resumable)", description=__doc__)
    sub = group.add_subparsers(dest="model", metavar="<model>")
    sub.required = True

    classifier = sub.add_parser(
        "flower-classifier",
        help="the flower attribute classifier that judges the generators",
        description="Train the flower attribute classifier on rendered Flowers images.",
    )
    _common(classifier, steps=1200, batch=128, output="runs/flower-classifier")
    classifier.add_argument("--train-size", type=int, default=20000, help="training flowers (default 20000)")
    classifier.set_defaults(func=run_flower_classifier)

    gan = sub.add_parser(
        "text2image",
        help="the text-to-image GAN (GAN-INT-CLS with residual attention)",
        description="Train a text-to-image GAN conditioned on a sentence encoder.",
    )
    _common(gan, steps=3000, batch=32, output="runs/text2image-{encoder}")
    gan.add_argument("--encoder", default="use", help="text encoder name (default use)")
    gan.add_argument("--train-size", type=int, default=20000, help="training flowers (default 20000)")
    gan.add_argument("--classifier", default=str(SHIPPED / "flower-attributes"), help="judge used for the binding metric during training")
    gan.add_argument("--discriminator", choices=tuple(RECIPES), default="projected",
                     help="projected: judge in frozen EfficientNet-Lite0 features, with differentiable augmentation; "
                          "classic: the seed's discriminator trained from scratch (default projected)")
    gan.add_argument("--width", type=int, default=None,
                     help="channels of generator and discriminator at 32x32 (default: the recipe's, "
                          + ", ".join(f"{k} {v['width']}" for k, v in RECIPES.items()) + ")")
    gan.add_argument("--projection", action=argparse.BooleanOptionalAction, default=True,
                     help="add the projection term to the discriminator (default on)")
    gan.add_argument("--auxiliary-weight", type=float, default=None,
                     help="weight of the discriminator's petal/stem colour heads (TAC-GAN); 0 turns them off (default: the recipe's, "
                          + ", ".join(f"{k} {v['auxiliary_weight']}" for k, v in RECIPES.items()) + ")")
    gan.add_argument("--auxiliary-attributes", action="store_true",
                     help="heads for every attribute (centre colour, petal shape and count, size), not only the two colours")
    gan.add_argument("--attribute-reader", action="store_true",
                     help="projected: the attribute heads read the frozen features through their own reader, trained on real images only, "
                          "instead of the adversarial head features")
    gan.add_argument("--reconstruction-weight", type=float, default=0.0,
                     help="projected: BicycleGAN's cVAE term, L1 of real flowers redrawn from the noise a latent encoder "
                          "reads off them (against one flower per prompt); 0 turns it off (default 0)")
    gan.add_argument("--mode-seeking-weight", type=float, default=0.0,
                     help="weight of the MSGAN mode-seeking term against mode collapse; 0 turns it off (default 0)")
    gan.set_defaults(func=run_text2image)

    from .caption_commands import add_train_parser as add_caption_parser

    add_caption_parser(sub, _common)

    from .dates_commands import add_train_parser as add_dates_parser

    add_dates_parser(sub, _common)

    from .vqa_commands import add_train_parser as add_vqa_parser

    add_vqa_parser(sub, _common)

    from .world_detector_commands import add_train_parser as add_world_detector_parser

    add_world_detector_parser(sub)


def _train_config(args: argparse.Namespace, output: str) -> TrainConfig:
    if args.steps < 1 or args.batch_size < 1:
        raise ValueError("--steps and --batch-size must be at least 1")
    return TrainConfig(
        output_dir=output,
        seed=args.seed,
        max_steps=args.steps,
        batch_size=args.batch_size,
        eval_every=args.eval_every,
        save_every=args.save_every,
        device=args.device,
        resume=not args.fresh,
        time_limit=None if args.time_limit is None else 60.0 * args.time_limit,
    )


def training_sessions(records: list[dict]) -> list[dict]:
    """The sessions of a run from its ``metrics.jsonl`` records, in order: the last step and
    the seconds each one trained, whether it finished (wrote its ``finished`` record) and
    on which machine. A session stopped from outside (the machine went away) has no
    ``finished`` record; it is found where the session clock starts again, and counts up
    to its last logged step."""
    sessions: list[dict] = []
    current: dict | None = None
    for record in records:
        if "seconds" not in record:
            continue
        if current is None or current["finished"] or record["seconds"] < current["seconds"]:
            current = {"step": record["step"], "seconds": record["seconds"], "finished": False, "machine": None}
            sessions.append(current)
        current["step"], current["seconds"] = record["step"], max(current["seconds"], record["seconds"])
        if record.get("finished"):
            current["finished"], current["machine"] = True, record.get("machine")
    return sessions


def ship(run_dir: Path, name: str) -> Path:
    """Copy a run's exported checkpoint into ``checkpoints/<name>`` with ``training.json``.

    ``training.json`` holds the run's config (how to reproduce it), its last evaluation
    and its wall time, so a shipped checkpoint says how it was made.
    """
    import json

    target = SHIPPED / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(run_dir / "final", target)
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    evaluations = [r for r in records if "eval" in r]
    finished = [r for r in records if r.get("finished")]
    here = describe_machine(select_device(None))
    # One entry per training session of the run (a resumed run has several); a session
    # logged before machines were recorded, or stopped before its end, gets this
    # machine's description, marked so.
    sessions = [{"step": t["step"], "seconds": t["seconds"], "machine": t["machine"] or f"{here} (recorded when shipped)",
                 **({} if t["finished"] else {"stopped": True})} for t in training_sessions(records)]
    summary = {
        "run": json.loads((run_dir / "run_config.json").read_text(encoding="utf-8")),
        "last_evaluation": evaluations[-1] if evaluations else None,
        "evaluations": evaluations,
        "steps": finished[-1]["step"] if finished else None,
        "seconds_last_session": finished[-1]["seconds"] if finished else None,
        "seconds_total": round(sum(s["seconds"] for s in sessions), 1),
        "sessions": sessions,
    }
    (target / "training.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"shipped {run_dir / 'final'} -> {target}")
    return target


def run_flower_classifier(args: argparse.Namespace) -> int:
    from ..training.flower_classifier_task import FlowerClassifierTask, FlowerClassifierTaskConfig

    task = FlowerClassifierTask(FlowerClassifierTaskConfig(train_size=args.train_size, total_steps=args.steps), seed=args.seed)
    run_dir = train(task, _train_config(args, args.output))
    if args.ship:
        ship(run_dir, "flower-attributes")
    return 0


def run_text2image(args: argparse.Namespace) -> int:
    from ..training.text2image_task import Text2ImageTask, recipe_config

    output = args.output.format(encoder=args.encoder)
    task_config = recipe_config(args.discriminator, width=args.width, auxiliary_weight=args.auxiliary_weight, projection=args.projection,
                                text_encoder=args.encoder, train_size=args.train_size, auxiliary_attributes=args.auxiliary_attributes,
                                attribute_reader=args.attribute_reader, reconstruction_weight=args.reconstruction_weight,
                                mode_seeking_weight=args.mode_seeking_weight)
    task = Text2ImageTask(task_config, classifier_path=args.classifier)
    run_dir = train(task, _train_config(args, output))
    if args.ship:
        ship(run_dir, f"text2image-{args.encoder}")
    return 0

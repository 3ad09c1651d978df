"""The captioners on the command line: ``caption IMAGE``, ``train caption`` and ``eval caption``."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from ..data.vocabulary import Vocabulary
from ..evaluation.captioning import DEFAULT_SCENES_SPLITS, FLOWER_SPLIT_PREFIX, evaluate_captioner, report_details, report_summary
from ..models.attention import SCORES
from ..models.captioning import CAPTION_MODELS, Captioner, CaptionerConfig
from ..models.image_encoders import IMAGE_ENCODERS
from ..pipelines.caption import CaptionPipeline, shipped_checkpoint, trained_worlds
from ..training import train
from ..training.caption_task import CaptionTask, CaptionTaskConfig
from .common import (
    Command,
    ModelCommands,
    add_checkpoints,
    add_num,
    add_report_options,
    add_training_options,
    at_least,
    measure_checkpoints,
    parse_checkpoints,
    print_report,
    set_threads,
    ship,
    train_config,
)


# ---------------------------------------------------------------------- caption IMAGE
def caption_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", help="an image file (PNG, JPEG, GIF, WebP, BMP, TIFF)")
    parser.add_argument("--model", choices=CAPTION_MODELS, default="show-attend-tell", help="which captioner (default show-attend-tell)")
    parser.add_argument("--checkpoint", default=None, help="a captioner folder or Hub repo id instead of the shipped one")
    parser.add_argument("--beam", type=int, default=3, help="beam size; 1 is greedy (default 3)")
    parser.add_argument("--length-penalty", type=float, default=0.0, help="GNMT length penalty alpha (default 0)")
    parser.add_argument("--overlays", default=None, metavar="DIR", help="write one PNG per word: the image with that word's attention")
    parser.add_argument("--json", action="store_true", help="print JSON (caption, words, attention maps)")


def run_caption(args: argparse.Namespace) -> int:
    pipe = CaptionPipeline(args.model, checkpoint=args.checkpoint)
    result = pipe(args.image, beam_size=args.beam, length_penalty=args.length_penalty)
    words, attention = result.words[0], result.attention[0]
    written = []
    if args.overlays:
        folder = Path(args.overlays)
        folder.mkdir(parents=True, exist_ok=True)
        for i, word in enumerate(words):
            path = folder / f"{i:02d}-{word}.png"
            result.overlay(i).save(path)
            written.append(str(path))
    if args.json:
        print(json.dumps({
            "caption": result.captions[0],
            "words": words,
            "model": pipe.name,
            "beam_size": args.beam,
            "log_probability": result.scores[0],
            "finished": result.finished[0],
            "attention_shape": list(attention.shape),
            "attention": [[[round(float(v), 5) for v in row] for row in m] for m in attention],
            "overlays": written,
            "note": pipe.trained_on,
        }))
    else:
        print(result.captions[0])
        if written:
            print(f"wrote {len(written)} overlays to {args.overlays}")
    return 0


# ---------------------------------------------------------------------- train caption
def train_options(parser: argparse.ArgumentParser) -> None:
    add_training_options(parser, steps=6000, batch_size=32, output="runs/caption-{model}", ship_as="caption-<model>", eval_every=None)
    parser.add_argument("--model", choices=CAPTION_MODELS, default="show-attend-tell", help="default show-attend-tell")
    parser.add_argument("--encoder", choices=IMAGE_ENCODERS, default="efficientnet-lite0+colour",
                        help="image encoder (default efficientnet-lite0+colour, the shipped captioner's)")
    parser.add_argument("--fine-tune-encoder", action="store_true", help="train efficientnet-lite0 too instead of caching its features")
    parser.add_argument("--score", choices=SCORES, default="additive", help="attention score function (default additive)")
    parser.add_argument("--alpha-c", type=float, default=1.0, help="weight of the doubly stochastic attention penalty (default 1)")
    parser.add_argument("--coverage", action="store_true", help="the attention score reads each cell's attention so far (Show, Attend and Tell)")
    parser.add_argument("--hidden-dim", type=at_least(1), default=256, help="LSTM state size (default 256)")
    parser.add_argument("--cell-layers", type=int, choices=[1, 2], default=1,
                        help="layers of the per-cell network from encoder features to keys (Show, Attend and Tell; default 1)")
    parser.add_argument("--cell-context", action="store_true", help="a residual 3x3 convolution over the grid of keys (Show, Attend and Tell)")
    parser.add_argument("--data", default="scenes+flowers+generated",
                        help="'scenes+flowers', 'scenes', 'flowers', any of them with flowers plus '+generated' (the shipped generators' "
                             "flowers, judge-confirmed) or 'karpathy:PATH/dataset_flickr8k.json' (default scenes+flowers+generated)")
    parser.add_argument("--image-dir", default=None, help="folder of the Karpathy images (default: beside the JSON)")
    parser.add_argument("--train-size", type=at_least(1), default=32000, help="Scenes training images (default 32000, the shipped captioner's)")
    parser.add_argument("--val-size", type=at_least(1), default=500,
                        help="Scenes (or Karpathy) validation images decoded per evaluation (default 500)")
    parser.add_argument("--flower-train-size", type=at_least(1), default=4000, help="Flowers training images, when --data names flowers (default 4000)")
    parser.add_argument("--flower-val-size", type=at_least(1), default=250, help="Flowers validation images decoded per evaluation (default 250)")
    parser.add_argument("--generated-train-size", type=at_least(1), default=3000,
                        help="prompts of generated training flowers, when --data adds +generated; the judge keeps about 0.8 (default 3000)")
    parser.add_argument("--min-count", type=int, default=None, help="rarer words become <unk> (default 1 on Scenes, 5 on Karpathy data)")
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (default 2e-3)")
    parser.add_argument("--lr-steps", type=int, default=None, help="length of the cosine learning-rate decay (default: --steps)")
    parser.add_argument("--patience", type=at_least(1), default=3, help="evaluations without a better selection score before stopping (default 3)")
    parser.add_argument("--select", choices=["min-bleu4-pointing", "bleu4"], default="min-bleu4-pointing",
                        help="which validation score picks the best weights: the lower of BLEU-4 and pointing (Scenes with attention), "
                             "or BLEU-4 (default min-bleu4-pointing)")
    parser.add_argument("--focus-weight", type=float, default=1.0,
                        help="weight of the attention supervision on Scenes words that name an object (Show, Attend and Tell; 0: none; default 1)")
    parser.add_argument("--self-critical", type=float, default=0.0, metavar="WEIGHT",
                        help="weight of the self-critical loss rewarding captions that name every object of a scene (default 0: none)")
    parser.add_argument("--init-from", default=None, metavar="CHECKPOINT",
                        help="start from this captioner checkpoint folder (same model options and data), e.g. to fine-tune with --self-critical")
    parser.add_argument("--ema", type=float, default=0.0, metavar="DECAY",
                        help="evaluate, keep and export a moving average of the weights with this decay, e.g. 0.999 (default 0: the live weights)")


def run_train(args: argparse.Namespace) -> int:
    set_threads(args)
    min_count = args.min_count if args.min_count is not None else (5 if args.data.startswith("karpathy:") else 1)
    model = CaptionerConfig(
        kind=args.model, encoder=args.encoder, freeze_encoder=not args.fine_tune_encoder,
        score=args.score, alpha_c=args.alpha_c, coverage=args.coverage, cell_context=args.cell_context,
        hidden_dim=args.hidden_dim, cell_layers=args.cell_layers,
    )
    config = CaptionTaskConfig(
        data=args.data, image_dir=args.image_dir, train_size=args.train_size, val_size=args.val_size,
        flower_train_size=args.flower_train_size, flower_val_size=args.flower_val_size,
        generated_train_size=args.generated_train_size, min_count=min_count, learning_rate=args.lr,
        total_steps=args.lr_steps or args.steps, patience=args.patience,
        select=args.select, focus_weight=args.focus_weight, ema_decay=args.ema,
        self_critical=args.self_critical, init_from=args.init_from, model=model,
    )
    output = args.output.format(model=args.model)
    task = CaptionTask(config, run_dir=output, resume=not args.fresh)
    if args.eval_every is None:
        pairs = sum(len(c) for c in task.data.train_captions)
        args.eval_every = max(1, math.ceil(pairs / args.batch_size))  # one epoch
    run_dir = train(task, train_config(args, output))
    if args.ship:
        ship(run_dir, f"caption-{args.model}")
    return 0


# ---------------------------------------------------------------------- eval caption
def eval_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", nargs="+", choices=CAPTION_MODELS, default=list(CAPTION_MODELS), help="default: both")
    add_checkpoints(parser, "MODEL")
    parser.add_argument("--splits", nargs="+", default=None,
                        help="Scenes splits, and Flowers splits as flowers-<split> (default: test heldout-combos heldout-style, "
                             "and flowers-test for a captioner trained on flowers)")
    add_num(parser, None, "pictures per split (default: the whole split)", aliases=["--num-scenes"])
    parser.add_argument("--beams", nargs="+", type=at_least(1), default=[1, 3], help="beam sizes (default 1 3)")
    parser.add_argument("--no-meteor", action="store_true", help="skip METEOR (it needs Java)")
    add_report_options(parser, "tables")


def default_splits(folder: Path) -> list[str]:
    """The splits ``eval caption`` measures a checkpoint on: the Scenes ones, and flowers-test if it learned flowers."""
    return [*DEFAULT_SCENES_SPLITS, *([f"{FLOWER_SPLIT_PREFIX}test"] if "flowers" in trained_worlds(folder) else [])]


def run_eval(args: argparse.Namespace) -> int:
    def measure(model: Captioner, folder: Path) -> dict:
        return evaluate_captioner(model, Vocabulary.load(folder), splits=args.splits or default_splits(folder),
                                  size=args.num, beam_sizes=args.beams, meteor=not args.no_meteor)

    checkpoints = parse_checkpoints(args.checkpoint, CAPTION_MODELS, "MODEL")
    report = {"models": measure_checkpoints(args.models, checkpoints, shipped_checkpoint, Captioner.from_pretrained, measure)}
    return print_report(args, report, report_summary, report_details)


COMMANDS = ModelCommands(
    train=Command(
        "caption",
        help="an image captioner (Show and Tell or Show, Attend and Tell)",
        description=(
            "Train a captioner on the Scenes and Flowers worlds together (the default, as the shipped "
            "captioners are: one model that captions both worlds), on one of them, or on a Karpathy-format "
            "dataset. Evaluates validation BLEU-4 every epoch (--eval-every to change), and on the "
            "worlds the objects named, pointing and the flower colours named; keeps the best weights "
            "and stops after --patience evaluations without improvement."
        ),
        options=train_options,
        run=run_train,
    ),
    eval=Command(
        "caption",
        help="BLEU, METEOR, ROUGE-L, CIDEr, objects named, attention pointing and flower colours named of the captioners",
        description=(
            "Caption Scenes test, held-out-combination and held-out-style images (and, for a captioner trained "
            "on flowers, Flowers test images) with each captioner at each beam size. Scenes captions are scored "
            "with pycocoevalcap against every reference caption of the scene, by the share of scenes whose "
            "every object's colour and shape is named, and by the attention: for each generated colour or "
            "shape word, whether the map's peak is on the named object (pointing accuracy) and how much of "
            "the map lies on it (attention mass). Flower captions are scored by the share naming the petal "
            "and the stem colour in their roles."
        ),
        options=eval_options,
        run=run_eval,
    ),
    inference=(Command(
        "caption",
        help="image -> caption, with each word's attention map",
        description=(
            "Caption an image with a shipped captioner and show where it looked for every word. "
            "The captioners are trained on the Scenes and Flowers worlds: a photo still gets a caption in "
            "their words, marked as out of world."
        ),
        options=caption_options,
        run=run_caption,
    ),),
)

"""The text-to-image GAN on the command line: ``generate PROMPT``, ``train text2image`` and ``eval text2image``."""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

from ..data.preview import make_image_grid
from ..evaluation.text2image import evaluate_text2image, report_details, report_summary
from ..pipelines.text2image import DEFAULT_ENCODER, Text2ImagePipeline, shipped_encoders
from ..registry import TEXT_ENCODERS
from ..training import train
from ..training.text2image_task import RECIPES, Text2ImageTask, recipe_config
from .common import (
    SHIPPED,
    Command,
    ModelCommands,
    add_checkpoints,
    add_num,
    add_report_options,
    add_seed,
    add_training_options,
    at_least,
    parse_checkpoints,
    print_report,
    set_threads,
    ship,
    train_config,
)


# ---------------------------------------------------------------------- generate PROMPT
def generate_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prompt", nargs="+", help='e.g. "a red flower with a yellow stem"; several prompts give a row each')
    parser.add_argument("--encoder", default=DEFAULT_ENCODER,
                        help=f"which generator, by its sentence encoder: {', '.join(shipped_encoders())} (default {DEFAULT_ENCODER})")
    add_num(parser, 8, "images of each prompt (default 8)", aliases=["--num-images"])
    add_seed(parser, what="the noise")
    parser.add_argument("-o", "--output", default="generated.png", help="PNG path (default generated.png)")
    parser.add_argument("--checkpoint", default=None, help="a generator folder or hub id instead of the shipped one")
    parser.add_argument("--masks", action="store_true", help="also save the residual-attention masks beside the grid")


def run_generate(args: argparse.Namespace) -> int:
    output = Path(args.output)
    if output.suffix.lower() != ".png":
        raise ValueError(f"the output must be a .png file, got {str(output)!r}")
    pipe = Text2ImagePipeline(args.encoder, checkpoint=args.checkpoint)
    result = pipe(args.prompt, num_images=args.num, seed=args.seed, return_masks=True)
    prompts = len(result.prompts)
    output.parent.mkdir(parents=True, exist_ok=True)
    # One prompt: its images wrap at 8 a row, uncaptioned; several: a captioned row per prompt.
    columns = min(8, args.num) if prompts == 1 else args.num
    captions = None if prompts == 1 else [p if j == 0 else "" for p in result.prompts for j in range(args.num)]
    make_image_grid([im for images in result.images for im in images], captions, columns=columns, scale=2, caption_lines=2).save(output)
    print(f"wrote {output}: {args.num} images of each of {prompts} prompt(s) ({args.encoder}, seed {args.seed})")
    if args.masks:
        for size, masks in result.masks.items():  # masks (P, n, size, size)
            tiles = [Image.fromarray((m / max(m.max(), 1e-6) * 255).astype("uint8"), "L").resize((64, 64), Image.Resampling.BILINEAR)
                     for m in masks.reshape(-1, size, size)]
            path = output.with_name(f"{output.stem}-mask{size}.png")
            make_image_grid(tiles, captions, columns=columns, scale=2, caption_lines=2).save(path)
            print(f"wrote {path}: attention masks at {size}x{size}")
    return 0


# ---------------------------------------------------------------------- train text2image
def _recipe_defaults(setting: str) -> str:
    """ "projected 0.5, classic 0.0": what each recipe sets ``setting`` to, for a help text."""
    return ", ".join(f"{name} {recipe[setting]}" for name, recipe in RECIPES.items())


def train_options(parser: argparse.ArgumentParser) -> None:
    add_training_options(parser, steps=3000, batch_size=32, output="runs/text2image-{encoder}", ship_as="text2image-<encoder>")
    parser.add_argument("--encoder", choices=TEXT_ENCODERS.names(), default=DEFAULT_ENCODER, help=f"text encoder (default {DEFAULT_ENCODER})")
    parser.add_argument("--train-size", type=at_least(1), default=20000, help="training flowers (default 20000)")
    parser.add_argument("--classifier", default=str(SHIPPED / "flower-attributes"), help="judge used for the binding metric during training")
    parser.add_argument("--discriminator", choices=tuple(RECIPES), default="projected",
                        help="projected: judge in frozen EfficientNet-Lite0 features, with differentiable augmentation; "
                             "classic: the seed's discriminator trained from scratch (default projected)")
    parser.add_argument("--width", type=int, default=None,
                        help="channels of generator and discriminator at 32x32 (default: the recipe's, "
                             + ", ".join(f"{k} {v['width']}" for k, v in RECIPES.items()) + ")")
    parser.add_argument("--projection", action=argparse.BooleanOptionalAction, default=True,
                        help="add the projection term to the discriminator (default on)")
    parser.add_argument("--auxiliary-weight", type=float, default=None,
                        help="weight of the discriminator's petal/stem colour heads (TAC-GAN); 0 turns them off (default: the recipe's, "
                             + ", ".join(f"{k} {v['auxiliary_weight']}" for k, v in RECIPES.items()) + ")")
    parser.add_argument("--auxiliary-attributes", action="store_true",
                        help="heads for every attribute (centre colour, petal shape and count, size), not only the two colours")
    parser.add_argument("--attribute-reader", action="store_true",
                        help="projected: the attribute heads read the frozen features through their own reader, trained on real images only, "
                             "instead of the adversarial head features")
    parser.add_argument("--reconstruction-weight", type=float, default=0.0,
                        help="projected: BicycleGAN's cVAE term, L1 of real flowers redrawn from the noise a latent encoder "
                             "reads off them (against one flower per prompt); 0 turns it off (default 0)")
    parser.add_argument("--label-projection", action="store_true",
                        help="projected: the discriminator's projection term also reads the attributes each caption states "
                             "(the generator still reads only the sentence embedding)")
    parser.add_argument("--condition-probe-weight", type=float, default=0.0,
                        help="weight of a linear probe that must read the stated attributes off the generator's text condition; 0 turns it off (default 0)")
    parser.add_argument("--guide-weight", type=float, default=None,
                        help="weight of a frozen attribute classifier, fitted on real flowers at 32x32 before the run, whose "
                             "cross-entropy on the generator's images against the stated attributes the generator lowers; 0 turns it off "
                             "(default: the recipe's, "
                             + _recipe_defaults("guide_weight") + ")")
    parser.add_argument("--condition-sampling", action=argparse.BooleanOptionalAction, default=None,
                        help="conditioning augmentation: train on a condition sampled around the text's mean (default: the recipe's, "
                             + _recipe_defaults("condition_sampling") + ")")
    parser.add_argument("--kl-weight", type=float, default=None,
                        help="weight of conditioning augmentation's KL term (default: the recipe's, " + _recipe_defaults("kl_weight") + ")")
    parser.add_argument("--mode-seeking-weight", type=float, default=None,
                        help="weight of the MSGAN mode-seeking term against mode collapse; 0 turns it off (default: the recipe's, "
                             + _recipe_defaults("mode_seeking_weight") + ")")


def run_train(args: argparse.Namespace) -> int:
    set_threads(args)
    output = args.output.format(encoder=args.encoder)
    task_config = recipe_config(args.discriminator, width=args.width, auxiliary_weight=args.auxiliary_weight, projection=args.projection,
                                text_encoder=args.encoder, train_size=args.train_size, auxiliary_attributes=args.auxiliary_attributes,
                                attribute_reader=args.attribute_reader, reconstruction_weight=args.reconstruction_weight,
                                mode_seeking_weight=args.mode_seeking_weight, label_projection=args.label_projection,
                                condition_probe_weight=args.condition_probe_weight, guide_weight=args.guide_weight,
                                condition_sampling=args.condition_sampling, kl_weight=args.kl_weight)
    task = Text2ImageTask(task_config, classifier_path=args.classifier)
    run_dir = train(task, train_config(args, output))
    if args.ship:
        ship(run_dir, f"text2image-{args.encoder}")
    return 0


# ---------------------------------------------------------------------- eval text2image
def eval_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--encoders", nargs="*", default=["use", "glove-avg"], metavar="NAME",
                        help="generators to measure, by encoder (default: use glove-avg)")
    parser.add_argument("--prompts", default=None, metavar="FILE", help="JSONL of {text, expected: {petal_colour, stem_colour, ...}} to score too")
    add_num(parser, 500, "prompts per group (default 500)", aliases=["--num-prompts"], minimum=2)
    add_checkpoints(parser, "ENCODER")
    parser.add_argument("--classifier", default=None, metavar="PATH", help="the judge's checkpoint (default: shipped)")
    add_seed(parser, what="prompts and noise")
    add_report_options(parser, "tables")


def run_eval(args: argparse.Namespace) -> int:
    checkpoints = parse_checkpoints(args.checkpoint, what="ENCODER")
    report = evaluate_text2image(args.encoders, n_prompts=args.num, seed=args.seed, prompts_file=args.prompts,
                                 classifier=args.classifier, checkpoints=checkpoints)
    return print_report(args, report, report_summary, report_details)


COMMANDS = ModelCommands(
    train=Command(
        "text2image",
        help="the text-to-image GAN (GAN-INT-CLS with residual attention)",
        description="Train a text-to-image GAN conditioned on a sentence encoder.",
        options=train_options,
        run=run_train,
    ),
    eval=Command(
        "text2image",
        help="colour binding, diversity and Frechet distance of the text-to-image generators",
        description=(
            "Judge each shipped generator with the flower attribute classifier: binding accuracy (petal and "
            "stem colour both right) on seen prompts, held-out templates, held-out colour pairs and "
            "order-swapped twins; per-attribute accuracy; diversity and Frechet distance in the judge's "
            "feature space next to the same figures for real images."
        ),
        options=eval_options,
        run=run_eval,
    ),
    inference=(Command(
        "generate",
        help="sentence -> flower images (text-to-image GAN)",
        description="Generate flower images for a sentence and save them as one PNG grid.",
        options=generate_options,
        run=run_generate,
    ),),
)

"""The round trip on the command line: ``eval round-trip`` (prompt -> generator -> flower -> captioner -> the prompt's colours named?)."""

from __future__ import annotations

import argparse

from ..evaluation.round_trip import evaluate_round_trip, report_details, report_summary
from ..evaluation.text2image import seen_prompts
from ..pipelines.text2image import DEFAULT_ENCODER, shipped_encoders
from ..registry import load_pipeline
from .common import Command, ModelCommands, add_num, add_report_options, add_seed, at_least, print_report


def eval_options(parser: argparse.ArgumentParser) -> None:
    add_num(parser, 200, "seen prompts (default 200)", aliases=["--num-prompts"])
    add_seed(parser, what="the prompts and of the first flower's noise")
    parser.add_argument("--beam", type=at_least(1), default=3, help="the captioner's beam size (default 3)")
    parser.add_argument("--encoder", default=DEFAULT_ENCODER,
                        help=f"the generator, by its sentence encoder: {', '.join(shipped_encoders())} (default {DEFAULT_ENCODER})")
    parser.add_argument("--generator-checkpoint", default=None, metavar="PATH", help="a generator folder instead of the shipped one")
    parser.add_argument("--captioner-checkpoint", default=None, metavar="PATH", help="a captioner folder instead of the default one")
    parser.add_argument("--no-judge", action="store_true", help="skip the flower attribute classifier")
    add_report_options(parser, "a summary")


def run_eval(args: argparse.Namespace) -> int:
    if args.seed < 0:
        raise ValueError(f"--seed must be at least 0, got {args.seed}")
    generator = load_pipeline("text2image", encoder=args.encoder, checkpoint=args.generator_checkpoint, device="cpu")
    captioner = load_pipeline("caption", checkpoint=args.captioner_checkpoint, device="cpu")
    judge = None if args.no_judge else load_pipeline("flower-attributes", device="cpu")
    report = evaluate_round_trip(generator, captioner, seen_prompts(args.num, seed=args.seed), seed=args.seed,
                                 beam_size=args.beam, judge=judge)
    report["generator"] = args.generator_checkpoint or f"shipped text2image-{args.encoder}"
    report["captioner"] = args.captioner_checkpoint or f"shipped caption-{captioner.name}"
    return print_report(args, report, report_summary, report_details)


COMMANDS = ModelCommands(
    eval=Command(
        "round-trip",
        help="the cycle score: prompt -> USE generator -> flower -> default captioner -> the prompt's colours named?",
        description=(
            "Send seen prompts (seen colour pairs, seen phrasings) through the shipped USE text-to-image generator, "
            "one flower each (prompt i with seed SEED+i, as the app's Round trip tab draws it), caption every flower "
            "with the default captioner, and report the cycle score: the share of captions that name the prompt's "
            "petal colour and stem colour, each in its role. The flower attribute classifier says how many flowers "
            "the generator drew right, to separate its mistakes from the captioner's."
        ),
        options=eval_options,
        run=run_eval,
    ),
)

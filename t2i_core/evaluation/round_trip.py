"""The round trip: prompt -> text-to-image generator -> flower -> captioner -> caption, scored by its colours.

The cycle score is the share of round trips whose caption names the prompt's petal colour
and stem colour, each in its role (read by :func:`~t2i_core.data.flowers.read_colour_roles`):
a caption that swaps the two colours fails, and so does a Scenes caption of a flower.
The prompts are the text-to-image evaluation's seen prompts (seen colour pairs in seen
phrasings, :func:`~t2i_core.evaluation.text2image.seen_prompts`); prompt ``i`` is drawn
once, as the app's Round trip tab draws it with seed ``seed + i``, and captioned at
``beam_size``.

A failed round trip is the generator's fault or the captioner's. With the flower attribute
classifier (the judge of ``eval text2image``) the report tells them apart:
``generator_right`` is the share of images the judge reads with the prompt's two colours,
and ``cycle_score_where_generator_right`` the cycle score on those images alone, the
captioner's own part.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..data.flowers import read_colour_roles
from .formatting import Block, figure
from .text2image import COLOUR_KEYS, Prompt


def evaluate_round_trip(generator, captioner, prompts: Sequence[Prompt], seed: int = 0, beam_size: int = 3,
                        judge=None, examples: int = 10) -> dict[str, Any]:
    """The cycle score of ``prompts`` through ``generator`` and ``captioner`` (see the module docstring).

    Args:
        generator: a text-to-image pipeline: ``generator(text, num_images=1, seed=s)`` -> a result
            whose ``images[0]`` holds the one image.
        captioner: a caption pipeline: ``captioner(image, beam_size=k)`` -> a result with
            ``captions`` and ``in_world`` (one entry each).
        prompts: each with ``expected`` petal and stem colours.
        judge: the flower attribute pipeline (``judge(images).attributes`` -> a dict of colours per image), or None.
        examples: how many failed round trips the report lists.

    Returns:
        ``cycle_score``, ``petal_named``, ``stem_named``, ``in_world_rate`` (the captioner's
        out-of-world detector on the generated flowers), with a judge ``generator_right`` and
        ``cycle_score_where_generator_right``, and ``failures``: the first failed round trips.
    """
    if not prompts:
        raise ValueError("no prompts to send round")
    petal, stem, in_world, images, records = [], [], [], [], []
    for i, prompt in enumerate(prompts):
        (image,) = generator(prompt.text, num_images=1, seed=seed + i).images[0]
        result = captioner(image, beam_size=beam_size)
        caption = result.captions[0]
        roles = read_colour_roles(caption)
        petal.append(roles["petal_colour"] == prompt.expected["petal_colour"])
        stem.append(roles["stem_colour"] == prompt.expected["stem_colour"])
        in_world.append(bool(result.in_world[0]))
        images.append(image)
        records.append({"prompt": prompt.text, "seed": seed + i, "caption": caption,
                        "expected": {k: prompt.expected[k] for k in COLOUR_KEYS}, "read": roles})
    cycle = np.logical_and(petal, stem)
    report: dict[str, Any] = {
        "n": len(prompts),
        "seed": seed,
        "beam_size": beam_size,
        "cycle_score": float(cycle.mean()),
        "petal_named": float(np.mean(petal)),
        "stem_named": float(np.mean(stem)),
        "in_world_rate": float(np.mean(in_world)),
    }
    if judge is not None:
        seen = judge(images).attributes
        right = np.array([all(s[k] == p.expected[k] for k in COLOUR_KEYS) for s, p in zip(seen, prompts)])
        report["generator_right"] = float(right.mean())
        report["cycle_score_where_generator_right"] = float(cycle[right].mean()) if right.any() else None
        for record, s in zip(records, seen):
            record["judge"] = {k: s[k] for k in COLOUR_KEYS}
    report["failures"] = [r for r, ok in zip(records, cycle) if not ok][:examples]
    return report


def report_summary(report: dict) -> list[Block]:
    """The report of :func:`evaluate_round_trip` as the About tab shows it: one sentence, the cycle score."""
    return [f"Round trip (prompt -> USE generator -> flower -> default captioner), cycle score on {report['n']} seen prompts: "
            f"**{report['cycle_score']:.1%}** of the captions name the prompt's petal and stem colours in their roles."]


def report_details(report: dict) -> list[Block]:
    """What ``eval round-trip`` prints below the summary: which models, each colour named
    on its own, what the judge says of the flowers, and the first failures."""
    lines = [f"{report['n']} seen prompts, {report.get('generator', 'the generator')} -> {report.get('captioner', 'the captioner')} "
             f"(beam {report['beam_size']})",
             f"petal colour named {report['petal_named']:.3f}, stem colour named {report['stem_named']:.3f}; "
             f"flowers the captioner called in world {report['in_world_rate']:.3f}"]
    if "generator_right" in report:
        lines.append(f"the judge reads both colours as prompted on {report['generator_right']:.3f} of the flowers; "
                     f"cycle score on those {figure(report['cycle_score_where_generator_right'])}")
    blocks: list[Block] = ["\n".join(lines)]
    if report["failures"]:
        blocks.append("\n".join(["failures:", *(f"  {f['prompt']!r} -> {f['caption']!r}" for f in report["failures"][:5])]))
    return blocks

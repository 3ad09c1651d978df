"""The About tab: what each model is, where it comes from, and what it measured (read from the shipped results)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gradio as gr

from ..checkpoint import SHIPPED_CHECKPOINTS
from ..evaluation import captioning, dates, encoders, round_trip, shipped_results, text2image, vqa
from ..evaluation.formatting import Block, markdown
from ..evaluation.model_card import read_training, session_machines
from ..registry import PIPELINES


def figures(name: str, report_summary: Callable[[dict], list[Block]], missing: str) -> str:
    """The shipped report ``results/<name>.json`` as Markdown, by its evaluation's ``report_summary``, or ``missing`` in italics."""
    report = shipped_results(name)
    return (report and markdown(report_summary(report))) or f"_{missing}_"


def caption_figures() -> str:
    """The captioners' figures, and the cycle score of the round trip when one is shipped."""
    cycle = shipped_results("round-trip")
    closing = "\n\n" + markdown(round_trip.report_summary(cycle)) if cycle else ""
    return figures("caption", captioning.report_summary, "No evaluation of the captioners is shipped yet.") + closing


def training_time(folder: str, label: str, checkpoints: Path = SHIPPED_CHECKPOINTS) -> tuple[str, str] | None:
    """("the USE generator in 149 min (7523 steps)", "cpu: 2 cores, ...") from the checkpoint's ``training.json``;
    None if it is not shipped. The second part names the machines its sessions ran on (without their notes)."""
    if not (checkpoints / folder / "config.json").is_file():
        return None
    training = read_training(checkpoints / folder)
    if training.seconds is None:
        return f"{label} (its training time is not recorded)", ""
    machines = ", ".join(session_machines(training.sessions))
    return f"{label} in {training.seconds / 60:.0f} min" + (f" ({training.steps} steps)" if training.steps else ""), machines


def generator_times(checkpoints: Path = SHIPPED_CHECKPOINTS) -> str:
    """How long each shipped generator trained, on what, as their ``training.json`` records it (a shared machine named once)."""
    times = [t for t in (training_time("text2image-use", "the USE generator", checkpoints),
                         training_time("text2image-glove-avg", "the averaged-GloVe one", checkpoints)) if t]
    if not times:
        return ""
    machines = {machine for _, machine in times}
    if len(machines) == 1:
        (machine,) = machines
        parts, shared = [time for time, _ in times], (f", each on {machine}" if machine else "")
    else:
        parts, shared = [f"{time} on {machine}" if machine else time for time, machine in times], ""
    return f"Trained from scratch, as each checkpoint's `training.json` records it: {' and '.join(parts)}{shared}."


def build_about() -> None:
    """Lay out the tab in the current ``gr.Tab``: one Markdown block."""
    gr.Markdown(
        "**t2i_core** shows what attention and sentence encoders do, with models trained here on "
        "procedural worlds with ground truth, and measured.\n\n"
        "### Text to image\n"
        "GAN-INT-CLS (Reed et al., 2016, *Generative Adversarial Text to Image Synthesis*): a DCGAN-style "
        "generator conditioned on a sentence embedding, with residual attention modules (Wang et al., 2017, "
        "*Residual Attention Network*) "
        "at 8x8 and 16x16 and text-conditioned batch norm in every block (DF-GAN, Tao et al., 2022). It is trained "
        "against a projected discriminator (Sauer et al., 2021, *Projected GANs Converge Faster*): images are "
        "judged in the frozen features of ImageNet EfficientNet-Lite0 at three scales, mixed by fixed random "
        "projections, with a small head per scale, a projection term (Miyato & Koyama, 2018), the "
        "matching-aware loss and colour heads (TAC-GAN, Dash et al., 2017), on differentiably augmented "
        "images (Zhao et al., 2020), with the mode-seeking term of MSGAN (Mao et al., 2019) and a frozen attribute "
        "classifier fitted to real flowers as a guide. One generator reads the Universal Sentence Encoder "
        "(Cer et al., 2018), the other the average of GloVe vectors (Pennington et al., 2014). "
        + generator_times() + "\n\n"
        + figures("text2image", text2image.report_summary, "No evaluation of the generators is shipped yet.")
        + "\n\n### Sentence encoders\n"
        "Does the encoder read word order? Cosine of a sentence to its order-swapped twin and to a paraphrase "
        "(90 built-in triplets), and a linear probe that reads petal and stem colour off the embedding of a "
        "flower caption.\n\n"
        + figures("encoders", encoders.report_summary, "No encoder benchmark is shipped yet.")
        + "\n\n### Image captioning\n"
        "Show and Tell (Vinyals et al., 2015) and Show, Attend and Tell (Xu et al., 2015, soft attention with "
        "doubly stochastic regularisation) over a frozen ImageNet EfficientNet-Lite0 grid, trained on Scenes and Flowers.\n\n"
        + caption_figures()
        + "\n\n### Visual question answering\n"
        "The element-wise-product baseline (Antol et al., 2015) and stacked attention (Yang et al., 2016) on "
        "questions generated from the Scenes ground truth.\n\n"
        + figures("vqa", vqa.report_summary, "No evaluation of the VQA models is shipped yet.")
        + "\n\n### Date translator\n"
        "A character-level sequence-to-sequence model with attention (Bahdanau et al., 2015, *Neural Machine "
        "Translation by Jointly Learning to Align and Translate*; Luong et al., 2015, *Effective Approaches to "
        "Attention-based Neural Machine Translation*): a bidirectional LSTM reads the written date, an LSTM "
        "writes the ISO date, attending at every character with an additive, dot or general score.\n\n"
        + figures("dates", dates.report_summary, "No evaluation of the date translators is shipped yet.")
        + "\n\n### Train them yourself\n"
        "Every model is trained by one command with a fixed seed (see README.md): "
        "`python -m t2i_core train text2image --encoder use`, and "
        "`torchrun --nproc_per_node=4 -m t2i_core train ...` on several GPUs. To train on a real dataset, "
        "write a `World` (a torch Dataset of images and captions) like `t2i_core/data/flowers.py`.\n\n"
        f"Registered pipelines: {', '.join(PIPELINES.names())}."
    )

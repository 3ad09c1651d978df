"""The command line that rebuilds a shipped checkpoint, from the run config its ``training.json`` recorded.

A card never types a command by hand: a checkpoint whose record has no ``reproduce`` line
gets one rebuilt here from the config the training loop saved, option by option, so the
card and the run cannot disagree (``tests/test_model_cards.py`` parses each line back into
the run config).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable


def _shared_training_options(train: dict) -> list[str]:
    return ["--steps", str(train["max_steps"]), "--batch-size", str(train["batch_size"]), "--eval-every", str(train["eval_every"]),
            "--save-every", str(train["save_every"]), "--seed", str(train["seed"])]


def _command(*words: str) -> str:
    return "python -m t2i_core " + shlex.join(words)


def command_flower_classifier(run: dict) -> str:
    """The ``train flower-classifier`` line that rebuilds the recorded run config."""
    return _command("train", "flower-classifier", "--train-size", str(run["task"]["train_size"]), *_shared_training_options(run["train"]),
                    "--fresh", "--ship")


def command_dates(run: dict) -> str:
    """The ``train dates`` line that rebuilds the recorded run config."""
    task, model = run["task"], run["task"]["model"]
    return _command("train", "dates", "--score", model["score"], "--encoder-cell", model["encoder_cell"], "--train-size", str(task["train_size"]),
                    "--lr", str(task["learning_rate"]), *_shared_training_options(run["train"]), "--fresh", "--ship")


def command_caption(run: dict) -> str:
    """The ``train caption`` line that rebuilds the recorded run config (options absent from an older record are left out)."""
    task, model = run["task"], run["task"]["model"]
    words = ["train", "caption", "--model", model["kind"], "--encoder", model["encoder"], "--score", model["score"],
             "--alpha-c", str(model["alpha_c"]), "--data", task["data"], "--train-size", str(task["train_size"]),
             "--val-size", str(task["val_size"]), "--flower-train-size", str(task["flower_train_size"]),
             "--flower-val-size", str(task["flower_val_size"])]
    if "generated_train_size" in task:
        words += ["--generated-train-size", str(task["generated_train_size"])]
    words += ["--min-count", str(task["min_count"]), "--lr", str(task["learning_rate"]), "--lr-steps", str(task["total_steps"]),
              "--patience", str(task["patience"]), "--select", task["select"]]
    if "focus_weight" in task:
        words += ["--focus-weight", str(task["focus_weight"])]
    if not model["freeze_encoder"]:
        words.append("--fine-tune-encoder")
    # Later options, written only where the run changed them, so older records rebuild as they did.
    words += [flag for key, flag in (("coverage", "--coverage"), ("cell_context", "--cell-context")) if model.get(key)]
    if model["hidden_dim"] != 256:
        words += ["--hidden-dim", str(model["hidden_dim"])]
    if model.get("cell_layers", 1) != 1:
        words += ["--cell-layers", str(model["cell_layers"])]
    if task.get("ema_decay", 0.0):
        words += ["--ema", str(task["ema_decay"])]
    if task.get("self_critical", 0.0):
        words += ["--self-critical", str(task["self_critical"])]
    if task.get("init_from"):
        words += ["--init-from", task["init_from"]]
    return _command(*words, *_shared_training_options(run["train"]), "--fresh", "--ship")


def command_vqa(run: dict) -> str:
    """The ``train vqa`` line that rebuilds the recorded run config."""
    task, model = run["task"], run["task"]["model"]
    words = ["train", "vqa", "--model", model["kind"], "--hops", str(model["hops"]), "--train-size", str(task["train_size"]),
             "--per-kind", str(task["per_kind"]), "--lr", str(task["learning_rate"]), "--focus-weight", str(task["focus_weight"])]
    if model["kind"] == "attention" and not model["relative_direction"]:
        words.append("--no-direction")
    return _command(*words, *_shared_training_options(run["train"]), "--fresh", "--ship")


def command_text2image(run: dict) -> str:
    """The ``train text2image`` line that rebuilds the recorded run config (the recipe's settings that have no
    option, such as the augmentation and the EMA, come from ``--discriminator``)."""
    task, model = run["task"], run["task"]["model"]
    if model["generator_width"] != model["discriminator_width"]:
        raise ValueError("train text2image has one --width for both networks; this run used two")
    words = ["train", "text2image", "--encoder", task["text_encoder"], "--discriminator", task["discriminator"],
             "--train-size", str(task["train_size"]), "--width", str(model["generator_width"]),
             "--projection" if model["projection"] else "--no-projection", "--auxiliary-weight", str(task["auxiliary_weight"])]
    words += [f"--{flag.replace('_', '-')}" for flag in ("auxiliary_attributes", "attribute_reader", "label_projection") if task[flag]]
    words += ["--reconstruction-weight", str(task["reconstruction_weight"]), "--condition-probe-weight", str(task["condition_probe_weight"]),
              "--guide-weight", str(task["guide_weight"]), "--condition-sampling" if task["condition_sampling"] else "--no-condition-sampling",
              "--kl-weight", str(task["kl_weight"]), "--mode-seeking-weight", str(task["mode_seeking_weight"])]
    return _command(*words, *_shared_training_options(run["train"]), "--fresh", "--ship")


# Models whose training.json records the run config but no command line, by config.json's model_type.
COMMAND_FROM_RUN: dict[str, Callable[[dict], str]] = {
    "flower-attribute-classifier": command_flower_classifier,
    "date-translator": command_dates,
    "captioner": command_caption,
    "vqa-attention": command_vqa,
    "vqa-baseline": command_vqa,
    "text2image-generator": command_text2image,
}

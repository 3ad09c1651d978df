"""Checkpoints: a folder per model with ``config.json`` and ``model.safetensors``.

``model.save_pretrained(folder)`` writes the config dataclass as JSON and the weights as
safetensors; ``Model.from_pretrained(folder_or_hub_id)`` rebuilds the model from the
config and loads the weights. Nothing is ever unpickled, so a checkpoint from the
internet cannot run code: safetensors holds only tensors, JSON only data.

A name that is not a local folder is taken as a Hugging Face Hub repo id and fetched
with ``huggingface_hub.snapshot_download`` (JSON, safetensors and text files only). With
``local_files_only=True``, or ``HF_HUB_OFFLINE=1`` in the environment, only the local hub
cache is read, and a miss fails at once with a message that says so.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any, ClassVar

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from . import __version__

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
# What a hub download may bring: never pickles (.bin, .pt, .ckpt) or code.
HUB_ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.md"]
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class CheckpointNotFoundError(FileNotFoundError):
    """No checkpoint at the given folder, and none in the hub cache or on the hub."""


# The checkpoints this repository ships (safetensors + JSON), one folder per model.
SHIPPED_CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"

def _offline_by_env() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def resolve_checkpoint_dir(
    name_or_path: str | os.PathLike,
    *,
    subfolder: str = "",
    local_files_only: bool | None = None,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> Path:
    """The local folder that holds the checkpoint ``name_or_path``.

    Args:
        name_or_path: a local folder, or a hub repo id such as ``"user/flowers-gan"``.
        subfolder: a folder inside it (a repo can hold several models).
        local_files_only: read only the local hub cache; defaults to ``$HF_HUB_OFFLINE``.
        revision: the hub branch, tag or commit.
        cache_dir: the hub cache folder (default: huggingface_hub's).

    Raises:
        CheckpointNotFoundError: no such folder, and the hub (or its cache) has no such repo.
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        folder = path / subfolder if subfolder else path
        if not folder.is_dir():
            raise CheckpointNotFoundError(f"checkpoint folder {str(path)!r} has no subfolder {subfolder!r}")
        return folder
    name = str(name_or_path)
    if not _REPO_ID.match(name):
        raise CheckpointNotFoundError(
            f"no checkpoint folder at {name!r}, and it is not a Hugging Face Hub repo id (owner/name)"
        )
    if local_files_only is None:
        local_files_only = _offline_by_env()
    # Only a Hub repo id needs huggingface_hub; it adds a fraction of a second to every import of this module.
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    patterns = [f"{subfolder}/{p}" for p in HUB_ALLOW_PATTERNS] if subfolder else HUB_ALLOW_PATTERNS
    try:
        snapshot = snapshot_download(
            repo_id=name,
            revision=revision,
            cache_dir=cache_dir,
            local_files_only=local_files_only,
            allow_patterns=patterns,
            etag_timeout=5,
        )
    except LocalEntryNotFoundError:
        where = "the local hub cache" + (f" at {str(cache_dir)!r}" if cache_dir else "")
        reason = "offline mode (local_files_only / HF_HUB_OFFLINE=1)" if local_files_only else "the hub cannot be reached"
        raise CheckpointNotFoundError(
            f"{name!r} is not a local folder and is not in {where}; {reason}. "
            "Pass the path of a checkpoint folder, or download the repo first where there is a network."
        ) from None
    except (HfHubHTTPError, OSError, ValueError) as error:
        raise CheckpointNotFoundError(f"could not fetch {name!r} from the Hugging Face Hub: {error}") from None
    folder = Path(snapshot) / subfolder if subfolder else Path(snapshot)
    if not (folder / CONFIG_NAME).is_file():
        raise CheckpointNotFoundError(f"hub repo {name!r} has no {subfolder + '/' if subfolder else ''}{CONFIG_NAME}")
    return folder


def read_json_file(path: Path, missing: type[FileNotFoundError] = FileNotFoundError) -> Any:
    """The JSON value in a checkpoint folder's file: ``missing`` if there is no file, ValueError if it is not JSON."""
    path = Path(path)
    if not path.is_file():
        raise missing(f"{str(path.parent)!r} has no {path.name}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None


def read_config_file(folder: Path) -> dict[str, Any]:
    """The parsed ``config.json`` of a checkpoint folder, with a clear error if it is missing or broken."""
    return read_json_file(Path(folder) / CONFIG_NAME, missing=CheckpointNotFoundError)


def config_from_dict(config_class: type, values: dict[str, Any]):
    """An instance of the dataclass ``config_class`` from JSON values; unknown keys are an error."""
    names = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"{config_class.__name__} has no field(s) {unknown}; the checkpoint is from another version or model")
    converted = {}
    for f in dataclasses.fields(config_class):
        if f.name in values:
            value = values[f.name]
            # JSON has no tuples; give tuple-typed fields their tuples back so configs compare equal.
            if isinstance(value, list) and "tuple" in str(f.type):
                value = tuple(value)
            converted[f.name] = value
    return config_class(**converted)


class PretrainedModel(nn.Module):
    """A module built from a config dataclass, saved and loaded as safetensors + JSON.

    Subclasses set ``config_class`` (a dataclass) and ``model_type`` (a unique name
    stored in ``config.json`` and checked on load), and take the config as the only
    argument of ``__init__``, storing it as ``self.config``.
    """

    config_class: ClassVar[type]
    model_type: ClassVar[str]

    def save_pretrained(
        self,
        folder: str | os.PathLike,
        *,
        dtype: torch.dtype | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Path:
        """Write ``config.json`` and ``model.safetensors`` into ``folder`` (created if needed).

        Args:
            dtype: store floating-point tensors in this dtype (``torch.float16`` halves
                the file for shipping); they are cast back to the model's dtype on load.
            metadata: extra JSON-able facts saved beside the config (training run, metrics).
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {}
        for key, value in self.state_dict().items():
            value = value.detach().cpu()
            if dtype is not None and value.is_floating_point():
                value = value.to(dtype)
            # clone: safetensors refuses tensors that share storage (tied weights).
            tensors[key] = value.contiguous().clone()
        config = {
            "model_type": self.model_type,
            "t2i_core_version": __version__,
            "stored_dtype": str(dtype or torch.float32).replace("torch.", ""),
            "config": dataclasses.asdict(self.config),
        }
        if metadata:
            config["metadata"] = metadata
        save_file(tensors, str(folder / WEIGHTS_NAME), metadata={"model_type": self.model_type})
        (folder / CONFIG_NAME).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return folder

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike,
        *,
        device: str | torch.device | None = "cpu",
        subfolder: str = "",
        local_files_only: bool | None = None,
        revision: str | None = None,
        cache_dir: str | os.PathLike | None = None,
    ):
        """Build the model from a checkpoint folder or hub repo id and load its weights.

        The model is returned in eval mode on ``device``. See :func:`resolve_checkpoint_dir`
        for the other arguments.

        Raises:
            CheckpointNotFoundError: nothing found at ``name_or_path``.
            ValueError: the checkpoint holds another model type, or its weights do not
                match the architecture its config describes.
        """
        folder = resolve_checkpoint_dir(
            name_or_path, subfolder=subfolder, local_files_only=local_files_only, revision=revision, cache_dir=cache_dir
        )
        stored = read_config_file(folder)
        if stored.get("model_type") != cls.model_type:
            raise ValueError(
                f"{str(folder)!r} holds a {stored.get('model_type')!r} checkpoint, not {cls.model_type!r}"
            )
        config = config_from_dict(cls.config_class, stored.get("config", {}))
        model = cls(config)
        weights = folder / WEIGHTS_NAME
        if not weights.is_file():
            raise CheckpointNotFoundError(f"{str(folder)!r} has no {WEIGHTS_NAME}")
        state = load_file(str(weights), device="cpu")
        own = model.state_dict()
        for key, value in state.items():
            if key in own and value.is_floating_point():
                state[key] = value.to(own[key].dtype)
        missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
        if missing or unexpected:
            raise ValueError(
                f"weights in {str(weights)!r} do not fit {cls.__name__}: missing {missing[:5]}, unexpected {unexpected[:5]}"
            )
        model.load_state_dict(state, strict=True)
        if device is not None:
            model.to(device)
        return model.eval()

"""``Pipeline.from_pretrained(folder_or_hub_id)``: the one way every pipeline on a checkpoint is loaded by name.

A checkpoint folder holds ``config.json`` and ``model.safetensors``, and beside them what
the model needs to read and write words: ``vocabulary.json`` (captioner, VQA questions,
date translator) and ``answers.json`` (VQA). The name is resolved once, by the resolver
the weights use (:func:`t2i_core.checkpoint.resolve_checkpoint_dir`): a local folder as it
is, a Hugging Face Hub repo id from the hub cache (or the hub, unless offline). Weights,
vocabulary and answers are then all read from that one folder, so a hub id works for
every pipeline as it does for the GAN.
"""

from __future__ import annotations

import os
from typing import Any, TypeVar

from ..checkpoint import resolve_checkpoint_dir

PipelineType = TypeVar("PipelineType", bound="PretrainedPipeline")


class PretrainedPipeline:
    """A pipeline built on one checkpoint folder. Subclasses take ``checkpoint=`` and ``device=`` in ``__init__``."""

    @classmethod
    def from_pretrained(
        cls: type[PipelineType],
        path_or_repo_id: str | os.PathLike,
        *,
        device: str | None = None,
        subfolder: str = "",
        local_files_only: bool | None = None,
        revision: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        **options: Any,
    ) -> PipelineType:
        """The pipeline on the checkpoint at a local folder or a Hub repo id (``"user/flowers-gan"``).

        Args:
            device: cpu, cuda, mps (default: automatic, or ``$T2I_DEVICE``).
            subfolder, local_files_only, revision, cache_dir: as for
                :func:`~t2i_core.checkpoint.resolve_checkpoint_dir`.
            options: the pipeline's own settings (``min_confidence`` for dates, ``batch_size``
                for flower attributes).

        Raises:
            CheckpointNotFoundError: no such folder, and no such repo in the hub cache (or on the hub).
        """
        folder = resolve_checkpoint_dir(
            path_or_repo_id, subfolder=subfolder, local_files_only=local_files_only, revision=revision, cache_dir=cache_dir
        )
        return cls(checkpoint=folder, device=device, **options)

"""A Hugging Face Hub cache laid out by hand, so that a hub repo id resolves offline in tests."""

from __future__ import annotations

import shutil
from pathlib import Path


def build_hub_cache(cache: Path, repo_id: str, source: Path, revision_hash: str = "0123456789abcdef0123456789abcdef01234567") -> Path:
    """Copy the checkpoint folder ``source`` into ``cache`` as repo ``repo_id``: refs/main -> snapshots/<hash>/files."""
    repo = Path(cache) / f"models--{repo_id.replace('/', '--')}"
    shutil.copytree(source, repo / "snapshots" / revision_hash)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision_hash)
    return repo

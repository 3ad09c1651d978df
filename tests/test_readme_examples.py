"""The README's Python examples run as written against the shipped checkpoints.

Each ```python block of README.md is executed in a fresh namespace, in a temporary folder
holding `scene.png` and `checkpoints/` (Scenes test scene 1 with seed 1: a small pink square above a
large purple star, as the examples say), so an example that
drifts from the code (a renamed field, a changed signature) fails here.
"""

import os
import re
from pathlib import Path

import pytest

from t2i_core.data import load_world

ROOT = Path(__file__).resolve().parents[1]

BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
EXAMPLES = BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def _first_line(code: str) -> str:
    return next(line for line in code.splitlines() if line.strip() and not line.startswith("import"))


def test_the_readme_has_python_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("code", EXAMPLES, ids=[_first_line(code)[:40] for code in EXAMPLES])
def test_readme_example_runs(code, tmp_path, monkeypatch):
    load_world("scenes", split="test", seed=1).sample(1).image.save(tmp_path / "scene.png")
    (tmp_path / "checkpoints").symlink_to(ROOT / "checkpoints")  # the examples run from the repository root
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme_example"}
    exec(compile(code, f"README.md example in {os.fspath(tmp_path)}", "exec"), namespace)  # noqa: S102 - the README's own code

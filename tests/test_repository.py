"""Repository rules: Spaces front matter, pinned torch, small safetensors-only checkpoints."""

import re
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_has_valid_spaces_front_matter():
    text = (ROOT / "README.md").read_text()
    assert text.startswith("---\n")
    front = text.split("---\n")[1]
    fields = dict(line.split(": ", 1) for line in front.strip().splitlines())
    assert fields["sdk"] == "gradio"
    assert fields["sdk_version"] == version("gradio")
    assert fields["python_version"] == '"3.11"'
    assert fields["app_file"] == "app.py"


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = [line for line in ci.splitlines() if line.strip() and not line.startswith("#") and not line.startswith("set ")]
    assert len(command) == 1 and command[0] in readme


def test_torch_is_pinned_and_torchvision_is_not_used():
    requirements = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^torch==2\.13\.0$", requirements, re.M)
    assert "torchvision" not in requirements and "timm" not in requirements


def test_checkpoints_are_safetensors_and_json_under_10_mb():
    for path in (ROOT / "checkpoints").rglob("*"):
        if path.is_file():
            assert path.suffix in {".json", ".safetensors", ".txt", ".md"}, path
            assert path.stat().st_size < 10 * 1024 * 1024, path

"""Repository rules: Spaces front matter, pinned torch, small safetensors-only checkpoints, an editable install that works from any folder."""

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_readme_has_valid_spaces_front_matter():
    text = (ROOT / "README.md").read_text()
    assert text.startswith("---\n")
    fields = yaml.safe_load(text.split("---\n")[1])
    assert fields["sdk"] == "gradio"
    assert fields["sdk_version"] == version("gradio")
    assert fields["python_version"] == "3.11"
    assert fields["app_file"] == "app.py"
    # What the Hub shows beside the Space (issue 15): a one-line description (at most 60 characters), the
    # license of LICENSE, the free CPU it runs on, and tags people search for.
    assert 0 < len(fields["short_description"]) <= 60
    assert fields["license"] == "apache-2.0" and "Apache License" in (ROOT / "LICENSE").read_text()[:200]
    assert fields["suggested_hardware"] == "cpu-basic"
    assert {"attention", "text-to-image", "image-captioning"} <= set(fields["tags"])


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


def test_an_editable_install_runs_the_cli_from_another_folder_with_the_shipped_checkpoints(tmp_path):
    pytest.importorskip("setuptools")  # the build backend, used without build isolation: nothing is downloaded
    venv, elsewhere = tmp_path / "venv", tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    # --without-pip: the venv uses this interpreter's pip and setuptools, not the older ones ensurepip would put in
    # front of them (setuptools 65 from ensurepip has no bdist_wheel without the wheel package).
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    install = subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e", str(ROOT)],
                             capture_output=True, text=True, env=env, timeout=600)
    assert install.returncode == 0, install.stderr

    def run(*args):
        return subprocess.run([python, *args], cwd=elsewhere, capture_output=True, text=True, env=env, timeout=300)

    where = run("-c", "import t2i_core.checkpoint as c; print(c.__file__); print(c.SHIPPED_CHECKPOINTS)")
    assert where.stdout.splitlines() == [str(ROOT / "t2i_core" / "checkpoint.py"), str(ROOT / "checkpoints")], where.stderr
    assert "usage: python -m t2i_core" in run("-m", "t2i_core", "--help").stdout
    translated = run("-m", "t2i_core", "dates", "5 April 09")  # a shipped checkpoint, found from another folder
    assert translated.returncode == 0 and "-> 2009-04-05" in translated.stdout, translated.stderr

"""The layers of the engine (STYLE.md, issue 13): imports point down, and stay at module top."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "t2i_core"


def _function_level_imports(path: Path):
    """(line, node) of every import inside a function or method of ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    yield node.lineno, node


def test_every_module_imports_only_from_its_own_layer_or_lower():
    pytest.importorskip("importlinter", reason="import-linter is in requirements-dev.txt")
    # The [tool.importlinter] contract of pyproject.toml, as `lint-imports` runs it.
    run = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_no_function_imports_its_own_package():
    """A function-local import of a module of t2i_core only hides a cycle: the module is in the wrong layer."""
    found = [f"{path.relative_to(ROOT)}:{line}" for path in sorted(PACKAGE.rglob("*.py"))
             for line, node in _function_level_imports(path)
             if isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").startswith("t2i_core"))]
    assert not found, "move these imports to the module top (or the code to a lower layer): " + ", ".join(found)


def test_every_lazy_import_says_why():
    """What stays inside a function is a heavy or optional dependency, with a comment that says so."""
    unexplained = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        explained_lines = set()
        for line, _ in sorted(_function_level_imports(path), key=lambda item: item[0]):
            # The comment sits on the import, a few lines above it (a try: or a group's first line),
            # or the import continues a block of imports that already has one.
            window = lines[max(0, line - 4) : line]
            if any("#" in text for text in window) or line - 1 in explained_lines:
                explained_lines.add(line)
            else:
                unexplained.append(f"{path.relative_to(ROOT)}:{line}: {lines[line - 1].strip()}")
    assert not unexplained, "a function-level import without a comment saying why:\n" + "\n".join(unexplained)


def test_ruff_finds_nothing():
    """`ruff check .` with the settings of pyproject.toml (unused names, import order, line length, bugbear)."""
    pytest.importorskip("ruff", reason="ruff is in requirements-dev.txt")
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-1000:]

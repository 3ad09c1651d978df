"""`python -m t2i_core space --id OWNER/NAME` writes the thumbnail URL the Hub needs, and keeps the rest of the card."""

from pathlib import Path

import pytest
import yaml

from t2i_core.cli import main

ROOT = Path(__file__).resolve().parents[1]


def front_matter_and_body(text: str) -> tuple[dict, str]:
    _, header, body = text.split("---\n", 2)
    return yaml.safe_load(header), body


@pytest.mark.parametrize("card", ["README.md", "dashboard/space/README.md"])
def test_the_thumbnail_url_is_written_and_nothing_else_changes(tmp_path, monkeypatch, card):
    monkeypatch.chdir(ROOT)
    copy = tmp_path / "README.md"
    copy.write_text((ROOT / card).read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["space", "--id", "someone/t2i-core", "--card", str(copy)]) == 0
    before, body_before = front_matter_and_body((ROOT / card).read_text(encoding="utf-8"))
    after, body_after = front_matter_and_body(copy.read_text(encoding="utf-8"))
    assert "thumbnail" not in before
    url = after.pop("thumbnail")
    assert url == "https://huggingface.co/spaces/someone/t2i-core/resolve/main/docs/thumbnail.png"
    assert (ROOT / url.split("/resolve/main/")[1]).is_file()
    assert after == before and body_after == body_before


@pytest.mark.parametrize("space_id", ["no-owner", "two words/x", "someone/", "-bad/name", ""])
def test_a_malformed_space_id_is_refused_and_the_card_is_left_alone(tmp_path, monkeypatch, capsys, space_id):
    monkeypatch.chdir(ROOT)
    copy = tmp_path / "README.md"
    copy.write_text((ROOT / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["space", f"--id={space_id}", "--card", str(copy)]) == 2
    assert "not a Space id" in capsys.readouterr().err
    assert copy.read_text(encoding="utf-8") == (ROOT / "README.md").read_text(encoding="utf-8")


def test_a_missing_thumbnail_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    copy = tmp_path / "README.md"
    copy.write_text((ROOT / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["space", "--id", "someone/t2i-core", "--card", str(copy), "--image", "docs/no-such.png"]) == 2
    assert "no thumbnail" in capsys.readouterr().err

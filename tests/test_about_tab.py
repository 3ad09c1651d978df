"""The About tab reads how long the generators trained from their checkpoints, not from a sentence written once."""

import json

import pytest

pytest.importorskip("gradio")

from t2i_core.app.about import generator_times, training_time  # noqa: E402
from t2i_core.checkpoint import SHIPPED_CHECKPOINTS  # noqa: E402


def test_the_training_time_is_the_checkpoints_record(tmp_path):
    folder = tmp_path / "text2image-use"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "text2image-generator", "config": {}}))
    # ship's mark on a machine it recorded goes; a parenthesis in the machine's own name stays
    sessions = [{"step": 40, "seconds": 1500.0, "machine": "cpu: 2 cores, 1 torch thread x 1 process, x86_64 (recorded when shipped)"},
                {"step": 90, "seconds": 1620.0, "machine": "cuda: NVIDIA H200 (MIG 1g) x 1 process"}]
    (folder / "training.json").write_text(json.dumps({"reproduce": "python -m t2i_core train text2image", "steps": 90,
                                                      "seconds_total": 3120.0, "sessions": sessions}))
    assert training_time("text2image-use", "the USE generator", tmp_path) == (
        "the USE generator in 52 min (90 steps)", "cpu: 2 cores, 1 torch thread x 1 process, x86_64, cuda: NVIDIA H200 (MIG 1g) x 1 process")
    assert training_time("text2image-glove-avg", "the averaged-GloVe one", tmp_path) is None  # not shipped
    assert generator_times(tmp_path) == ("Trained from scratch, as each checkpoint's `training.json` records it: the USE generator in "
                                         "52 min (90 steps), each on cpu: 2 cores, 1 torch thread x 1 process, x86_64, cuda: NVIDIA H200 (MIG 1g) x 1 process.")


def test_the_about_tab_states_the_shipped_generators_times():
    text = generator_times()
    for folder in ("text2image-use", "text2image-glove-avg"):
        if (SHIPPED_CHECKPOINTS / folder / "training.json").is_file():
            record = json.loads((SHIPPED_CHECKPOINTS / folder / "training.json").read_text())
            assert f"in {record['seconds_total'] / 60:.0f} min ({record['steps']} steps)" in text

"""Checkpoints: safetensors + JSON round trips, clear errors, and the Hugging Face Hub path."""

import json
import shutil
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from t2i_core.checkpoint import (
    CONFIG_NAME,
    WEIGHTS_NAME,
    CheckpointNotFoundError,
    PretrainedModel,
    resolve_checkpoint_dir,
)


@dataclass
class TinyConfig:
    width: int = 8
    layers: tuple = (3, 5)
    activation: str = "relu"


class TinyModel(PretrainedModel):
    config_class = TinyConfig
    model_type = "tiny-test-model"

    def __init__(self, config: TinyConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(10, config.width)
        self.blocks = nn.Sequential(*[nn.Linear(config.width, config.width) for _ in config.layers])
        self.norm = nn.BatchNorm1d(config.width)
        self.head = nn.Linear(config.width, 10, bias=False)
        self.head.weight = self.embed.weight  # tied weights, which safetensors cannot share


class OtherModel(TinyModel):
    model_type = "another-model"


def _trained_tiny(seed=0):
    torch.manual_seed(seed)
    model = TinyModel(TinyConfig(width=6, layers=(1, 2, 3)))
    model.norm.running_mean.uniform_()
    model.norm.num_batches_tracked += 7
    return model


def test_save_then_load_round_trips_exactly(tmp_path):
    model = _trained_tiny()
    model.save_pretrained(tmp_path / "tiny")
    assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == [CONFIG_NAME, WEIGHTS_NAME]
    loaded = TinyModel.from_pretrained(tmp_path / "tiny")
    assert loaded.config == model.config
    assert not loaded.training
    original, restored = model.state_dict(), loaded.state_dict()
    assert original.keys() == restored.keys()
    for key in original:
        assert original[key].dtype == restored[key].dtype
        assert torch.equal(original[key], restored[key]), key
    assert loaded.head.weight.data_ptr() == loaded.embed.weight.data_ptr()  # still tied


def test_config_json_is_readable_and_says_what_it_holds(tmp_path):
    _trained_tiny().save_pretrained(tmp_path, metadata={"seed": 0, "steps": 12})
    stored = json.loads((tmp_path / CONFIG_NAME).read_text())
    assert stored["model_type"] == "tiny-test-model"
    assert stored["config"] == {"width": 6, "layers": [1, 2, 3], "activation": "relu"}
    assert stored["metadata"] == {"seed": 0, "steps": 12}


def test_float16_storage_halves_the_file_and_loads_as_float32(tmp_path):
    torch.manual_seed(0)
    model = TinyModel(TinyConfig(width=64))
    model.save_pretrained(tmp_path / "full")
    model.save_pretrained(tmp_path / "half", dtype=torch.float16)
    full = (tmp_path / "full" / WEIGHTS_NAME).stat().st_size
    half = (tmp_path / "half" / WEIGHTS_NAME).stat().st_size
    assert half < 0.65 * full
    loaded = TinyModel.from_pretrained(tmp_path / "half")
    weight = loaded.blocks[0].weight
    assert weight.dtype == torch.float32
    assert torch.allclose(weight, model.blocks[0].weight, atol=1e-3)
    assert loaded.norm.num_batches_tracked.dtype == torch.int64


def test_loading_another_model_type_is_refused(tmp_path):
    _trained_tiny().save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="tiny-test-model"):
        OtherModel.from_pretrained(tmp_path)


def test_unknown_config_fields_and_mismatched_weights_are_clear_errors(tmp_path):
    _trained_tiny().save_pretrained(tmp_path)
    stored = json.loads((tmp_path / CONFIG_NAME).read_text())
    stored["config"]["depth"] = 4
    (tmp_path / CONFIG_NAME).write_text(json.dumps(stored))
    with pytest.raises(ValueError, match="depth"):
        TinyModel.from_pretrained(tmp_path)
    del stored["config"]["depth"]
    stored["config"]["width"] = 9  # the weights were saved for width 6
    (tmp_path / CONFIG_NAME).write_text(json.dumps(stored))
    with pytest.raises((ValueError, RuntimeError)):
        TinyModel.from_pretrained(tmp_path)


def test_missing_folder_or_weights_say_so(tmp_path):
    with pytest.raises(CheckpointNotFoundError, match="no checkpoint folder"):
        TinyModel.from_pretrained(tmp_path / "nowhere" / "deep" / "x")
    _trained_tiny().save_pretrained(tmp_path / "m")
    (tmp_path / "m" / WEIGHTS_NAME).unlink()
    with pytest.raises(CheckpointNotFoundError, match=WEIGHTS_NAME):
        TinyModel.from_pretrained(tmp_path / "m")


def test_a_pickle_in_the_folder_is_never_read(tmp_path):
    model = _trained_tiny()
    model.save_pretrained(tmp_path)
    # A malicious pickle next to the weights must be ignored, not unpickled.
    (tmp_path / "pytorch_model.bin").write_bytes(b"\x80\x04cposix\nsystem\n(S'exit 3'\ntR.")
    loaded = TinyModel.from_pretrained(tmp_path)
    assert torch.equal(loaded.blocks[0].weight, model.blocks[0].weight)


def _build_hub_cache(cache, repo_id, source, revision_hash="0123456789abcdef0123456789abcdef01234567", subfolder=""):
    """Lay out a Hugging Face Hub cache by hand: refs/main -> snapshots/<hash>/files."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / revision_hash / subfolder
    snapshot.mkdir(parents=True)
    for item in source.iterdir():
        shutil.copy(item, snapshot / item.name)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision_hash)
    return repo


def test_hub_repo_id_loads_from_a_local_hub_cache(tmp_path):
    model = _trained_tiny(seed=3)
    model.save_pretrained(tmp_path / "export")
    _build_hub_cache(tmp_path / "hub", "t2i-core/tiny", tmp_path / "export")
    loaded = TinyModel.from_pretrained("t2i-core/tiny", cache_dir=tmp_path / "hub", local_files_only=True)
    assert torch.equal(loaded.blocks[2].weight, model.blocks[2].weight)


def test_hub_offline_env_reads_the_cache_and_subfolders(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = _trained_tiny(seed=4)
    model.save_pretrained(tmp_path / "export")
    _build_hub_cache(tmp_path / "hub", "t2i-core/several", tmp_path / "export", subfolder="gan-use")
    folder = resolve_checkpoint_dir("t2i-core/several", subfolder="gan-use", cache_dir=tmp_path / "hub")
    assert (folder / WEIGHTS_NAME).is_file()
    loaded = TinyModel.from_pretrained("t2i-core/several", subfolder="gan-use", cache_dir=tmp_path / "hub")
    assert torch.equal(loaded.embed.weight, model.embed.weight)


def test_a_repo_missing_from_the_cache_fails_fast_with_a_clear_message(tmp_path):
    (tmp_path / "hub").mkdir()
    with pytest.raises(CheckpointNotFoundError, match="not in the local hub cache"):
        TinyModel.from_pretrained("t2i-core/absent", cache_dir=tmp_path / "hub", local_files_only=True)

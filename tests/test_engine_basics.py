"""Device choice and the registries behind load_pipeline and load_text_encoder."""

import pytest
import torch

import t2i_core
from t2i_core.device import select_device
from t2i_core.registry import Registry


def test_device_env_overrides_the_automatic_choice(monkeypatch):
    monkeypatch.setenv("T2I_DEVICE", "cpu")
    assert select_device() == torch.device("cpu")
    monkeypatch.delenv("T2I_DEVICE")
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert select_device().type == expected


def test_bad_device_names_are_clear_errors(monkeypatch):
    monkeypatch.setenv("T2I_DEVICE", "quantum")
    with pytest.raises(ValueError, match="not a device name"):
        select_device()
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="not available"):
            select_device("cuda")


def test_registry_loads_lazily_and_lists_what_exists():
    registry = Registry("widget")
    registry.register("upper", "builtins:str.upper", "shouts")
    registry.register("pair", lambda a, b=1: (a, b))
    assert registry.names() == ["pair", "upper"]
    assert registry.describe()["upper"] == "shouts"
    assert registry.load("pair", a=2) == (2, 1)
    assert registry.get("upper").resolve()("x") == "X"
    with pytest.raises(ValueError, match="unknown widget 'nope'; available: pair, upper"):
        registry.load("nope")
    with pytest.raises(ValueError, match="already registered"):
        registry.register("pair", print)


def test_load_pipeline_and_text_encoder_use_the_registries():
    assert "world-preview" in t2i_core.PIPELINES
    preview = t2i_core.load_pipeline("world-preview")("scenes", split="val", n=3, seed=2)
    assert len(preview.captions) == 3 and preview.grid.width > 0
    with pytest.raises(ValueError, match="unknown pipeline"):
        t2i_core.load_pipeline("no-such-task")
    with pytest.raises(ValueError, match="unknown text encoder"):
        t2i_core.load_text_encoder("no-such-encoder")


def test_world_preview_refuses_unreasonable_requests():
    pipe = t2i_core.load_pipeline("world-preview")
    with pytest.raises(ValueError, match="n must be"):
        pipe("flowers", n=0)
    with pytest.raises(ValueError, match="unknown world"):
        pipe("oceans")
    assert pipe("flowers", n=2).swapped_captions and not pipe("dates", n=2).swapped_captions

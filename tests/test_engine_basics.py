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


def test_world_preview_returns_one_result_type_for_every_world():
    from t2i_core.pipelines.world_preview import WorldPreview

    pipe = t2i_core.load_pipeline("world-preview")
    for world in pipe.worlds:
        preview = pipe(world, n=1)
        assert type(preview) is WorldPreview and len(preview.captions) == len(preview.attributes) == 1


def test_encoder_comparison_returns_one_output_for_one_sentence_or_many():
    import numpy as np

    from t2i_core.pipelines.encoder_comparison import EncoderComparisonOutput

    pipe = t2i_core.load_pipeline("encoder-comparison", encoders=["glove-avg"])
    one = pipe(" a red flower with a yellow stem ")
    many = pipe(["a red flower with a yellow stem", "a yellow flower with a red stem", "a blue square"])
    assert type(one) is EncoderComparisonOutput and type(many) is EncoderComparisonOutput
    assert one.sentences == ["a red flower with a yellow stem"] and one.embeddings["glove-avg"].shape == (1, 50)
    assert many.similarities["glove-avg"].shape == (3, 3) and many.projections["glove-avg"].shape == (3, 2)
    np.testing.assert_allclose(many.similarities["glove-avg"], pipe.similarity_matrix(many.sentences)["glove-avg"])
    assert many.similarities["glove-avg"][0, 1] > 1 - 1e-6  # the same words in another order: the same average
    with pytest.raises(ValueError, match="no sentences"):
        pipe([])

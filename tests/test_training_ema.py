"""The moving average of weights (training/ema.py) and the captioner run that evaluates and exports it."""

import json

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from t2i_core.training.ema import ema_copy, ema_decay_at, update_ema


def test_update_ema_moves_each_weight_by_one_minus_decay_and_copies_the_buffers():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    ema = ema_copy(model)
    assert not any(p.requires_grad for p in ema.parameters()) and all(p.requires_grad for p in model.parameters())
    before = [p.detach().clone() for p in ema.parameters()]
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    model.train()(torch.randn(8, 3))  # moves the BatchNorm statistics
    update_ema(ema, model, decay=0.75)
    for old, new, live in zip(before, ema.parameters(), model.parameters(), strict=True):
        assert torch.allclose(new, 0.75 * old + 0.25 * live)
    assert torch.equal(ema[1].running_mean, model[1].running_mean) and int(ema[1].num_batches_tracked) == 1


def test_the_decay_warms_up_to_its_value():
    assert ema_decay_at(0, 0.999) == pytest.approx(0.1)
    assert ema_decay_at(90, 0.999) == pytest.approx(0.91)
    assert ema_decay_at(10**6, 0.999) == 0.999
    assert ema_decay_at(0, 0.999, warmup=False) == 0.999


def test_a_captioner_run_with_ema_evaluates_and_exports_the_average_and_resumes_it(tmp_path, monkeypatch):
    from t2i_core.models.captioning import CaptionerConfig
    from t2i_core.training import TrainConfig, train
    from t2i_core.training.caption_task import CaptionTask, CaptionTaskConfig
    from t2i_core.training.state import load_training_state

    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path / "cache"))
    model = CaptionerConfig(encoder="small-cnn", image_size=64, cnn_width=8, embed_dim=8, hidden_dim=16, attention_dim=8, max_length=8)
    config = CaptionTaskConfig(data="scenes", train_size=16, val_size=2, ema_decay=0.9, learning_rate=0.05, patience=10, model=model)
    run = tmp_path / "run"
    train(CaptionTask(config, run), TrainConfig(output_dir=str(run), max_steps=4, batch_size=8, eval_every=4))

    task = CaptionTask(config, run)
    modules = task.build_modules()
    assert set(modules) == {"captioner", "ema"} and task.evaluated_model is task.ema
    step, _ = load_training_state(run / "last", modules, {})
    assert step == 4
    exported = load_file(run / "final" / "model.safetensors")
    name = "decoder.out.weight"
    average, live = task.ema.state_dict()[name], task.model.state_dict()[name]
    assert not torch.allclose(average, live, atol=1e-3)  # four large steps of Adam moved the live weights away from the average
    assert torch.allclose(exported[name].float(), average, atol=1e-3)  # the export is the average (fp16)
    assert json.loads((run / "run_config.json").read_text())["task"]["ema_decay"] == 0.9

    resumed = CaptionTask(config, run)
    train(resumed, TrainConfig(output_dir=str(run), max_steps=5, batch_size=8, eval_every=5))
    # one more step from the saved average, not from a fresh copy of the live weights
    decay = ema_decay_at(4, 0.9)
    expected = decay * average + (1 - decay) * resumed.model.state_dict()[name]
    assert torch.allclose(resumed.ema.state_dict()[name], expected, atol=1e-6)


def test_ema_decay_must_be_below_one():
    from t2i_core.training.caption_task import CaptionTaskConfig

    with pytest.raises(ValueError, match="ema_decay"):
        CaptionTaskConfig(ema_decay=1.0)

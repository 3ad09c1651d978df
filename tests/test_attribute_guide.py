"""The frozen attribute guide of the text-to-image training, and conditioning augmentation switched off."""

import json

import numpy as np
import pytest
import torch

from t2i_core.data import load_world
from t2i_core.data.cache import rendered_images
from t2i_core.training.attribute_guide import AttributeGuideConfig, fit_attribute_guide, guide_loss, guide_view
from t2i_core.training.text2image_task import CaptionedFlowers


@pytest.fixture(scope="module")
def flowers(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("T2I_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        data = CaptionedFlowers(load_world("flowers", "train", size=400, seed=0))
        return np.asarray(rendered_images(load_world("flowers", "train", size=400, seed=0))), data.labels


@pytest.fixture(scope="module")
def guide(flowers):
    images, labels = flowers
    model, record = fit_attribute_guide(images, labels, AttributeGuideConfig(steps=150, batch_size=32))
    return model, record


def _as_input(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images.copy()).permute(0, 3, 1, 2).float().div(127.5).sub(1)  # (B, 3, 64, 64) in [-1, 1]


def test_the_guide_reads_colours_of_flowers_it_never_trained_on(guide):
    _, record = guide
    held_out = record["held_out_accuracy"]
    assert set(held_out) == {"petal_colour", "stem_colour", "centre_colour", "petal_shape", "petal_count", "size"}
    # 40 held-out flowers, 11 colours: chance is about 0.1.
    assert held_out["petal_colour"] >= 0.6 and held_out["stem_colour"] >= 0.5


def test_the_guide_is_frozen_and_its_loss_prefers_the_stated_colours_in_their_roles(guide, flowers):
    model, _ = guide
    images, labels = flowers
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    x = _as_input(images[-40:]).requires_grad_(True)
    stated = torch.from_numpy(labels[-40:])
    stated[:, 2:] = -1  # the captions state only the two colours
    swapped = stated.clone()
    swapped[:, [0, 1]] = stated[:, [1, 0]]
    right = guide_loss(model, x, stated)
    assert right < guide_loss(model, x, swapped)
    right.backward()
    assert x.grad.abs().sum() > 0  # the generator's pixels get the gradient
    silent = torch.full_like(stated, -1)
    assert guide_loss(model, x.detach(), silent).item() == 0.0  # a caption that states nothing asks nothing


def test_the_guide_reads_the_image_average_pooled():
    images = torch.rand(2, 3, 64, 64) * 2 - 1
    view = guide_view(images, 32)
    assert view.shape == (2, 3, 32, 32)
    assert torch.allclose(view[:, :, 0, 0], ((images[:, :, :2, :2] + 1) / 2).mean(dim=(2, 3)))


def test_a_run_without_conditioning_augmentation_never_samples_the_condition(tmp_path, monkeypatch):
    from t2i_core.models.text2image_gan import TextConditioning
    from t2i_core.training import TrainConfig, text2image_task, train
    from t2i_core.training.text2image_task import Text2ImageTask, Text2ImageTaskConfig

    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(text2image_task, "fit_attribute_guide", lambda images, labels: fit_attribute_guide(images, labels, AttributeGuideConfig(steps=5)))
    calls = []
    forward = TextConditioning.forward

    def spy(self, embedding, sample=True):
        calls.append(sample)
        return forward(self, embedding, sample=sample)

    monkeypatch.setattr(TextConditioning, "forward", spy)
    config = Text2ImageTaskConfig(text_encoder="glove-avg", train_size=64, interpolation_share=0.5, condition_sampling=False,
                                  kl_weight=0.0, guide_weight=0.5, model={"generator_width": 8, "discriminator_width": 8, "text_affine": True})
    task = Text2ImageTask(config, classifier_path=None)
    calls.clear()  # fitting the standardisers and the guide draws nothing
    run_dir = train(task, TrainConfig(output_dir=str(tmp_path / "run"), max_steps=4, batch_size=16, log_every=2, eval_every=4, save_every=4))
    assert calls and not any(calls[:8])  # the training steps (2 generator calls each) used the text's mean
    guided = [json.loads(line)["guide"] for line in (run_dir / "metrics.jsonl").read_text().splitlines() if '"guide"' in line]
    assert len(guided) == 2 and all(g > 0 for g in guided)

"""The projected discriminator, differentiable augmentation, and the text-to-image GAN under torchrun."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from t2i_core.models.projected_discriminator import FEATURE_CHANNELS, ProjectedDiscriminator
from t2i_core.models.text2image_gan import Text2ImageConfig, Text2ImageGenerator
from t2i_core.training.augment import cutout, diff_augment, translate
from t2i_core.training.loop import optimized_modules
from t2i_core.training.text2image_task import discriminator_hinge_loss, generator_hinge_loss

ROOT = Path(__file__).resolve().parents[1]
CONFIG = Text2ImageConfig(text_encoder="glove-avg", text_dim=50, generator_width=8, discriminator_width=8, auxiliary_colours=8,
                          auxiliary_attributes={"size": 2}, text_affine=True)


@pytest.fixture(scope="module")
def discriminator():
    torch.manual_seed(0)
    return ProjectedDiscriminator(CONFIG)


def test_projected_maps_and_heads_have_the_documented_shape_at_every_scale(discriminator):
    discriminator.eval()  # spectral norm's power iteration would move between the two calls below
    images, text = torch.rand(3, 3, 64, 64) * 2 - 1, torch.randn(3, 50)
    features = discriminator.features(images)
    assert [tuple(f.shape) for f in features] == [(3, c, s, s) for c, s in zip(FEATURE_CHANNELS, (16, 8, 4))]
    maps = discriminator.project(images)  # CCM widens to 2w, 4w, 8w channels; CSM keeps the sizes
    assert [tuple(m.shape) for m in maps] == [(3, 16, 16, 16), (3, 32, 8, 8), (3, 64, 4, 4)]
    phis = [head(m) for head, m in zip(discriminator.heads, maps)]
    assert [tuple(p.shape) for p in phis] == [(3, 128)] * 3
    scores, logits = discriminator(images, text, return_attributes=True)
    assert scores.shape == (3, 3)
    assert {k: tuple(v.shape) for k, v in logits.items()} == {"petal": (3, 8), "stem": (3, 8), "size": (3, 2)}
    # Scoring precomputed maps is the same as scoring the images.
    assert torch.allclose(discriminator(None, text, maps=maps), discriminator(images, text).detach(), atol=1e-5)


def test_only_the_heads_train_and_the_feature_network_never_changes(discriminator):
    frozen = list(discriminator.features.parameters()) + list(discriminator.projection.parameters())
    assert frozen and not any(p.requires_grad for p in frozen)
    discriminator.train()
    assert not discriminator.features.training  # its batch norms keep the ImageNet statistics
    before = {k: v.clone() for k, v in discriminator.features.state_dict().items()}
    probe = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        reference = [f.clone() for f in discriminator.features(probe)]
    trainable = [p for p in discriminator.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=1e-2)
    images = (torch.rand(4, 3, 64, 64) * 2 - 1).requires_grad_(True)
    scores, logits = discriminator(images, torch.randn(4, 50), return_attributes=True)
    (scores.mean() + logits["petal"].logsumexp(1).mean()).backward()
    assert all(p.grad is None for p in frozen)  # no gradient reaches the feature network's weights
    assert images.grad is not None and images.grad.abs().sum() > 0  # but the image path is differentiated
    heads_before = [p.detach().clone() for p in trainable]
    optimizer.step()
    assert any(not torch.equal(a, p) for a, p in zip(heads_before, trainable))
    for key, value in discriminator.features.state_dict().items():
        assert torch.equal(value, before[key]), key
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(reference, discriminator.features(probe)))
    discriminator.eval()


def test_the_attribute_reader_learns_only_from_the_attribute_loss_and_names_every_attribute():
    torch.manual_seed(0)
    config = Text2ImageConfig(**{**CONFIG.__dict__, "attribute_reader": True})
    discriminator = ProjectedDiscriminator(config)
    assert discriminator.attribute_heads is None and discriminator.attribute_reader is not None
    images = (torch.rand(4, 3, 64, 64) * 2 - 1).requires_grad_(True)
    scores, logits = discriminator(images, torch.randn(4, 50), return_attributes=True)
    assert {k: tuple(v.shape) for k, v in logits.items()} == {"petal": (4, 8), "stem": (4, 8), "size": (4, 2)}
    # The adversarial scores never move the reader: it stays a classifier of real images.
    scores.mean().backward(retain_graph=True)
    reader = list(discriminator.attribute_reader.parameters())
    assert all(p.grad is None for p in reader)
    assert all(p.grad is None for p in discriminator.features.parameters())
    # Its own loss reaches it, and (for the generator) the image.
    sum(v.logsumexp(1).mean() for v in logits.values()).backward()
    assert all(p.grad is not None for p in reader)
    assert images.grad.abs().sum() > 0
    # A batch of one image reads that image the same way whatever else is in the batch (no batch norm).
    discriminator.train()
    with torch.no_grad():
        alone = discriminator(images[:1], torch.randn(1, 50), return_attributes=True)[1]["petal"]
        together = discriminator(images, torch.randn(4, 50), return_attributes=True)[1]["petal"][:1]
    assert torch.allclose(alone, together, atol=1e-4)


def test_the_matching_aware_loss_on_a_hand_made_batch():
    # Scores (B, scales): real image + its caption, real image + a mismatched (or swapped) caption, generated + its caption.
    real_right = torch.tensor([[2.0, 0.5], [1.0, -1.0]])
    real_wrong = torch.tensor([[-2.0, 0.0], [0.5, -1.0]])
    fake_right = torch.tensor([[-1.0, -3.0], [1.0, 0.0]])
    # relu(1 - x) for real/right, relu(1 + x) for the two fakes, the fakes weighted 1/2, each averaged over all entries.
    expected = (0 + 0.5 + 0 + 2) / 4 + 0.5 * ((0 + 1 + 1.5 + 0) / 4 + (0 + 0 + 2 + 1) / 4)
    assert discriminator_hinge_loss(real_right, real_wrong, fake_right).item() == pytest.approx(expected)
    # A discriminator that gets every pair right by a margin has no loss left; the generator's loss is its fakes' mean score.
    perfect = discriminator_hinge_loss(torch.full((2, 2), 1.5), torch.full((2, 2), -1.5), torch.full((2, 2), -1.0))
    assert perfect.item() == 0.0
    assert generator_hinge_loss(fake_right).item() == pytest.approx(0.75)


def test_translation_moves_the_picture_and_keeps_its_colours():
    torch.manual_seed(0)
    images = torch.rand(8, 3, 32, 32) * 2 - 1
    shifted = translate(images, ratio=0.125)
    assert shifted.shape == images.shape
    assert not torch.equal(shifted, images)
    for original, moved in zip(images, shifted):  # every pixel of the result is a pixel of the original (no colour jitter)
        colours = {tuple(c) for c in original.flatten(1).T.tolist()}
        assert {tuple(c) for c in moved.flatten(1).T.tolist()} <= colours


def test_cutout_greys_one_square_of_the_asked_size_and_passes_gradients():
    torch.manual_seed(0)
    images = (torch.rand(6, 3, 32, 32) + 0.5).requires_grad_(True)  # no pixel is 0 before cutout
    out = cutout(images, ratio=0.25)
    grey = (out == 0).all(dim=1)  # (B, H, W)
    assert grey.sum(dim=(1, 2)).tolist() == [64] * 6  # an 8x8 square in each image
    out.sum().backward()
    assert images.grad.sum().item() == pytest.approx(6 * 3 * (1024 - 64))
    assert torch.equal(diff_augment(images, translation=0, cutout_ratio=0), images)


def test_the_loop_wraps_only_what_an_optimizer_updates():
    generator = Text2ImageGenerator(CONFIG)
    ema = Text2ImageGenerator(CONFIG).requires_grad_(False)
    optimizers = {"generator": torch.optim.Adam(generator.parameters())}
    assert optimized_modules({"generator": generator, "ema": ema}, optimizers) == ["generator"]


def test_the_cvae_term_redraws_real_flowers_from_encoded_noise_and_stays_out_of_the_export(tmp_path, monkeypatch):
    from t2i_core.training import TrainConfig, train
    from t2i_core.training.text2image_task import Text2ImageTask, Text2ImageTaskConfig

    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path / "cache"))
    config = Text2ImageTaskConfig(text_encoder="glove-avg", train_size=64, interpolation_share=0.5, reconstruction_weight=10.0,
                                  model={"generator_width": 8, "discriminator_width": 8, "text_affine": True})
    task = Text2ImageTask(config, classifier_path=None)
    run_dir = train(task, TrainConfig(output_dir=str(tmp_path / "run"), max_steps=30, batch_size=16, log_every=5, eval_every=30, save_every=30))
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    redrawn = [r["reconstruction"] for r in records if "reconstruction" in r]
    assert len(redrawn) >= 5 and redrawn[-1] < redrawn[0]  # the generator learns to redraw real flowers
    assert all(r["latent_kl"] >= 0 for r in records if "latent_kl" in r)
    # The encoder learns with the generator's optimizer, is saved for resuming, and is not exported.
    in_optimizer = {id(p) for group in task.g_optimizer.param_groups for p in group["params"]}
    assert all(id(p) in in_optimizer for p in task.latent_encoder.parameters())
    from safetensors import safe_open

    with safe_open(str(run_dir / "last" / "training_state.safetensors"), "pt") as state:
        assert any("latent_encoder" in key for key in state.keys())
    Text2ImageGenerator.from_pretrained(run_dir / "final")  # strict: no extra keys
    with pytest.raises(ValueError, match="projected"):
        Text2ImageTask(Text2ImageTaskConfig(text_encoder="glove-avg", train_size=64, reconstruction_weight=1.0, discriminator="classic"),
                       classifier_path=None)


def test_label_projection_scores_each_stated_attribute_in_its_role_and_ignores_unstated_ones():
    from t2i_core.models.projected_discriminator import label_projection_term

    tables = torch.nn.ModuleDict({"petal_colour": torch.nn.Embedding(3, 4), "stem_colour": torch.nn.Embedding(3, 4)})
    with torch.no_grad():
        tables["petal_colour"].weight.copy_(torch.eye(3, 4))  # petal value k points along axis k
        tables["stem_colour"].weight.copy_(-torch.eye(3, 4))  # stem value k against it
    phi = torch.tensor([[2.0, 0.0, 0.0, 0.0]] * 4)  # (4, 4): every image "shows" value 0 along axis 0
    labels = torch.tensor([[0, 1], [1, 0], [0, -1], [-1, -1]])  # (4, 2): right roles, swapped roles, stem unstated, nothing stated
    term = label_projection_term(phi, tables, labels)  # (4,)
    assert torch.allclose(term, torch.tensor([2.0, -2.0, 2.0, 0.0]) / 2.0)  # / sqrt(dim) = 2
    config = Text2ImageConfig(text_encoder="glove-avg", text_dim=50, generator_width=8, discriminator_width=8,
                              label_projection={"petal_colour": 8, "stem_colour": 8})
    labelled = ProjectedDiscriminator(config).eval()
    images, text = torch.rand(2, 3, 64, 64) * 2 - 1, torch.randn(2, 50)
    right, swapped = labelled(images, text, labels=torch.tensor([[0, 1], [0, 1]])), labelled(images, text, labels=torch.tensor([[1, 0], [1, 0]]))
    assert right.shape == (2, 3) and not torch.allclose(right, swapped)  # the labels reach every scale's score
    with pytest.raises(ValueError, match="label projection"):
        labelled(images, text)
    with pytest.raises(ValueError, match="label projection"):
        ProjectedDiscriminator(Text2ImageConfig(text_encoder="glove-avg", text_dim=50, generator_width=8, discriminator_width=8))(
            images, text, labels=torch.tensor([[0, 1], [0, 1]]))


def test_the_condition_probe_trains_the_text_condition_and_stays_out_of_the_export(tmp_path, monkeypatch):
    from t2i_core.training import TrainConfig, train
    from t2i_core.training.attribute_loss import attribute_loss
    from t2i_core.training.text2image_task import ConditionProbe, Text2ImageTask, Text2ImageTaskConfig

    # The probe's loss reaches the generator's text projection (that is its point) and not the noise path.
    generator = Text2ImageGenerator(Text2ImageConfig(text_encoder="glove-avg", text_dim=50, generator_width=8, text_affine=True))
    probe = ConditionProbe(generator.config.condition_dim)
    out = generator(torch.randn(4, 50), torch.randn(4, generator.config.noise_dim))
    attribute_loss(probe(out.mean), torch.tensor([[0, 1, 2, 0, 1, 0]] * 4)).backward()
    assert generator.conditioning.project.weight.grad.abs().sum() > 0
    assert generator.start[0].weight.grad is None

    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path / "cache"))
    config = Text2ImageTaskConfig(text_encoder="glove-avg", train_size=64, interpolation_share=0.5, label_projection=True,
                                  condition_probe_weight=1.0, model={"generator_width": 8, "discriminator_width": 8, "text_affine": True})
    task = Text2ImageTask(config, classifier_path=None)
    run_dir = train(task, TrainConfig(output_dir=str(tmp_path / "run"), max_steps=4, batch_size=16, log_every=2, eval_every=4, save_every=4))
    probed = [json.loads(line)["probe"] for line in (run_dir / "metrics.jsonl").read_text().splitlines() if "probe" in line]
    assert len(probed) == 2 and all(p > 0 for p in probed)
    in_optimizer = {id(p) for group in task.g_optimizer.param_groups for p in group["params"]}
    assert all(id(p) in in_optimizer for p in task.ddp["condition_probe"].parameters())
    exported = Text2ImageGenerator.from_pretrained(run_dir / "final")  # strict: no probe keys in the generator
    assert set(exported.config.label_projection) == {"petal_colour", "stem_colour", "centre_colour", "petal_shape", "petal_count", "size"}
    with pytest.raises(ValueError, match="projected"):
        Text2ImageTask(Text2ImageTaskConfig(text_encoder="glove-avg", train_size=64, label_projection=True, discriminator="classic"),
                       classifier_path=None)


TORCHRUN_SCRIPT = '''
import hashlib, json, os, sys, torch
sys.path.insert(0, {root!r})
from t2i_core.training import TrainConfig, train
from t2i_core.training import text2image_task
from t2i_core.training.attribute_guide import AttributeGuideConfig, fit_attribute_guide
from t2i_core.training.text2image_task import Text2ImageTask, Text2ImageTaskConfig
# The recipe's guide, fitted for a few steps only (each rank fits the same one from its seed).
text2image_task.fit_attribute_guide = lambda images, labels: fit_attribute_guide(images, labels, AttributeGuideConfig(steps=5, batch_size=16))
config = Text2ImageTaskConfig(text_encoder="glove-avg", train_size=48, interpolation_share=0.5, reconstruction_weight=1.0,
                              mode_seeking_weight=1.0, label_projection=True, condition_probe_weight=1.0,
                              condition_sampling=False, kl_weight=0.0, guide_weight=0.5,
                              model={{"generator_width": 8, "discriminator_width": 8, "text_affine": True}})
task = Text2ImageTask(config, classifier_path=None)
train(task, TrainConfig(output_dir={out!r}, max_steps=4, batch_size=16, log_every=2, eval_every=4, save_every=4))
digest = {{name: hashlib.sha1(b"".join(p.detach().numpy().tobytes() for p in module.parameters())).hexdigest()
          for name, module in (("generator", task.generator), ("discriminator", task.discriminator), ("ema", task.ema),
                                       ("latent_encoder", task.latent_encoder), ("probe", task.ddp["condition_probe"]))}}
with open(os.path.join({results!r}, "rank-" + os.environ["RANK"] + ".json"), "w") as f:
    json.dump(digest, f)
'''


def test_a_tiny_text2image_run_trains_under_torchrun_with_two_cpu_processes(tmp_path):
    """The real task (projected discriminator with label projection, frozen feature network, EMA generator,
    cVAE, mode-seeking, condition-probe and attribute-guide terms in one generator pass, the condition not sampled)
    under DDP, from an empty cache."""
    results = tmp_path / "results"
    results.mkdir()
    script = tmp_path / "gan_ddp.py"
    script.write_text(TORCHRUN_SCRIPT.format(root=str(ROOT), out=str(tmp_path / "run"), results=str(results)))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "T2I_DEVICE": "cpu", "T2I_CACHE_DIR": str(tmp_path / "cache")}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1", "--master_port=29541", str(script)],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    digests = [json.loads(f.read_text()) for f in sorted(results.glob("rank-*.json"))]
    assert len(digests) == 2 and digests[0] == digests[1]  # DDP kept generator, discriminator, EMA, latent encoder and probe identical
    run = tmp_path / "run"
    assert json.loads((run / "run_config.json").read_text())["world_size"] == 2
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [line["step"] for line in logged if "finished" in line] == [4]
    assert [line["guide"] > 0 for line in logged if "guide" in line] == [True, True]  # logged at steps 2 and 4
    generator = Text2ImageGenerator.from_pretrained(run / "final")
    assert generator.config.text_affine and generator.config.text_dim == 50

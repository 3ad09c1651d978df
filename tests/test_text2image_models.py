"""The text-to-image GAN and its judge: shapes, determinism, losses, checkpoints, a short run."""

import json

import pytest
import torch

from t2i_core.models.flower_classifier import FlowerAttributeClassifier, FlowerClassifierConfig
from t2i_core.models.residual_attention import ResidualAttentionModule
from t2i_core.models.text2image_gan import Text2ImageConfig, Text2ImageDiscriminator, Text2ImageGenerator
from t2i_core.training.text2image_task import discriminator_hinge_loss, generator_hinge_loss, kl_divergence, mode_seeking_loss

TINY = Text2ImageConfig(text_encoder="glove-avg", text_dim=50, generator_width=8, discriminator_width=8)


def test_residual_attention_combines_trunk_and_mask_as_one_plus_m_times_t():
    torch.manual_seed(0)
    module = ResidualAttentionModule(6).eval()
    x = torch.randn(2, 6, 8, 8)
    out, mask = module(x)
    assert out.shape == mask.shape == (2, 6, 8, 8)
    assert 0 < mask.min() and mask.max() < 1
    assert torch.allclose(out, (1 + mask) * module.trunk(x), atol=1e-6)


def test_generator_shapes_range_and_masks():
    torch.manual_seed(0)
    generator = Text2ImageGenerator(TINY).eval()
    out = generator(torch.randn(3, 50), torch.randn(3, TINY.noise_dim), return_masks=True)
    assert out.images.shape == (3, 3, 64, 64)
    assert out.images.min() >= -1 and out.images.max() <= 1
    assert set(out.masks) == set(TINY.attention_at)
    for size, mask in out.masks.items():
        assert mask.shape == (3, size, size) and 0 < mask.min() and mask.max() < 1
    assert out.mean.shape == out.log_variance.shape == (3, TINY.condition_dim)


def test_generator_is_deterministic_given_noise_and_depends_on_text():
    torch.manual_seed(0)
    generator = Text2ImageGenerator(TINY).eval()
    text, noise = torch.randn(2, 50), torch.randn(2, TINY.noise_dim)
    with torch.no_grad():
        a = generator(text, noise, sample_condition=False).images
        b = generator(text, noise, sample_condition=False).images
        c = generator(text.flip(0), noise, sample_condition=False).images
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_discriminator_scores_each_image_text_pair():
    torch.manual_seed(0)
    discriminator = Text2ImageDiscriminator(TINY)
    scores = discriminator(torch.rand(4, 3, 64, 64) * 2 - 1, torch.randn(4, 50))
    assert scores.shape == (4,)


def test_projection_term_and_colour_heads_of_the_discriminator():
    torch.manual_seed(0)
    config = Text2ImageConfig(text_encoder="glove-avg", text_dim=50, generator_width=8, discriminator_width=8, projection=True, auxiliary_colours=8)
    discriminator = Text2ImageDiscriminator(config).eval()
    images, text = torch.rand(4, 3, 64, 64) * 2 - 1, torch.randn(4, 50)
    scores, logits = discriminator(images, text, return_attributes=True)
    assert scores.shape == (4,) and {k: v.shape for k, v in logits.items()} == {"petal": (4, 8), "stem": (4, 8)}
    # The colour heads read the image alone; the score reads the pair.
    _, other_logits = discriminator(images, torch.randn(4, 50), return_attributes=True)
    assert torch.equal(logits["petal"], other_logits["petal"])
    with pytest.raises(ValueError, match="no attribute heads"):
        Text2ImageDiscriminator(TINY)(images, text, return_attributes=True)


def test_the_discriminator_can_name_every_attribute():
    config = Text2ImageConfig(text_encoder="glove-avg", text_dim=50, generator_width=8, discriminator_width=8, auxiliary_colours=8,
                              auxiliary_attributes={"centre_colour": 3, "petal_count": 2})
    _, logits = Text2ImageDiscriminator(config)(torch.rand(2, 3, 64, 64), torch.randn(2, 50), return_attributes=True)
    assert {k: v.shape for k, v in logits.items()} == {"petal": (2, 8), "stem": (2, 8), "centre_colour": (2, 3), "petal_count": (2, 2)}
    with pytest.raises(ValueError, match="needs the colour heads"):
        Text2ImageDiscriminator(Text2ImageConfig(text_dim=50, auxiliary_attributes={"size": 2}))


def test_matching_aware_loss_on_a_hand_made_batch():
    confident = discriminator_hinge_loss(torch.tensor([2.0, 1.5]), torch.tensor([-2.0, -1.0]), torch.tensor([-3.0, -1.0]))
    assert confident.item() == 0.0  # every pair beyond its margin
    fooled = discriminator_hinge_loss(torch.tensor([0.0]), torch.tensor([1.0]), torch.tensor([0.0]))
    assert fooled.item() == pytest.approx(1.0 + 0.5 * (2.0 + 1.0))
    # A real image with the wrong text must cost the discriminator like a fake does.
    wrong_called_real = discriminator_hinge_loss(torch.tensor([1.0]), torch.tensor([1.0]), torch.tensor([-1.0]))
    assert wrong_called_real.item() == pytest.approx(1.0)
    assert generator_hinge_loss(torch.tensor([1.0, 3.0])).item() == -2.0
    assert kl_divergence(torch.zeros(2, 4), torch.zeros(2, 4)).item() == 0.0
    assert kl_divergence(torch.ones(2, 4), torch.zeros(2, 4)).item() == pytest.approx(2.0)


def test_mode_seeking_loss_punishes_noise_that_changes_nothing():
    z1, z2 = torch.zeros(4, 8), torch.ones(4, 8)
    same = torch.zeros(4, 3, 8, 8)
    collapsed = mode_seeking_loss(same, same, z1, z2)
    diverse = mode_seeking_loss(same, torch.full((4, 3, 8, 8), 0.5), z1, z2)
    assert collapsed.item() > 1e4 and diverse.item() == pytest.approx(2.0, rel=1e-3)


def test_generator_checkpoint_round_trips(tmp_path):
    torch.manual_seed(0)
    generator = Text2ImageGenerator(TINY).eval()
    generator.save_pretrained(tmp_path)
    loaded = Text2ImageGenerator.from_pretrained(tmp_path)
    assert loaded.config == TINY
    text, noise = torch.randn(2, 50), torch.randn(2, TINY.noise_dim)
    with torch.no_grad():
        assert torch.equal(generator(text, noise, sample_condition=False).images, loaded(text, noise, sample_condition=False).images)
    assert json.loads((tmp_path / "config.json").read_text())["config"]["text_encoder"] == "glove-avg"


def test_classifier_predicts_every_attribute_and_embeds():
    torch.manual_seed(0)
    classifier = FlowerAttributeClassifier(FlowerClassifierConfig()).eval()
    images = torch.rand(5, 3, 64, 64)
    logits = classifier(images)
    assert {k: v.shape for k, v in logits.items()} == {k: (5, len(v)) for k, v in classifier.config.attributes.items()}
    assert classifier.embed(images).shape == (5, classifier.config.feature_dim)
    predicted = classifier.predict(images)
    assert predicted["petal_count"][0] in (5, 8) and predicted["size"][0] in ("small", "large")


@pytest.mark.parametrize("discriminator", ["projected", "classic"])
def test_a_short_gan_run_teaches_the_discriminator(tmp_path, monkeypatch, discriminator):
    from t2i_core.training import TrainConfig, train
    from t2i_core.training.text2image_task import Text2ImageTask, Text2ImageTaskConfig

    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path / "cache"))
    config = Text2ImageTaskConfig(text_encoder="glove-avg", train_size=64, mode_seeking_weight=1.0, auxiliary_attributes=True,
                                  discriminator=discriminator, interpolation_share=0.5,
                                  model={"generator_width": 8, "discriminator_width": 8, "text_affine": discriminator == "projected"})
    task = Text2ImageTask(config, classifier_path=None)
    run_dir = train(task, TrainConfig(output_dir=str(tmp_path / "run"), max_steps=40, batch_size=16, log_every=10, eval_every=40, save_every=40))
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    d_losses = [r["d_loss"] for r in records if "d_loss" in r]
    assert d_losses[-1] < d_losses[0]
    # The discriminator's heads learn to name the attributes of real flowers.
    colour_losses = [r["d_colour"] for r in records if "d_colour" in r]
    assert colour_losses[-1] < colour_losses[0]
    # The mode-seeking term (MSGAN) is computed and finite at every logged step.
    assert all(0 < r["mode_seeking"] < 1e5 for r in records if "d_loss" in r)
    assert (run_dir / "samples" / "step-000040.png").is_file()
    generator = Text2ImageGenerator.from_pretrained(run_dir / "final")
    assert generator.config.text_dim == 50 and generator.config.generator_width == 8
    assert set(generator.config.auxiliary_attributes) == {"centre_colour", "petal_shape", "petal_count", "size"}


def test_caption_labels_hold_what_each_caption_states_and_nothing_else(tmp_path, monkeypatch):
    from t2i_core.data import load_world
    from t2i_core.data.flowers import ATTRIBUTE_VALUES
    from t2i_core.training.text2image_task import CaptionedFlowers

    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path))
    world = load_world("flowers", "train", size=24, seed=0)
    data = CaptionedFlowers(world)
    columns = list(ATTRIBUTE_VALUES)
    for s in world.samples(render=False):
        assert [ATTRIBUTE_VALUES[a][k] for a, k in zip(columns, data.labels[s.index])] == [s.attributes[a] for a in columns]
        for caption, i in zip(s.captions, data.caption_ids[s.index]):
            assert data.captions[i] == caption
            for a, k in zip(columns, data.caption_labels[i]):
                if k < 0:  # unstated; every caption states both colours
                    assert a not in ("petal_colour", "stem_colour"), caption
                else:
                    assert ATTRIBUTE_VALUES[a][k] == s.attributes[a]
                    word = {5: "five", 8: "eight"}.get(s.attributes[a], str(s.attributes[a]))
                    assert word in caption, (caption, a)
    stated = data.caption_labels >= 0
    assert stated[:, :2].all() and not stated[:, 2:].all() and stated[:, 2:].any()


def test_batchnorm_recalibration_makes_eval_mode_match_training_mode():
    from t2i_core.models.text2image_gan import recalibrate_batchnorm

    torch.manual_seed(0)
    generator = Text2ImageGenerator(TINY)
    table = torch.randn(40, 50) * 3 + 1
    # Stale statistics, as an averaged generator inherits them.
    for module in generator.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.fill_(5.0)
            module.running_var.fill_(0.01)
    noise = torch.randn(256, TINY.noise_dim, generator=torch.Generator().manual_seed(1))
    text = table[torch.arange(256) % 40]
    with torch.no_grad():
        generator.train()
        reference = generator(text, noise, sample_condition=False).images.mean().item()
        generator.eval()
        stale = generator(text, noise, sample_condition=False).images.mean().item()
        recalibrate_batchnorm(generator, table, batches=16, batch_size=64)
        assert not generator.training
        calibrated = generator(text, noise, sample_condition=False).images.mean().item()
    assert abs(calibrated - reference) < 0.25 * abs(stale - reference)


def test_attribute_loss_skips_unstated_labels_and_stays_finite_when_a_head_has_none():
    import torch.nn.functional as F

    from t2i_core.training.attribute_loss import HEAD_COLUMNS, attribute_loss

    logits = {"petal": torch.randn(3, 8), "centre_colour": torch.randn(3, 3)}
    labels = torch.full((3, 6), -1)
    labels[:, 0] = torch.tensor([1, 2, 3])  # petal colour stated for all; centre colour for none
    loss = attribute_loss(logits, labels)
    assert torch.isfinite(loss)
    torch.testing.assert_close(loss, F.cross_entropy(logits["petal"], labels[:, 0]))
    labels[0, HEAD_COLUMNS["centre_colour"]] = 2  # now one centre colour is stated
    torch.testing.assert_close(attribute_loss(logits, labels),
                               F.cross_entropy(logits["petal"], labels[:, 0]) + F.cross_entropy(logits["centre_colour"][:1], torch.tensor([2])))


def test_a_short_run_of_the_judge_learns_colours_it_is_scored_on_held_out_flowers(tmp_path, monkeypatch):
    """``train flower-classifier`` on the shared loop: 120 steps on 600 flowers read petal and stem
    colour of 200 validation flowers well above chance (11 colours: about 0.09)."""
    from t2i_core.training import TrainConfig, train
    from t2i_core.training.flower_classifier_task import FlowerClassifierTask, FlowerClassifierTaskConfig

    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path / "cache"))
    task = FlowerClassifierTask(FlowerClassifierTaskConfig(train_size=600, val_size=200, total_steps=120), seed=0)
    run_dir = train(task, TrainConfig(output_dir=str(tmp_path / "run"), max_steps=120, batch_size=32, log_every=60, eval_every=120, save_every=120))
    evaluated = [json.loads(line)["eval"] for line in (run_dir / "metrics.jsonl").read_text().splitlines() if "eval" in line]
    assert evaluated[-1]["val_petal_colour"] >= 0.5 and evaluated[-1]["val_stem_colour"] >= 0.4
    judge = FlowerAttributeClassifier.from_pretrained(run_dir / "final")
    assert set(judge.predict(torch.rand(2, 3, 64, 64))) == set(judge.heads)

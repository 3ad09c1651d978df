"""The text-to-image and flower-attribute pipelines, on small checkpoints made here."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

import t2i_core
from hub_cache import build_hub_cache
from t2i_core.checkpoint import CheckpointNotFoundError
from t2i_core.cli import main
from t2i_core.data import load_world
from t2i_core.data.flowers import HELDOUT_PAIRS, SEEN_PAIRS
from t2i_core.evaluation.text2image import (
    frechet_distance,
    heldout_pair_prompts,
    load_prompts_file,
    mean_pairwise_distance,
    seen_prompts,
    swapped_twins,
)
from t2i_core.models.flower_classifier import FlowerAttributeClassifier, FlowerClassifierConfig
from t2i_core.models.text2image_gan import Text2ImageConfig, Text2ImageGenerator
from t2i_core.pipelines import text2image
from t2i_core.pipelines.flower_attributes import FlowerAttributesOutput, FlowerAttributesPipeline
from t2i_core.pipelines.text2image import CHECKPOINTS, Text2ImageOutput, Text2ImagePipeline


@pytest.fixture(scope="module")
def tiny_generator(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gen")
    torch.manual_seed(0)
    Text2ImageGenerator(Text2ImageConfig(text_encoder="glove-avg", text_dim=50, generator_width=8)).eval().save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def pipe(tiny_generator):
    return t2i_core.load_pipeline("text2image", encoder="glove-avg", checkpoint=tiny_generator, device="cpu")


def test_same_prompt_and_seed_give_the_same_images(pipe):
    a = pipe("a red flower with a yellow stem", num_images=3, seed=5).images[0]
    b = pipe("a red flower with a yellow stem", num_images=3, seed=5).images[0]
    c = pipe("a red flower with a yellow stem", num_images=3, seed=6).images[0]
    assert len(a) == 3 and all(isinstance(im, Image.Image) and im.size == (64, 64) for im in a)
    assert [im.tobytes() for im in a] == [im.tobytes() for im in b]
    assert a[0].tobytes() != c[0].tobytes()


def test_one_prompt_and_a_list_of_prompts_both_give_a_text2image_output(pipe):
    one = pipe("  a red flower with a yellow stem ", num_images=2, seed=3)
    batch = pipe(["a red flower with a yellow stem", "a blue flower with a white stem"], num_images=2, seed=3)
    for output, prompts in ((one, 1), (batch, 2)):
        assert type(output) is Text2ImageOutput
        assert len(output.prompts) == len(output.images) == prompts and all(len(images) == 2 for images in output.images)
        assert output.masks == {}
    assert one.prompts == ["a red flower with a yellow stem"]  # as the generator read it
    assert [im.tobytes() for im in one.images[0]] == [im.tobytes() for im in batch.images[0]]


def test_a_list_of_prompts_gives_a_list_per_prompt_with_shared_noise(pipe):
    out = pipe(["a red flower with a blue stem", "a blue flower with a red stem", "a pink flower with a white stem"], num_images=2, seed=1).images
    assert [len(images) for images in out] == [2, 2, 2]
    # glove-avg: the swapped sentences have the same embedding, so with the same noise the same images.
    assert out[0][0].tobytes() == out[1][0].tobytes()
    assert out[0][0].tobytes() != out[2][0].tobytes()


def test_masks_come_back_on_request(pipe):
    result = pipe("a white flower with a green stem", num_images=2, return_masks=True)
    assert len(result.images[0]) == 2
    assert set(result.masks) == {8, 16}
    assert result.masks[16].shape == (1, 2, 16, 16) and 0 < result.masks[16].min() <= result.masks[16].max() < 1
    assert [im.size for im in result.mask_overlays(0, resolution=16)] == [(128, 128)] * 2
    two = pipe(["a white flower with a green stem", "a red flower with a blue stem"], num_images=3, return_masks=True)
    assert two.masks[8].shape == (2, 3, 8, 8) and len(two.mask_overlays(1, resolution=8)) == 3
    with pytest.raises(ValueError, match="no mask"):
        pipe("a white flower with a green stem", num_images=1).mask_overlays(0)


def test_interpolation_walks_between_two_sentences(pipe):
    path = pipe.interpolate("a red flower with a green stem", "a white flower with a blue stem", steps=5, seed=0)
    ends = pipe(["a red flower with a green stem", "a white flower with a blue stem"], num_images=1, seed=0).images
    assert len(path) == 5
    assert np.abs(np.asarray(path[0], float) - np.asarray(ends[0][0], float)).max() <= 1
    assert np.abs(np.asarray(path[-1], float) - np.asarray(ends[1][0], float)).max() <= 1


def test_from_pretrained_reads_the_encoder_from_the_checkpoint_folder_or_hub_id(pipe, tiny_generator, tmp_path):
    loaded = Text2ImagePipeline.from_pretrained(tiny_generator, device="cpu")
    assert loaded.encoder_name == "glove-avg"
    expected = [im.tobytes() for im in pipe("a red flower with a yellow stem", num_images=2, seed=4).images[0]]
    assert [im.tobytes() for im in loaded("a red flower with a yellow stem", num_images=2, seed=4).images[0]] == expected
    build_hub_cache(tmp_path / "hub", "t2i-core/tiny-gan", tiny_generator)
    from_hub = Text2ImagePipeline.from_pretrained("t2i-core/tiny-gan", device="cpu", cache_dir=tmp_path / "hub", local_files_only=True)
    assert [im.tobytes() for im in from_hub("a red flower with a yellow stem", num_images=2, seed=4).images[0]] == expected


def test_from_pretrained_on_the_shipped_folder_draws_what_load_pipeline_draws(tmp_path):
    shipped = CHECKPOINTS / "text2image-glove-avg"
    loaded = Text2ImagePipeline.from_pretrained(shipped, device="cpu")
    by_name = t2i_core.load_pipeline("text2image", encoder="glove-avg", device="cpu")
    assert loaded.encoder_name == "glove-avg"
    assert [im.tobytes() for im in loaded("a red flower with a yellow stem", num_images=2).images[0]] == \
        [im.tobytes() for im in by_name("a red flower with a yellow stem", num_images=2).images[0]]
    with pytest.raises(CheckpointNotFoundError):
        Text2ImagePipeline.from_pretrained("t2i-core/absent", cache_dir=tmp_path, local_files_only=True)


def test_bad_requests_are_clear_errors(pipe, tiny_generator):
    for prompt in ["", "   ", "x" * 5000, "bad\x00text"]:
        with pytest.raises(ValueError):
            pipe(prompt)
    with pytest.raises(ValueError, match="num_images"):
        pipe("a red flower with a yellow stem", num_images=0)
    with pytest.raises(ValueError, match="steps"):
        pipe.interpolate("a", "b", steps=1)
    with pytest.raises(ValueError, match="trained with the 'glove-avg' encoder"):
        t2i_core.load_pipeline("text2image", encoder="use", checkpoint=tiny_generator)


def test_flower_attributes_pipeline_reads_any_image_and_returns_every_attribute(tmp_path):
    torch.manual_seed(0)
    FlowerAttributeClassifier(FlowerClassifierConfig()).eval().save_pretrained(tmp_path)
    judge = t2i_core.load_pipeline("flower-attributes", checkpoint=tmp_path, device="cpu")
    inputs = [Image.new("RGB", (64, 64), "red"), Image.new("RGBA", (100, 80)), np.zeros((64, 64), np.uint8), Image.new("CMYK", (30, 30))]
    results = judge(inputs)
    assert type(results) is FlowerAttributesOutput and len(results.attributes) == len(results.confidences) == 4
    names = {"petal_colour", "stem_colour", "centre_colour", "petal_shape", "petal_count", "size"}
    for attributes, confidences in zip(results.attributes, results.confidences):
        assert set(attributes) == set(confidences) == names
        assert all(0 < p <= 1 for p in confidences.values())
    one = judge(inputs[0])
    assert type(one) is FlowerAttributesOutput and one.attributes == results.attributes[:1]
    assert judge.features(inputs[:2]).shape == (2, 256)
    with pytest.raises(ValueError, match="not an image"):
        judge(b"definitely not a png")
    loaded = FlowerAttributesPipeline.from_pretrained(tmp_path, device="cpu")
    assert loaded(inputs).attributes == results.attributes


def test_flower_attributes_from_pretrained_on_the_shipped_folder():
    judge = FlowerAttributesPipeline.from_pretrained(CHECKPOINTS / "flower-attributes", device="cpu")
    flower = load_world("flowers", "test", size=1, seed=0).sample(0)
    output = judge([flower.image, flower.image])
    assert type(output) is FlowerAttributesOutput and len(output.attributes) == 2
    assert output.attributes[0]["petal_colour"] == flower.attributes["petal_colour"]


def test_prompt_groups_hold_what_they_say():
    seen = seen_prompts(60)
    assert all((p.expected["petal_colour"], p.expected["stem_colour"]) in SEEN_PAIRS for p in seen)
    assert all((p.expected["petal_colour"], p.expected["stem_colour"]) in HELDOUT_PAIRS for p in heldout_pair_prompts(40))
    twins = swapped_twins(seen)
    assert twins and len(twins) < len(seen)  # prompts whose swap is held out have no twin
    for original, twin in twins:
        assert (twin.expected["petal_colour"], twin.expected["stem_colour"]) == (original.expected["stem_colour"], original.expected["petal_colour"])
        assert twin.template == original.template and twin.text != original.text


def test_user_prompt_files_are_checked(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"text": "a red rose on a green stem", "expected": {"petal_colour": "red", "stem_colour": "green"}}) + "\n")
    assert load_prompts_file(good)[0].expected == {"petal_colour": "red", "stem_colour": "green"}
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "a rose", "expected": {"petal_colour": "teal", "stem_colour": "green"}}) + "\n")
    with pytest.raises(ValueError, match="line 1: petal_colour must be one of"):
        load_prompts_file(bad)


def test_frechet_distance_and_diversity_behave():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 5)), rng.normal(size=(400, 5))
    assert frechet_distance(a, b) < 0.5
    assert frechet_distance(a, b + 2.0) == pytest.approx(frechet_distance(a, b) + 20.0, abs=1.0)
    assert mean_pairwise_distance(np.zeros((4, 3))) == 0.0
    assert mean_pairwise_distance(np.array([[0.0, 0.0], [3.0, 4.0]])) == 5.0


def test_generate_command_writes_a_grid_and_masks(tiny_generator, tmp_path):
    output = tmp_path / "grid.png"
    assert main(["generate", "a red flower with a yellow stem", "--encoder", "glove-avg", "--checkpoint", str(tiny_generator),
                 "-n", "4", "-o", str(output), "--masks"]) == 0
    assert Image.open(output).size[0] > 64 * 4
    assert (tmp_path / "grid-mask16.png").is_file()


def test_generate_command_draws_a_row_per_prompt(tiny_generator, tmp_path):
    one, two = tmp_path / "one.png", tmp_path / "two.png"
    common = ["--encoder", "glove-avg", "--checkpoint", str(tiny_generator), "-n", "3"]
    assert main(["generate", "a red flower with a yellow stem", *common, "-o", str(one)]) == 0
    assert main(["generate", "a red flower with a yellow stem", "a blue flower with a white stem", *common, "-o", str(two), "--masks"]) == 0
    width_one, height_one = Image.open(one).size
    width_two, height_two = Image.open(two).size
    assert width_two == width_one and height_two > 1.8 * height_one  # a second row, as wide as the first
    assert Image.open(tmp_path / "two-mask8.png").size == (width_two, height_two)


@pytest.mark.parametrize("command", [
    ["generate", "a red flower with a yellow stem", "--encoder", "bogus"],
    ["eval", "round-trip", "--encoder", "bogus", "-n", "1"],
    ["eval", "text2image", "--encoders", "use", "bogus", "-n", "2"],
], ids=["generate", "eval round-trip", "eval text2image"])
def test_an_unknown_encoder_is_refused_with_the_names_of_the_shipped_ones(command, capsys):
    assert main(command) == 2
    error = capsys.readouterr().err
    assert "error: unknown encoder 'bogus'; shipped text-to-image encoders: use, glove-avg" in error
    assert "checkpoint folder" not in error


def test_train_text2image_takes_only_a_registered_text_encoder(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "text2image", "--encoder", "bogus", "--steps", "1"])
    assert exit_.value.code == 2
    assert "invalid choice: 'bogus'" in capsys.readouterr().err


def test_the_shipped_encoders_are_the_generator_folders_with_a_config_the_default_first(monkeypatch, tmp_path):
    for name in ("glove-avg", "use", "half-written"):
        (tmp_path / f"text2image-{name}").mkdir()
    for name in ("glove-avg", "use"):
        (tmp_path / f"text2image-{name}" / "config.json").write_text("{}")
    (tmp_path / "caption-show-and-tell").mkdir()
    monkeypatch.setattr(text2image, "CHECKPOINTS", tmp_path)
    assert text2image.shipped_encoders() == ["use", "glove-avg"]
    assert text2image.shipped_checkpoint() == tmp_path / "text2image-use"
    with pytest.raises(ValueError, match="unknown encoder 'half-written'; shipped text-to-image encoders: use, glove-avg$"):
        text2image.shipped_checkpoint("half-written")
    with pytest.raises(ValueError, match=r"no generator trained with the 'use-tfhub' encoder is shipped \(train one with `python -m t2i_core "
                                         r"train text2image --encoder use-tfhub --ship`\); shipped text-to-image encoders: use, glove-avg$"):
        text2image.shipped_checkpoint("use-tfhub")  # a registered sentence encoder, but no generator of it
    monkeypatch.setattr(text2image, "CHECKPOINTS", tmp_path / "empty")
    with pytest.raises(ValueError, match="no generator trained with the 'use' encoder is shipped .*encoders: none$"):
        text2image.shipped_checkpoint()


def test_the_judges_verdicts_say_right_for_real_flowers_and_wrong_for_their_swapped_captions():
    """``check`` reads each stated attribute off the prompt and compares the judge's reading of the image."""
    if not (CHECKPOINTS / "flower-attributes" / "config.json").is_file():
        pytest.skip("no flower judge shipped")
    judge = FlowerAttributesPipeline()
    world = load_world("flowers", "test", size=24, seed=3)
    right = wrong = 0
    for i in range(len(world)):
        sample = world.sample(i)
        (verdicts,) = judge.check([sample.image], sample.caption)
        assert [v.attribute for v in verdicts][:2] == ["petal_colour", "stem_colour"]  # every template states both colours
        right += all(v.right for v in verdicts)
        (swapped,) = judge.check([sample.image], sample.swapped_caption)
        wrong += [v.right for v in swapped[:2]] == [False, False]
        assert swapped[0].label() == f"petals {sample.attributes['stem_colour']} ✗ (drew {sample.attributes['petal_colour']})"
    assert right >= 23 and wrong >= 23
    assert judge.check([world.sample(0).image], "a flower") == [[]]  # nothing stated, nothing to check


def test_the_judge_checks_one_prompt_per_image_in_one_batch_as_it_checks_them_apart():
    if not (CHECKPOINTS / "flower-attributes" / "config.json").is_file():
        pytest.skip("no flower judge shipped")
    judge = FlowerAttributesPipeline()
    world = load_world("flowers", "test", size=6, seed=4)
    samples = [world.sample(i) for i in range(len(world))]
    images, prompts = [s.image for s in samples], [s.caption if i % 2 else s.swapped_caption for i, s in enumerate(samples)]
    together = judge.check(images, prompts)
    apart = [judge.check([image], prompt)[0] for image, prompt in zip(images, prompts)]
    assert [[(v.attribute, v.stated, v.seen) for v in image] for image in together] == [[(v.attribute, v.stated, v.seen) for v in image] for image in apart]
    with pytest.raises(ValueError, match="one prompt, or one per image"):
        judge.check(images, prompts[:-1])

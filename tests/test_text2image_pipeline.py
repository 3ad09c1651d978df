"""The text-to-image and flower-attribute pipelines, on small checkpoints made here."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

import t2i_core
from t2i_core.cli import main
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
    a = pipe("a red flower with a yellow stem", num_images=3, seed=5)
    b = pipe("a red flower with a yellow stem", num_images=3, seed=5)
    c = pipe("a red flower with a yellow stem", num_images=3, seed=6)
    assert len(a) == 3 and all(isinstance(im, Image.Image) and im.size == (64, 64) for im in a)
    assert [im.tobytes() for im in a] == [im.tobytes() for im in b]
    assert a[0].tobytes() != c[0].tobytes()


def test_a_list_of_prompts_gives_a_list_per_prompt_with_shared_noise(pipe):
    out = pipe(["a red flower with a blue stem", "a blue flower with a red stem", "a pink flower with a white stem"], num_images=2, seed=1)
    assert [len(images) for images in out] == [2, 2, 2]
    # glove-avg: the swapped sentences have the same embedding, so with the same noise the same images.
    assert out[0][0].tobytes() == out[1][0].tobytes()
    assert out[0][0].tobytes() != out[2][0].tobytes()


def test_masks_come_back_on_request(pipe):
    result = pipe("a white flower with a green stem", num_images=2, return_masks=True)
    assert len(result.images) == 2
    assert set(result.masks) == {8, 16}
    assert result.masks[16].shape == (2, 16, 16) and 0 < result.masks[16].min() <= result.masks[16].max() < 1


def test_interpolation_walks_between_two_sentences(pipe):
    path = pipe.interpolate("a red flower with a green stem", "a white flower with a blue stem", steps=5, seed=0)
    ends = pipe(["a red flower with a green stem", "a white flower with a blue stem"], num_images=1, seed=0)
    assert len(path) == 5
    assert np.abs(np.asarray(path[0], float) - np.asarray(ends[0][0], float)).max() <= 1
    assert np.abs(np.asarray(path[-1], float) - np.asarray(ends[1][0], float)).max() <= 1


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
    assert len(results) == 4
    for row in results:
        assert set(row) == {"petal_colour", "stem_colour", "centre_colour", "petal_shape", "petal_count", "size", "confidence"}
        assert all(0 < p <= 1 for p in row["confidence"].values())
    assert judge.features(inputs[:2]).shape == (2, 256)
    with pytest.raises(ValueError, match="not an image"):
        judge(b"definitely not a png")


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

"""The Flowers world: deterministic, captions true to the flower, held-out sets kept out."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from t2i_core.data import load_world
from t2i_core.data.flowers import (
    ALL_PAIRS,
    ATTRIBUTE_VALUES,
    FLOWER_COLOURS,
    HELDOUT_PAIRS,
    HELDOUT_TEMPLATES,
    SEEN_PAIRS,
    SEEN_TEMPLATES,
    TEMPLATES,
    TEMPLATES_BY_NAME,
    read_stated_attributes,
    swap_colours,
)
from t2i_core.data.palette import PALETTE


def test_same_seed_gives_identical_bytes():
    a = load_world("flowers", "train", seed=7)
    b = load_world("flowers", "train", seed=7)
    for i in (0, 5, 123):
        sa, sb = a.sample(i), b.sample(i)
        assert sa.image.tobytes() == sb.image.tobytes()
        assert sa.caption == sb.caption and sa.attributes == sb.attributes


def test_samples_render_the_same_in_any_order():
    world = load_world("flowers", "val")
    forward = [world.sample(i).image.tobytes() for i in range(4)]
    backward = [world.sample(i).image.tobytes() for i in reversed(range(4))][::-1]
    assert forward == backward


def test_different_seeds_and_splits_differ():
    first = load_world("flowers", "train", seed=0).sample(0).image.tobytes()
    assert load_world("flowers", "train", seed=1).sample(0).image.tobytes() != first
    assert load_world("flowers", "val", seed=0).sample(0).image.tobytes() != first


def test_palette_and_templates_are_rich_enough():
    assert len(FLOWER_COLOURS) >= 8
    assert {"red", "orange", "yellow", "green", "blue", "purple", "pink", "white"} <= set(FLOWER_COLOURS)
    assert len(TEMPLATES) >= 12
    assert any(t.petal_first for t in SEEN_TEMPLATES) and any(not t.petal_first for t in SEEN_TEMPLATES)
    assert 2 <= len(HELDOUT_TEMPLATES) <= 3
    assert len(ATTRIBUTE_VALUES) >= 4  # petal and stem colour plus at least two more


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_every_template_names_petal_and_stem_colour_in_place(template):
    flower = {"petal_colour": "red", "stem_colour": "blue", "centre_colour": "black",
              "petal_shape": "pointed", "petal_count": 8, "size": "small"}
    caption = template.fill(flower)
    words = caption.split()
    assert "red" in words and "blue" in words
    assert (words.index("red") < words.index("blue")) == template.petal_first


def test_captions_match_ground_truth():
    world = load_world("flowers", "train", size=300)
    for s in world.samples(render=False):
        a = s.attributes
        assert s.caption in s.captions
        for caption in s.captions:
            words = caption.split()
            assert a["petal_colour"] in words and a["stem_colour"] in words
            petal_position = words.index(a["petal_colour"])
            stem_position = words.index(a["stem_colour"])
            template = TEMPLATES[[t.fill(a) for t in TEMPLATES].index(caption)]
            assert (petal_position < stem_position) == template.petal_first
            if "{size}" in template.text:
                assert a["size"] in words
        assert s.attributes["petal_colour"] != s.attributes["stem_colour"]
        assert s.attributes["centre_colour"] != s.attributes["petal_colour"]


def test_swapped_caption_exchanges_the_colours():
    s = load_world("flowers", "train").sample(3, render=False)
    twin = TEMPLATES_BY_NAME[s.template].fill(swap_colours(s.attributes))
    assert s.swapped_caption == twin != s.caption
    assert sorted(s.swapped_caption.replace("an ", "a ").split()) == sorted(s.caption.replace("an ", "a ").split())


def test_heldout_pairs_are_held_out_in_one_order_only():
    assert len(HELDOUT_PAIRS) >= 4
    for petal, stem in HELDOUT_PAIRS:
        assert (stem, petal) not in HELDOUT_PAIRS
        assert (stem, petal) in SEEN_PAIRS
    assert set(SEEN_PAIRS) | set(HELDOUT_PAIRS) == set(ALL_PAIRS)


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_in_distribution_splits_never_show_heldout_pairs_or_templates(split):
    heldout_texts = {t.name for t in HELDOUT_TEMPLATES}
    world = load_world("flowers", split, size=1500)
    for s in world.samples(render=False):
        assert (s.attributes["petal_colour"], s.attributes["stem_colour"]) not in HELDOUT_PAIRS
        assert s.template not in heldout_texts and not heldout_texts & set(s.templates)


def test_heldout_splits_hold_what_they_say():
    pairs = {(s.attributes["petal_colour"], s.attributes["stem_colour"])
             for s in load_world("flowers", "heldout-pairs", size=400).samples(render=False)}
    assert pairs == set(HELDOUT_PAIRS)
    seen_names = {t.name for t in SEEN_TEMPLATES}
    for s in load_world("flowers", "heldout-templates", size=200).samples(render=False):
        assert (s.attributes["petal_colour"], s.attributes["stem_colour"]) in SEEN_PAIRS
        assert s.template not in seen_names and TEMPLATES_BY_NAME[s.template].heldout


def _colour_rows(image, name):
    """Row indices of pixels nearest to palette colour ``name`` among the flower colours."""
    pixels = np.asarray(image, dtype=np.float32)
    names = list(FLOWER_COLOURS)
    distances = np.stack([np.linalg.norm(pixels - np.asarray(PALETTE[n]), axis=2) for n in names])
    nearest = distances.argmin(0)
    ys, _ = np.nonzero((nearest == names.index(name)) & (distances[names.index(name)] < 80))
    return ys


def test_petal_colour_is_drawn_above_the_stem_colour():
    world = load_world("flowers", "test", size=60)
    for s in world.samples():
        if "white" in (s.attributes["petal_colour"], s.attributes["stem_colour"]):
            continue  # pale backgrounds count as white pixels too; no position to read
        petal_rows = _colour_rows(s.image, s.attributes["petal_colour"])
        stem_rows = _colour_rows(s.image, s.attributes["stem_colour"])
        assert len(petal_rows) >= 0.02 * 64 * 64, s.attributes
        assert len(stem_rows) >= 0.01 * 64 * 64, s.attributes
        assert petal_rows.mean() < stem_rows.mean(), s.attributes


def test_large_flowers_cover_more_petal_pixels_than_small_ones():
    world = load_world("flowers", "test", size=120)
    area = {"small": [], "large": []}
    for s in world.samples():
        if s.attributes["petal_colour"] != "white":
            area[s.attributes["size"]].append(len(_colour_rows(s.image, s.attributes["petal_colour"])))
    assert np.mean(area["large"]) > 1.5 * np.mean(area["small"])


def test_getitem_collates_into_training_batches():
    world = load_world("flowers", "train", size=8, image_size=32)
    batch = next(iter(DataLoader(world, batch_size=4)))
    assert batch["image"].shape == (4, 3, 32, 32) and batch["image"].dtype == torch.float32
    assert 0.0 <= batch["image"].min() and batch["image"].max() <= 1.0
    assert len(batch["caption"]) == 4
    for key, values in ATTRIBUTE_VALUES.items():
        labels = batch["labels"][key]
        assert labels.shape == (4,) and int(labels.max()) < len(values)
    first = world.sample(0)
    assert ATTRIBUTE_VALUES["petal_colour"][int(batch["labels"]["petal_colour"][0])] == first.attributes["petal_colour"]


def test_bad_split_size_and_index_are_clear_errors():
    with pytest.raises(ValueError, match="no split 'bogus'"):
        load_world("flowers", "bogus")
    with pytest.raises(ValueError, match="image_size"):
        load_world("flowers", image_size=30)
    world = load_world("flowers", "val", size=3)
    with pytest.raises(IndexError):
        world.sample(3)
    assert world.sample(-1).index == 2


@pytest.mark.parametrize("caption, petal, stem", [
    ("a red flower with a yellow stem", "red", "yellow"),
    ("a yellow flower with a red stem", "yellow", "red"),
    ("a purple flower with an orange stem", "purple", "orange"),
    ("A White flower, with a green stem.", "white", "green"),
])
def test_colour_roles_are_read_from_the_captioners_phrasing(caption, petal, stem):
    from t2i_core.data.flowers import read_colour_roles

    assert read_colour_roles(caption) == {"petal_colour": petal, "stem_colour": stem}


def test_a_caption_with_no_flower_states_no_colour_roles():
    from t2i_core.data.flowers import read_colour_roles

    nothing = {"petal_colour": None, "stem_colour": None}
    assert read_colour_roles("a small red circle to the left of a large yellow square") == nothing
    assert read_colour_roles("") == nothing
    # Two different stem colours: the caption does not say which; a centre colour is no one's.
    assert read_colour_roles("a red flower with a blue stem and a green stem") == {"petal_colour": "red", "stem_colour": None}
    assert read_colour_roles("this pink flower has a yellow centre and a blue stem") == {"petal_colour": "pink", "stem_colour": "blue"}


def test_colour_roles_are_read_from_every_template_in_both_colour_orders():
    from t2i_core.data.flowers import TEMPLATES, read_colour_roles

    flower = {"centre_colour": "yellow", "petal_shape": "round", "petal_count": 5, "size": "small"}
    for petal, stem in [("red", "orange"), ("orange", "red"), ("white", "yellow")]:
        for template in TEMPLATES:
            caption = template.fill({**flower, "petal_colour": petal, "stem_colour": stem})
            assert read_colour_roles(caption) == {"petal_colour": petal, "stem_colour": stem}, caption


def test_the_captioners_flower_caption_is_a_function_of_petal_and_stem_colour():
    from t2i_core.data.flowers import captioner_caption

    world = load_world("flowers", "train", size=40, seed=3)
    for s in world.samples(render=False):
        expected = f"a {s.attributes['petal_colour']} flower with a {s.attributes['stem_colour']} stem"
        assert captioner_caption(s.attributes) == expected.replace("a orange", "an orange")


def test_read_stated_attributes_reads_exactly_what_every_template_states():
    slot_of = {"petal_colour": "petal", "stem_colour": "stem", "centre_colour": "centre", "petal_shape": "shape", "petal_count": "count", "size": "size"}
    world = load_world("flowers", "test", size=300)
    for i in range(len(world)):
        attributes = world.sample(i, render=False).attributes
        for template in TEMPLATES:
            stated = {k: attributes[k] for k, slot in slot_of.items() if "{" + slot + "}" in template.text}
            assert read_stated_attributes(template.fill(attributes)) == stated, template.fill(attributes)


@pytest.mark.parametrize("prompt, stated", [
    ("A Red flower with 5 petals and a black center", {"petal_colour": "red", "petal_count": 5, "centre_colour": "black"}),
    ("a large flower", {"size": "large"}),
    ("a small and large flower with round petals", {"petal_shape": "round"}),  # two sizes: neither is stated
    ("eight stems", {}),  # a count of stems is no petal count
    ("a yellow circle", {}),
])
def test_read_stated_attributes_on_free_prompts(prompt, stated):
    assert read_stated_attributes(prompt) == stated

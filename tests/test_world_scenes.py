"""The Scenes world: deterministic scenes whose captions, groundings and masks are true to them."""

import re
from collections import Counter

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from t2i_core.data import load_world
from t2i_core.data.palette import PALETTE
from t2i_core.data.rendering import downsample_alpha
from t2i_core.data.scenes import (
    COLOURS,
    HELDOUT_COMBOS,
    MIN_VISIBLE_FRACTION,
    SHAPES,
    SIZES,
    object_coverage,
    relation,
)

RELATIONS = ("to the left of", "to the right of", "above", "below")
OPPOSITE = {
    "to the left of": "to the right of",
    "to the right of": "to the left of",
    "above": "below",
    "below": "above",
}
PHRASE = re.compile(rf"\ba ({'|'.join(SIZES)}) ({'|'.join(COLOURS)}) ({'|'.join(SHAPES)})\b")


def scenes(split="train", n=40, render=False, **options):
    world = load_world("scenes", split, **options)
    return [world.sample(i, render=render) for i in range(n)]


def named(obj):
    return f"a {obj.size} {obj.colour} {obj.shape}"


def expected_relation(a, b):
    """The documented rule, written out again: the larger of |dx| and |dy| decides (ties: left/right)."""
    dx, dy = a.centre[0] - b.centre[0], a.centre[1] - b.centre[1]
    if abs(dx) >= abs(dy):
        return "to the left of" if dx < 0 else "to the right of"
    return "above" if dy < 0 else "below"


# ---------------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_bytes():
    a = load_world("scenes", "train", seed=3)
    b = load_world("scenes", "train", seed=3)
    for i in (0, 7, 4321):
        sa, sb = a.sample(i), b.sample(i)
        assert sa.image.tobytes() == sb.image.tobytes()
        assert sa.captions == sb.captions and sa.groundings == sb.groundings
        assert all(np.array_equal(oa.mask, ob.mask) for oa, ob in zip(sa.objects, sb.objects))
    # Order of access does not matter, and another seed is another scene.
    assert b.sample(0).image.tobytes() == a.sample(0).image.tobytes()
    assert load_world("scenes", "train", seed=4).sample(0).image.tobytes() != a.sample(0).image.tobytes()


def test_different_indices_differ():
    world = load_world("scenes", "train")
    chosen = [world.sample(i) for i in range(8)]
    assert len({s.image.tobytes() for s in chosen}) == 8
    assert len({s.caption for s in chosen}) >= 6
    assert len({s.attributes["num_objects"] for s in chosen}) >= 2


def test_skipping_the_render_gives_the_same_scene():
    world = load_world("scenes", "val")
    for i in range(4):
        drawn, plain = world.sample(i), world.sample(i, render=False)
        assert plain.image is None and drawn.image is not None
        assert plain.captions == drawn.captions and plain.attributes == drawn.attributes
        assert [o.box for o in plain.objects] == [o.box for o in drawn.objects]


# ---------------------------------------------------------------------------- captions
def test_caption_names_every_object_with_its_colour_shape_and_size():
    for scene in scenes("train", n=60):
        wanted = Counter((o.size, o.colour, o.shape) for o in scene.objects)
        assert 1 <= len(scene.objects) <= 3
        assert 2 <= len(scene.captions) <= 3 and scene.caption == scene.captions[0]
        for caption in scene.captions:
            assert caption == caption.lower() and caption == caption.strip() and caption[-1].isalpha()
            assert Counter(PHRASE.findall(caption)) == wanted, caption
        assert scene.attributes["num_objects"] == len(scene.objects)
        for k, obj in enumerate(scene.objects):
            assert (scene.attributes[f"object{k}_shape"], scene.attributes[f"object{k}_colour"],
                    scene.attributes[f"object{k}_size"]) == (obj.shape, obj.colour, obj.size)


def test_canonical_relation_matches_object_positions():
    seen_relations = set()
    for scene in scenes("train", n=80):
        a, b, c = (sorted(scene.objects, key=lambda o: o.centre[0]) + [None, None])[:3]
        expected = named(a)
        if b is not None:
            expected += f" {expected_relation(a, b)} {named(b)}"
            seen_relations.add(expected_relation(a, b))
        if c is not None:
            expected += f" and {named(c)} {expected_relation(c, b)} the {b.shape}"
            seen_relations.add(expected_relation(c, b))
        assert scene.caption == expected
        # The reversed paraphrase is true too: it swaps the first two objects and the relation.
        if b is not None:
            assert scene.captions[1].startswith(f"{named(b)} {OPPOSITE[expected_relation(a, b)]} {named(a)}")
            assert relation(a, b) == expected_relation(a, b)
    assert seen_relations == set(RELATIONS)


def test_groundings_point_at_objects_named_by_the_words():
    vocabulary = {"size": set(SIZES), "colour": set(COLOURS), "shape": set(SHAPES)}
    three_object_scenes = 0
    for scene in scenes("train", n=60):
        assert len(scene.groundings) == len(scene.captions)
        for caption, grounding in zip(scene.captions, scene.groundings):
            words = caption.split()
            assert len(grounding) == len(words)
            for word, target in zip(words, grounding):
                kind = next((k for k, values in vocabulary.items() if word in values), None)
                if kind is None:
                    assert target is None, (word, caption)
                else:
                    assert target is not None and getattr(scene.objects[target], kind) == word, (word, caption)
            assert set(t for t in grounding if t is not None) == set(range(len(scene.objects)))
        # Canonical order: phrases ground left to right, and "the SHAPE" grounds to the second object.
        left_to_right = sorted(range(len(scene.objects)), key=lambda k: scene.objects[k].centre[0])
        first_mentions = list(dict.fromkeys(t for t in scene.groundings[0] if t is not None))
        assert first_mentions == left_to_right
        if len(scene.objects) == 3:
            three_object_scenes += 1
            words = scene.caption.split()
            back_reference = len(words) - 1  # "... REL the SHAPE" ends the canonical caption
            assert words[back_reference - 1] == "the"
            assert scene.groundings[0][back_reference] == left_to_right[1]
    assert three_object_scenes >= 10


# ---------------------------------------------------------------------------- masks and placement
def test_masks_lie_inside_boxes_and_have_the_objects_colour():
    names = list(COLOURS)
    palette = np.asarray([PALETTE[name] for name in names], dtype=np.float32)  # (colours, 3)
    checked = Counter()
    for scene in scenes("test", n=40, render=True):
        pixels = np.asarray(scene.image, dtype=np.float32)  # (H, W, 3)
        for obj in scene.objects:
            assert obj.mask.shape == pixels.shape[:2] and obj.mask.dtype == bool
            x0, y0, x1, y1 = obj.box
            inside = np.zeros_like(obj.mask)
            inside[y0:y1, x0:x1] = True
            assert obj.mask.any() and not (obj.mask & ~inside).any()
            # The box is tight: the mask touches all four of its sides.
            assert obj.mask[y0].any() and obj.mask[y1 - 1].any()
            assert obj.mask[:, x0].any() and obj.mask[:, x1 - 1].any()
            # The centre lies in the box (every shape is convex around its centre or a star).
            assert x0 <= obj.centre[0] <= x1 and y0 <= obj.centre[1] <= y1
            mean = pixels[obj.mask].mean(axis=0)  # (3,)
            nearest = names[int(np.argmin(np.linalg.norm(palette - mean, axis=1)))]
            assert nearest == obj.colour, (scene.index, obj.colour, mean)
            checked[obj.colour] += 1
    assert set(checked) == set(COLOURS)


def test_objects_overlap_at_most_the_documented_amount():
    """Every object keeps >= 80% of its own mask's pixels visible (see the module docstring)."""
    assert MIN_VISIBLE_FRACTION == 0.8
    image_size = 128
    for scene in scenes("train", n=80):
        for obj in scene.objects:
            full = downsample_alpha(np.asarray(object_coverage(obj, image_size), dtype=np.float32) / 255.0) >= 0.5
            assert not (obj.mask & ~full).any()  # visible pixels are the object's own pixels
            assert obj.mask.sum() >= 0.8 * full.sum()
            # Fully inside the image: nothing of the object touches the border.
            assert not (full[0].any() or full[-1].any() or full[:, 0].any() or full[:, -1].any())
        # The last object painted is never covered.
        last = scene.objects[-1]
        full = downsample_alpha(np.asarray(object_coverage(last, image_size), dtype=np.float32) / 255.0) >= 0.5
        assert np.array_equal(last.mask, full)


# ---------------------------------------------------------------------------- held-out combinations
def test_heldout_combos_never_in_train_val_test():
    assert len(HELDOUT_COMBOS) >= 4
    # Every colour and every shape keeps at least three partners in training.
    assert all(sum((c, s) not in HELDOUT_COMBOS for s in SHAPES) >= 3 for c in COLOURS)
    assert all(sum((c, s) not in HELDOUT_COMBOS for c in COLOURS) >= 3 for s in SHAPES)
    seen_combos = set()
    for split in ("train", "val", "test"):
        for scene in scenes(split, n=300):
            combos = {(o.colour, o.shape) for o in scene.objects}
            assert not combos & HELDOUT_COMBOS, (split, scene.index, combos)
            seen_combos |= combos
    assert {c for c, _ in seen_combos} == set(COLOURS) and {s for _, s in seen_combos} == set(SHAPES)


def test_every_heldout_scene_has_a_heldout_combo():
    found = set()
    for scene in scenes("heldout-combos", n=300):
        combos = {(o.colour, o.shape) for o in scene.objects}
        assert combos & HELDOUT_COMBOS, (scene.index, combos)
        found |= combos & HELDOUT_COMBOS
    assert found == set(HELDOUT_COMBOS)


# ---------------------------------------------------------------------------- the Dataset
def test_getitem_collates():
    world = load_world("scenes", "val", size=8)
    batch = next(iter(DataLoader(world, batch_size=4)))
    assert batch["image"].shape == (4, 3, 128, 128) and batch["image"].dtype == torch.float32
    assert 0.0 <= batch["image"].min() and batch["image"].max() <= 1.0
    assert len(batch["caption"]) == 4 and all(isinstance(c, str) for c in batch["caption"])
    assert batch["num_objects"].shape == (4,)
    for key in ("shapes", "colours", "sizes"):
        assert batch[key].shape == (4, 3) and batch[key].dtype == torch.long
    assert batch["masks"].shape == (4, 3, 128, 128) and batch["masks"].dtype == torch.bool
    assert batch["boxes"].shape == (4, 3, 4) and batch["boxes"].dtype == torch.float32
    for b in range(4):
        n = int(batch["num_objects"][b])
        scene = world.sample(b, render=False)
        assert [SHAPES[i] for i in batch["shapes"][b, :n]] == [o.shape for o in scene.objects]
        assert [COLOURS[i] for i in batch["colours"][b, :n]] == [o.colour for o in scene.objects]
        assert (batch["shapes"][b, n:] == -1).all() and (batch["sizes"][b, n:] == -1).all()
        assert not batch["masks"][b, n:].any() and (batch["boxes"][b, n:] == 0).all()
        assert batch["masks"][b, :n].flatten(1).any(dim=1).all()


def test_image_size_is_configurable_in_multiples_of_8():
    small = load_world("scenes", "train", image_size=64)[0]
    assert small["image"].shape == (3, 64, 64) and small["masks"].shape == (3, 64, 64)
    with pytest.raises(ValueError, match="multiple of 8"):
        load_world("scenes", "train", image_size=100)
    with pytest.raises(ValueError, match="at least 32"):
        load_world("scenes", "train", image_size=24)


def test_unknown_split_is_a_clear_error():
    with pytest.raises(ValueError, match="no split 'heldout-colours'.*heldout-combos"):
        load_world("scenes", "heldout-colours")

"""The Scenes world: deterministic scenes whose captions, groundings, masks and looks are true to them."""

import colorsys
import itertools
import re
from collections import Counter

import numpy as np
import pytest
import torch
from scipy.ndimage import binary_dilation, binary_erosion
from torch.utils.data import DataLoader

from t2i_core.data import load_world
from t2i_core.data.cache import rendered_images
from t2i_core.data.palette import PALETTE, SHADE_RANGES, shade
from t2i_core.data.rendering import downsample_alpha
from t2i_core.data.scenes import (
    BACKGROUNDS,
    COLOURS,
    HELDOUT_COMBOS,
    MAX_OBJECTS,
    MIN_GAP,
    PLAIN_BACKGROUNDS,
    SHAPES,
    SIZE_RANGES,
    SIZE_THRESHOLD,
    SIZES,
    STYLES,
    TEXTURED_BACKGROUNDS,
    object_coverage,
    paint_scene,
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
TRAINING_SPLITS = ("train", "val", "test", "heldout-combos")


def scenes(split="train", n=40, render=False, **options):
    world = load_world("scenes", split, **options)
    return [world.sample(i, render=render) for i in range(n)]


def scenes_in_style(style, n, split="train"):
    """The first ``n`` rendered scenes of ``split`` painted in ``style``."""
    world = load_world("scenes", split)
    chosen = [i for i in range(400) if world.sample(i, render=False).style == style][:n]
    assert len(chosen) == n, style
    return [world.sample(i) for i in chosen]


def named(obj):
    return f"a {obj.size} {obj.colour} {obj.shape}"


def left_to_right(scene):
    return sorted(scene.objects, key=lambda o: o.centre[0])


def expected_relation(a, b):
    """The documented rule, written out again: the larger of |dx| and |dy| decides (ties: left/right)."""
    dx, dy = a.centre[0] - b.centre[0], a.centre[1] - b.centre[1]
    if abs(dx) >= abs(dy):
        return "to the left of" if dx < 0 else "to the right of"
    return "above" if dy < 0 else "below"


def hue_in_range(hue, low, high):
    """Whether ``hue`` (degrees in [0, 360)) lies in [low, high], where low may be negative (wraps)."""
    return low <= hue <= high or low <= hue - 360 <= high


def pixels(image):
    return np.asarray(image, dtype=np.float32) / 255.0  # (H, W, 3)


def full_mask(obj, image_size=128):
    """The object's filled shape as image pixels with coverage >= 0.5, from object_coverage."""
    return downsample_alpha(np.asarray(object_coverage(obj, image_size), dtype=np.float32) / 255.0) >= 0.5


def touched(obj, image_size=128):
    return downsample_alpha(np.asarray(object_coverage(obj, image_size), dtype=np.float32) / 255.0) > 0


def painted_pixels(scene, obj):
    """Pixels that ``obj`` alone changes on the scene's clean background, shadows left out (bool (H, W))."""
    background = pixels(paint_scene([], scene.look, 128, degrade_image=False))
    alone = pixels(paint_scene([obj], scene.look, 128, degrade_image=False))
    changed = np.abs(alone - background).max(axis=2) > 4 / 255
    # A shadow darkens the background without changing its hue: the pixel is a multiple of it.
    k = alone.sum(axis=2, keepdims=True) / np.maximum(background.sum(axis=2, keepdims=True), 1e-6)
    shadow = (np.abs(alone - k * background).max(axis=2) < 6 / 255) & (k[..., 0] < 1)
    return changed & ~shadow


# ---------------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_bytes():
    a = load_world("scenes", "train", seed=3)
    b = load_world("scenes", "train", seed=3)
    for i in (0, 7, 4321):
        sa, sb = a.sample(i), b.sample(i)
        assert sa.image.tobytes() == sb.image.tobytes()
        assert sa.captions == sb.captions and sa.groundings == sb.groundings and sa.look == sb.look
        assert all(np.array_equal(oa.mask, ob.mask) for oa, ob in zip(sa.objects, sb.objects))
    # Order of access does not matter, and another seed is another scene.
    assert b.sample(0).image.tobytes() == a.sample(0).image.tobytes()
    assert load_world("scenes", "train", seed=4).sample(0).image.tobytes() != a.sample(0).image.tobytes()


@pytest.mark.parametrize("style", STYLES)
def test_each_style_renders_the_same_pixels_for_the_same_seed(style):
    first = scenes_in_style(style, 3)
    again = scenes_in_style(style, 3)
    for a, b in zip(first, again):
        assert a.style == b.style == style
        assert a.image.tobytes() == b.image.tobytes()
        # Painting again from the recorded look gives the same bytes too, JPEG and blur included.
        assert paint_scene(a.objects, a.look, 128).tobytes() == a.image.tobytes()


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
        assert plain.look == drawn.look
        assert [o.box for o in plain.objects] == [o.box for o in drawn.objects]


# ---------------------------------------------------------------------------- looks and splits
def test_training_splits_draw_every_style_and_background_but_never_flat_on_plain():
    pairs = Counter()
    for split in TRAINING_SPLITS:
        for scene in scenes(split, n=250):
            assert scene.attributes["style"] == scene.style and scene.attributes["background"] == scene.background
            assert not (scene.style == "flat" and scene.background in PLAIN_BACKGROUNDS), (split, scene.index)
            pairs[scene.style, scene.background] += 1
    assert {style for style, _ in pairs} == set(STYLES)
    assert {background for _, background in pairs} == set(BACKGROUNDS)
    # Flat fill is seen on every textured background, plain backgrounds with every other style.
    assert {b for s, b in pairs if s == "flat"} == set(TEXTURED_BACKGROUNDS)
    assert {s for s, b in pairs if b in PLAIN_BACKGROUNDS} == set(STYLES) - {"flat"}


def test_every_heldout_style_scene_is_flat_on_a_plain_background_with_seen_combos():
    backgrounds = Counter()
    for scene in scenes("heldout-style", n=200):
        assert scene.style == "flat" and scene.background in PLAIN_BACKGROUNDS, scene.index
        assert not {(o.colour, o.shape) for o in scene.objects} & HELDOUT_COMBOS
        backgrounds[scene.background] += 1
    assert set(backgrounds) == set(PLAIN_BACKGROUNDS) and backgrounds["white"] >= 70


def test_degradations_are_recorded_and_applied_only_when_drawn():
    world = load_world("scenes", "test")
    blurred = compressed = 0
    for scene in (world.sample(i) for i in range(40)):
        clean = paint_scene(scene.objects, scene.look, 128, degrade_image=False)
        degraded = scene.attributes["blur"] > 0 or scene.attributes["jpeg_quality"] > 0
        assert (scene.image.tobytes() != clean.tobytes()) == degraded, scene.index
        if degraded:
            # Mild: the picture stays close to the clean one.
            assert np.abs(pixels(scene.image) - pixels(clean)).mean() < 0.03
        blurred += scene.attributes["blur"] > 0
        compressed += scene.attributes["jpeg_quality"] > 0
        assert scene.attributes["jpeg_quality"] == 0 or 30 <= scene.attributes["jpeg_quality"] <= 90
    assert 3 <= blurred <= 20 and 4 <= compressed <= 24


# ---------------------------------------------------------------------------- colours
def test_shade_ranges_are_disjoint_in_hue_and_hold_the_palette_colours():
    intervals = {name: hues for name, (hues, _, _) in SHADE_RANGES.items()}
    assert set(intervals) == set(COLOURS)
    for (a, (a0, a1)), (b, (b0, b1)) in itertools.combinations(intervals.items(), 2):
        # Compare on the circle: shift b by whole turns and require a gap either way.
        for turn in (-360, 0, 360):
            assert a1 < b0 + turn or b1 + turn < a0, (a, b)
    # Yellow and orange, the pair people confuse, stay well apart.
    assert intervals["yellow"][0] - intervals["orange"][1] >= 10
    for name in COLOURS:
        (h0, h1), (s0, s1), (v0, v1) = SHADE_RANGES[name]
        h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in PALETTE[name]))
        assert hue_in_range(h * 360, h0, h1) and s0 <= s <= s1 and v0 <= v <= v1, name


def test_colours_jitter_yet_stay_within_their_hue_range():
    rng = np.random.default_rng(0)
    for name in COLOURS:
        (h0, h1), (s0, s1), (v0, v1) = SHADE_RANGES[name]
        hsv = np.asarray([colorsys.rgb_to_hsv(*shade(name, rng)) for _ in range(500)])  # (500, 3)
        hues = hsv[:, 0] * 360
        assert all(hue_in_range(h, h0 - 1e-3, h1 + 1e-3) for h in hues), name
        assert (hsv[:, 1] >= s0 - 1e-3).all() and (hsv[:, 1] <= s1 + 1e-3).all(), name
        assert (hsv[:, 2] >= v0 - 1e-3).all() and (hsv[:, 2] <= v1 + 1e-3).all(), name
        # A realistic range of shades, not one colour: the draws spread over most of the box.
        unwrapped = np.where(hues > 180, hues - 360, hues) if h0 < 0 else hues
        assert np.ptp(unwrapped) > 0.8 * (h1 - h0) and np.ptp(hsv[:, 2]) > 0.8 * (v1 - v0), name


def test_flat_objects_are_painted_in_their_recorded_shade():
    for scene in scenes_in_style("flat", 4) + scenes_in_style("hand-drawn", 4):
        clean = pixels(paint_scene(scene.objects, scene.look, 128, degrade_image=False))
        for obj in scene.objects:
            inside = binary_erosion(obj.mask, iterations=1)
            assert np.abs(clean[inside] - np.asarray(obj.rgb)).max() <= 1 / 255 + 1e-6


# ---------------------------------------------------------------------------- masks and placement
@pytest.mark.parametrize("style", STYLES)
def test_masks_match_the_drawn_pixels(style):
    """Everything an object paints lies where its filled shape is (its mask, or an anti-aliased
    edge pixel it covers by less than half); a filled object paints all of its mask, an
    outlined one its edge and not its inside."""
    for scene in scenes_in_style(style, 5):
        for obj in scene.objects:
            drawn = painted_pixels(scene, obj)
            assert drawn.any()
            assert not (drawn & ~touched(obj)).any(), (scene.index, obj.shape)
            # Outside the mask only a thin rim: about the outline's length, never a blob.
            assert (drawn & ~obj.mask).sum() <= 2 * (obj.mask & ~binary_erosion(obj.mask)).sum()
            if style == "outline":
                edge = obj.mask & ~binary_erosion(obj.mask, iterations=1)
                assert drawn[edge].mean() >= 0.9, (scene.index, obj.shape)
                inside = binary_erosion(obj.mask, iterations=int(np.ceil(scene.look.pen_width)) + 2)
                assert not drawn[inside].any(), (scene.index, obj.shape)
            else:
                assert drawn[obj.mask].mean() >= 0.99, (scene.index, obj.shape)


def test_masks_lie_inside_boxes_and_have_the_objects_hue():
    checked = Counter()
    for scene in scenes("test", n=40, render=True):
        clean = pixels(paint_scene(scene.objects, scene.look, 128, degrade_image=False))
        for obj in scene.objects:
            assert obj.mask.shape == clean.shape[:2] and obj.mask.dtype == bool
            x0, y0, x1, y1 = obj.box
            inside = np.zeros_like(obj.mask)
            inside[y0:y1, x0:x1] = True
            assert obj.mask.any() and not (obj.mask & ~inside).any()
            # The box is tight: the mask touches all four of its sides.
            assert obj.mask[y0].any() and obj.mask[y1 - 1].any()
            assert obj.mask[:, x0].any() and obj.mask[:, x1 - 1].any()
            # The centre lies in the box (every shape is convex around its centre or a star).
            assert x0 <= obj.centre[0] <= x1 and y0 <= obj.centre[1] <= y1
            # The painted pixels (fill, or outline ring) have the hue of the object's colour name.
            painted = painted_pixels(scene, obj) & binary_erosion(obj.mask, iterations=1)
            if scene.style == "outline":
                painted = obj.mask & ~binary_erosion(obj.mask, iterations=1) & painted_pixels(scene, obj)
            hue = colorsys.rgb_to_hsv(*np.median(clean[painted], axis=0))[0] * 360
            (h0, h1), _, _ = SHADE_RANGES[obj.colour]
            assert hue_in_range(hue, h0 - 4, h1 + 4), (scene.index, obj.colour, hue)
            checked[obj.colour] += 1
    assert set(checked) == set(COLOURS)


def test_objects_never_overlap_and_stay_inside_the_image():
    for scene in scenes("train", n=120):
        for obj in scene.objects:
            # Nothing covers an object: its mask is its whole filled shape.
            assert np.array_equal(obj.mask, full_mask(obj))
            full = touched(obj)
            assert not (full[0].any() or full[-1].any() or full[:, 0].any() or full[:, -1].any())
        for a, b in itertools.combinations(scene.objects, 2):
            # At least MIN_GAP pixels between any pixel one touches and any the other touches.
            grown = binary_dilation(touched(a), structure=np.ones((2 * MIN_GAP + 1, 2 * MIN_GAP + 1), dtype=bool))
            assert not (grown & touched(b)).any(), scene.index


def test_size_words_follow_the_radius_rule_and_radii_are_continuous():
    radii = {"small": [], "large": []}
    for scene in scenes("train", n=300):
        for obj in scene.objects:
            fraction = obj.radius / 128
            low, high = SIZE_RANGES[obj.size]
            assert low - 1e-9 <= fraction <= high + 1e-9
            assert (fraction < SIZE_THRESHOLD) == (obj.size == "small")
            radii[obj.size].append(fraction)
    assert SIZE_RANGES["small"][1] < SIZE_THRESHOLD < SIZE_RANGES["large"][0]
    for size, values in radii.items():
        low, high = SIZE_RANGES[size]
        # Spread over the whole range, not a few fixed values.
        assert len(set(values)) == len(values) and min(values) < low + 0.1 * (high - low) and max(values) > high - 0.2 * (high - low)


def test_scenes_hold_one_to_four_objects_and_four_is_common():
    counts = Counter(len(scene.objects) for scene in scenes("train", n=400))
    assert set(counts) == set(range(1, MAX_OBJECTS + 1)) and MAX_OBJECTS == 4
    assert counts[4] >= 0.15 * 400


# ---------------------------------------------------------------------------- captions
def test_caption_names_every_object_with_its_colour_shape_and_size():
    for scene in scenes("train", n=80):
        wanted = Counter((o.size, o.colour, o.shape) for o in scene.objects)
        assert 1 <= len(scene.objects) <= 4
        assert len(scene.captions) == (5 if len(scene.objects) == 1 else 6) and scene.caption == scene.captions[0]
        for caption in scene.captions:
            assert caption == caption.lower() and caption == caption.strip() and caption[-1].isalpha()
            assert Counter(PHRASE.findall(caption)) == wanted, caption
        assert scene.attributes["num_objects"] == len(scene.objects)
        for k, obj in enumerate(scene.objects):
            assert (scene.attributes[f"object{k}_shape"], scene.attributes[f"object{k}_colour"],
                    scene.attributes[f"object{k}_size"]) == (obj.shape, obj.colour, obj.size)


def test_canonical_caption_chains_relations_left_to_right():
    seen_relations = set()
    for scene in scenes("train", n=80):
        ordered = left_to_right(scene)
        expected = named(ordered[0])
        if len(ordered) >= 2:
            expected += f" {expected_relation(ordered[0], ordered[1])} {named(ordered[1])}"
            seen_relations.add(expected_relation(ordered[0], ordered[1]))
        for previous, obj in itertools.pairwise(ordered[1:]):
            expected += f" and {named(obj)} {expected_relation(obj, previous)} the {previous.shape}"
            seen_relations.add(expected_relation(obj, previous))
        assert scene.caption == expected
        if len(ordered) >= 2:
            a, b = ordered[:2]
            # The reversed paraphrase is true too: it swaps the first two objects and the relation.
            assert scene.captions[1].startswith(f"{named(b)} {OPPOSITE[expected_relation(a, b)]} {named(a)}")
            assert relation(a, b) == expected_relation(a, b)
    assert seen_relations == set(RELATIONS)


def test_a_four_object_scene_names_all_four_pairs_and_grounds_every_object():
    four = [s for s in scenes("train", n=60) if len(s.objects) == 4]
    assert len(four) >= 8
    for scene in four:
        words = scene.caption.split()
        # Every (colour, shape) pair is named in the canonical caption, as "COLOUR SHAPE".
        pairs = Counter(itertools.pairwise(words))
        for obj in scene.objects:
            assert pairs[obj.colour, obj.shape] >= 1, (scene.caption, obj)
        assert Counter(PHRASE.findall(scene.caption)) == Counter((o.size, o.colour, o.shape) for o in scene.objects)
        # Every object is grounded by its colour and its shape word.
        for k, obj in enumerate(scene.objects):
            grounded = {words[w] for w, target in enumerate(scene.groundings[0]) if target == k}
            assert {obj.colour, obj.shape, obj.size} <= grounded, (scene.caption, k)
        assert scene.caption.count(" and ") == 2


def test_generic_noun_paraphrases_count_the_objects():
    numbers = {1: "one", 2: "two", 3: "three", 4: "four"}
    for scene in scenes("val", n=40):
        n = len(scene.objects)
        listings = scene.captions[-3:]
        for noun, caption in zip(("object", "shape", "thing"), listings):
            start = f"there is one {noun} " if n == 1 else f"there are {numbers[n]} {noun}s "
            assert caption.startswith(start), caption
            # The objects follow left to right.
            assert [m for m in PHRASE.findall(caption)] == [(o.size, o.colour, o.shape) for o in left_to_right(scene)]


def test_groundings_point_at_objects_named_by_the_words():
    vocabulary = {"size": set(SIZES), "colour": set(COLOURS), "shape": set(SHAPES)}
    chained = 0
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
            assert {t for t in grounding if t is not None} == set(range(len(scene.objects)))
        # Canonical order: phrases ground left to right, and each "the SHAPE" grounds to the object named before.
        order = sorted(range(len(scene.objects)), key=lambda k: scene.objects[k].centre[0])
        first_mentions = list(dict.fromkeys(t for t in scene.groundings[0] if t is not None))
        assert first_mentions == order
        words = scene.caption.split()
        back_references = [w + 1 for w, word in enumerate(words[:-1]) if word == "the" and words[w + 1] in SHAPES]
        assert [scene.groundings[0][w] for w in back_references] == order[1:-1]
        chained += len(back_references) >= 1
    assert chained >= 20


# ---------------------------------------------------------------------------- held-out combinations
def test_heldout_combos_never_in_train_val_test_or_heldout_style():
    assert len(HELDOUT_COMBOS) >= 4
    # Every colour and every shape keeps at least three partners in training.
    assert all(sum((c, s) not in HELDOUT_COMBOS for s in SHAPES) >= 3 for c in COLOURS)
    assert all(sum((c, s) not in HELDOUT_COMBOS for c in COLOURS) >= 3 for s in SHAPES)
    seen_combos = set()
    for split in ("train", "val", "test", "heldout-style"):
        for scene in scenes(split, n=250):
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
        assert batch[key].shape == (4, MAX_OBJECTS) and batch[key].dtype == torch.long
    assert batch["masks"].shape == (4, MAX_OBJECTS, 128, 128) and batch["masks"].dtype == torch.bool
    assert batch["boxes"].shape == (4, MAX_OBJECTS, 4) and batch["boxes"].dtype == torch.float32
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
    assert small["image"].shape == (3, 64, 64) and small["masks"].shape == (MAX_OBJECTS, 64, 64)
    # Crowded small scenes still fit.
    world = load_world("scenes", "train", image_size=64)
    assert all(1 <= len(world.sample(i, render=False).objects) <= 4 for i in range(60))
    with pytest.raises(ValueError, match="multiple of 8"):
        load_world("scenes", "train", image_size=100)
    with pytest.raises(ValueError, match="at least 32"):
        load_world("scenes", "train", image_size=24)


def test_unknown_split_is_a_clear_error():
    with pytest.raises(ValueError, match="no split 'heldout-colours'.*heldout-combos.*heldout-style"):
        load_world("scenes", "heldout-colours")


def test_preview_shows_one_style_on_request():
    world = load_world("scenes", "train")
    grid = world.preview(4, columns=4, scale=1, style="outline")
    assert grid.width > 4 * 128
    with pytest.raises(ValueError, match="unknown style 'pastel'"):
        world.preview(4, style="pastel")
    with pytest.raises(ValueError, match="draws no shaded scenes"):
        load_world("scenes", "heldout-style").preview(2, style="shaded")


def test_the_image_cache_is_keyed_by_the_worlds_render_version(tmp_path):
    world = load_world("scenes", "val", size=2)
    images = rendered_images(world, cache_dir=tmp_path, workers=1)
    assert images.shape == (2, 128, 128, 3)
    assert np.array_equal(images[1], np.asarray(world.sample(1).image))
    (written,) = tmp_path.glob("*.npy")
    assert written.name.startswith(f"scenes.r{world.render_version}-val-") and world.render_version >= 2

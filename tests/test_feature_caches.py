"""Caches of a world's pictures and of their encoder features are named by the pictures, so none is ever stale."""

import numpy as np
import pytest
import torch
from PIL import Image

from t2i_core.data import load_world
from t2i_core.data.cache import rendered_images, resized_images, world_images_key
from t2i_core.data.feature_cache import cached_features
from t2i_core.data.scenes import ScenesWorld


class MeanColourEncoder(torch.nn.Module):
    """A stand-in for a frozen grid encoder: each image becomes one cell holding its mean colour, (B, 1, 3)."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(1))

    def forward(self, images):  # (B, 3, H, W) in [0, 1]
        return (images.mean(dim=(2, 3)) * self.scale)[:, None, :]


def test_a_new_render_version_renames_the_pictures_and_so_their_feature_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path))
    world = load_world("scenes", "test", size=3, seed=0, image_size=32)
    now = world_images_key(world)
    assert now.startswith(f"scenes.r{ScenesWorld.render_version}-test-n3-seed0-px32")
    encoder = MeanColourEncoder()
    old_pictures = np.zeros((3, 32, 32, 3), dtype=np.uint8)
    cached_features(encoder, "mean-colour", old_pictures, now)

    monkeypatch.setattr(ScenesWorld, "render_version", ScenesWorld.render_version + 1)  # the drawing changes
    redrawn = world_images_key(world)
    assert redrawn != now
    new_pictures = np.full((3, 32, 32, 3), 255, dtype=np.uint8)
    features = cached_features(encoder, "mean-colour", new_pictures, redrawn)
    assert np.allclose(np.asarray(features, dtype=np.float32), 1.0), "the features of the old pictures were read"
    assert len(list(tmp_path.glob("captionfeat-mean-colour-*.npy"))) == 2


def test_vqa_features_are_keyed_by_the_scenes_render_version(monkeypatch):
    import t2i_core.evaluation.vqa as vqa_evaluation
    from t2i_core.evaluation.vqa import split_features

    keys = []
    monkeypatch.setattr(vqa_evaluation, "rendered_images", lambda world: np.zeros((len(world), 32, 32, 3), np.uint8))
    monkeypatch.setattr(vqa_evaluation, "cached_features", lambda encoder, name, images, key: keys.append(key))
    split_features("test", 4, seed=0, image_size=32, encoder=object())
    monkeypatch.setattr(ScenesWorld, "render_version", ScenesWorld.render_version + 1)
    split_features("test", 4, seed=0, image_size=32, encoder=object())
    assert keys[0] != keys[1]
    assert keys[1].startswith(f"scenes.r{ScenesWorld.render_version}-test-n4-")


def test_caption_training_features_are_keyed_by_the_scenes_render_version(tmp_path, monkeypatch):
    from t2i_core.models.captioning import CaptionerConfig
    from t2i_core.training.caption_task import CaptionData, CaptionTaskConfig

    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path))
    config = CaptionTaskConfig(data="scenes+flowers", train_size=4, val_size=2, flower_train_size=2, flower_val_size=2,
                               model=CaptionerConfig(encoder="small-cnn", image_size=64))
    data = CaptionData(config)
    keys = {source.name: source.key for source in data.train}
    assert keys["scenes"].startswith(f"scenes.r{ScenesWorld.render_version}-train-n4-")
    assert all(source.key == world_images_key(source.world, resized_to=64) for source in data.train + data.val)


@pytest.mark.parametrize("size", [64, 128])
def test_resized_world_images_are_the_pictures_resized_as_the_pipelines_resize_them(tmp_path, size):
    world = load_world("flowers", "val", size=2, seed=0)  # drawn at 64 pixels
    images = resized_images(world, size, cache_dir=tmp_path)
    assert images.shape == (2, size, size, 3) and images.dtype == np.uint8
    drawn = world.sample(1).image
    expected = drawn if size == 64 else drawn.resize((size, size), Image.Resampling.BICUBIC)
    assert np.array_equal(images[1], np.asarray(expected))
    if size == 64:
        assert np.array_equal(images, rendered_images(world, cache_dir=tmp_path))


def _build_slowly(path, log):
    """Build the cached array at ``path`` as one rank of a job would, noting each build in ``log``."""
    import time

    from t2i_core.data.cache import cached_array

    def build():
        with open(log, "a") as f:
            f.write("built\n")
        time.sleep(0.5)  # long enough for the other process to ask meanwhile
        return np.arange(6, dtype=np.int16)

    return int(cached_array(path, build).sum())


def test_processes_asking_for_a_missing_cache_at_once_build_it_once(tmp_path):
    """The ranks of a torchrun job on an empty cache: one builds, the others wait and read its file."""
    from concurrent.futures import ProcessPoolExecutor

    path, log = tmp_path / "cache" / "numbers.npy", tmp_path / "builds.txt"
    with ProcessPoolExecutor(max_workers=2) as pool:
        sums = list(pool.map(_build_slowly, [path, path], [log, log]))
    assert sums == [15, 15]
    assert log.read_text().splitlines() == ["built"]


def test_a_larger_split_reuses_a_smaller_splits_cached_pictures_and_features_as_its_first_rows(tmp_path, monkeypatch):
    from t2i_core.data import cache

    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path))
    small, large = (load_world("scenes", "train", size=n, seed=3, image_size=32) for n in (3, 5))
    encoder = MeanColourEncoder()
    small_pictures = rendered_images(small, workers=1)
    cached_features(encoder, "mean-colour", small_pictures, world_images_key(small),
                    key_of_first=lambda m: world_images_key(small, count=m))
    drawn = []
    render_range = cache._render_range
    monkeypatch.setattr(cache, "_render_range", lambda args: (drawn.extend(range(args[1], args[2])), render_range(args))[1])
    large_pictures = rendered_images(large, workers=1)
    assert drawn == [3, 4], "only the two new scenes should be drawn"
    assert np.array_equal(large_pictures[:3], small_pictures)
    assert np.array_equal(large_pictures[4], np.asarray(large.sample(4).image)), "a new scene is not the world's scene"

    encoded = []
    forward = encoder.forward
    monkeypatch.setattr(encoder, "forward", lambda images: (encoded.append(len(images)), forward(images))[1])
    features = cached_features(encoder, "mean-colour", large_pictures, world_images_key(large),
                               key_of_first=lambda m: world_images_key(large, count=m))
    assert encoded == [2], "only the new scenes' features should be computed"
    expected = np.asarray(large_pictures, dtype=np.float32).mean(axis=(1, 2)) / 255.0  # (5, 3)
    assert np.allclose(np.asarray(features, dtype=np.float32)[:, 0], expected, atol=1e-3)


def test_a_cache_of_another_seed_or_a_larger_split_is_never_taken_as_a_prefix(tmp_path):
    from t2i_core.data.cache import cached_prefix

    rendered_images(load_world("scenes", "train", size=4, seed=1, image_size=32), cache_dir=tmp_path, workers=1)
    rendered_images(load_world("scenes", "train", size=6, seed=0, image_size=32), cache_dir=tmp_path, workers=1)
    world = load_world("scenes", "train", size=5, seed=0, image_size=32)
    images = rendered_images(world, cache_dir=tmp_path, workers=1)
    assert np.array_equal(images[0], np.asarray(world.sample(0).image))

    from t2i_core.data.cache import _world_cache_paths

    assert cached_prefix(_world_cache_paths(world, tmp_path), 5) is None
    assert len(cached_prefix(_world_cache_paths(world, tmp_path), 6)) == 5


@pytest.mark.parametrize("name,split", [("scenes", "train"), ("scenes", "heldout-style"), ("flowers", "train"), ("flowers", "test")])
def test_a_worlds_sample_does_not_depend_on_the_splits_size(name, split):
    """What the prefix reuse of caches rests on: sample i of a split is the same whatever the split's size."""
    small, large = load_world(name, split, size=3, seed=2), load_world(name, split, size=7, seed=2)
    for i in range(3):
        a, b = small.sample(i), large.sample(i)
        assert a.caption == b.caption and np.array_equal(np.asarray(a.image), np.asarray(b.image))


def test_a_cache_built_in_chunks_holds_one_chunk_in_memory_and_a_failed_build_leaves_nothing(tmp_path):
    """Rows go to the file as they come: building 32 MB in 1 MB chunks allocates a few MB at most (a build that
    joined the chunks first would hold 64 MB), and a build that stops short or fails writes no file."""
    import tracemalloc

    from t2i_core.data.cache import cached_chunks

    rows, width = 64, 1 << 19  # 64 rows of 512 KiB (uint8): 32 MiB

    def chunks(count=rows):
        for first in range(0, count, 2):
            yield np.full((2, width), first % 251, dtype=np.uint8)

    tracemalloc.start()
    built = cached_chunks(tmp_path / "big.npy", rows, chunks)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 << 20, f"{peak / 2**20:.1f} MiB held while building a 32 MiB cache"
    assert built.shape == (rows, width) and built[5, 0] == 4 and built[63, -1] == 62

    with pytest.raises(ValueError, match="62 rows of the 64"):
        cached_chunks(tmp_path / "short.npy", rows, lambda: chunks(62))

    def failing():
        yield from chunks(4)
        raise RuntimeError("the encoder failed")

    with pytest.raises(RuntimeError, match="encoder failed"):
        cached_chunks(tmp_path / "failed.npy", rows, failing)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == ["big.npy"]

"""The out-of-world detector: p-values that mean what they say, and the shipped one's calibration."""

from pathlib import Path

import numpy as np
import pytest
import torch

from t2i_core.models.world_detector import WorldDetector, grid_statistics

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "checkpoints" / "world-detector"


def _two_gaussian_worlds(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"near": rng.normal(0.0, 1.0, size=(n, 6)), "far": rng.normal(8.0, 2.0, size=(n, 6))}


def test_p_values_reject_about_the_threshold_share_of_the_worlds_own_pictures_and_every_far_one():
    detector = WorldDetector.fit(_two_gaussian_worlds(3000, 0), _two_gaussian_worlds(2000, 1), threshold=0.05)
    fresh = _two_gaussian_worlds(4000, 2)
    for k, world in enumerate(("near", "far")):
        best, nearest = detector.scores(torch.from_numpy(fresh[world]))
        assert 0.03 <= float((best < 0.05).double().mean()) <= 0.07  # a p-value: ~5% of its own world below 0.05
        assert float((nearest == k).double().mean()) > 0.99
    outliers = torch.full((5, 6), -30.0)
    best, _ = detector.scores(outliers)
    assert torch.all(best == 0)
    # Restricted to one world, a picture of the other is out.
    far_points = torch.from_numpy(fresh["far"][:50])
    assert float(detector.scores(far_points, worlds=("near",))[0].max()) < 0.05
    with pytest.raises(ValueError, match="worlds"):
        detector.scores(far_points, worlds=("moon",))


def test_the_detector_round_trips_through_safetensors(tmp_path):
    detector = WorldDetector.fit(_two_gaussian_worlds(500, 0), _two_gaussian_worlds(300, 1))
    detector.save_pretrained(tmp_path / "detector")
    loaded = WorldDetector.from_pretrained(tmp_path / "detector")
    probe = torch.from_numpy(_two_gaussian_worlds(20, 3)["near"])
    assert torch.equal(detector.scores(probe)[0], loaded.scores(probe)[0])
    assert loaded.config.worlds == ("near", "far") or list(loaded.config.worlds) == ["near", "far"]


def test_grid_statistics_are_mean_spread_peak_and_floor_of_each_channel():
    grid = torch.tensor([[[1.0, -2.0], [3.0, 0.0]]])  # (1, 2 cells, 2 channels)
    assert torch.allclose(grid_statistics(grid), torch.tensor([[2.0, -1.0, 1.0, 1.0, 3.0, 0.0, 1.0, -2.0]]))


@pytest.mark.skipif(not SHIPPED.is_dir(), reason="no world detector shipped")
def test_the_shipped_detector_keeps_held_out_style_scenes_in_and_photos_out():
    """Smoke evaluation: a broken detector checkpoint cannot land."""
    from t2i_core.data import load_world
    from t2i_core.data.cache import rendered_images
    from t2i_core.evaluation.world_detector import sample_photos
    from t2i_core.models.world_detector import EncoderStatistics

    detector = WorldDetector.from_pretrained(SHIPPED)
    features = EncoderStatistics()
    scenes = rendered_images(load_world("scenes", "heldout-style", size=40, seed=5))
    best, _ = detector.scores(features(scenes))
    assert float((best >= detector.config.threshold).double().mean()) >= 0.95
    photos = sample_photos(crops_per_photo=0)
    best, _ = detector.scores(features([p for _, p in photos]))
    assert float((best < detector.config.threshold).double().mean()) >= 0.95
    # And the pipelines carry the verdict.
    from t2i_core.pipelines.caption import CaptionPipeline

    pipe = CaptionPipeline()
    assert pipe(scenes[0]).in_world == [True]
    photo = pipe(photos[0][1])
    assert photo.in_world == [False] and 0 <= photo.in_world_scores[0] < detector.config.threshold

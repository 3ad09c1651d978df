"""The caption pipeline and CLI: any image in, a caption with one map per word out."""

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

import t2i_core
from hub_cache import build_hub_cache
from t2i_core.cli import main
from t2i_core.data.images import MAX_PIXELS, ImageInputError
from t2i_core.data.vocabulary import Vocabulary
from t2i_core.models.captioning import Captioner, CaptionerConfig
from t2i_core.pipelines.caption import CaptionOutput, CaptionPipeline


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """An untrained small captioner with a Scenes vocabulary: fast, and enough to test the plumbing."""
    folder = tmp_path_factory.mktemp("tiny-captioner")
    vocabulary = Vocabulary.build(["a small red circle to the left of a large blue square"])
    torch.manual_seed(0)
    config = CaptionerConfig(vocab_size=len(vocabulary), image_size=64, cnn_width=8, embed_dim=8, hidden_dim=16, attention_dim=8, max_length=6)
    Captioner(config).save_pretrained(folder)
    vocabulary.save(folder)
    return folder


@pytest.fixture(scope="module", autouse=True)
def stand_in_world_detector():
    """An out-of-world detector fitted on random statistics, in place of the shipped one: the plumbing needs one, not a good one."""
    from t2i_core.models.world_detector import WorldDetector, WorldDetectorConfig

    rng = np.random.default_rng(0)
    width = WorldDetectorConfig().feature_dim  # the statistics the detector reads of an EfficientNet-Lite0 grid
    statistics = {world: rng.normal(size=(300, width)) for world in ("scenes", "flowers")}
    detector = WorldDetector.fit(statistics, {w: rng.normal(size=(100, width)) for w in statistics})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("t2i_core.pipelines.caption.load_world_detector", lambda device="cpu": detector)
        yield detector


@pytest.fixture(scope="module")
def pipe(tiny_checkpoint):
    return t2i_core.load_pipeline("caption", checkpoint=tiny_checkpoint, device="cpu")


def _photo(mode: str, size=(90, 60)) -> Image.Image:
    rgb = Image.fromarray(np.random.default_rng(0).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8), "RGB")
    if mode == "I;16":
        return Image.fromarray(np.asarray(rgb.convert("L"), dtype=np.uint16) * 257)  # mode I;16
    return rgb.convert(mode)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "CMYK", "I;16", "1"])
def test_any_image_mode_gives_a_caption_with_one_normalised_map_per_word(pipe, mode):
    result = pipe(_photo(mode), beam_size=2)
    words, attention = result.words[0], result.attention[0]
    assert len(words) == attention.shape[0] <= 6
    assert result.captions == [" ".join(words)]
    assert attention.shape[1:] == (8, 8)
    assert np.allclose(attention.sum(axis=(1, 2)), 1.0)
    if words:
        overlay = result.overlay(0)
        assert overlay.mode == "RGB" and overlay.size == (90, 60)


def test_one_image_and_a_list_of_images_both_give_a_caption_output(pipe):
    images = [_photo("RGB"), _photo("L", size=(40, 70)), _photo("RGBA")]
    one = pipe(images[0], beam_size=2)
    batch = pipe(images, beam_size=2)
    for output, size in ((one, 1), (batch, 3)):
        assert type(output) is CaptionOutput
        columns = (output.captions, output.words, output.attention, output.images, output.scores, output.finished,
                   output.in_world, output.in_world_scores)
        assert all(len(column) == size for column in columns)
    assert batch.images[1].size == (40, 70)
    assert batch.words[0] == one.words[0]
    np.testing.assert_allclose(batch.attention[0], one.attention[0], atol=1e-5)
    assert batch.strip(2).height == 128 + 18 and len(batch.overlays(1)) == len(batch.words[1])
    with pytest.raises(ValueError, match="no image"):
        pipe([])


def test_paths_bytes_and_arrays_are_the_same_image(pipe, tmp_path):
    image = _photo("RGB")
    image.save(tmp_path / "photo.png")
    expected = pipe(image).captions
    assert pipe(tmp_path / "photo.png").captions == expected
    assert pipe(str(tmp_path / "photo.png")).captions == expected
    assert pipe((tmp_path / "photo.png").read_bytes()).captions == expected
    assert pipe(np.asarray(image)).captions == expected


def test_exif_rotation_is_honoured(pipe):
    wide = _photo("RGB", size=(80, 40))
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    wide.save(buffer, "JPEG", exif=exif)
    assert pipe(buffer.getvalue()).images[0].size == (40, 80)


def test_big_images_are_shrunk_and_huge_ones_refused_before_decoding(pipe):
    buffer = io.BytesIO()
    Image.new("RGB", (3000, 2000), "orange").save(buffer, "JPEG")
    assert max(pipe(buffer.getvalue()).images[0].size) <= 512
    side = int(MAX_PIXELS ** 0.5) + 100
    buffer = io.BytesIO()
    Image.new("1", (side, side)).save(buffer, "PNG")  # a few kB that would decode to > 40 MP
    with pytest.raises(ImageInputError, match="the limit is"):
        pipe(buffer.getvalue())


@pytest.mark.parametrize("bad, message", [(b"not an image", "not an image"), ("/no/such/file.png", "no image file"), (42, "expected an image")])
def test_bad_input_is_a_clear_error(pipe, bad, message):
    with pytest.raises(ImageInputError, match=message):
        pipe(bad)


def test_bad_beam_sizes_and_word_indices_are_rejected(pipe):
    with pytest.raises(ValueError, match="beam_size must be an integer"):
        pipe(_photo("RGB"), beam_size=0)
    result = pipe(_photo("RGB"))
    with pytest.raises(IndexError, match="out of range"):
        result.overlay(len(result.words[0]))


def test_caption_command_writes_json_and_one_overlay_per_word(tiny_checkpoint, tmp_path, capsys):
    _photo("RGB").save(tmp_path / "photo.png")
    code = main(["caption", str(tmp_path / "photo.png"), "--checkpoint", str(tiny_checkpoint), "--beam", "3", "--json", "--overlays", str(tmp_path / "maps")])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["attention_shape"] == [len(report["words"]), 8, 8]
    assert len(list((tmp_path / "maps").glob("*.png"))) == len(report["words"]) == len(report["overlays"])
    assert "Scenes" in report["note"]


def test_caption_command_reports_a_missing_file(tiny_checkpoint, capsys):
    assert main(["caption", "/no/such.png", "--checkpoint", str(tiny_checkpoint)]) == 2
    assert "no image file" in capsys.readouterr().err


def test_unknown_model_name_lists_the_choices():
    with pytest.raises(ValueError, match="show-attend-tell"):
        t2i_core.load_pipeline("caption", model="show-and-dance")


def test_a_captioner_on_another_encoder_is_still_checked_against_its_worlds(pipe):
    """The detector reads the frozen EfficientNet-Lite0 grid: a small-CNN captioner gets that grid computed apart."""
    assert pipe.worlds == ("scenes",) and pipe.detector_encoder is not None
    result = pipe(_photo("RGB"), beam_size=2)
    assert 0.0 <= result.in_world_scores[0] <= 1.0 and isinstance(result.in_world[0], bool)


def test_from_pretrained_loads_the_captioner_and_its_vocabulary_from_a_folder_or_a_hub_id(pipe, tiny_checkpoint, tmp_path):
    image = _photo("RGB")
    expected = pipe(image, beam_size=2)
    from_folder = CaptionPipeline.from_pretrained(tiny_checkpoint, device="cpu")
    assert from_folder(image, beam_size=2).captions == expected.captions
    build_hub_cache(tmp_path / "hub", "t2i-core/tiny-captioner", tiny_checkpoint)
    from_hub = CaptionPipeline.from_pretrained("t2i-core/tiny-captioner", device="cpu", cache_dir=tmp_path / "hub", local_files_only=True)
    assert from_hub.vocabulary == from_folder.vocabulary and from_hub.worlds == ("scenes",)
    result = from_hub(image, beam_size=2)
    assert result.captions == expected.captions
    np.testing.assert_array_equal(result.attention[0], expected.attention[0])

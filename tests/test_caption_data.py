"""Caption data: the vocabulary and real datasets in Karpathy's split format, end to end."""

import json
import warnings

import numpy as np
import pytest
from PIL import Image

from t2i_core.cli import main
from t2i_core.data.karpathy import load_karpathy
from t2i_core.data.vocabulary import Vocabulary, tokenize

# Photos that ship with scikit-image, each with two captions written for this test.
PHOTOS = {
    "astronaut": ("train", ["a woman in a space suit smiles in front of a flag", "an astronaut in a white suit"]),
    "coffee": ("train", ["a cup of coffee on a saucer with a spoon", "a white cup of coffee"]),
    "chelsea": ("train", ["a ginger cat looks to the side", "an orange cat with green eyes"]),
    "rocket": ("train", ["a rocket stands on the launch pad", "a white rocket under a blue sky"]),
    "camera": ("val", ["a man with a camera on a tripod", "a black and white photo of a man with a camera"]),
    "immunohistochemistry": ("test", ["a stained tissue sample under a microscope", "brown and blue cells"]),
}


def test_tokenize_lowercases_and_drops_punctuation():
    assert tokenize("A dog, running.  Fast!") == ["a", "dog", "running", "fast"]


def test_vocabulary_keeps_frequent_words_and_maps_the_rest_to_unk(tmp_path):
    vocabulary = Vocabulary.build(["a red circle", "a blue circle", "a red star"], min_count=2)
    assert vocabulary.words[:4] == ["<pad>", "<start>", "<end>", "<unk>"]
    assert set(vocabulary.words[4:]) == {"a", "red", "circle"}
    ids = vocabulary.encode("a blue circle")
    assert ids[0] == vocabulary.start_id and ids[-1] == vocabulary.end_id and ids[2] == vocabulary.unk_id
    assert vocabulary.decode(ids + [vocabulary.pad_id, 5]) == ["a", "<unk>", "circle"]  # stops at the end token
    vocabulary.save(tmp_path)
    assert Vocabulary.load(tmp_path) == vocabulary


def test_vocabulary_cuts_long_captions_but_keeps_the_end_token():
    vocabulary = Vocabulary.build(["one two three four"])
    assert vocabulary.decode(vocabulary.encode("one two three four", max_length=2)) == ["one", "two"]
    assert vocabulary.encode("one two three four", max_length=2)[-1] == vocabulary.end_id


def test_a_broken_vocabulary_file_is_a_clear_error(tmp_path):
    (tmp_path / "vocabulary.json").write_text('{"a": 1}')
    with pytest.raises(ValueError, match="JSON list of words"):
        Vocabulary.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="has no vocabulary.json"):
        Vocabulary.load(tmp_path / "missing")


@pytest.fixture(scope="module")
def karpathy_dataset(tmp_path_factory):
    """dataset_tiny.json in Karpathy's format with an images/ folder of scikit-image photos."""
    import skimage.data

    root = tmp_path_factory.mktemp("karpathy")
    (root / "images").mkdir()
    entries = []
    for number, (name, (split, captions)) in enumerate(PHOTOS.items()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            array = getattr(skimage.data, name)()
        Image.fromarray(array).save(root / "images" / f"{name}.jpg")
        entries.append({
            "filename": f"{name}.jpg", "filepath": "", "imgid": number, "split": split if name != "rocket" else "restval",
            "sentences": [{"raw": c.capitalize() + ".", "tokens": c.split()} for c in captions],
        })
    (root / "dataset_tiny.json").write_text(json.dumps({"dataset": "tiny", "images": entries}))
    return root


def test_karpathy_loader_reads_splits_captions_and_paths(karpathy_dataset):
    train = load_karpathy(karpathy_dataset / "dataset_tiny.json", split="train")
    assert [im.path.name for im in train] == ["astronaut.jpg", "coffee.jpg", "chelsea.jpg", "rocket.jpg"]  # restval is train
    assert train[0].captions[0] == "A woman in a space suit smiles in front of a flag."
    assert [im.path.name for im in load_karpathy(karpathy_dataset / "dataset_tiny.json", split="test")] == ["immunohistochemistry.jpg"]
    assert len(load_karpathy(karpathy_dataset / "dataset_tiny.json")) == len(PHOTOS)


def test_karpathy_loader_names_what_is_wrong(tmp_path, karpathy_dataset):
    with pytest.raises(FileNotFoundError, match="no Karpathy split file"):
        load_karpathy(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text('{"annotations": []}')
    with pytest.raises(ValueError, match="needs an 'images' list"):
        load_karpathy(tmp_path / "bad.json")
    (tmp_path / "dataset.json").write_text((karpathy_dataset / "dataset_tiny.json").read_text())
    with pytest.raises(FileNotFoundError, match="pass the image folder"):
        load_karpathy(tmp_path / "dataset.json")


def test_train_caption_on_a_karpathy_dataset_end_to_end(karpathy_dataset, tmp_path, monkeypatch, capsys):
    """train caption --data karpathy:... writes a checkpoint that the caption command can use."""
    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path / "cache"))
    output = tmp_path / "run"
    code = main([
        "train", "caption", "--data", f"karpathy:{karpathy_dataset / 'dataset_tiny.json'}", "--min-count", "1",
        "--steps", "6", "--batch-size", "4", "--output", str(output), "--threads", "2",
    ])
    assert code == 0
    final = output / "final"
    vocabulary = json.loads((final / "vocabulary.json").read_text())
    assert {"cat", "coffee", "rocket", "astronaut"} <= set(vocabulary)
    evaluations = [json.loads(line) for line in (output / "metrics.jsonl").read_text().splitlines() if "eval" in line]
    assert evaluations and 0.0 <= evaluations[-1]["eval"]["val_bleu4"] <= 1.0
    capsys.readouterr()
    assert main(["caption", str(karpathy_dataset / "images" / "chelsea.jpg"), "--checkpoint", str(final), "--beam", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["words"]) <= set(vocabulary)
    maps = np.asarray(result["attention"])
    assert maps.shape == (len(result["words"]), 14, 14)  # the default encoder: EfficientNet-Lite0
    assert np.allclose(maps.sum(axis=(1, 2)), 1.0, atol=1e-3)


def test_early_stopping_skips_the_remaining_steps_and_exports_the_best(tmp_path, monkeypatch):
    """A model that cannot improve (learning rate 0) stops after `patience` evaluations."""
    from t2i_core.models.captioning import CaptionerConfig
    from t2i_core.training import TrainConfig, train
    from t2i_core.training.caption_task import CaptionTask, CaptionTaskConfig

    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path / "cache"))
    model = CaptionerConfig(encoder="small-cnn", image_size=32, cnn_width=8, embed_dim=8, hidden_dim=16, attention_dim=8, max_length=8)
    config = CaptionTaskConfig(train_size=16, val_size=4, learning_rate=0.0, patience=1, model=model)
    run = tmp_path / "run"
    train(CaptionTask(config, run), TrainConfig(output_dir=str(run), max_steps=5, batch_size=8, eval_every=1, log_every=1))
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "eval" in r] == [1, 2]  # nothing is measured once stopped
    assert [r for r in records if r.get("step") == 5 and "loss" in r] == []  # step 5 trained nothing
    assert json.loads((run / "best" / "best.json").read_text())["stopped"] is True
    assert (run / "final" / "vocabulary.json").is_file() and (run / "final" / "model.safetensors").is_file()
    assert CaptionTask(config, run, resume=False).stopped is False  # --fresh forgets the earlier run


def test_the_longest_scenes_captions_are_neither_cut_in_training_nor_in_decoding():
    """Four objects in a row, every relation 'to the ... of': the longest caption Scenes writes (34 words, 36 with 'there is')."""
    from t2i_core.data.scenes import SceneObject, scene_captions
    from t2i_core.models.captioning import CaptionerConfig
    from t2i_core.training.caption_task import CaptionTaskConfig

    row = [SceneObject("triangle", "purple", "large", (20.0 + 30 * k, 64.0), 10.0, 0.0) for k in range(4)]
    captions, _ = scene_captions(row)
    assert len(captions[0].split()) == 34
    longest = max(len(c.split()) for c in captions)
    assert CaptionTaskConfig().max_words >= longest
    assert CaptionerConfig().max_length >= longest

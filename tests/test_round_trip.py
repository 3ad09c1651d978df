"""The round trip's cycle score: prompt -> generator -> flower -> captioner, scored by the colours the caption gives each part."""

from types import SimpleNamespace

import pytest
from PIL import Image

from t2i_core.evaluation.round_trip import evaluate_round_trip
from t2i_core.evaluation.text2image import Prompt
from t2i_core.pipelines.flower_attributes import FlowerAttributesOutput
from t2i_core.pipelines.text2image import Text2ImageOutput


class RecordingGenerator:
    """Draws a blank flower per call and remembers the (prompt, seed) it was asked for."""

    def __init__(self):
        self.calls = []

    def __call__(self, text, num_images=4, seed=0):
        self.calls.append((text, seed))
        return Text2ImageOutput(prompts=[text], images=[[Image.new("RGB", (64, 64), (len(self.calls), 0, 0))]])


class ScriptedCaptioner:
    """Returns the given captions in turn, as a caption pipeline's results."""

    def __init__(self, captions):
        self.captions = list(captions)

    def __call__(self, image, beam_size=3):
        return SimpleNamespace(captions=[self.captions.pop(0)], in_world=[True])


def prompt(petal, stem):
    return Prompt(f"a {petal} flower with a {stem} stem", {"petal_colour": petal, "stem_colour": stem})


def test_the_cycle_score_counts_captions_that_give_each_part_the_prompts_colour():
    prompts = [prompt("red", "yellow"), prompt("blue", "green"), prompt("pink", "white"), prompt("purple", "orange")]
    captioner = ScriptedCaptioner([
        "a red flower with a yellow stem",  # the cycle closes
        "a green flower with a blue stem",  # both colours, in the wrong roles
        "a small pink circle",  # a Scenes caption of a flower
        "the stem is orange and the petals are purple",  # another phrasing, right
    ])
    generator = RecordingGenerator()
    report = evaluate_round_trip(generator, captioner, prompts, seed=5, beam_size=2)
    assert report["cycle_score"] == 0.5 and report["petal_named"] == 0.5 and report["stem_named"] == 0.5
    assert [seed for _, seed in generator.calls] == [5, 6, 7, 8]  # prompt i is drawn with seed + i, as the app draws it
    assert [f["prompt"] for f in report["failures"]] == [prompts[1].text, prompts[2].text]
    assert report["failures"][0]["read"] == {"petal_colour": "green", "stem_colour": "blue"}


def test_the_judge_separates_the_generators_mistakes_from_the_captioners():
    prompts = [prompt("red", "yellow"), prompt("blue", "green"), prompt("pink", "white")]
    captioner = ScriptedCaptioner(["a red flower with a yellow stem", "a green flower with a blue stem", "a pink flower with a red stem"])
    # The generator drew the second flower with its colours swapped and the third right.
    seen = [{"petal_colour": "red", "stem_colour": "yellow"}, {"petal_colour": "green", "stem_colour": "blue"},
            {"petal_colour": "pink", "stem_colour": "white"}]
    judge = lambda images: FlowerAttributesOutput(attributes=seen[: len(images)], confidences=[{}] * len(images))  # noqa: E731
    report = evaluate_round_trip(RecordingGenerator(), captioner, prompts, judge=judge)
    assert report["cycle_score"] == pytest.approx(1 / 3)
    assert report["generator_right"] == pytest.approx(2 / 3)
    assert report["cycle_score_where_generator_right"] == 0.5  # of the two flowers drawn right, the captioner named one


def test_a_round_trip_needs_prompts():
    with pytest.raises(ValueError, match="no prompts"):
        evaluate_round_trip(RecordingGenerator(), ScriptedCaptioner([]), [])


def test_eval_round_trip_sends_seen_prompts_through_the_use_generator_and_the_default_captioner(monkeypatch, capsys):
    import json

    from t2i_core.cli import main
    from t2i_core.cli import round_trip as round_trip_command
    from t2i_core.data.flowers import read_colour_roles

    loaded = []

    class EchoCaptioner:
        """Captions each flower with the prompt that drew it: a perfect round trip."""

        name = "show-attend-tell"

        def __call__(self, image, beam_size=3):
            return SimpleNamespace(captions=[generator.calls[-1][0]], in_world=[True])

    generator = RecordingGenerator()
    stubs = {"text2image": generator, "caption": EchoCaptioner(), "flower-attributes": None}

    def load_pipeline(task, **options):
        loaded.append((task, options))
        return stubs[task]

    monkeypatch.setattr(round_trip_command, "load_pipeline", load_pipeline)
    assert main(["eval", "round-trip", "-n", "6", "--no-judge", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 6 and report["cycle_score"] == 1.0
    assert ("text2image", {"encoder": "use", "checkpoint": None, "device": "cpu"}) in loaded
    assert ("caption", {"checkpoint": None, "device": "cpu"}) in loaded  # the default captioner
    assert all(None not in read_colour_roles(text).values() for text, _ in generator.calls)  # seen prompts name both colours

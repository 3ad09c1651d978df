"""The model cards of the shipped checkpoint folders: for each, what its card says that no
file records (title, Hub task, what the model is, how to use it, which report figures to
show, its limits). ``model_card.py`` turns a spec into a card; ``python -m t2i_core cards``
writes them all and ``--check`` finds a stale one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..checkpoint import SHIPPED_CHECKPOINTS
from .model_card import CardSpec, Figure, Reports, build_card, load_reports


# ---------------------------------------------------------------------- the shipped folders
def _figure(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}f}"


def _text2image_limits(encoder: str) -> Callable[[Reports], list[str]]:
    def limits(reports: Reports) -> list[str]:
        generator = reports["text2image"]["generators"][encoder]
        binding, seen = generator["binding_accuracy"], generator["attribute_accuracy"]["seen"]
        found = [
            f"Image quality is far from real flowers: the Frechet distance (in the flower classifier's feature space, not FID) "
            f"is {generator['frechet_ratio']:.1f}x the real-vs-real floor, against a target of 3x, and the diversity between "
            f"images of one prompt is {generator['diversity_ratio']:.2f}x that of real flowers (target 0.6x): the noise moves the "
            "background and the flower's size more than its shape.",
            "The binding of colours to parts does not carry to new phrasings or to colour pairs never seen in training: "
            f"binding accuracy {_figure(binding['heldout-templates'])} on held-out templates and {_figure(binding['heldout-pairs'])} "
            f"on held-out colour pairs, against {_figure(binding['seen'])} on seen ones.",
            "Attributes other than the two colours, when a prompt states them, come out right only part of the time "
            f"(centre colour {_figure(seen['centre_colour'], 2)}, petal shape {_figure(seen['petal_shape'], 2)}, "
            f"petal count {_figure(seen['petal_count'], 2)}, size {_figure(seen['size'], 2)}).",
        ]
        if encoder == "glove-avg":
            found.insert(0, "Averaged GloVe vectors ignore word order: \"a red flower with a yellow stem\" and \"a yellow flower "
                            "with a red stem\" are the identical vector, hence identical images, so at most one of a swapped "
                            f"pair can be right (swapped twins both right: {_figure(binding['swapped-twins'])}). This generator is "
                            "shipped as the contrast to the USE one, not as a model to use.")
        found.append("It knows only the Flowers world: 64x64 single flowers on plain, gradient, noise or photo-textured backgrounds, the 8 colour words "
                     "and the templates' vocabulary. Any other prompt is encoded and drawn as some flower anyway.")
        return found

    return limits


def _out_of_world(reports: Reports) -> str:
    photos = reports["world-detector"]["photos"]
    return (f"Pictures from outside its worlds (a photo) still get an answer in the worlds' words, not a description "
            f"of what a person sees. The pipeline flags them through the shipped out-of-world detector (`in_world`), "
            f"which calls {_figure(photos['out_of_world_rate'])} of {photos['n']} photos and photo crops out of world.")


def _caption_limits(model: str) -> Callable[[Reports], list[str]]:
    def limits(reports: Reports) -> list[str]:
        splits = reports["caption"]["models"][model]["splits"]
        test, combos = splits["test"]["beam_3"], splits["heldout-combos"]["beam_3"]
        found = [_out_of_world(reports),
                 f"Scenes with colour-shape pairs never seen in training are harder: every object named in "
                 f"{_figure(combos['all_objects_named'])} of `heldout-combos` captions against {_figure(test['all_objects_named'])} on `test`.",
                 "Its vocabulary is the worlds' few dozen words; it writes one phrasing per world."]
        if model == "show-and-tell":
            found.insert(0, "No attention: its per-word maps are uniform, so the pointing figures of the report "
                            f"({_figure(test['pointing_accuracy'])} on `test`) only measure the share of the grid the objects cover.")
        return found

    return limits


def _vqa_limits(model: str) -> Callable[[Reports], list[str]]:
    def limits(reports: Reports) -> list[str]:
        results = reports["vqa"]["models"][model]["results"]
        test, combos = results["test"], results["heldout-combos"]
        weakest = min(test["per_type"], key=test["per_type"].get)
        return [
            f"Colour-shape pairs never seen in training lower the accuracy from {_figure(test['accuracy'])} (`test`) to "
            f"{_figure(combos['accuracy'])} (`heldout-combos`), most on colour questions ({_figure(combos['per_type']['colour'])}) "
            f"and shape questions ({_figure(combos['per_type']['shape'])}).",
            f"Its weakest question type on `test` is {weakest} ({_figure(test['per_type'][weakest])}).",
            "It answers only the six question types of the Scenes world, from a closed list of 31 answers; any other "
            "question is read with the words it knows and answered from that list.",
            _out_of_world(reports),
        ]

    return limits


def _dates_limits(reports: Reports) -> list[str]:
    found = []
    for score, measured in reports["dates"]["scores"].items():
        heldout = measured["splits"]["heldout-formats"]["per_format"]
        below = sorted((value, name) for name, value in heldout.items() if value < 1.0)
        if below:
            found.append(f"`{score}`: held-out formats below 1.0: " + ", ".join(f"`{name}` {value:.3f}" for value, name in below) + ".")
    return [
        "New layouts are read well but not perfectly (exact match on the 7 held-out formats, per score):\n" + "\n".join("  - " + f for f in found),
        "English month and weekday names only; a text that is not a date still gets a 10-character answer, which the "
        "pipeline marks invalid when it is not a calendar date or its confidence is low.",
    ]


def _flower_limits(reports: Reports) -> list[str]:
    judge = reports["flower-judge"]["judge"]
    return [
        f"Measured on {judge['n']} rendered test flowers only (lowest attribute accuracy {_figure(judge['min_accuracy'])}); "
        "it has never seen any other picture, so on a photo or a drawn flower of another style its answers mean nothing.",
        "It is the judge of the text-to-image generators: their binding accuracy is what this classifier reads in "
        "their images, so its errors count in their figures.",
    ]


def _world_detector_limits(reports: Reports) -> list[str]:
    report = reports["world-detector"]
    called_in = ", ".join(f"`{name}`" for name in report["photos"]["called_in_world"]) or "none"
    return [
        f"The threshold ({report['threshold']}) is an empirical p-value: about that share of a world's own pictures is "
        f"called out by construction (Flowers `test` in world: {_figure(report['in_world_rate']['flowers/test'])}).",
        f"Photos and crops of them called in world: {called_in}. It sees only the statistics of the frozen "
        "EfficientNet-Lite0 grid, so a picture with the statistics of a world passes whatever it shows.",
        "It knows two worlds, Scenes and Flowers (with the shipped generators' flowers); it says nothing about Dates.",
    ]


def _caption_figures(model: str) -> tuple[Figure, ...]:
    def at(split: str, metric: str) -> tuple[str, ...]:
        return ("models", model, "splits", split, "beam_3", metric)

    figures = [
        Figure("BLEU-4, beam 3", "bleu", "scenes", "test", at("test", "BLEU-4")),
        Figure("CIDEr, beam 3", "cider", "scenes", "test", at("test", "CIDEr")),
        Figure("exact match, beam 3", "exact_match", "scenes", "test", at("test", "exact_match")),
        Figure("every object named, beam 3", "accuracy", "scenes", "test", at("test", "all_objects_named")),
        Figure("every object named, beam 3", "accuracy", "scenes", "heldout-combos", at("heldout-combos", "all_objects_named")),
        Figure("every object named, beam 3", "accuracy", "scenes", "heldout-style", at("heldout-style", "all_objects_named")),
        Figure("exact match, beam 3", "exact_match", "flowers", "test", at("flowers-test", "exact_match")),
    ]
    if model == "show-attend-tell":
        figures.insert(4, Figure("attention pointing accuracy, beam 3", "accuracy", "scenes", "test", at("test", "pointing_accuracy")))
    return tuple(figures)


def _vqa_figures(model: str) -> tuple[Figure, ...]:
    results = ("models", model, "results")
    return (
        *(Figure("accuracy", "accuracy", "scenes", split, (*results, split, "accuracy"))
          for split in ("test", "heldout-phrasings", "heldout-combos", "heldout-style")),
        Figure("accuracy, position questions", "accuracy", "scenes", "test", (*results, "test", "per_type", "position")),
        Figure("accuracy, colour questions", "accuracy", "scenes", "heldout-combos", (*results, "heldout-combos", "per_type", "colour")),
    )


def _text2image_figures(encoder: str) -> tuple[Figure, ...]:
    generator = ("generators", encoder)
    names = {"seen": "binding accuracy, seen prompts", "heldout-templates": "binding accuracy, held-out templates",
             "heldout-pairs": "binding accuracy, held-out colour pairs", "swapped-twins": "binding accuracy, swapped twins both right"}
    return (
        *(Figure(name, "accuracy", "flowers", split, (*generator, "binding_accuracy", split)) for split, name in names.items()),
        Figure("diversity (x real flowers)", "diversity_ratio", "flowers", "seen", (*generator, "diversity_ratio")),
        Figure("Frechet distance (x real-vs-real)", "frechet_ratio", "flowers", "seen", (*generator, "frechet_ratio")),
    )


DATES_SCORES = ("additive", "dot", "general")

_CAPTION_USAGE = '''from PIL import Image
from t2i_core.pipelines.caption import CaptionPipeline

captioner = CaptionPipeline.from_pretrained("checkpoints/{folder}")  # this folder, or this repo's Hub id
out = captioner(Image.open("scene.png"), beam_size=3)
out.captions[0], out.words[0]       # the caption and its words
out.attention[0]                    # (words, h, w): where the model looked for each word
out.in_world[0]                     # False for a picture from outside its worlds'''

_VQA_USAGE = '''from PIL import Image
from t2i_core.pipelines.vqa import VQAPipeline

vqa = VQAPipeline.from_pretrained("checkpoints/{folder}")  # this folder, or this repo's Hub id
out = vqa(Image.open("scene.png"), "what colour is the circle?")
out.answers[0], out.confidences[0]'''

_TEXT2IMAGE_USAGE = '''from t2i_core.pipelines.text2image import Text2ImagePipeline

gan = Text2ImagePipeline.from_pretrained("checkpoints/{folder}")  # this folder, or this repo's Hub id
out = gan(["a red flower with a yellow stem", "a yellow flower with a red stem"], num_images=4, seed=0)
out.images[0][0].save("flower.png")   # images: (prompts, num_images) PIL images; masks: the attention masks'''

CARDS: tuple[CardSpec, ...] = (
    CardSpec(
        folder="flower-attributes", title="Flower attribute classifier (the generators' judge)",
        pipeline_tag="image-classification", task_name="Image classification (six attributes)",
        tags=("flowers", "multi-label-classification"), worlds=("flowers",),
        about="A small CNN that reads the six attributes of a rendered flower (petal, stem and centre colour, petal shape, "
              "petal count, size), one softmax head per attribute. It judges the text-to-image generators: a generated "
              "flower binds its colours when this classifier reads the colours the prompt asked for.",
        usage='''from PIL import Image
from t2i_core.pipelines.flower_attributes import FlowerAttributesPipeline

judge = FlowerAttributesPipeline.from_pretrained("checkpoints/flower-attributes")  # this folder, or this repo's Hub id
out = judge([Image.open("flower.png")])
out.attributes[0], out.confidences[0]   # {"petal_colour": "red", ...} and each answer's probability''',
        report="flower-judge",
        measured_by="the judge's check of `python -m t2i_core eval text2image` (its accuracy on real test flowers, before any generator was shipped)",
        figures=tuple(Figure(f"accuracy, {attribute.replace('_', ' ')}", "accuracy", "flowers", "test", ("judge", "real_test_accuracy", attribute))
                      for attribute in ("petal_colour", "stem_colour", "centre_colour", "petal_shape", "petal_count", "size")),
        limits=_flower_limits,
    ),
    *(CardSpec(
        folder=f"text2image-{encoder}", title=f"Text to image: GAN-INT-CLS with residual attention, {name}",
        pipeline_tag="text-to-image", task_name="Text to image", tags=("gan", "flowers", tag), worlds=("flowers",),
        about=f"A conditional GAN generator (GAN-INT-CLS, Reed et al. 2016) with residual attention modules (a trunk and a soft "
              f"spatial mask) at 8x8 and 16x16, drawing 64x64 flowers from a prompt and a noise vector. The prompt is read by {reader}; "
              "the discriminator (its recipe is named in the command below) and the sentence encoder are not part of the "
              "checkpoint (the encoder is loaded by name).",
        usage=_TEXT2IMAGE_USAGE.format(folder=f"text2image-{encoder}"),
        report="text2image", figures=_text2image_figures(encoder), limits=_text2image_limits(encoder),
    ) for encoder, name, tag, reader in (
        ("use", "Universal Sentence Encoder", "universal-sentence-encoder",
         "Google's Universal Sentence Encoder (`use`, 512 numbers, which keeps word order)"),
        ("glove-avg", "averaged GloVe", "glove",
         "the average of its GloVe word vectors (`glove-avg`, 50 numbers, which cannot see word order)"),
    )),
    CardSpec(
        folder="caption-show-attend-tell", title="Image captioning: Show, Attend and Tell",
        pipeline_tag="image-to-text", task_name="Image captioning", tags=("image-captioning", "show-attend-tell"),
        worlds=("scenes", "flowers"),
        about="Show, Attend and Tell (Xu et al., 2015): a frozen ImageNet-pretrained EfficientNet-Lite0 gives a 14x14 grid "
              "of features (with each cell's colour and centre), and an LSTM decoder emits one word per step, each chosen "
              "from a soft-attention (additive) context over the grid. The step that names an object was also trained to "
              "look at it (attention supervision from the Scenes masks), so the map of every word shows where the model looked.",
        usage=_CAPTION_USAGE.format(folder="caption-show-attend-tell"),
        report="caption", figures=_caption_figures("show-attend-tell"), limits=_caption_limits("show-attend-tell"),
    ),
    CardSpec(
        folder="caption-show-and-tell", title="Image captioning: Show and Tell (the baseline without attention)",
        pipeline_tag="image-to-text", task_name="Image captioning", tags=("image-captioning", "show-and-tell"),
        worlds=("scenes", "flowers"),
        about="Show and Tell (Vinyals et al., 2015), the baseline of the attention captioner: the mean of a frozen "
              "EfficientNet-Lite0 grid is the LSTM's first input, then the words. No attention.",
        usage=_CAPTION_USAGE.format(folder="caption-show-and-tell"),
        report="caption", figures=_caption_figures("show-and-tell"), limits=_caption_limits("show-and-tell"),
    ),
    CardSpec(
        folder="dates", title="Date translator: seq2seq with attention (additive, dot, general)",
        pipeline_tag="text2text-generation", task_name="Date normalisation (written date to ISO)",
        tags=("seq2seq", "bahdanau-attention", "luong-attention", "character-level"), worlds=("dates",),
        about="Three character-level translators from a written date to ISO `YYYY-MM-DD`, one per attention score: a "
              "bidirectional LSTM encoder and an LSTM decoder that attends over the input characters at every output "
              "character, with the additive (Bahdanau), dot or general (Luong) score. One subfolder each; `dot` is the "
              "pipeline's default. The attention matrix says which input characters each output character was read from.",
        usage='''from t2i_core.pipelines.dates import DatesPipeline

dates = DatesPipeline.from_pretrained("checkpoints/dates", subfolder="dot")  # this folder, or this repo's Hub id
out = dates(["Tuesday, March 3, 2020", "10-17-2008"])
out.iso_dates, out.valid, out.confidences   # ["2020-03-03", "2008-10-17"], ...
out.attention[0]                            # (10, len(text)): where each output character looked''',
        report="dates",
        figures=tuple(Figure("exact match", "exact_match", "dates", split, ("scores", score, "splits", split, "exact_match"), config=score)
                      for score in DATES_SCORES for split in ("test", "heldout-formats")),
        limits=_dates_limits, subfolders=DATES_SCORES,
    ),
    *(CardSpec(
        folder=f"vqa-{model}", title=title, pipeline_tag="visual-question-answering", task_name="Visual question answering",
        tags=("vqa", tag), worlds=("scenes",), about=about, usage=_VQA_USAGE.format(folder=f"vqa-{model}"),
        report="vqa", figures=_vqa_figures(model), limits=_vqa_limits(model),
    ) for model, title, tag, about in (
        ("attention", "Visual question answering: stacked attention", "stacked-attention",
         "Stacked attention networks (Yang et al., 2016) on the grid of a frozen EfficientNet-Lite0: an LSTM reads the "
         "question, two attention hops over the 14x14 grid (a later hop adds each cell's offset along the direction the "
         "question names) gather the evidence, and a classifier picks one of 31 answers. Each hop was trained to look at "
         "the objects the question is about; its maps show where it looked."),
        ("baseline", "Visual question answering: the baseline without attention", "baseline",
         "The baseline of the stacked-attention model: the question's LSTM state and the mean of a frozen EfficientNet-Lite0 "
         "grid, combined and classified into one of 31 answers. No attention, no maps."),
    )),
    CardSpec(
        folder="world-detector", title="Out-of-world detector (Scenes, Flowers)",
        pipeline_tag="image-classification", task_name="Out-of-distribution detection",
        tags=("out-of-distribution-detection", "mahalanobis"), worlds=("scenes", "flowers"),
        about="Is a picture from the captioners' and VQA's worlds? Per picture, the mean, spread, peak and floor of each of "
              "the 112 channels of the frozen EfficientNet-Lite0 grid (448 numbers); one Gaussian per world (Ledoit-Wolf "
              "shrinkage) fitted on the training split; the score is an empirical p-value, the share of the world's own "
              "validation pictures at least as far (Mahalanobis distance). In world when the score is at least the threshold. "
              "A closed-form fit, no gradient training.",
        usage='''from t2i_core.models.world_detector import WorldDetector

detector = WorldDetector.from_pretrained("checkpoints/world-detector")  # this folder, or this repo's Hub id
# detector.judge(grid): grid = the frozen EfficientNet-Lite0 features of a batch of pictures;
# the caption and VQA pipelines call it for you and return in_world / in_world_scores''',
        report="world-detector",
        figures=(
            Figure("called in world", "accuracy", "scenes", "test", ("in_world_rate", "scenes/test")),
            Figure("called in world", "accuracy", "scenes", "heldout-style", ("in_world_rate", "scenes/heldout-style")),
            Figure("called in world", "accuracy", "scenes", "heldout-combos", ("in_world_rate", "scenes/heldout-combos")),
            Figure("called in world", "accuracy", "flowers", "test", ("in_world_rate", "flowers/test")),
            Figure("called out of world", "accuracy", "photos", "whole-and-crops", ("photos", "out_of_world_rate")),
        ),
        limits=_world_detector_limits,
    ),
)


def card_spec(folder: str) -> CardSpec:
    """The spec of ``checkpoints/<folder>``; a ValueError that lists the folders with a card otherwise."""
    for spec in CARDS:
        if spec.folder == folder:
            return spec
    raise ValueError(f"no model card for {folder!r}; cards exist for: {', '.join(spec.folder for spec in CARDS)}")


def build_cards(reports: Reports | None = None, checkpoints: Path = SHIPPED_CHECKPOINTS) -> dict[str, str]:
    """Folder (under ``checkpoints``) -> the text of its ``README.md``, with the shipped reports unless given."""
    reports = load_reports() if reports is None else reports
    return {spec.folder: str(build_card(spec, reports, checkpoints)) for spec in CARDS}

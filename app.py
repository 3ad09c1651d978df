"""The Gradio app: the demo's front door, and the file a Hugging Face Space runs.

The page is built from pipelines only (``t2i_core.load_pipeline``); no model code here.
Tabs are added by feature; each tab is one function that lays out its components and
wires its events, so the page reads as a description of itself.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# No network here and on most laptops' trains: never let a library wait for a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr
import numpy as np

import t2i_core
from t2i_core.data import load_world
from t2i_core.data.flowers import swap_colour_words
from t2i_core.evaluation import shipped_results
from t2i_core.pipelines.caption import TRAINED_ON
from t2i_core.pipelines.dates import TRAINED_ON as DATES_TRAINED_ON
from t2i_core.pipelines.dates import DEFAULT_SCORE as DEFAULT_DATE_SCORE
from t2i_core.pipelines.dates import shipped_scores as shipped_date_scores
from t2i_core.pipelines.images import ImageInputError

WORLD_PREVIEW = t2i_core.load_pipeline("world-preview")

ENCODER_LABELS = {"use": "Universal Sentence Encoder", "glove-avg": "averaged GloVe vectors"}


CAPTION_LABELS = {"show-attend-tell": "Show, Attend and Tell (soft attention)", "show-and-tell": "Show and Tell (no attention)"}


def _load_shipped(task: str, option: str, names) -> dict:
    """The shipped pipelines of ``task``, one per value of ``option``, loaded once; a missing checkpoint is left out."""
    pipes = {}
    for name in names:
        try:
            pipes[name] = t2i_core.load_pipeline(task, **{option: name}, device="cpu")
        except FileNotFoundError:
            pass
    return pipes


TEXT2IMAGE = _load_shipped("text2image", "encoder", ENCODER_LABELS)
CAPTIONERS = _load_shipped("caption", "model", CAPTION_LABELS)
VQA_MODELS_SHIPPED = _load_shipped("vqa", "model", ["attention", "baseline"])
EXAMPLES_DIR = Path(tempfile.gettempdir()) / "t2i_core-app-examples"
ROSE_PAIR = ("a red flower with a yellow stem", "a yellow flower with a red stem")
PROMPT_EXAMPLES = [
    ROSE_PAIR[0],
    ROSE_PAIR[1],
    "this flower has a blue stem and white petals",
    "the petals are purple and the stem is green",
    "a small pink flower with eight pointed petals and an orange stem",
    "a flower whose petals are orange and whose stem is blue",
]


def _encoders(choice: str) -> list[str]:
    names = list(ENCODER_LABELS) if choice == "both" else [choice]
    missing = [n for n in names if n not in TEXT2IMAGE]
    if missing:
        raise gr.Error(f"no generator for {', '.join(missing)} is shipped in checkpoints/ yet")
    return names


def generate_flowers(prompt: str, encoder: str, count: float, seed: float, show_masks: bool, progress=gr.Progress()):
    """Images of ``prompt`` from each chosen generator; masks of the residual attention on request."""
    outputs = {}
    masks = []
    for name in _encoders(encoder):
        progress(None, desc=f"drawing with {ENCODER_LABELS[name]}")
        try:
            result = TEXT2IMAGE[name](prompt, num_images=int(count), seed=int(seed), return_masks=True)
        except ValueError as error:
            raise gr.Error(str(error)) from None
        outputs[name] = result.images
        if show_masks:
            masks += [(im, f"{name}: 16x16 mask, image {i + 1}") for i, im in enumerate(result.mask_overlays(16))]
    return (
        outputs.get("use", []),
        outputs.get("glove-avg", []),
        gr.Gallery(value=masks, visible=bool(show_masks)),
    )


def swap_and_compare(prompt: str, count: float, seed: float, progress=gr.Progress()):
    """The prompt with its colours exchanged, and both prompts drawn by every shipped generator with one noise."""
    try:
        swapped = swap_colour_words(prompt)
    except ValueError as error:
        raise gr.Error(str(error)) from None
    names = _encoders("both") if len(TEXT2IMAGE) == len(ENCODER_LABELS) else list(TEXT2IMAGE)
    if not names:
        raise gr.Error("no text-to-image generator is shipped in checkpoints/ yet")
    gallery = []
    for name in names:
        progress(None, desc=f"drawing with {ENCODER_LABELS[name]}")
        try:
            original_images, swapped_images = TEXT2IMAGE[name]([prompt, swapped], num_images=int(count), seed=int(seed))
        except ValueError as error:
            raise gr.Error(str(error)) from None
        gallery += [(im, f"{name} | {prompt.strip()}") for im in original_images]
        gallery += [(im, f"{name} | {swapped}") for im in swapped_images]
    return swapped, gallery


def interpolate_flowers(text_a: str, text_b: str, encoder: str, steps: float, seed: float):
    """Images walking from one sentence to another in embedding space, with the noise fixed."""
    (name,) = _encoders(encoder)
    try:
        return TEXT2IMAGE[name].interpolate(text_a, text_b, steps=int(steps), seed=int(seed))
    except ValueError as error:
        raise gr.Error(str(error)) from None


def text_to_image_tab() -> None:
    """Prompt in, flowers out, from the USE-conditioned GAN and the averaged-GloVe one side by side."""
    gr.Markdown(
        "Two GANs (GAN-INT-CLS with residual attention, judged in training by a projected discriminator on frozen "
        "EfficientNet-Lite0 features) trained on the same flowers, differing only in how "
        "they read the sentence: the **Universal Sentence Encoder** reads word order; the **average of GloVe "
        "vectors** gives *a red flower with a yellow stem* and *a yellow flower with a red stem* the very "
        "same vector, so its GAN cannot know which colour goes where. Press **Swap the colours** to see it."
    )
    if not TEXT2IMAGE:
        gr.Markdown("**No generator is shipped in `checkpoints/` yet**: train one with `python -m t2i_core train text2image`.")
    with gr.Row():
        with gr.Column(scale=3):
            prompt = gr.Textbox(value=ROSE_PAIR[0], label="Prompt", max_lines=3, elem_id="t2i-prompt")
            gr.Examples(PROMPT_EXAMPLES, inputs=prompt, label="Examples")
        with gr.Column(scale=2):
            encoder = gr.Radio(["both", "use", "glove-avg"], value="both", label="Sentence encoder", elem_id="t2i-encoder")
            with gr.Row():
                count = gr.Slider(1, 16, value=8, step=1, label="Images", elem_id="t2i-count")
                seed = gr.Number(value=0, precision=0, minimum=0, label="Seed", elem_id="t2i-seed")
            show_masks = gr.Checkbox(value=False, label="Show the residual-attention masks (16x16)", elem_id="t2i-masks")
    with gr.Row():
        generate = gr.Button("Generate", variant="primary", elem_id="t2i-generate")
        swap = gr.Button("Swap the colours", elem_id="t2i-swap")
    with gr.Row():
        use_gallery = gr.Gallery(label="Universal Sentence Encoder", columns=4, height="auto", elem_id="t2i-use-gallery")
        glove_gallery = gr.Gallery(label="Averaged GloVe vectors", columns=4, height="auto", elem_id="t2i-glove-gallery")
    masks = gr.Gallery(label="Where the attention modules boosted features", columns=8, height="auto", visible=False, elem_id="t2i-mask-gallery")
    comparison = gr.Gallery(label="The prompt and its colour-swapped twin, same noise", columns=8, height="auto", elem_id="t2i-swap-gallery")
    with gr.Accordion("Walk between two sentences", open=False):
        with gr.Row():
            text_a = gr.Textbox(value=ROSE_PAIR[0], label="From", elem_id="t2i-from")
            text_b = gr.Textbox(value="a blue flower with a white stem", label="To", elem_id="t2i-to")
        with gr.Row():
            walk_encoder = gr.Radio(["use", "glove-avg"], value="use", label="Sentence encoder")
            steps = gr.Slider(2, 16, value=8, step=1, label="Steps")
            walk_seed = gr.Number(value=0, precision=0, minimum=0, label="Seed")
            walk = gr.Button("Walk", elem_id="t2i-walk")
        path = gr.Gallery(label="Interpolation with fixed noise", columns=8, height="auto", elem_id="t2i-walk-gallery")

    generate.click(generate_flowers, [prompt, encoder, count, seed, show_masks], [use_gallery, glove_gallery, masks], api_name="text_to_image")
    prompt.submit(generate_flowers, [prompt, encoder, count, seed, show_masks], [use_gallery, glove_gallery, masks], api_name=False)
    swap.click(swap_and_compare, [prompt, count, seed], [prompt, comparison], api_name="swap_colours")
    walk.click(interpolate_flowers, [text_a, text_b, walk_encoder, steps, walk_seed], path, api_name="interpolate")


class ImageUpload(gr.Image):
    """An image upload whose preprocessing cannot fail.

    ``gr.Image`` opens the upload with Pillow before the handler runs, and a file Pillow
    cannot read ends the request with an opaque error. Here such a file reaches the
    handler as its path, and the engine's safe loader says what is wrong with it.
    """

    is_template = True  # the front end draws it as a plain gr.Image

    def preprocess(self, payload):
        try:
            return super().preprocess(payload)
        except Exception:
            return str(payload.path) if payload is not None and payload.path else None


def _caption_examples() -> list[str]:
    """Example images as files (Gradio examples are paths): test scenes and flowers, and scikit-image's photos."""
    EXAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    paths = []
    for world in (load_world("scenes", "test", size=4, seed=0), load_world("flowers", "test", size=2, seed=0)):
        for i in range(len(world)):
            # The render version in the name: a file drawn by an older version of the world is never shown.
            path = EXAMPLES_DIR / f"{world.name}.r{world.render_version}-test-{i}.png"
            if not path.is_file():
                world.sample(i).image.save(path)
            paths.append(str(path))
    import skimage.data
    from PIL import Image

    for name in ("astronaut", "coffee", "chelsea"):
        path = EXAMPLES_DIR / f"photo-{name}.png"
        if not path.is_file():
            photo = Image.fromarray(getattr(skimage.data, name)())
            photo.thumbnail((256, 256))
            photo.save(path)
        paths.append(str(path))
    return paths


def fresh_scene(seed: float):
    """A newly rendered Scenes image (test split, the given seed) as a file path, with its true caption."""
    seed = int(seed or 0)
    if not 0 <= seed < 2**31:
        raise gr.Error("the seed must be between 0 and 2147483647")
    sample = load_world("scenes", "test", size=1, seed=seed).sample(0)
    EXAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    path = EXAMPLES_DIR / f"scene-fresh-{seed}.png"
    sample.image.save(path)
    return str(path), f"True caption: *{sample.caption}*"


def scene_image_input(prefix: str, seed: int, examples: list[str], examples_label: str, api_name) -> ImageUpload:
    """An image upload with a "Render a fresh scene" button (and the scene's true caption) and example images.

    Lays the components out in the current column and returns the image component; ``prefix``
    names their ``elem_id``s (``<prefix>-image``, ``<prefix>-render``...).
    """
    image = ImageUpload(type="filepath", image_mode=None, label="Image", sources=["upload", "clipboard"], elem_id=f"{prefix}-image")
    with gr.Row():
        scene_seed = gr.Number(value=seed, precision=0, minimum=0, label="Scene seed", elem_id=f"{prefix}-scene-seed")
        render = gr.Button("Render a fresh scene", elem_id=f"{prefix}-render")
    truth = gr.Markdown(elem_id=f"{prefix}-truth")
    gr.Examples(examples, inputs=image, label=examples_label)
    render.click(fresh_scene, scene_seed, [image, truth], api_name=api_name)
    return image


def _for_display(image, side: int = 384):
    """Small images (a 128x128 scene) enlarged so a heatmap can be read; large ones as they are."""
    from PIL import Image

    if max(image.size) >= side:
        return image
    scale = side / max(image.size)
    return image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)


def _captioner(model: str):
    if model not in CAPTIONERS:
        raise gr.Error(f"no {CAPTION_LABELS.get(model, model)} captioner is shipped in checkpoints/ yet")
    return CAPTIONERS[model]


def caption_image(image, model: str, beam: float, progress=gr.Progress()):
    """Caption an image: the clickable words, the first word's heatmap, every word's map, the result and a summary."""
    if image is None:
        raise gr.Error("Upload an image or pick an example first.")
    pipe = _captioner(model)
    progress(None, desc="captioning")
    try:
        result = pipe(image, beam_size=int(beam))
    except (ImageInputError, ValueError) as error:
        raise gr.Error(str(error)) from None
    words = [(word, "word") for word in result.words]
    if not result.words:
        return words, None, None, None, "The model produced an empty caption."
    note = "" if result.has_attention else " Show and Tell has no attention: its maps are uniform."
    summary = f"**{result.text}** (beam {int(beam)}, log-probability {result.score:.2f}).{note} Click a word to see where the model looked."
    return words, _for_display(result.overlay(0)), result.strip(), result, out_of_world_note(result) + summary


def out_of_world_note(result) -> str:
    """A warning above a caption or an answer when the picture is unlike the model's worlds."""
    if result.in_world:
        return ""
    return (f"> **This picture is not from the model's world** (in-world score {result.in_world_score:.3f}, "
            "where its own test pictures score around 0.5). The model only knows coloured shapes and flowers, so "
            "what follows describes this picture in those words and should not be trusted.\n\n")


def show_word_attention(result, event: gr.SelectData):
    """The heatmap of the clicked word."""
    if result is None:
        raise gr.Error("Caption an image first.")
    index = event.index if isinstance(event.index, int) else event.index[0]
    if not 0 <= index < len(result.words):
        raise gr.Error("That word is not part of the caption.")
    return _for_display(result.overlay(index)), f"Attention for **{result.words[index]}** (word {index + 1} of {len(result.words)})"


def caption_tab() -> None:
    """An image in, a caption out; click a word to see where the model looked."""
    gr.Markdown(
        "Show, Attend and Tell (Xu et al., 2015) looks at a grid of image features and, for every word it "
        "writes, weighs the cells: that weighting is the heatmap. Show and Tell (Vinyals et al., 2015) sees the "
        f"image once and has no attention. **{TRAINED_ON}**"
    )
    if not CAPTIONERS:
        gr.Markdown("**No captioner is shipped in `checkpoints/` yet**: train one with `python -m t2i_core train caption`.")
    with gr.Row():
        with gr.Column(scale=1):
            image = scene_image_input("cap", 0, _caption_examples(), "Test scenes, flowers and photos (photos are marked as out of world)",
                                      api_name="render_scene")
        with gr.Column(scale=1):
            model = gr.Radio(list(CAPTION_LABELS), value="show-attend-tell", label="Model", elem_id="cap-model")
            beam = gr.Slider(1, 5, value=3, step=1, label="Beam size", elem_id="cap-beam")
            run = gr.Button("Caption", variant="primary", elem_id="cap-run")
            summary = gr.Markdown(elem_id="cap-summary")
            words = gr.HighlightedText(label="Caption (click a word)", color_map={"word": "#dbeafe"}, show_inline_category=False,
                                       interactive=False, elem_id="cap-words")
            heatmap = gr.Image(type="pil", label="Where the model looked", elem_id="cap-heatmap")
            word_note = gr.Markdown(elem_id="cap-word-note")
    strip = gr.Image(type="pil", label="Every word's attention", elem_id="cap-strip")
    result = gr.State(None)
    run.click(caption_image, [image, model, beam], [words, heatmap, strip, result, summary], api_name="caption")
    words.select(show_word_attention, result, [heatmap, word_note], api_name=False)


def round_trip(sentence: str, seed: float, progress=gr.Progress()):
    """Sentence -> generated flower -> caption, and the USE cosine of the two sentences."""
    if "use" not in TEXT2IMAGE:
        raise gr.Error("the USE text-to-image generator is not shipped in checkpoints/ yet")
    captioner = _captioner("show-attend-tell")
    progress(None, desc="drawing")
    try:
        (image,) = TEXT2IMAGE["use"](sentence, num_images=1, seed=int(seed))
    except ValueError as error:
        raise gr.Error(str(error)) from None
    progress(None, desc="captioning")
    result = captioner(image, beam_size=3)
    vectors = TEXT2IMAGE["use"].encoder.encode([sentence.strip(), result.text or "(empty)"])  # (2, 512)
    cosine = float(np.dot(vectors[0], vectors[1]) / (np.linalg.norm(vectors[0]) * np.linalg.norm(vectors[1]) + 1e-12))
    return _for_display(image, 256), result.strip(), [[sentence.strip(), result.text, round(cosine, 3)]]


def round_trip_tab() -> None:
    """A live check of both models: the caption of a generated image, next to the sentence that made it."""
    gr.Markdown(
        "A sentence goes to the USE generator, its image to the default captioner (Show, Attend and Tell, "
        "trained on Scenes and Flowers together), and the two sentences are compared by their Universal "
        "Sentence Encoder cosine. The cycle closes when the caption gives the petals and the stem the "
        "sentence's colours (\"a red flower with a yellow stem\"); `python -m t2i_core eval round-trip` "
        "measures how often it does on seen prompts (the cycle score)."
    )
    with gr.Row():
        sentence = gr.Textbox(value=ROSE_PAIR[0], label="Sentence", max_lines=2, elem_id="rt-sentence")
        seed = gr.Number(value=0, precision=0, minimum=0, label="Seed", elem_id="rt-seed")
        run = gr.Button("Round trip", variant="primary", elem_id="rt-run")
    with gr.Row():
        image = gr.Image(type="pil", label="Generated", height=280, elem_id="rt-image")
        with gr.Column(scale=2):
            table = gr.Dataframe(headers=["sentence", "caption of its image", "USE cosine"], label="Both sentences", wrap=True, column_widths=["35%", "50%", "15%"], elem_id="rt-table")
    strip = gr.Image(type="pil", label="Where the captioner looked for each word of its caption", elem_id="rt-strip")
    run.click(round_trip, [sentence, seed], [image, strip, table], api_name="round_trip")


DATE_TRANSLATORS = _load_shipped("dates", "score", shipped_date_scores())
DATE_EXAMPLES = ["5 April 09", "Tuesday, March 3, 2020", "03/04/2021", "17.10.2008", "10-17-2008", "22JAN2016", "the 1st of may 1999", "2020.12.31", "Sat 1 Jan 2000"]


def attention_figure(result):
    """Plotly heatmap of a translation's attention: output characters down, input characters across."""
    import plotly.graph_objects as go

    columns, rows = result.input_characters, result.output_characters
    figure = go.Figure(go.Heatmap(
        z=result.attention, x=list(range(len(columns))), y=list(range(len(rows))), colorscale="Viridis", zmin=0, zmax=1,
        hovertemplate="output %{y}: '%{customdata[0]}'<br>input %{x}: '%{customdata[1]}'<br>weight %{z:.3f}<extra></extra>",
        customdata=[[[o, i] for i in columns] for o in rows], colorbar={"title": "weight"},
    ))
    shown = lambda c: "␣" if c == " " else c  # noqa: E731
    figure.update_xaxes(tickvals=list(range(len(columns))), ticktext=[shown(c) for c in columns], title="input characters", side="top")
    figure.update_yaxes(tickvals=list(range(len(rows))), ticktext=rows, title="output characters", autorange="reversed")
    figure.update_layout(height=420, margin={"l": 40, "r": 20, "t": 60, "b": 20})
    return figure


def translate_date(text: str, score: str):
    """A written date to ISO, with its validity, confidence and attention matrix."""
    if score not in DATE_TRANSLATORS:
        raise gr.Error(f"no date translator with the {score!r} score is shipped in checkpoints/dates/ yet")
    if not text or not text.strip():
        raise gr.Error("Type a date first, e.g. 'Tuesday, March 3, 2020'.")
    try:
        result = DATE_TRANSLATORS[score](text)
    except (TypeError, ValueError) as error:
        raise gr.Error(str(error)) from None
    verdict = "a real calendar date" if result.valid else f"not valid: {result.reason}"
    summary = f"## {result.iso or '-'}\n{verdict}; the model's probability of this output: {result.confidence:.3f}"
    return summary, attention_figure(result)


def dates_tab() -> None:
    """A Bahdanau-style translator from written dates to ISO dates, with its attention matrix."""
    gr.Markdown(
        "A sequence-to-sequence model with attention (Bahdanau et al., 2015; Luong et al., 2015) reads the "
        "characters of a written date with a bidirectional LSTM and writes `YYYY-MM-DD` one character at a "
        "time; the matrix shows which input characters each output character attended to. " + DATES_TRAINED_ON
    )
    if not DATE_TRANSLATORS:
        gr.Markdown("**No date translator is shipped in `checkpoints/dates/` yet**: train one with `python -m t2i_core train dates`.")
    scores = list(DATE_TRANSLATORS) or [DEFAULT_DATE_SCORE]
    with gr.Row():
        text = gr.Textbox(value=DATE_EXAMPLES[1], label="A written date", max_lines=1, elem_id="dates-text")
        default = DEFAULT_DATE_SCORE if DEFAULT_DATE_SCORE in scores else scores[0]
        score = gr.Radio(scores, value=default, label="Attention score (dot: the best on validation)", elem_id="dates-score")
        run = gr.Button("Translate", variant="primary", elem_id="dates-run")
    gr.Examples(DATE_EXAMPLES, inputs=text, label="Examples")
    summary = gr.Markdown(elem_id="dates-summary")
    matrix = gr.Plot(label="Attention: output characters (rows) over input characters (columns)", elem_id="dates-attention")
    run.click(translate_date, [text, score], [summary, matrix], api_name="translate_date")
    text.submit(translate_date, [text, score], [summary, matrix], api_name=False)


MAX_QUESTION_CHARACTERS = 200  # the longest training question has under 60


def answer_question(image, question: str, model: str, progress=gr.Progress()):
    """Answer a question about an image: the answer, a bar chart of the top answers, the attention maps."""
    import plotly.graph_objects as go

    if model not in VQA_MODELS_SHIPPED:
        raise gr.Error(f"no {model!r} VQA model is shipped in checkpoints/ yet")
    if image is None:
        raise gr.Error("Upload an image, render a scene or pick an example first.")
    if not question or not question.strip():
        raise gr.Error("Ask a question first, e.g. 'what color is the circle?'.")
    if len(question) > MAX_QUESTION_CHARACTERS:
        raise gr.Error(f"the question is {len(question):,} characters long; ask in at most {MAX_QUESTION_CHARACTERS}")
    progress(None, desc="answering")
    try:
        result = VQA_MODELS_SHIPPED[model](image, question.strip())
    except (ImageInputError, ValueError) as error:
        raise gr.Error(str(error)) from None
    answers = [a for a, _ in result.top_answers][::-1]
    figure = go.Figure(go.Bar(x=[p for _, p in result.top_answers][::-1], y=answers, orientation="h", marker_color="#f97316"))
    figure.update_layout(height=260, margin={"l": 10, "r": 10, "t": 10, "b": 30}, xaxis={"range": [0, 1], "title": "probability"})
    maps = []
    if result.has_attention:
        hops = len(result.attention_hops)
        maps = [(_for_display(result.overlay(h)), f"hop {h + 1} of {hops}") for h in range(hops)]
    note = "" if result.has_attention else " The baseline has no attention to show."
    return f"{out_of_world_note(result)}## {result.answer}\nprobability {result.confidence:.3f}.{note}", figure, maps


def vqa_tab() -> None:
    """Visual question answering on Scenes, with the question's attention over the image."""
    from t2i_core.pipelines.vqa import EXAMPLE_QUESTIONS, TRAINED_ON as VQA_TRAINED_ON

    gr.Markdown(
        "The baseline of the VQA literature (Antol et al., 2015) multiplies a CNN image vector by an LSTM "
        "question vector; the attention model lets the question weigh the cells of the image's feature grid "
        "first, in hops as in stacked attention networks (Yang et al., 2016), and the maps show where each hop "
        f"looked. **{VQA_TRAINED_ON}**"
    )
    if not VQA_MODELS_SHIPPED:
        gr.Markdown("**No VQA model is shipped in `checkpoints/` yet**: train one with `python -m t2i_core train vqa`.")
    with gr.Row():
        with gr.Column(scale=1):
            image = scene_image_input("vqa", 1, _caption_examples()[:4], "Test scenes", api_name=False)  # /render_scene does the same
        with gr.Column(scale=1):
            question = gr.Textbox(value=EXAMPLE_QUESTIONS[0], label="Question", max_lines=1, elem_id="vqa-question")
            gr.Examples(list(EXAMPLE_QUESTIONS), inputs=question, label="Example questions")
            models = list(VQA_MODELS_SHIPPED) or ["attention"]
            model = gr.Radio(models, value=models[0], label="Model", elem_id="vqa-model")
            run = gr.Button("Answer", variant="primary", elem_id="vqa-run")
            answer = gr.Markdown(elem_id="vqa-answer")
            chart = gr.Plot(label="Top answers", elem_id="vqa-chart")
    maps = gr.Gallery(label="Where the question looked (one map per attention hop)", columns=4, height="auto", elem_id="vqa-maps")
    run.click(answer_question, [image, question, model], [answer, chart, maps], api_name="answer_question")
    question.submit(answer_question, [image, question, model], [answer, chart, maps], api_name=False)


def show_world(world: str, split: str, n: float, seed: float):
    """Render ``n`` samples of a world split; returns the grid and the ground truth."""
    try:
        preview = WORLD_PREVIEW(world, split=split, n=int(n), seed=int(seed))
    except ValueError as error:
        raise gr.Error(str(error)) from None
    rows = [[c, ", ".join(f"{k}={v}" for k, v in a.items())] for c, a in zip(preview.captions, preview.attributes)]
    return preview.grid, rows


def world_splits(world: str):
    """The split dropdown for ``world``."""
    splits = WORLD_PREVIEW.splits(world)
    return gr.Dropdown(choices=splits, value=splits[0])


def worlds_tab(demo: gr.Blocks) -> None:
    """The procedural datasets every model here is trained on."""
    gr.Markdown(
        "Every model in this demo is trained on worlds rendered from a seed, with ground truth for "
        "every sample: **flowers** (text to image), **scenes** (captioning, VQA), **dates** (seq2seq). "
        "The `heldout-*` splits hold combinations that training never sees."
    )
    with gr.Row():
        world = gr.Dropdown(choices=list(WORLD_PREVIEW.worlds), value="flowers", label="World", elem_id="world-name")
        split = gr.Dropdown(choices=WORLD_PREVIEW.splits("flowers"), value="train", label="Split", elem_id="world-split")
        count = gr.Slider(1, 32, value=12, step=1, label="Samples", elem_id="world-count")
        seed = gr.Number(value=0, precision=0, minimum=0, label="Seed", elem_id="world-seed")
        render = gr.Button("Render", variant="primary", elem_id="world-render")
    grid = gr.Image(label="Samples", type="pil", elem_id="world-grid")
    truth = gr.Dataframe(headers=["caption", "ground truth"], label="Ground truth", wrap=True, elem_id="world-truth")
    world.change(world_splits, world, split, api_name=False)
    render.click(show_world, [world, split, count, seed], [grid, truth], api_name="world_preview")
    demo.load(show_world, [world, split, count, seed], [grid, truth], api_name=False)


def _percent(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def text2image_figures() -> str:
    """The shipped evaluation of the generators as a Markdown table (from ``eval text2image -o``)."""
    report = shipped_results("text2image")
    if not report or not report.get("generators"):
        return "_No evaluation of the generators is shipped yet._"
    rows = ["| generator | (a) seen | (b) new phrasings | (c) new colour pairs | (d) swapped twins | diversity / real | Frechet / real-vs-real "
            "| centre colour | petal shape | petal count | size |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, result in report["generators"].items():
        binding = result["binding_accuracy"]
        stated = result["attribute_accuracy"].get("seen", {})
        rows.append(
            f"| `{name}` | {_percent(binding.get('seen'))} | {_percent(binding.get('heldout-templates'))} | "
            f"{_percent(binding.get('heldout-pairs'))} | {_percent(binding.get('swapped-twins'))} | "
            f"{result['diversity_ratio']:.2f} | {result['frechet_ratio']:.2f} | "
            + " | ".join(_percent(stated.get(k)) for k in ("centre_colour", "petal_shape", "petal_count", "size")) + " |"
        )
    judge = report["judge"]
    return "\n".join(rows) + (
        f"\n\nBinding accuracy: petal **and** stem colour as the prompt says, judged by a flower classifier "
        f"that reads real test flowers with at least {_percent(judge['min_accuracy'])} accuracy per attribute "
        f"({report['config']['n_prompts']} prompts per group). The last four columns: how often an attribute "
        f"comes out as stated, on the seen prompts that state it."
    )


def encoder_figures() -> str:
    """The order-sensitivity benchmark of the sentence encoders as a Markdown table."""
    report = shipped_results("encoders")
    if not report:
        return "_No encoder benchmark is shipped yet._"
    rows = ["| encoder | cosine to the order swap | cosine to a paraphrase | probe: new phrasings | probe: new colour pairs |", "|---|---|---|---|---|"]
    for name, result in report["encoders"].items():
        triplets, probe = result["triplets"], result.get("probe") or {}
        rows.append(
            f"| `{name}` | {triplets['mean_cosine_swap']:.3f} | {triplets['mean_cosine_paraphrase']:.3f} | "
            f"{_percent(probe.get('heldout_templates_both_right'))} | {_percent(probe.get('heldout_pairs_both_right'))} |"
        )
    return "\n".join(rows)


def caption_figures() -> str:
    """The shipped evaluation of the captioners (test scenes, beam 3) as a Markdown table (from ``eval caption -o``)."""
    report = shipped_results("caption")
    if not report or not report.get("models"):
        return "_No evaluation of the captioners is shipped yet._"
    rows = ["| model | BLEU-4 | METEOR | CIDEr | every object named | every object named, held-out style | pointing accuracy "
            "| attention mass on the object | flowers: both colours named |", "|---|---|---|---|---|---|---|---|---|"]
    for name, result in report["models"].items():
        figures = result["splits"]["test"]["beam_3"]
        style = result["splits"].get("heldout-style", {}).get("beam_3", {})
        flowers = result["splits"].get("flowers-test", {}).get("beam_3", {})
        attends = name == "show-attend-tell"
        rows.append(f"| {CAPTION_LABELS.get(name, name)} | {figures['BLEU-4']:.3f} | {figures['METEOR']:.3f} | {figures['CIDEr']:.2f} | "
                    f"{_percent(figures.get('all_objects_named'))} | {_percent(style.get('all_objects_named'))} | "
                    f"{_percent(figures['pointing_accuracy']) if attends else '- (no attention)'} | "
                    f"{_percent(figures['attention_mass']) if attends else '-'} | {_percent(flowers.get('roles_named'))} |")
    cycle = shipped_results("round-trip")
    closing = (f"\n\nRound trip (prompt -> USE generator -> flower -> default captioner), cycle score on {cycle['n']} seen prompts: "
               f"**{_percent(cycle['cycle_score'])}** of the captions name the prompt's petal and stem colours in their roles."
               if cycle else "")
    return "\n".join(rows) + (
        "\n\nTest scenes (and Flowers test pictures), beam 3. Every object named: the caption names each object's colour "
        "and shape. Pointing: the attention peak of a word naming an object falls inside that object's mask." + closing
    )


def vqa_figures() -> str:
    """The shipped evaluation of the VQA models on test scenes as a Markdown table (from ``eval vqa -o``)."""
    report = shipped_results("vqa")
    if not report or not report.get("models"):
        return "_No evaluation of the VQA models is shipped yet._"
    types = ["colour", "shape", "count", "exist", "position", "absent"]
    rows = ["| model | overall | " + " | ".join(types) + " | overall, held-out style |", "|---" * (len(types) + 3) + "|"]
    for name, result in report["models"].items():
        test, style = result["results"]["test"], result["results"].get("heldout-style", {})
        rows.append(f"| {name} | {_percent(test['accuracy'])} | " + " | ".join(_percent(test["per_type"].get(t)) for t in types)
                    + f" | {_percent(style.get('accuracy'))} |")
    return "\n".join(rows)


def dates_figures() -> str:
    """The shipped evaluation of the date translators as a Markdown table (from ``eval dates -o``)."""
    report = shipped_results("dates")
    if not report or not report.get("scores"):
        return "_No evaluation of the date translators is shipped yet._"
    rows = ["| attention score | test exact match | held-out formats |", "|---|---|---|"]
    for score, result in report["scores"].items():
        splits = result["splits"]
        marker = " (default)" if score == report.get("default_score") else ""
        rows.append(f"| `{score}`{marker} | {_percent(splits['test']['exact_match'])} | {_percent(splits['heldout-formats']['exact_match'])} |")
    return "\n".join(rows)


def about_tab() -> None:
    """What each model is, where it comes from, and what it measured (read from the shipped results)."""
    gr.Markdown(
        "**t2i_core** shows what attention and sentence encoders do, with models trained here on "
        "procedural worlds with ground truth, and measured.\n\n"
        "### Text to image\n"
        "GAN-INT-CLS (Reed et al., 2016, *Generative Adversarial Text to Image Synthesis*): a DCGAN-style "
        "generator conditioned on a sentence embedding through conditioning augmentation (Zhang et al., "
        "2017, *StackGAN*), with residual attention modules (Wang et al., 2017, *Residual Attention Network*) "
        "at 8x8 and 16x16 and text-conditioned batch norm in every block (DF-GAN, Tao et al., 2022). It is trained "
        "against a projected discriminator (Sauer et al., 2021, *Projected GANs Converge Faster*): images are "
        "judged in the frozen features of ImageNet EfficientNet-Lite0 at three scales, mixed by fixed random "
        "projections, with a small head per scale, a projection term (Miyato & Koyama, 2018), the "
        "matching-aware loss and colour heads (TAC-GAN, Dash et al., 2017), on differentiably augmented "
        "images (Zhao et al., 2020). One generator reads the Universal Sentence Encoder "
        "(Cer et al., 2018), the other the average of GloVe vectors (Pennington et al., 2014).\n\n"
        + text2image_figures()
        + "\n\n### Sentence encoders\n"
        "Does the encoder read word order? Cosine of a sentence to its order-swapped twin and to a paraphrase "
        "(90 built-in triplets), and a linear probe that reads petal and stem colour off the embedding of a "
        "flower caption.\n\n"
        + encoder_figures()
        + "\n\n### Image captioning\n"
        "Show and Tell (Vinyals et al., 2015) and Show, Attend and Tell (Xu et al., 2015, soft attention with "
        "doubly stochastic regularisation) over a frozen ImageNet EfficientNet-Lite0 grid, trained on Scenes and Flowers.\n\n"
        + caption_figures()
        + "\n\n### Visual question answering\n"
        "The element-wise-product baseline (Antol et al., 2015) and stacked attention (Yang et al., 2016) on "
        "questions generated from the Scenes ground truth.\n\n"
        + vqa_figures()
        + "\n\n### Date translator\n"
        "A character-level sequence-to-sequence model with attention (Bahdanau et al., 2015, *Neural Machine "
        "Translation by Jointly Learning to Align and Translate*; Luong et al., 2015, *Effective Approaches to "
        "Attention-based Neural Machine Translation*): a bidirectional LSTM reads the written date, an LSTM "
        "writes the ISO date, attending at every character with an additive, dot or general score.\n\n"
        + dates_figures()
        + "\n\n### Train them yourself\n"
        "Every model is trained by one command with a fixed seed (see README.md): "
        "`python -m t2i_core train text2image --encoder use`, and "
        "`torchrun --nproc_per_node=4 -m t2i_core train ...` on several GPUs. To train on a real dataset, "
        "write a `World` (a torch Dataset of images and captions) like `t2i_core/data/flowers.py`.\n\n"
        f"Registered pipelines: {', '.join(t2i_core.PIPELINES.names())}."
    )


def build_demo() -> gr.Blocks:
    """The whole page; tests build it without launching a server."""
    with gr.Blocks(title="t2i_core: attention in multimodal deep learning") as demo:
        gr.Markdown("# t2i_core: attention in multimodal deep learning")
        with gr.Tab("Text to image"):
            text_to_image_tab()
        with gr.Tab("Image to caption"):
            caption_tab()
        with gr.Tab("Round trip"):
            round_trip_tab()
        with gr.Tab("Dates"):
            dates_tab()
        with gr.Tab("Visual questions"):
            vqa_tab()
        with gr.Tab("Worlds"):
            worlds_tab(demo)
        with gr.Tab("About"):
            about_tab()
    # Measured with benchmarks/app_latency.py on 2 CPU cores: one request takes 0.2-0.5 s, and
    # torch already uses both cores, so more than 2 at once only slows each; 40 requests from
    # 8 clients finished in 11 s (p95 2.4 s). A queue of 32 keeps the worst wait under ~10 s.
    demo.queue(default_concurrency_limit=2, max_size=32)
    return demo


demo = build_demo()

if __name__ == "__main__":
    demo.launch()

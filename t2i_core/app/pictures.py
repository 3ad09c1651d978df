"""How pictures come into the page and go out of it, for the tabs that take an image.

An upload that cannot fail, a "Render a fresh scene" button with the scene's true caption,
example images as files, heatmaps enlarged so they can be read, and the warning shown
above an answer about a picture unlike the models' worlds.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import gradio as gr
import skimage.data
from gradio.components.gallery import GalleryData, GalleryImage
from gradio.data_classes import ImageData
from PIL import Image

from ..data import load_world
from .serving import encode_image, static_output_folder, write_content_named, write_whole

EXAMPLES_DIR = Path(tempfile.gettempdir()) / "t2i_core-app-examples"

# How heatmaps and strips of heatmaps go to the browser. Gradio's default, WebP, took 42 ms for
# a caption's 3200x146 strip and 12 ms for a 384x384 heatmap on this 2-core machine, PNG 46
# and 19 ms, JPEG 2 and 0.5 ms: smooth heatmaps lose nothing visible in JPEG, and
# the encoding was most of what the app added to a caption request beyond Gradio's own floor.
HEATMAP_FORMAT = "jpeg"
# How generated flowers go to the browser. They are 64x64: Gradio's default, lossy WebP, took
# 1.1 ms an image here and PNG 0.17 ms (16 images a /text_to_image request), and PNG keeps
# every pixel of an image this small.
FLOWER_FORMAT = "png"


class FlowerGallery(gr.Gallery):
    """A gallery that writes its PIL images where Gradio serves them without moving them.

    ``gr.Gallery.postprocess`` starts a pool of threads on every answer to save its images in
    parallel, each into a folder of its own in Gradio's cache, and Gradio then checks and moves
    every file of the answer. For 64-pixel flowers (a fifth of a millisecond of PNG each) on two
    cores, starting the threads cost more than the saving: 8 flowers took 12-16 ms through the
    pool and 6.5-8.6 ms one after another (3 runs of 40, with a training run on the other core).
    This gallery encodes them one after another in the request's thread and writes them to the
    app's static output folder (:func:`~t2i_core.app.serving.static_output_folder`), named by
    their content, so Gradio serves them as they lie; each file is registered with the block,
    so the cache's deletion by age removes it. Anything but a list of PIL images (with or
    without captions) goes to Gradio's own code.
    """

    is_template = True  # the front end draws it as a plain gr.Gallery

    def postprocess(self, value):
        items = [item if isinstance(item, (tuple, list)) else (item, None) for item in value or []]
        if not items or not all(isinstance(image, Image.Image) for image, _ in items):
            return super().postprocess(value)
        folder = static_output_folder(self.GRADIO_CACHE)
        suffix = f".{self.format.lower()}"
        saved = []
        for image, caption in items:
            path = write_content_named(folder, encode_image(image, self.format), suffix)
            self.temp_files.add(path)
            saved.append(GalleryImage(image=ImageData(path=path), caption=caption))
        return GalleryData(root=saved)


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


def save_whole(image: Image.Image, path: Path) -> None:
    """Save ``image`` as PNG at ``path`` so that a concurrent reader sees no file or the whole file (see serving.write_whole)."""
    data = io.BytesIO()
    image.save(data, format="PNG")
    write_whole(path.parent, path.name, data.getvalue())


def example_images() -> list[str]:
    """Example images as files (Gradio examples are paths): 4 test scenes, 2 test flowers, then scikit-image's photos."""
    EXAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    paths = []
    for world in (load_world("scenes", "test", size=4, seed=0), load_world("flowers", "test", size=2, seed=0)):
        for i in range(len(world)):
            # The render version in the name: a file drawn by an older version of the world is never shown.
            path = EXAMPLES_DIR / f"{world.name}.r{world.render_version}-test-{i}.png"
            if not path.is_file():
                save_whole(world.sample(i).image, path)
            paths.append(str(path))
    for name in ("astronaut", "coffee", "chelsea"):
        path = EXAMPLES_DIR / f"photo-{name}.png"
        if not path.is_file():
            photo = Image.fromarray(getattr(skimage.data, name)())
            photo.thumbnail((256, 256))
            save_whole(photo, path)
        paths.append(str(path))
    return paths


def fresh_scene(seed: float):
    """Render a fresh picture of the Scenes world (coloured shapes) to caption or ask about.

    Args:
        seed: the scene's seed, 0 to 2147483647; the same seed gives the same scene.

    Returns:
        the path of the rendered PNG image
        its true caption, in Markdown
    """
    seed = int(seed or 0)
    if not 0 <= seed < 2**31:
        raise gr.Error("the seed must be between 0 and 2147483647")
    sample = load_world("scenes", "test", size=1, seed=seed).sample(0)
    EXAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    path = EXAMPLES_DIR / f"scene-fresh-{seed}.png"
    save_whole(sample.image, path)  # identical requests (seed 0) share the file: never let one read it half-written
    return str(path), f"True caption: *{sample.caption}*"


def scene_image_input(prefix: str, seed: int, api_name, value: str) -> ImageUpload:
    """An image upload holding the file ``value``, with a "Render a fresh scene" button (and the scene's true caption).

    Lays the components out in the current column and returns the image component; ``prefix``
    names their ``elem_id``s (``<prefix>-image``, ``<prefix>-render``...). The tab adds its
    examples with :func:`~t2i_core.app.serving.cached_examples` once its outputs exist.
    """
    image = ImageUpload(value=value, type="filepath", image_mode=None, label="Image", sources=["upload", "clipboard"],
                        elem_id=f"{prefix}-image")
    with gr.Row():
        scene_seed = gr.Number(value=seed, precision=0, minimum=0, label="Scene seed", elem_id=f"{prefix}-scene-seed")
        render = gr.Button("Render a fresh scene", elem_id=f"{prefix}-render")
    truth = gr.Markdown(elem_id=f"{prefix}-truth")
    render.click(fresh_scene, scene_seed, [image, truth], api_name=api_name)
    return image


def for_display(image: Image.Image, side: int = 384) -> Image.Image:
    """Small images (a 128x128 scene) enlarged to ``side`` pixels so a heatmap can be read; large ones as they are."""
    if max(image.size) >= side:
        return image
    scale = side / max(image.size)
    return image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)


def out_of_world_note(in_world: bool, in_world_score: float) -> str:
    """A warning above a caption or an answer when the picture is unlike the model's worlds (Markdown; empty if it is like them)."""
    if in_world:
        return ""
    return (f"> **This picture is not from the model's world** (in-world score {in_world_score:.3f}, "
            "where its own test pictures score around 0.5). The model only knows coloured shapes and flowers, so "
            "what follows describes this picture in those words and should not be trusted.\n\n")

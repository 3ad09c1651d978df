"""Preview grids: samples of a world laid out with their captions, for people to look at."""

from __future__ import annotations

import math
import textwrap

from PIL import Image, ImageDraw, ImageFont


def _font(size: int) -> ImageFont.ImageFont:
    # Pillow >= 10.1 ships a scalable default font; older builds fall back to the bitmap one.
    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        return ImageFont.load_default()


def make_image_grid(
    images: list[Image.Image],
    captions: list[str] | None = None,
    columns: int | None = None,
    scale: int = 2,
    caption_lines: int = 4,
) -> Image.Image:
    """Images in a grid, each enlarged ``scale`` times with its caption wrapped beneath.

    Args:
        images: PIL images of one size.
        captions: one text per image, or None for no captions.
        columns: images per row; by default the grid is as square as possible.
        scale: nearest-neighbour enlargement, so small images stay crisp.
        caption_lines: at most this many wrapped lines of caption per cell.
    """
    if not images:
        raise ValueError("no images to lay out")
    columns = columns or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    cell_w, cell_h = images[0].width * scale, images[0].height * scale
    font_size = max(10, min(14, cell_w // 12))
    font = _font(font_size)
    line_h = font_size + 3
    chars_per_line = max(8, int(cell_w / (font_size * 0.55)))
    text_h = caption_lines * line_h + 6 if captions else 0
    pad = 6
    grid = Image.new("RGB", (columns * (cell_w + pad) + pad, rows * (cell_h + text_h + pad) + pad), (250, 250, 248))
    draw = ImageDraw.Draw(grid)
    for k, image in enumerate(images):
        r, c = divmod(k, columns)
        x = pad + c * (cell_w + pad)
        y = pad + r * (cell_h + text_h + pad)
        grid.paste(image.convert("RGB").resize((cell_w, cell_h), Image.Resampling.NEAREST), (x, y))
        if captions:
            lines = textwrap.wrap(captions[k], chars_per_line)[:caption_lines]
            for j, line in enumerate(lines):
                draw.text((x, y + cell_h + 3 + j * line_h), line, fill=(40, 40, 40), font=font)
    return grid


def make_text_table(rows: list[tuple[str, str]], header: tuple[str, str] = ("input", "output"), font_size: int = 16) -> Image.Image:
    """Two columns of text as an image: for worlds whose samples are text, like Dates."""
    font = _font(font_size)
    line_h = font_size + 8
    all_rows = [header, *rows]
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    left_w = max(probe.textlength(a, font=font) for a, _ in all_rows) + 30
    right_w = max(probe.textlength(b, font=font) for _, b in all_rows) + 20
    table = Image.new("RGB", (int(left_w + right_w + 20), line_h * len(all_rows) + 16), (250, 250, 248))
    draw = ImageDraw.Draw(table)
    for i, (a, b) in enumerate(all_rows):
        y = 8 + i * line_h
        if i % 2 == 1:
            draw.rectangle([0, y - 2, table.width, y + line_h - 4], fill=(238, 240, 244))
        colour = (20, 20, 20) if i else (90, 90, 120)
        draw.text((10, y), a, fill=colour, font=font)
        draw.text((10 + left_w, y), b, fill=colour, font=font)
    return table

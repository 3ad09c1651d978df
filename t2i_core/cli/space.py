"""The Space's front matter on the command line: ``space --id OWNER/NAME`` sets the fields that need the Space's id.

The Hub reads a Space's social ``thumbnail`` from its README's YAML front matter as an
absolute URL, and the URL holds the Space's id, which a clone of this project does not
know. This command writes it, through ``huggingface_hub``'s card parser, once the Space
exists: ``python -m t2i_core space --id OWNER/NAME`` for the app, and with
``--card dashboard/space/README.md`` for the dashboard's Space.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from huggingface_hub import SpaceCard
from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id

from .common import Command

THUMBNAIL = Path("docs/thumbnail.png")
SPACE_FILE_URL = "https://huggingface.co/spaces/{space_id}/resolve/main/{path}"


def thumbnail_url(space_id: str, image: Path = THUMBNAIL) -> str:
    """The absolute URL the Hub serves ``image`` of the Space ``space_id`` ("owner/name") at.

    Raises:
        ValueError: ``space_id`` is not a valid "owner/name" repository id, or ``image`` is absolute.
    """
    try:
        validate_repo_id(space_id)
    except HFValidationError as error:
        raise ValueError(f"{space_id!r} is not a Space id: {error}") from None
    if "/" not in space_id:
        raise ValueError(f"{space_id!r} is not a Space id: give it as OWNER/NAME")
    if image.is_absolute():
        raise ValueError(f"the thumbnail {image} must be a path inside the Space's repository, not an absolute path")
    return SPACE_FILE_URL.format(space_id=space_id, path=image.as_posix())


def set_thumbnail(card_path: Path, space_id: str, image: Path = THUMBNAIL) -> str:
    """Set ``thumbnail:`` in the front matter of ``card_path`` to ``image`` in the Space ``space_id``; returns the URL.

    Every other field and the text below the front matter are kept.

    Raises:
        FileNotFoundError: the card, or the image next to the project, does not exist.
        ValueError: as :func:`thumbnail_url`, or the card has no front matter.
    """
    url = thumbnail_url(space_id, image)
    if not card_path.is_file():
        raise FileNotFoundError(f"no card at {card_path}")
    if not image.is_file():  # paths are the repository's, so this runs from the project's root
        raise FileNotFoundError(f"no thumbnail at {image} (run from the project's root): the Space serves it from its repository")
    card = SpaceCard(card_path.read_text(encoding="utf-8"), ignore_metadata_errors=True)
    if not card.data.to_dict():
        raise ValueError(f"{card_path} has no YAML front matter")
    card.data.thumbnail = url
    card.save(card_path)
    return url


def space_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id", required=True, dest="space_id", help="the Space's id, OWNER/NAME")
    parser.add_argument("--card", type=Path, default=Path("README.md"), help="the Space's README (default README.md, the app's)")
    parser.add_argument("--image", type=Path, default=THUMBNAIL, help=f"the thumbnail, a path in the repository (default {THUMBNAIL})")


def run_space(args: argparse.Namespace) -> int:
    url = set_thumbnail(args.card, args.space_id, args.image)
    print(f"{args.card}: thumbnail: {url}")
    return 0


COMMAND = Command(
    "space",
    help="write the Space's front-matter fields that need its id (the social thumbnail's URL)",
    description=(
        "Set thumbnail: in a Space README's front matter to the absolute URL the Hub serves the thumbnail image at, "
        "https://huggingface.co/spaces/OWNER/NAME/resolve/main/docs/thumbnail.png. Run it once the Space exists, "
        "before pushing; every other field is kept."
    ),
    options=space_options,
    run=run_space,
)

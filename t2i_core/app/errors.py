"""The one place where the engine's refusals become messages on the page.

The pipelines check their inputs and raise ``ValueError`` (``ImageInputError`` is one) or
``TypeError`` with a sentence meant for the person who typed the input; Gradio shows a
``gr.Error``'s text and hides any other exception's. :func:`engine_errors` turns the first
into the second, with the same words.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import gradio as gr

ENGINE_INPUT_ERRORS = (ValueError, TypeError)


@contextlib.contextmanager
def engine_errors() -> Iterator[None]:
    """Re-raise the engine's input errors as ``gr.Error`` with their message.

    Use it around the engine calls of a handler (``with engine_errors(): ...``) or on the
    whole handler (``@engine_errors()``; the handler keeps its signature, so Gradio still
    finds its ``gr.Progress`` and ``gr.SelectData`` arguments).
    """
    try:
        yield
    except gr.Error:  # a ValueError too, already a message: as it is
        raise
    except ENGINE_INPUT_ERRORS as error:
        raise gr.Error(str(error)) from None

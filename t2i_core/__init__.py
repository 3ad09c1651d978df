"""t2i_core: the engine of an interactive demo of attention in multimodal deep learning.

Packages and modules, top layer first (a module imports only from its own layer or
lower ones; the ``[tool.importlinter]`` contract in ``pyproject.toml`` checks it):

- ``t2i_core.cli``, ``t2i_core.app``: the doors people use (``python -m t2i_core``, which
  ``t2i_core.__main__`` runs; the Gradio app's tabs, assembled by ``app.py``, and what the
  dashboard shares with it).
- ``t2i_core.training``: one shared loop and a task per model.
- ``t2i_core.evaluation``: how models and encoders are measured.
- ``t2i_core.pipelines``: the door from the app, the dashboard and the CLI into the engine.
- ``t2i_core.models``: one file per model, each with its own inference.
- ``t2i_core.data``: procedural worlds (Flowers, Scenes, Dates) rendered from a seed,
  vocabularies and disk caches; ``t2i_core.text_encoders``: sentence encoders;
  ``t2i_core.decoding``: greedy and beam search over step-wise decoders.
- ``t2i_core.checkpoint``: safetensors + JSON checkpoints, local folders or the Hub.
- ``t2i_core.registry``: what can be loaded by name (pipelines, text encoders), as
  ``"module:attribute"`` strings imported on first use.
- ``t2i_core.device``: CUDA, then MPS, then CPU; ``T2I_DEVICE`` overrides.

Start with ``t2i_core.load_pipeline(task, **options)``.
"""

__version__ = "0.1.0"

from .device import select_device
from .registry import PIPELINES, TEXT_ENCODERS, load_pipeline, load_text_encoder

__all__ = ["PIPELINES", "TEXT_ENCODERS", "__version__", "load_pipeline", "load_text_encoder", "select_device"]

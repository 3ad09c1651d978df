"""t2i_core: the engine of an interactive demo of attention in multimodal deep learning.

- ``t2i_core.data``: procedural worlds (Flowers, Scenes, Dates) rendered from a seed.
- ``t2i_core.checkpoint``: safetensors + JSON checkpoints, local folders or the Hub.
- ``t2i_core.registry``: what can be loaded by name (pipelines, text encoders).
- ``t2i_core.pipelines``: the door from the app and the CLI into the engine.
- ``t2i_core.device``: CUDA, then MPS, then CPU; ``T2I_DEVICE`` overrides.

Start with ``t2i_core.load_pipeline(task, **options)``.
"""

__version__ = "0.1.0"

from .device import select_device
from .registry import PIPELINES, TEXT_ENCODERS, load_pipeline, load_text_encoder

__all__ = ["PIPELINES", "TEXT_ENCODERS", "__version__", "load_pipeline", "load_text_encoder", "select_device"]

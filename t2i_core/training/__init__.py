"""Training: one shared loop (``loop.train``) and a task per model that plugs into it."""

from .loop import TrainConfig, TrainingTask, train

__all__ = ["TrainConfig", "TrainingTask", "train"]

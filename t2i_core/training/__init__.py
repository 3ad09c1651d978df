"""Training: one shared loop (``loop.train``) and a task per model that plugs into it.

The loop and what it shares:

- ``loop``: the one training loop (device, DDP, progress, checkpoints, exact resume).
- ``state``: training state on disk without pickles (safetensors and JSON).
- ``sampler``: a fresh shuffle per epoch, sharded across processes.
- ``schedule``: the cosine learning-rate schedule the tasks share.
- ``augment``: differentiable augmentation for the GAN.

One task per model:

- ``text2image_task``: the text-to-image GAN.
- ``flower_classifier_task``: the flower attribute classifier.
- ``caption_task``: the captioners.
- ``dates_task``: the date translators.
- ``vqa_task``: the VQA models.
- ``world_detector_fit``: the out-of-world detector (fitted, not trained by gradient).

Training stands on models, data and evaluation (which measures a run as it goes).
"""

from .loop import TrainConfig, TrainingTask, train

__all__ = ["TrainConfig", "TrainingTask", "train"]

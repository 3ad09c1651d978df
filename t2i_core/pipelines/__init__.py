"""Pipelines: the one door from the app, the dashboard and the CLI into the engine.

A pipeline takes plain inputs (strings, PIL images, seeds) and returns plain outputs
(PIL images, numpy arrays). As in diffusers, each ``__call__`` returns one result
dataclass whatever its arguments (``Text2ImageOutput``, ``CaptionOutput``, ``VQAOutput``,
``DatesOutput``, ``FlowerAttributesOutput``, ``WorldPreview``), whose fields hold the batch:
a single input is a batch of one. Load one by task name with
``t2i_core.load_pipeline(task, **options)`` (``t2i_core.registry.PIPELINES`` lists them), or
a pipeline on a checkpoint by folder or Hub repo id with ``Pipeline.from_pretrained(name)``.

- ``world_preview``: ``world-preview``, samples of a world with ground truth, a grid, statistics.
- ``encoder_comparison``: ``encoder-comparison``, cosines, similarity matrices and PCA maps of sentences.
- ``text2image``: ``text2image``, sentences to flower images, interpolation, attention masks.
- ``flower_attributes``: ``flower-attributes``, what a flower image shows, by the trained judge.
- ``caption``: ``caption``, an image to a caption with each word's attention map.
- ``dates``: ``dates``, a written date to ISO ``YYYY-MM-DD`` with its attention.
- ``vqa``: ``vqa``, an image and a question to an answer and where the model looked.
- ``world_check``: the shipped out-of-world detector the caption and VQA pipelines share.
- ``pretrained``: ``from_pretrained``, which resolves a folder or hub id once for weights, vocabulary and answers.
- ``text_input``: the checks on typed text before any model sees it.
- ``heatmaps``: attention maps drawn over images.

Pipelines stand on models and data; they never import evaluation or training.
"""

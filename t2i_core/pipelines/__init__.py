"""Pipelines: the one door from the app, the dashboard and the CLI into the engine.

A pipeline takes plain inputs (strings, PIL images, seeds) and returns plain outputs
(PIL images, numpy arrays, small result dataclasses). Load one by task name with
``t2i_core.load_pipeline(task, **options)``; ``t2i_core.registry.PIPELINES`` lists them.
"""

"""Models, one file per concept; each is a ``PretrainedModel`` with a config dataclass."""

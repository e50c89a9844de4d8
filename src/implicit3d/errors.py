"""Exceptions with one-line, user-facing messages."""


class Implicit3DError(Exception):
    """Base class: its message is meant to be shown to the user as is."""


class MeshError(Implicit3DError):
    """A mesh file cannot be used: the message names the file and the problem."""


class ConfigError(Implicit3DError):
    """A configuration value is invalid."""


class TrainingError(Implicit3DError):
    """Training failed (for example diverged to NaN) even after a retry."""

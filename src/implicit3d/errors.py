"""Exceptions with one-line, user-facing messages."""


class Implicit3DError(Exception):
    """Base class: its message is meant to be shown to the user as is."""


class MeshError(Implicit3DError):
    """A mesh file cannot be used: the message names the file and the problem."""


class ConfigError(Implicit3DError):
    """A configuration value is invalid."""


class TrainingError(Implicit3DError):
    """Training failed (for example diverged to NaN) even after a retry."""


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of an exception's message, for one-line reports."""
    lines = str(exc).strip().splitlines()
    return lines[0][:limit] if lines else "no details"

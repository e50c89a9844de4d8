"""Exceptions with one-line, user-facing messages."""


class Implicit3DError(Exception):
    """Base class: its message is meant to be shown to the user as is."""


class MeshError(Implicit3DError):
    """A mesh file cannot be used: the message names the file and the problem."""


class UsageError(Implicit3DError):
    """The command asks for something that cannot be: a bad option, value or combination of them.
    The command line exits 2 on it, 1 on any other error."""


class ConfigError(UsageError):
    """A configuration value is invalid."""


class TrainingError(Implicit3DError):
    """Training failed (for example diverged to NaN) even after a retry."""


def first_line(exc: BaseException, limit: int = 200) -> str:
    """An exception in one line for a user-facing message: its type and the first line of its
    message, cut at `limit` characters."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:limit] if lines else 'no details'}"

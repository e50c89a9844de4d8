"""Imported once by the chain workers' forkserver (implicit3d.workers): everything a chain imports."""

import torch  # noqa: F401

from . import chain, stages  # noqa: F401
from .stages import figures  # noqa: F401

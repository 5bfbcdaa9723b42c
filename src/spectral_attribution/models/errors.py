"""The models' errors: every one a ``ValueError`` subclass, so the CLI reports it in one line."""

from __future__ import annotations

__all__ = ["CheckpointError", "CheckpointMismatchError", "ModelOutputError", "UnsupportedModelError"]


class CheckpointError(ValueError):
    """A file that is not a readable, safe checkpoint (the message names the file, what it is and what to do)."""


class CheckpointMismatchError(CheckpointError, RuntimeError):
    """A checkpoint's keys, shapes or normaliser do not match the architecture (file and keys named).

    A :class:`CheckpointError` (hence a ``ValueError``); also a ``RuntimeError``
    as in earlier versions.
    """


class ModelOutputError(ValueError):
    """A network's output is not logits, nor a known container of logits (what came back is named)."""


class UnsupportedModelError(ValueError, NotImplementedError):
    """A zoo model this package cannot load (ensembles, timm-only entries, other preprocessing)."""


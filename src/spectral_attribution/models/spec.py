"""A registry entry (:class:`ModelSpec`), shared by the registry and the weight sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from spectral_attribution.models.preprocessing import Preprocessing
from spectral_attribution.models.wrapper import ModelWrapper

__all__ = ["ModelSpec"]


@dataclass(frozen=True)
class ModelSpec:
    """A registry entry: how to build a model and where its weights come from.

    ``builder(spec=spec, **kwargs)`` returns a :class:`ModelWrapper`;
    ``checkpoint`` (optional) returns the local path the weights are read
    from (for :func:`list_models`); ``family`` is one of ``embedded``,
    ``torchvision``, ``robustbench``, ``custom``.
    """

    name: str
    builder: Callable[..., ModelWrapper]
    preprocessing: Preprocessing
    weights: str  # human-readable origin of the weights
    description: str = ""
    options: dict = field(default_factory=dict)
    family: str = "custom"
    checkpoint: Callable[[], str | None] | None = None

"""The one table of accepted mixed-precision (``autocast``) values, and the contexts it gives.

Deprecated spellings of the forward precision live here so that every layer
(the parameter rules included) reads one table; torch is imported only inside
the functions that need it.
"""

from __future__ import annotations

import contextlib

# --------------------------------------------------------------------------
# Precision
# --------------------------------------------------------------------------
#: Accepted values of every ``autocast`` argument of the package, and the
#: ``torch`` dtype each one autocasts the forward passes to (``None``: no
#: autocast, the network runs in float32).
AUTOCAST_VALUES: dict[str | None, str | None] = {
    None: None,
    "none": None,
    "float32": None,
    "bfloat16": "bfloat16",
    "float16": "float16",
}


def check_autocast(autocast: str | None) -> str | None:
    """Normalise an ``autocast`` value: ``None`` (float32) or ``"bfloat16"`` / ``"float16"``.

    ``None``, ``"none"`` and ``"float32"`` all mean "no autocast" and give
    ``None``; the other accepted values are returned unchanged.

    Raises
    ------
    ValueError
        ``autocast`` is not one of :data:`AUTOCAST_VALUES` (the accepted
        values are listed).
    """
    try:
        return AUTOCAST_VALUES[autocast]
    except (KeyError, TypeError):
        accepted = [v for v in AUTOCAST_VALUES if v is not None]
        raise ValueError(f"autocast must be None or one of {accepted}; got {autocast!r}") from None


def autocast_dtype(autocast: str | None):
    """The ``torch.dtype`` of an ``autocast`` value (``None`` for float32); see :func:`check_autocast`."""
    name = check_autocast(autocast)
    if name is None:
        return None
    import torch

    return getattr(torch, name)


def autocast_context(device_type: str, autocast: str | None):
    """``torch.autocast(device_type, dtype)`` for ``autocast``, or a null context for float32."""
    dtype = autocast_dtype(autocast)
    if dtype is None:
        return contextlib.nullcontext()
    import torch

    return torch.autocast(device_type=device_type, dtype=dtype)


# --------------------------------------------------------------------------
# The forward pass
# --------------------------------------------------------------------------

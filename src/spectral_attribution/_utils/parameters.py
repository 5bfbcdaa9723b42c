"""The accepted values of every parameter, defined once.

(About 500 lines: one table of rules, one short checker per parameter; splitting it would put the rules the CLI, the schema and the library share in several places.)

The public API (explainers, metrics, studies, data), the command line and the
workflow's configuration schema take the same parameters; each is checked
where it enters, with the rule below: the library calls the ``check_*``
function, the command line uses it as its ``argparse`` ``type=``
(:func:`argtype`), and the schema (``workflow/schemas/config.schema.yaml``)
states the same limits (``tests/_utils/test_parameters.py`` pushes each boundary
value through all three and asserts the same decision). Errors name the
parameter and the accepted range.

=====================  ======================================================
parameter              rule
=====================  ======================================================
``nb_design``          a power of two, ``2 <= n <= 2**30`` (:data:`MAX_NB_DESIGN`):
                       Jansen's estimator needs two rows to estimate a
                       variance; SciPy's Sobol' generator (30 bits) gives at
                       most ``2**30`` points
``grid_size``          ``1 <= g <= max_grid_size(family)``: the design has
                       ``2 d`` Sobol' dimensions (``d = g**2`` cells for the
                       ``"cells"`` family: WCAM, spatial Sobol', Fourier grid;
                       ``d = g`` rings for ``"rings"``: Fourier square and
                       circle) and SciPy supports at most 21201
                       (:data:`MAX_SOBOL_DIMENSIONS`): 102 cells a side, 10600 rings
``levels``             an integer ``J >= 1``; for an ``H x W`` image and a
                       wavelet of filter length ``L``,
                       ``J <= pywt.dwt_max_level(min(H, W), L)``
                       (:func:`max_levels`: 7 at 224 px for Haar, 5 for
                       ``db4``, 1 for ``dmey``): deeper, the coarsest
                       coefficients are mostly boundary extension
``wavelet``            a name of ``pywt.wavelist(kind="discrete")``
``estimator``          one of :data:`ESTIMATORS` (the library also takes a
                       callable, see :mod:`spectral_attribution.attributions.sobol.estimators`)
``autocast``           one of :data:`PRECISIONS` (``None``, ``"none"`` and
                       ``"float32"`` mean float32)
``batch_size``         an integer ``>= 1``
``seed``               an integer ``>= 0`` (NumPy's seed sequences refuse negatives)
``nb_random_draws``    an integer ``>= 1`` (reconstruction study)
``max_k``              ``None`` or an integer ``>= 1``
``nb_subsets``         an integer ``>= 2`` (mu-fidelity is a correlation over subsets)
``subset_fraction``    a number in ``(0, 1)``
``steps``              an integer ``>= 1`` (insertion / deletion: ``steps + 1`` points)
``severity``           an integer in ``1..5`` (ImageNet-C)
``corruption``         one of :data:`CORRUPTIONS`
``target``             an integer ``>= 0`` (a class index): a Python or NumPy
                       integer, or an integer tensor; never a bool, a float
                       (``3.7`` or ``3.0``) or a string (:func:`check_targets`
                       for one per image)
``device``             ``cpu``, ``cuda``, ``cuda:K`` or ``mps`` (:data:`DEVICE_PATTERN`)
=====================  ======================================================

This module sits in the lowest layers of the package: it imports only
:mod:`spectral_attribution._utils.autocast` (the precision table) and, when a
wavelet other than Haar is checked, PyWavelets.
"""

from __future__ import annotations

import argparse
import functools
import math
import numbers
import re
from typing import Any, Callable

from spectral_attribution._utils.autocast import AUTOCAST_VALUES

__all__ = [
    "MAX_SOBOL_DIMENSIONS",
    "MAX_NB_DESIGN",
    "GRID_FAMILIES",
    "ESTIMATORS",
    "PRECISIONS",
    "STANDARD_CORRUPTIONS",
    "EXTRA_CORRUPTIONS",
    "CORRUPTIONS",
    "SEVERITIES",
    "DEVICE_PATTERN",
    "wavelets",
    "design_dimensions",
    "max_grid_size",
    "max_levels",
    "check_nb_design",
    "check_grid_size",
    "check_levels",
    "check_wavelet",
    "check_estimator",
    "check_precision",
    "check_batch_size",
    "check_seed",
    "check_nb_random_draws",
    "check_max_k",
    "check_nb_subsets",
    "check_subset_fraction",
    "check_steps",
    "check_severity",
    "check_corruption",
    "check_target",
    "check_targets",
    "check_labels",
    "check_device",
    "check_positive_int",
    "argtype",
]

#: Largest dimension of SciPy's Sobol' sequences (``scipy.stats.qmc.Sobol.MAXDIM``).
MAX_SOBOL_DIMENSIONS = 21201
#: Most points of SciPy's default (30-bit) Sobol' generator.
MAX_NB_DESIGN = 2 ** 30
#: Perturbation family → number of design inputs ``d`` for a grid size ``g``.
GRID_FAMILIES: dict[str, Callable[[int], int]] = {
    "cells": lambda g: g * g,   # WCAM, spatial Sobol', Fourier-CAM "grid"
    "rings": lambda g: g,       # Fourier-CAM "square" and "circle"
}
#: Names of the built-in total-index estimators (:mod:`spectral_attribution.attributions.sobol.estimators`).
ESTIMATORS: tuple[str, ...] = ("jansen", "homma", "janon", "glen", "saltelli")
#: Accepted values of ``autocast`` (mixed precision of the forward passes).
PRECISIONS: tuple[str | None, ...] = tuple(AUTOCAST_VALUES)
#: The 15 corruptions of ImageNet-C (Hendrycks & Dietterich 2019).
STANDARD_CORRUPTIONS: tuple[str, ...] = (
    "gaussian_noise", "shot_noise", "impulse_noise",
    "defocus_blur", "glass_blur", "motion_blur", "zoom_blur",
    "snow", "frost", "fog", "brightness",
    "contrast", "elastic_transform", "pixelate", "jpeg_compression",
)
#: The 4 held-out corruptions of ImageNet-C.
EXTRA_CORRUPTIONS: tuple[str, ...] = ("speckle_noise", "gaussian_blur", "spatter", "saturate")
CORRUPTIONS: tuple[str, ...] = STANDARD_CORRUPTIONS + EXTRA_CORRUPTIONS
SEVERITIES: tuple[int, ...] = (1, 2, 3, 4, 5)
#: Devices the command line and the configuration accept (the library also takes a torch.device).
DEVICE_PATTERN = r"^(cpu|cuda(:[0-9]+)?|mps)$"


def _is_int(value: Any) -> bool:
    """An integer, or a real number with no fractional part (``28.0``, as JSON Schema counts it); not a bool."""
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Integral):
        return True
    return isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer()


def check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """``value`` as an ``int`` if it is an integer ``>= minimum``; else ``ValueError`` naming ``name``."""
    if not _is_int(value) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------
# The Sobol' design
# --------------------------------------------------------------------------
def check_nb_design(value: Any, name: str = "nb_design") -> int:
    """A power of two in ``[2, 2**30]``.

    Raises
    ------
    ValueError
        Not an integer, below 2 (Jansen's estimator needs two design rows to
        estimate a variance: one row gives an all-zero map), above
        :data:`MAX_NB_DESIGN`, or not a power of two (Sobol' sequences are
        balanced on powers of two).
    """
    if not _is_int(value):
        raise ValueError(f"{name} must be an integer power of two >= 2, got {value!r}")
    n = int(value)
    if n < 2:
        raise ValueError(f"{name} must be a power of two >= 2, got {n}: the total-index "
                         f"estimators need at least 2 design rows to estimate a variance")
    if n > MAX_NB_DESIGN:
        raise ValueError(f"{name} {n} exceeds {MAX_NB_DESIGN} (2**30), the most points of "
                         f"SciPy's Sobol' generator")
    if n & (n - 1):
        raise ValueError(f"{name} must be a power of two (Sobol' sequences are balanced on "
                         f"powers of two), got {n}")
    return n


def design_dimensions(grid_size: int, family: str = "cells") -> int:
    """Sobol' dimensions of the design, ``2 d``, for ``grid_size`` in ``family`` (:data:`GRID_FAMILIES`)."""
    if family not in GRID_FAMILIES:
        raise ValueError(f"unknown grid family {family!r}; expected one of {sorted(GRID_FAMILIES)}")
    return 2 * GRID_FAMILIES[family](int(grid_size))


def max_grid_size(family: str = "cells") -> int:
    """The largest grid size whose design fits SciPy's :data:`MAX_SOBOL_DIMENSIONS` (102 for cells)."""
    g = 1
    while design_dimensions(g + 1, family) <= MAX_SOBOL_DIMENSIONS:
        g += 1
    return g


def check_grid_size(value: Any, family: str = "cells", name: str = "grid_size") -> int:
    """An integer ``1 <= g <= max_grid_size(family)``.

    Raises
    ------
    ValueError
        Not a positive integer, or a design too large for SciPy's Sobol'
        sequences; e.g. ``grid_size 500 gives 2 x 250000 Sobol' dimensions;
        the maximum grid_size is 102``.
    """
    g = check_positive_int(value, name)
    d2 = design_dimensions(g, family)
    if d2 > MAX_SOBOL_DIMENSIONS:
        d = d2 // 2
        raise ValueError(f"{name} {g} gives 2 x {d} Sobol' dimensions, more than the "
                         f"{MAX_SOBOL_DIMENSIONS} SciPy supports; the maximum {name} is "
                         f"{max_grid_size(family)}" + (" (rings)" if family == "rings" else ""))
    return g


# --------------------------------------------------------------------------
# Wavelets
# --------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def wavelets() -> tuple[str, ...]:
    """``pywt.wavelist(kind="discrete")``: the wavelet names the WCAM accepts."""
    import pywt

    return tuple(pywt.wavelist(kind="discrete"))


def check_wavelet(value: Any, name: str = "wavelet") -> str:
    """A discrete wavelet of PyWavelets; ``ValueError`` with examples otherwise."""
    if not isinstance(value, str) or value not in wavelets():
        raise ValueError(f"{name} {value!r} is not a discrete wavelet known to PyWavelets; e.g. "
                         f"'haar', 'db2', 'sym4', 'bior2.2' (see pywt.wavelist(kind='discrete'))")
    return value


def filter_length(wavelet: str = "haar") -> int:
    """Length of the decomposition filter of ``wavelet`` (``pywt.Wavelet(wavelet).dec_len``: 2 for Haar, 8 for ``db4``)."""
    import pywt

    return int(pywt.Wavelet(check_wavelet(wavelet)).dec_len)


def max_levels(size: int, wavelet: str = "haar") -> int:
    """The deepest useful level for a side of ``size`` pixels and ``wavelet``.

    ``pywt.dwt_max_level(size, filter_length(wavelet))``: the largest ``J``
    such that the coarsest level still has at least one coefficient free of
    the boundary extension, ``floor(log2(size / (L - 1)))`` for a filter of
    length ``L``. For Haar (``L = 2``) it is the largest ``J`` with
    ``2**J <= size`` (7 at 224 px, 8 at 288 px); for ``db4`` (``L = 8``) 5 at
    224 px and 3 at 64 px; 0 when ``size < L - 1``.
    """
    side = int(size)
    if side < 1:
        return 0
    if wavelet in ("haar", "db1"):  # no PyWavelets import for the default
        return max(0, side.bit_length() - 1)
    import pywt

    return int(pywt.dwt_max_level(side, filter_length(wavelet)))


def check_levels(value: Any, size: tuple[int, int] | int | None = None, name: str = "levels",
                 wavelet: str = "haar") -> int:
    """An integer ``J >= 1``; with ``size`` (``(H, W)`` or one side),
    ``J <= max_levels(min(H, W), wavelet)`` (PyWavelets' ``dwt_max_level``).

    Raises
    ------
    ValueError
        ``J < 1``, or more levels than the image allows for that wavelet (the
        message names the side, the wavelet, its filter length and the
        largest ``J``), e.g. ``levels 5 is too deep for a 64-pixel side:
        pywt.dwt_max_level(64, 8) = 3; at most 3 levels for wavelet 'db4'
        (filter length 8)``.
    """
    levels = check_positive_int(value, name)
    if size is not None:
        side = min(size) if isinstance(size, (tuple, list)) else int(size)
        top = max_levels(side, wavelet)
        if levels > top:
            length = filter_length(wavelet)
            rule = (f"2^{levels} > {side}" if length == 2 else
                    f"pywt.dwt_max_level({side}, {length}) = {top}")
            raise ValueError(f"{name} {levels} is too deep for a {side}-pixel side: {rule}; at most "
                             f"{top} levels for wavelet {wavelet!r} (filter length {length})")
    return levels


# --------------------------------------------------------------------------
# Estimation and forward passes
# --------------------------------------------------------------------------
def check_estimator(value: Any, name: str = "estimator") -> str:
    """One of :data:`ESTIMATORS` (names only; callables are checked by the estimators module)."""
    if value not in ESTIMATORS:
        raise ValueError(f"unknown {name} {value!r}; expected one of {list(ESTIMATORS)}")
    return value


def check_precision(value: Any, name: str = "autocast") -> str | None:
    """One of :data:`PRECISIONS`; returns ``None`` (float32), ``"bfloat16"`` or ``"float16"``."""
    try:
        return AUTOCAST_VALUES[value]
    except (KeyError, TypeError):
        accepted = [v for v in PRECISIONS if v is not None]
        raise ValueError(f"{name} must be None or one of {accepted}; got {value!r}") from None


def check_batch_size(value: Any, name: str = "batch_size") -> int:
    """An integer ``>= 1``."""
    return check_positive_int(value, name)


def check_seed(value: Any, name: str = "seed") -> int:
    """An integer ``>= 0``."""
    return check_positive_int(value, name, minimum=0)


def _is_strict_int(value: Any) -> bool:
    """A Python or NumPy integer (``numbers.Integral``), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_target(value: Any, name: str = "target") -> int:
    """A class index: an integer ``>= 0`` (checked against the model's classes where it is known).

    Integers only: a Python int, a NumPy integer or a 0-d integer tensor.
    A bool, a float (``3.7``, and ``3.0`` too: a class is not a measurement),
    a string or ``None`` is refused.

    Raises
    ------
    ValueError
        Naming ``name`` and the value, e.g. ``targets must be integer class
        indices, got 3.7 (float)``.
    """
    if hasattr(value, "tolist") and getattr(value, "ndim", None) == 0:  # 0-d array or tensor
        value = value.tolist()
    if not _is_strict_int(value):
        raise ValueError(f"{name} must be an integer class index >= 0, got {value!r} "
                         f"({type(value).__name__})")
    if value < 0:
        raise ValueError(f"{name} must be an integer class index >= 0, got {value!r}")
    return int(value)


def check_targets(targets: Any, count: int, name: str = "targets") -> list:
    """One class index per image, or ``None`` per image (explain the prediction).

    Parameters
    ----------
    targets:
        ``None``; one integer for every image (Python, NumPy, or a 0-d
        integer tensor); or ``count`` integers (a list, tuple, NumPy integer
        array or integer tensor of any shape with ``count`` elements).
    count:
        The number of images.

    Returns
    -------
    list
        ``count`` Python ints (or ``count`` times ``None``).

    Raises
    ------
    ValueError
        A bool, float, string or other non-integer (the first one named with
        its position), a negative index, or a number of targets other than
        ``count``. Every public call that takes targets (explainers, WAM,
        metrics, studies) uses this rule, as the command line's ``--target``.
    """
    if targets is None:
        return [None] * count
    if isinstance(targets, (str, bytes)):
        raise ValueError(f"{name} must be integer class indices, got the string {targets!r}")
    if hasattr(targets, "tolist"):  # NumPy array or torch tensor: by element, dtype kept
        targets = targets.tolist()
    if not isinstance(targets, (list, tuple)):
        return [check_target(targets, name)] * count
    flat: list = []
    stack = [targets]
    while stack:  # flatten nested lists (a (B, 1) array's tolist) in order
        item = stack.pop(0)
        if isinstance(item, (list, tuple)):
            stack = list(item) + stack
        else:
            flat.append(item)
    out = [check_target(t, f"{name}[{k}]") for k, t in enumerate(flat)]
    if len(out) != count:
        raise ValueError(f"got {len(out)} {name} for {count} images")
    return out


def check_labels(labels: Any, count: int, name: str = "labels") -> list[int]:
    """Ground-truth labels of ``count`` images, ``-1`` where unknown.

    Labels come from tables, where a column with a missing value holds
    floats: ``None`` and NaN mean unknown (``-1``), an integral float
    (``281.0``) is that class. A fractional number (``3.7``), a bool, a
    string or an index below ``-1`` is refused (targets given by hand follow
    the stricter :func:`check_target`). ``labels=None``: all unknown.

    Raises
    ------
    ValueError
        The first bad label, with its position; a number of labels other than ``count``.
    """
    if labels is None:
        return [-1] * count
    if hasattr(labels, "tolist"):
        labels = labels.tolist()
    out = []
    for k, value in enumerate(labels):
        if value is None or (isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)
                             and math.isnan(value)):
            out.append(-1)
            continue
        if isinstance(value, (bool, str, bytes)) or not _is_int(value) or value < -1:
            raise ValueError(f"{name}[{k}] must be a class index (an integer >= 0; -1, None or NaN "
                             f"when unknown), got {value!r}")
        out.append(int(value))
    if len(out) != count:
        raise ValueError(f"got {len(out)} {name} for {count} images")
    return out


def check_device(value: Any, name: str = "device") -> str:
    """``cpu``, ``cuda``, ``cuda:K`` or ``mps``."""
    if not isinstance(value, str) or not re.match(DEVICE_PATTERN, value):
        raise ValueError(f"{name} must be cpu, cuda, cuda:K or mps, got {value!r}")
    return value


# --------------------------------------------------------------------------
# Studies and metrics
# --------------------------------------------------------------------------
def check_nb_random_draws(value: Any, name: str = "nb_random_draws") -> int:
    """An integer ``>= 1`` (random orders compared with the WCAM's)."""
    return check_positive_int(value, name)


def check_max_k(value: Any, name: str = "max_k") -> int | None:
    """``None`` (all cells) or an integer ``>= 1``."""
    return None if value is None else check_positive_int(value, name)


def check_nb_subsets(value: Any, name: str = "nb_subsets") -> int:
    """An integer ``>= 2``: mu-fidelity is a correlation over the subsets."""
    return check_positive_int(value, name, minimum=2)


def check_subset_fraction(value: Any, name: str = "subset_fraction") -> float:
    """A number in the open interval ``(0, 1)``."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value)
            or not 0 < value < 1):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    return float(value)


def check_steps(value: Any, name: str = "steps") -> int:
    """An integer ``>= 1`` (insertion / deletion curves of ``steps + 1`` points)."""
    return check_positive_int(value, name)


def check_severity(value: Any, name: str = "severity") -> int:
    """An integer in ``1..5``."""
    if not _is_int(value) or int(value) not in SEVERITIES:
        raise ValueError(f"{name} must be an integer in 1..5, got {value!r}")
    return int(value)


def check_corruption(value: Any, name: str = "corruption") -> str:
    """One of :data:`CORRUPTIONS`."""
    if value not in CORRUPTIONS:
        raise ValueError(f"unknown {name} {value!r}; choose one of {list(CORRUPTIONS)}")
    return value


# --------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------
def argtype(check: Callable[..., Any], convert: Callable[[str], Any] = int, **kwargs) -> Callable[[str], Any]:
    """An ``argparse`` ``type=``: ``convert`` the text, then ``check`` it (with ``kwargs``).

    A refused value becomes :class:`argparse.ArgumentTypeError`, so the
    parser exits with status 2 and the rule's message.
    """
    def parse(text: str):
        try:
            value = convert(text)
        except (TypeError, ValueError):
            kind = {int: "an integer", float: "a number"}.get(convert, "a valid value")
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        try:
            return check(value, **kwargs)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = getattr(check, "__name__", "value").removeprefix("check_")
    return parse

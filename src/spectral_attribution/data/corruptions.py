"""ImageNet-C corruptions (Hendrycks & Dietterich, ICLR 2019), seeded.

The corruptions come from the maintained ``imagecorruptions`` package (PyPI
distribution ``imagecorruptions-imaug``; import name ``imagecorruptions``):
the 15 standard corruptions of ImageNet-C and the 4 extra ("validation")
ones, 19 in all (:data:`CORRUPTIONS`), at severities 1 to 5.

Corruption sets
---------------
Results name the corruptions they were computed on (:data:`CORRUPTION_SETS`):
``standard-15`` (ImageNet-C's benchmark, the paper's: :data:`STANDARD_CORRUPTIONS`),
``extra-4`` (``speckle_noise``, ``gaussian_blur``, ``spatter``, ``saturate``:
:data:`EXTRA_CORRUPTIONS`) and ``all-19``. :func:`resolve_corruptions` turns
a set name or a list into names; :func:`corruption_set_label` names any list
(``"6 of standard-15"`` for a part of a set).

As in ImageNet-C, a corruption is applied to an 8-bit RGB image at the
model's input resolution, i.e. after the model's resize and centre crop
(the paper's 224 x 224). Images must be at least 32 x 32 pixels (a limit of
``imagecorruptions``).

Seeding
-------
Most corruptions of ``imagecorruptions`` draw from NumPy's *global* random
state (``np.random.normal``, ``np.random.uniform``...). :func:`corrupt` saves
that state, seeds it with ``seed``, applies the corruption and restores the
saved state, so that (i) the same ``(image, name, severity, seed)`` always
gives the same corrupted image and (ii) the caller's own global random
stream is left untouched. ``glass_blur`` and ``impulse_noise`` take their own
seed argument (``glass_blur`` otherwise seeds itself from fresh OS entropy),
which is passed explicitly. Not thread-safe: two threads corrupting at once
share NumPy's global state.

Speed (224 x 224, measured on the 2-core development machine): every
corruption takes under 20 ms except ``zoom_blur`` (about 40 ms) and
``glass_blur`` (:data:`SLOW`), whose numba-compiled pixel-shuffling loop
costs a one-off compilation of about 2 s in every new process (then under
0.2 s per image). The original ImageNet-C glass blur (pure Python loop)
took tens of seconds per image.

The original code looped over ``range(6)`` severities, where 0 silently meant
5 (Python's ``list[-1]``); here severities outside 1..5 raise.
"""

from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np
import torch

from spectral_attribution._utils.parameters import (  # the checks are defined there, once
    CORRUPTIONS,
    EXTRA_CORRUPTIONS,
    SEVERITIES,
    STANDARD_CORRUPTIONS,
    check_corruption,
    check_severity,
)

__all__ = [
    "CORRUPTIONS",
    "STANDARD_CORRUPTIONS",
    "EXTRA_CORRUPTIONS",
    "CORRUPTION_SETS",
    "SEVERITIES",
    "SLOW",
    "resolve_corruptions",
    "corruption_set_label",
    "corruption_set_of",
    "check_corruption",
    "check_severity",
    "copy_seed",
    "corrupt",
    "corrupt_many",
]

# The names and severities are defined once, in spectral_attribution._utils.parameters:
# STANDARD_CORRUPTIONS (the 15 of ImageNet-C, in the package's order),
# EXTRA_CORRUPTIONS (its 4 held-out ones), CORRUPTIONS (all 19, as
# imagecorruptions.get_corruption_names("all")), SEVERITIES (1..5).
#: Named sets of corruptions: ImageNet-C's benchmark, its extras, both.
CORRUPTION_SETS: dict[str, tuple[str, ...]] = {
    "standard-15": STANDARD_CORRUPTIONS,
    "extra-4": EXTRA_CORRUPTIONS,
    "all-19": CORRUPTIONS,
}
#: Corruptions that take markedly longer than the others (see the module notes).
SLOW: frozenset[str] = frozenset({"glass_blur"})

# Corruptions of imagecorruptions that take a ``seed`` keyword argument.
_SEEDED_KWARG = {"glass_blur", "impulse_noise"}


def resolve_corruptions(spec=None) -> tuple[str, ...]:
    """Corruption names from a set name, a list of names, or ``None``.

    Parameters
    ----------
    spec:
        A key of :data:`CORRUPTION_SETS` (``"standard-15"``, ``"extra-4"``,
        ``"all-19"``), a sequence of names of :data:`CORRUPTIONS`, or ``None``
        (``"standard-15"``, the paper's).

    Returns
    -------
    tuple[str, ...]
        The names, in the given order (a set's own order for a set name).

    Raises
    ------
    ValueError
        Unknown set or corruption name (the valid ones are listed), a name
        repeated, or an empty list.
    """
    if spec is None:
        spec = "standard-15"
    if isinstance(spec, str):
        if spec in CORRUPTION_SETS:
            return CORRUPTION_SETS[spec]
        if spec in CORRUPTIONS:
            return (spec,)
        raise ValueError(f"unknown corruption set {spec!r}; give one of {list(CORRUPTION_SETS)} "
                         f"or a list of names among {list(CORRUPTIONS)}")
    names = tuple(check_corruption(str(n)) for n in spec)
    if not names:
        raise ValueError("the list of corruptions is empty")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"corruptions listed twice: {repeated}")
    return names


def corruption_set_of(name: str) -> str:
    """``"standard-15"`` or ``"extra-4"``: the set a corruption belongs to."""
    return "standard-15" if check_corruption(name) in STANDARD_CORRUPTIONS else "extra-4"


def corruption_set_label(names) -> str:
    """The name of a set of corruptions, for tables and figures.

    A whole set gets its name (``"standard-15"``, ``"extra-4"``,
    ``"all-19"``); a part of one, ``"K of SET"`` with ``SET`` the smallest
    named set holding it (``"6 of standard-15"``, ``"2 of all-19"`` for a
    mix of standard and extra corruptions). Order and repeats are ignored.

    Raises
    ------
    ValueError
        An unknown name, or no name at all.
    """
    chosen = {check_corruption(str(n)) for n in names}
    if not chosen:
        raise ValueError("no corruption given")
    for label, members in CORRUPTION_SETS.items():
        if chosen == set(members):
            return label
    for label, members in CORRUPTION_SETS.items():
        if chosen <= set(members):
            return f"{len(chosen)} of {label}"
    raise AssertionError("unreachable: every corruption is in all-19")


def copy_seed(seed: int, image_index: int, corruption: str, severity: int) -> int:
    """Seed of one corrupted copy, derived from a base seed.

    ``numpy.random.SeedSequence([seed, image_index, crc32(corruption), severity])``
    reduced to a 31-bit integer: distinct copies get independent noise, and
    the same arguments always give the same seed (stable across processes,
    unlike Python's ``hash``).
    """
    ss = np.random.SeedSequence([int(seed), int(image_index),
                                 zlib.crc32(corruption.encode()), int(severity)])
    return int(ss.generate_state(1, dtype=np.uint32)[0] >> 1)


def _to_uint8_hwc(image) -> tuple[np.ndarray, str, object]:
    """Image → ``(H, W, 3)`` uint8 array, with what is needed to convert back."""
    if isinstance(image, torch.Tensor):
        if image.ndim != 3 or image.shape[0] != 3 or not image.is_floating_point():
            raise ValueError(f"expected a float (3, H, W) tensor in [0, 1], got "
                             f"{image.dtype} {tuple(image.shape)}")
        lo, hi = float(image.min()), float(image.max())
        if lo < -1e-3 or hi > 1 + 1e-3:
            raise ValueError(f"tensor images must hold pixel values in [0, 1]; got [{lo:.3g}, {hi:.3g}]")
        array = (image.detach().cpu().clamp(0, 1).permute(1, 2, 0).numpy() * 255.0).round()
        return array.astype(np.uint8), "tensor", image
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[-1] != 3:
        raise ValueError(f"expected a uint8 (H, W, 3) array or a float (3, H, W) tensor, got "
                         f"{array.dtype} {array.shape}")
    return array, "array", None


def corrupt(image, name: str, severity: int, seed: int = 0):
    """Apply the ImageNet-C corruption ``name`` at ``severity`` to one image.

    Parameters
    ----------
    image:
        Either a float ``torch.Tensor`` ``(3, H, W)`` with pixel values in
        ``[0, 1]`` (it is quantised to 8 bits first, as ImageNet-C images
        are), or a ``uint8`` NumPy array ``(H, W, 3)``. ``H, W >= 32``; the
        image should already be at the model's input resolution.
    name:
        One of :data:`CORRUPTIONS`.
    severity:
        Integer in 1..5.
    seed:
        Seed of the corruption's random draws (see the module notes); the
        result is a deterministic function of ``(image, name, severity, seed)``.

    Returns
    -------
    Same type as ``image``: a ``float32`` tensor ``(3, H, W)`` in ``[0, 1]``
    on the input's device, or a ``uint8`` array ``(H, W, 3)``.

    Raises
    ------
    ValueError
        Unknown corruption (the valid names are listed), severity outside
        1..5, wrong image type/shape/range, image smaller than 32 x 32.
    """
    check_corruption(name)
    severity = check_severity(severity)
    array, kind, original = _to_uint8_hwc(image)
    if min(array.shape[:2]) < 32:
        raise ValueError(f"images must be at least 32 x 32 pixels to be corrupted, got {array.shape[:2]}")
    from imagecorruptions import corrupt as _corrupt

    kwargs = {"seed": int(seed)} if name in _SEEDED_KWARG else {}
    state = np.random.get_state()
    try:
        np.random.seed(int(seed) % 2**32)
        out = _corrupt(array, corruption_name=name, severity=severity, **kwargs)
    finally:
        np.random.set_state(state)  # leave the caller's global stream untouched
    # Some corruptions (e.g. frost) may return a slightly different size for odd shapes.
    out = np.array(out, dtype=np.uint8)[: array.shape[0], : array.shape[1]].copy()
    if out.shape != array.shape:
        raise RuntimeError(f"{name} returned shape {out.shape} for an image of shape {array.shape}")
    if kind == "array":
        return out
    return (torch.from_numpy(out).permute(2, 0, 1).to(torch.float32) / 255.0).to(original.device)


def corrupt_many(image, names: Sequence[str], severities: Sequence[int], seed: int = 0,
                 image_index: int = 0):
    """All corrupted copies of one image, as ``(name, severity, copy_seed, corrupted)`` tuples.

    Each copy is seeded with :func:`copy_seed` ``(seed, image_index, name, severity)``.
    A generator: the copies are made one at a time.
    """
    for name in names:
        check_corruption(name)
    severities = [check_severity(s) for s in severities]
    for name in names:
        for severity in severities:
            s = copy_seed(seed, image_index, name, severity)
            yield name, severity, s, corrupt(image, name, severity, s)


"""Screening with group total indices: a Sobol' explainer for a fraction of its forward passes.

Why it is sound. Sobol' total indices are monotone in the set of inputs: for a
group of cells ``G`` and a cell ``i`` in ``G``, ``S_T(i) <= S_T(G)``. The total
index of a group costs the same ``n`` rows as one cell's: the rows ``C_G``,
``A`` with the columns of every cell of ``G`` taken from ``B`` (Saltelli 2002;
Jansen 1999 for the estimator). A screened explainer therefore

1. evaluates the rows ``A``, ``B`` and ``C_G`` of the coarsest groups (the
   *roots*: for the WCAM each sub-band of the dyadic layout, i.e. the
   approximation and each level's horizontal, vertical and diagonal details);
2. discards every group whose total index is below ``tau * T``, where ``T`` is
   the sum of the roots' total indices (computed once, after step 1) and
   ``tau`` the ``screening`` threshold;
3. splits each group that remains into its quadtree children (halves of its
   rectangle of cells along each side of more than one cell) and repeats
   step 2 on them, until the groups are single cells, whose rows are the
   full design's ``C_i``: a single cell whose rows were run is an estimate,
   kept whatever its value.

With the same seed the rows ``A``, ``B`` and ``C_i`` are those of the full
design, so every estimated cell gets the full explainer's index, to float
rounding. A screened-out cell gets index 0 and, in ``bounds``, the total
index of the group it was discarded with (an upper bound of its own, up to
estimation noise).

Guard: before each round the engine checks that the passes spent so far plus
those of the round stay within :data:`GUARD` (75 %) of the full design's
``n (d + 2)``; otherwise it estimates every remaining cell (the full
estimate, plus the group rows already spent) and records
``screening_fallback: true``.

This module holds the groups (:class:`Group`, :func:`quadtree_children`,
:func:`grid_roots`) and the parameter check; the rounds are run by
:meth:`spectral_attribution.attributions.sobol.engine.SobolAttribution.explain_one`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["GUARD", "DEFAULT_SCREENING", "Group", "check_screening", "quadtree_children",
           "grid_roots", "rect_group"]

#: Largest share of the full design's passes that screening may spend before
#: it falls back to the full estimate.
GUARD = 0.75
#: The library's, the CLI's and the workflow's default threshold (a share of ``T``).
DEFAULT_SCREENING = 0.01


@dataclass(frozen=True)
class Group:
    """A group of inputs (cells) of the design.

    Attributes
    ----------
    cells:
        ``int64`` indices of the inputs (row-major cells), sorted, non-empty.
    rect:
        ``(r0, r1, c0, c1)``: the rectangle of cells ``[r0, r1) x [c0, c1)`` the
        group covers in a grid of ``width`` columns, or ``None`` for a group
        that is not a rectangle (its children are then its single cells).
    width:
        Columns of the grid (``g``; the number of rings for a ring family).
    name:
        A label (``"approximation"``, ``"level 1 horizontal"``, ``"block"``, ``"cell"``).
    """

    cells: np.ndarray
    rect: tuple[int, int, int, int] | None
    width: int
    name: str = "block"

    @property
    def is_cell(self) -> bool:
        return len(self.cells) == 1


def rect_group(r0: int, r1: int, c0: int, c1: int, width: int, name: str = "block") -> Group:
    """The group of the cells ``[r0, r1) x [c0, c1)`` of a grid of ``width`` columns."""
    rows, cols = np.arange(r0, r1), np.arange(c0, c1)
    cells = (rows[:, None] * width + cols[None, :]).reshape(-1).astype(np.int64)
    return Group(cells, (int(r0), int(r1), int(c0), int(c1)), int(width),
                 "cell" if len(cells) == 1 else name)


def quadtree_children(group: Group) -> list[Group]:
    """The children of ``group``: its rectangle halved along each side longer than one cell
    (up to 4 rectangles, the first half the larger), or its single cells when it is no
    rectangle. A single cell has no children."""
    if group.is_cell:
        return []
    if group.rect is None:
        return [Group(np.array([c], dtype=np.int64), None, group.width, "cell") for c in group.cells]
    r0, r1, c0, c1 = group.rect
    rows = [(r0, r1)] if r1 - r0 == 1 else [(r0, r0 + (r1 - r0 + 1) // 2), (r0 + (r1 - r0 + 1) // 2, r1)]
    cols = [(c0, c1)] if c1 - c0 == 1 else [(c0, c0 + (c1 - c0 + 1) // 2), (c0 + (c1 - c0 + 1) // 2, c1)]
    return [rect_group(a, b, c, d, group.width) for a, b in rows for c, d in cols]


def grid_roots(height: int, width: int, blocks: int = 4) -> list[Group]:
    """Roots for a grid without sub-bands (spatial Sobol', Fourier grid or rings): the
    ``height x width`` cells cut into at most ``blocks x blocks`` near-equal rectangles
    (``blocks`` along a side of one cell: 1)."""
    def cuts(n):
        k = min(blocks, n)
        return [(n * i // k, n * (i + 1) // k) for i in range(k)]
    return [rect_group(r0, r1, c0, c1, width) for r0, r1 in cuts(height) for c0, c1 in cuts(width)]


def check_screening(value) -> float | None:
    """``screening`` as a float in ``[0, 1)`` or ``None`` (the full estimate).

    ``None``, ``"none"`` or ``0`` mean the full estimate (``0`` discards nothing,
    so it is run as the full design, bit for bit).

    Raises
    ------
    ValueError
        Not a number, NaN, or outside ``[0, 1)``, naming the value.
    """
    if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "full", "null")):
        return None
    if isinstance(value, bool):
        raise ValueError(f"screening must be a share of the total in [0, 1) or None, got {value!r}")
    try:
        tau = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"screening must be a share of the total in [0, 1) or None "
                         f"('none'), got {value!r}") from None
    if math.isnan(tau) or not 0 <= tau < 1:
        raise ValueError(f"screening must be a share of the total in [0, 1) or None, got {value!r}")
    return None if tau == 0 else tau

"""The Saltelli design (the sampler) of Sobol' total indices.

This module knows nothing of images: a *design* is a matrix of points in the
unit hypercube ``[0, 1]^d``. The estimators that turn the model outputs on a
design into one total index per input live in
:mod:`spectral_attribution.attributions.sobol.estimators`.

Design (Saltelli 2002; Saltelli et al. 2010, "Variance based sensitivity
analysis of model output", Comput. Phys. Commun. 181): two matrices ``A`` and
``B`` of shape ``(n, d)`` are the left and right halves of one scrambled
``2d``-dimensional Sobol' sequence (``scipy.stats.qmc.Sobol``). For every input
``i``, ``C_i`` is ``A`` with its column ``i`` taken from ``B``. The full design
stacks ``[A; B; C_1; ...; C_d]``: ``N = n (d + 2)`` rows. Rows are produced on
demand by :meth:`SobolDesign.rows`, so the whole design is never materialised
at image resolution.

Reference: Saltelli (2002), "Making best use of model evaluations to compute
sensitivity indices", Comput. Phys. Commun. 145.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

from spectral_attribution._utils.checks import format_bytes
from spectral_attribution._utils.parameters import MAX_SOBOL_DIMENSIONS, check_nb_design, check_seed

__all__ = ["SobolDesign", "MAX_DIM", "MAX_DESIGN_BYTES", "check_design_size"]

#: Largest number of inputs ``d``: ``scipy.stats.qmc.Sobol`` draws at most
#: 21,201 dimensions and the design needs ``2 d`` (a square grid of at most
#: 102 x 102 cells).
MAX_DIM = MAX_SOBOL_DIMENSIONS // 2
#: Largest memory of the base matrices ``A`` and ``B`` (``2 n d`` float32), 2 GiB.
MAX_DESIGN_BYTES = 2 * 1024 ** 3


def check_design_size(dim: int, nb_design: int) -> None:
    """Refuse a design that SciPy cannot draw or that would not fit in memory.

    Raises
    ------
    ValueError
        ``dim`` above :data:`MAX_DIM` (the message gives the largest square
        grid), or ``A`` and ``B`` above :data:`MAX_DESIGN_BYTES`.
    """
    if dim > MAX_DIM:
        side = int(math.isqrt(MAX_DIM))
        raise ValueError(
            f"a Sobol' design of d = {dim:,} inputs (e.g. a {math.isqrt(dim)} x {math.isqrt(dim)} "
            f"grid) needs a {2 * dim:,}-dimensional Sobol' sequence; scipy.stats.qmc.Sobol draws at "
            f"most 21,201 dimensions, so d <= {MAX_DIM:,} (a grid of at most {side} x {side} cells)")
    nbytes = 2 * int(nb_design) * int(dim) * 4
    if nbytes > MAX_DESIGN_BYTES:
        raise ValueError(
            f"a Sobol' design of n = {nb_design:,} base points and d = {dim:,} inputs needs "
            f"{format_bytes(nbytes)} for its matrices A and B; the limit is "
            f"{format_bytes(MAX_DESIGN_BYTES)}: use fewer designs or a coarser grid")


@dataclass(frozen=True)
class SobolDesign:
    """The ``[A; B; C_1; ...; C_d]`` design of Saltelli's scheme.

    Parameters
    ----------
    dim:
        Number of inputs ``d`` (e.g. ``grid_size ** 2`` cells), ``>= 1``.
    nb_design:
        Number of base points ``n``, a power of two ``>= 2``
        (:func:`spectral_attribution._utils.parameters.check_nb_design`).
    seed:
        Seed of the scrambling of the ``2d``-dimensional Sobol' sequence. The
        same seed gives the same design, bit for bit.

    Attributes
    ----------
    a, b:
        ``float32`` arrays of shape ``(n, d)`` with values in ``[0, 1)``.

    Raises
    ------
    ValueError
        ``nb_design`` not a power of two ``>= 2``, a negative seed, ``dim < 1``,
        or a design too large (:func:`check_design_size`: ``2 dim`` above
        SciPy's 21201 Sobol' dimensions, or ``A`` and ``B`` above 2 GiB).
    """

    dim: int
    nb_design: int
    seed: int
    a: np.ndarray
    b: np.ndarray

    @classmethod
    def create(cls, dim: int, nb_design: int, seed: int = 0) -> "SobolDesign":
        """Draw the design: the first ``nb_design`` points of a scrambled ``2 dim``-dimensional
        Sobol' sequence (``scipy.stats.qmc.Sobol(seed=seed)``), split into ``A`` and ``B``."""
        nb_design = check_nb_design(nb_design)
        seed = check_seed(seed)
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        check_design_size(dim, nb_design)
        sampler = qmc.Sobol(d=2 * dim, scramble=True, seed=seed)
        points = sampler.random_base2(m=int(math.log2(nb_design))).astype(np.float32)
        return cls(dim=int(dim), nb_design=nb_design, seed=int(seed),
                   a=points[:, :dim].copy(), b=points[:, dim:].copy())

    @property
    def size(self) -> int:
        """Number of rows ``N = n (d + 2)``: one model evaluation each."""
        return self.nb_design * (self.dim + 2)

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` of the design, as a ``float32`` array ``(stop - start, d)``.

        Row ``r`` belongs to block ``r // n`` (0: ``A``, 1: ``B``, ``2 + i``:
        ``C_i``) and is that block's row ``r % n``. Only the requested rows are
        built, so memory is that of one batch whatever ``N``.
        """
        if not 0 <= start <= stop <= self.size:
            raise IndexError(f"rows {start}:{stop} outside the design of {self.size} rows")
        index = np.arange(start, stop)
        block, k = np.divmod(index, self.nb_design)
        out = self.a[k].copy()
        is_b = block == 1
        out[is_b] = self.b[k[is_b]]
        is_c = block >= 2
        cols = block[is_c] - 2
        out[np.flatnonzero(is_c), cols] = self.b[k[is_c], cols]
        return out

    def full(self) -> np.ndarray:
        """The whole design ``(N, d)``; for tests and small ``d`` only."""
        return self.rows(0, self.size)

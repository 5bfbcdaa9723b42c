"""Quasi-Monte Carlo designs and estimators of Sobol' total indices.

This module knows nothing of images: a *design* is a matrix of points in the
unit hypercube ``[0, 1]^d`` and an *estimator* turns the model outputs on that
design into one total index per input dimension.

Design (Saltelli 2002; Saltelli et al. 2010, "Variance based sensitivity
analysis of model output", Comput. Phys. Commun. 181): two matrices ``A`` and
``B`` of shape ``(n, d)`` are the left and right halves of one scrambled
``2d``-dimensional Sobol' sequence (``scipy.stats.qmc.Sobol``). For every input
``i``, ``C_i`` is ``A`` with its column ``i`` taken from ``B``. The full design
stacks ``[A; B; C_1; ...; C_d]``: ``N = n (d + 2)`` rows. Rows are produced on
demand by :meth:`SobolDesign.rows`, so the whole design is never materialised
at image resolution.

Estimators of the total index ``ST_i`` (``y_A``, ``y_B``, ``y_Ci`` are the
outputs on the rows of ``A``, ``B`` and ``C_i``; ``V`` an output variance):

* ``jansen`` (Jansen 1999), the default, as in Fel et al. (2021) and Kasmi et
  al. (2023): ``ST_i = sum_k (y_A[k] - y_Ci[k])^2 / (2 n V)`` with ``V`` the
  unbiased variance of ``y_A``.
* ``homma`` (Homma & Saltelli 1996): ``ST_i = 1 - (mean(y_A y_Ci) - mean(y_A)^2) / V``.
* ``janon`` (Janon et al. 2014): like ``homma``, with the mean and the
  variance pooled over ``y_A`` and ``y_Ci``.
* ``glen`` (Glen & Isaacs 2012): ``ST_i = 1 - corr(y_A, y_Ci)`` (Pearson).
* ``saltelli`` (Sobol' 2007 / Saltelli et al. 2008):
  ``ST_i = mean(y_A (y_A - y_Ci)) / V``.

All estimators are consistent: they agree as ``n`` grows (see the tests on the
Ishigami function and on linear models).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from scipy.stats import qmc

__all__ = [
    "SobolDesign",
    "ESTIMATORS",
    "total_indices",
    "ConstantOutputWarning",
]


class ConstantOutputWarning(UserWarning):
    """The model output does not vary over the design: every index is 0."""


def _check_power_of_two(nb_design: int) -> int:
    if not isinstance(nb_design, (int, np.integer)) or nb_design < 1:
        raise ValueError(f"nb_design must be a positive integer, got {nb_design!r}")
    if nb_design & (nb_design - 1):
        raise ValueError(
            f"nb_design must be a power of two (Sobol' sequences are balanced "
            f"on powers of two), got {nb_design}"
        )
    return int(nb_design)


@dataclass(frozen=True)
class SobolDesign:
    """The ``[A; B; C_1; ...; C_d]`` design of Saltelli's scheme.

    Parameters
    ----------
    dim:
        Number of inputs ``d`` (e.g. ``grid_size ** 2`` cells), ``>= 1``.
    nb_design:
        Number of base points ``n``, a power of two.
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
        If ``nb_design`` is not a power of two or ``dim < 1``.
    """

    dim: int
    nb_design: int
    seed: int
    a: np.ndarray
    b: np.ndarray

    @classmethod
    def create(cls, dim: int, nb_design: int, seed: int = 0) -> "SobolDesign":
        nb_design = _check_power_of_two(nb_design)
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
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


def _split(y: torch.Tensor, nb_design: int, dim: int):
    y = torch.as_tensor(y, dtype=torch.float64)
    if y.shape[-1] != nb_design * (dim + 2):
        raise ValueError(
            f"expected {nb_design * (dim + 2)} outputs (n (d + 2) with n={nb_design}, "
            f"d={dim}), got {y.shape[-1]}"
        )
    y_a = y[..., :nb_design]
    y_b = y[..., nb_design:2 * nb_design]
    y_c = y[..., 2 * nb_design:].reshape(*y.shape[:-1], dim, nb_design)
    return y_a, y_b, y_c


def _jansen(y_a, y_b, y_c):
    n = y_a.shape[-1]
    var = y_a.var(dim=-1, unbiased=True)
    num = ((y_a.unsqueeze(-2) - y_c) ** 2).sum(dim=-1) / (2 * n)
    return num, var


def _homma(y_a, y_b, y_c):
    f0 = y_a.mean(dim=-1, keepdim=True)
    var = y_a.var(dim=-1, unbiased=True)
    cov = (y_a.unsqueeze(-2) * y_c).mean(dim=-1) - f0 ** 2
    return var.unsqueeze(-1) - cov, var


def _janon(y_a, y_b, y_c):
    ya = y_a.unsqueeze(-2).expand_as(y_c)
    f0 = ((ya + y_c) / 2).mean(dim=-1)
    var_i = ((ya ** 2 + y_c ** 2) / 2).mean(dim=-1) - f0 ** 2
    cov = (ya * y_c).mean(dim=-1) - f0 ** 2
    # Per-input variances: return the ratio directly with a unit "variance".
    return _safe_div(var_i - cov, var_i), None


def _glen(y_a, y_b, y_c):
    ya = y_a.unsqueeze(-2).expand_as(y_c)
    ya_c = ya - ya.mean(dim=-1, keepdim=True)
    yc_c = y_c - y_c.mean(dim=-1, keepdim=True)
    denom = torch.sqrt((ya_c ** 2).sum(-1) * (yc_c ** 2).sum(-1))
    corr = _safe_div((ya_c * yc_c).sum(-1), denom)
    constant = denom <= 0
    return torch.where(constant, torch.zeros_like(corr), 1 - corr), None


def _saltelli(y_a, y_b, y_c):
    var = y_a.var(dim=-1, unbiased=True)
    num = (y_a.unsqueeze(-2) * (y_a.unsqueeze(-2) - y_c)).mean(dim=-1)
    return num, var


def _safe_div(num, den):
    return torch.where(den > 0, num / torch.where(den > 0, den, torch.ones_like(den)),
                       torch.zeros_like(num))


ESTIMATORS: dict[str, Callable] = {
    "jansen": _jansen,
    "homma": _homma,
    "janon": _janon,
    "glen": _glen,
    "saltelli": _saltelli,
}


def total_indices(y, nb_design: int, dim: int, estimator: str = "jansen") -> torch.Tensor:
    """Sobol' total indices from the outputs on a :class:`SobolDesign`.

    Parameters
    ----------
    y:
        Outputs, array-like of shape ``(..., N)`` with ``N = nb_design * (dim + 2)``,
        in the row order of :meth:`SobolDesign.rows`. Leading dimensions are
        batch dimensions (e.g. several targets). Computed in ``float64``.
    nb_design, dim:
        ``n`` and ``d`` of the design.
    estimator:
        One of :data:`ESTIMATORS` (``"jansen"`` by default).

    Returns
    -------
    torch.Tensor
        ``float64`` tensor of shape ``(..., dim)``. Values are ``>= 0`` up to
        estimation noise (typically in ``[0, 1]``; interactions can push
        the Jansen estimate slightly above 1 at small ``n``). Never NaN: an
        output that is constant over the design gives zeros and a
        :class:`ConstantOutputWarning`.

    Raises
    ------
    ValueError
        Unknown estimator, or ``y`` of the wrong length.
    """
    try:
        fn = ESTIMATORS[estimator]
    except KeyError:
        raise ValueError(
            f"unknown estimator {estimator!r}; choose one of {sorted(ESTIMATORS)}"
        ) from None
    y_a, y_b, y_c = _split(y, nb_design, dim)
    if not torch.isfinite(y_a).all() or not torch.isfinite(y_c).all():
        raise ValueError("model outputs contain NaN or infinity; cannot estimate indices")
    num, var = fn(y_a, y_b, y_c)
    if var is None:
        st = num
        constant = (y_a.var(dim=-1, unbiased=True) <= 0)
    else:
        # A variance at float rounding level means a constant output.
        scale = y_a.abs().amax(dim=-1).clamp_min(1.0)
        constant = var <= (1e-12 * scale) ** 2
        st = _safe_div(num, torch.where(constant, torch.zeros_like(var), var).unsqueeze(-1))
    if bool(constant.any()):
        warnings.warn(
            "the model's output is constant over the design (zero variance): "
            "its total Sobol' indices are set to 0",
            ConstantOutputWarning,
            stacklevel=2,
        )
        st = torch.where(constant.unsqueeze(-1), torch.zeros_like(st), st)
    return st

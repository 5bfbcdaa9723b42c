"""Estimators of Sobol' total indices from the outputs on a Saltelli design.

An *estimator* turns the model outputs on the rows of the design
``[A; B; C_1; ...; C_d]`` of :class:`~spectral_attribution.attributions.sobol.design.SobolDesign`
into one total index per input. Every estimator here is a small callable with
one interface::

    estimator(y_a, y_b, y_c) -> total indices

``y_a`` and ``y_b`` are the outputs on the rows of ``A`` and ``B``, float64
tensors of shape ``(..., n)``; ``y_c`` holds the outputs on the rows of every
``C_i``, shape ``(..., d, n)`` (``y_c[..., i, k]`` is the output on row ``k``
of ``C_i``, the row of ``A`` whose input ``i`` is taken from ``B``). The
result is a float64 tensor ``(..., d)``. Leading dimensions are batch
dimensions (e.g. several targets) and must be kept.

==============  ==========================================  ================================
name            ``ST_i``                                    reference
==============  ==========================================  ================================
``jansen``      ``sum_k (y_A - y_Ci)^2 / (2 n V)``,         Jansen (1999); Fel et al.
(default)       ``V`` the unbiased variance of ``y_A``      (2021) and Kasmi et al. (2023)
``homma``       ``1 - (mean(y_A y_Ci) - mean(y_A)^2) / V``  Homma & Saltelli (1996)
``janon``       like ``homma``, with the mean and the       Janon et al. (2014)
                variance pooled over ``y_A`` and ``y_Ci``
``glen``        ``1 - corr(y_A, y_Ci)`` (Pearson)           Glen & Isaacs (2012)
``saltelli``    ``mean(y_A (y_A - y_Ci)) / V``              Sobol' (2007); Saltelli et
                                                            al. (2008)
==============  ==========================================  ================================

All are consistent: they agree as ``n`` grows (see the tests on the Ishigami
function and on linear models).

Writing your own
----------------
Any callable with the signature above works, e.g. a function::

    def first_differences(y_a, y_b, y_c):
        \"\"\"Mean absolute change of the output when input i is redrawn.\"\"\"
        return (y_a.unsqueeze(-2) - y_c).abs().mean(dim=-1)

    WCAM(model, estimator=first_differences)
    total_indices(y, nb_design, dim, estimator=first_differences)

Give it a ``name`` attribute (a class attribute, or ``fn.name = "..."``) to
choose what :class:`~spectral_attribution.attributions.sobol.engine.SobolAttribution` records in
``Explanation.settings["estimator"]`` (default: the function's or the class's
name). It never needs to handle a constant output: :func:`total_indices`
detects a model output that does not vary over the design and sets its
indices to 0 (with a :class:`ConstantOutputWarning`) whatever the estimator
returned. It must not return NaN for a varying output. :func:`register_estimator` adds
one to :data:`ESTIMATORS`, so that it can also be chosen by name.
"""

from __future__ import annotations

import warnings
from typing import Callable, Union

import torch

__all__ = [
    "ConstantOutputWarning",
    "Estimator",
    "Jansen",
    "Homma",
    "Janon",
    "Glen",
    "Saltelli",
    "ESTIMATORS",
    "register_estimator",
    "get_estimator",
    "estimator_name",
    "split_outputs",
    "total_indices",
]

#: An estimator given by name (a key of :data:`ESTIMATORS`) or as a callable
#: ``(y_a, y_b, y_c) -> (..., d)``.
Estimator = Union[str, Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]]


class ConstantOutputWarning(UserWarning):
    """The model output does not vary over the design: every index is 0."""


def _safe_div(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """``num / den`` where ``den > 0``, 0 elsewhere (no NaN for a zero variance)."""
    return torch.where(den > 0, num / torch.where(den > 0, den, torch.ones_like(den)),
                       torch.zeros_like(num))


class Jansen:
    """Jansen (1999): ``ST_i = sum_k (y_A[k] - y_Ci[k])^2 / (2 n V)``, ``V`` the unbiased variance of ``y_A``.

    The default estimator, as in Fel et al. (NeurIPS 2021) and Kasmi et al.
    (2023). Non-negative; interactions can push it slightly above 1 at small
    ``n``. Shapes: see the module docstring.
    """

    name = "jansen"

    def __call__(self, y_a: torch.Tensor, y_b: torch.Tensor, y_c: torch.Tensor) -> torch.Tensor:
        """``(..., d)`` float64 total indices from ``y_a``, ``y_b`` ``(..., n)`` and ``y_c`` ``(..., d, n)``."""
        n = y_a.shape[-1]
        var = y_a.var(dim=-1, unbiased=True)
        num = ((y_a.unsqueeze(-2) - y_c) ** 2).sum(dim=-1) / (2 * n)
        return _safe_div(num, var.unsqueeze(-1))


class Homma:
    """Homma & Saltelli (1996): ``ST_i = 1 - (mean(y_A y_Ci) - mean(y_A)^2) / V``.

    ``V`` is the unbiased variance of ``y_A``. Shapes: see the module docstring.
    """

    name = "homma"

    def __call__(self, y_a: torch.Tensor, y_b: torch.Tensor, y_c: torch.Tensor) -> torch.Tensor:
        """``(..., d)`` float64 total indices from ``y_a``, ``y_b`` ``(..., n)`` and ``y_c`` ``(..., d, n)``."""
        f0 = y_a.mean(dim=-1, keepdim=True)
        var = y_a.var(dim=-1, unbiased=True)
        cov = (y_a.unsqueeze(-2) * y_c).mean(dim=-1) - f0 ** 2
        return _safe_div(var.unsqueeze(-1) - cov, var.unsqueeze(-1))


class Janon:
    """Janon et al. (2014): Homma's estimator with the mean and the variance
    pooled over ``y_A`` and ``y_Ci`` (one variance per input ``i``).

    ``ST_i = (V_i - C_i) / V_i`` with ``f_i = mean((y_A + y_Ci) / 2)``,
    ``V_i = mean((y_A^2 + y_Ci^2) / 2) - f_i^2``, ``C_i = mean(y_A y_Ci) - f_i^2``.
    Shapes: see the module docstring.
    """

    name = "janon"

    def __call__(self, y_a: torch.Tensor, y_b: torch.Tensor, y_c: torch.Tensor) -> torch.Tensor:
        """``(..., d)`` float64 total indices from ``y_a``, ``y_b`` ``(..., n)`` and ``y_c`` ``(..., d, n)``."""
        ya = y_a.unsqueeze(-2).expand_as(y_c)
        f0 = ((ya + y_c) / 2).mean(dim=-1)
        var_i = ((ya ** 2 + y_c ** 2) / 2).mean(dim=-1) - f0 ** 2
        cov = (ya * y_c).mean(dim=-1) - f0 ** 2
        return _safe_div(var_i - cov, var_i)


class Glen:
    """Glen & Isaacs (2012): ``ST_i = 1 - corr(y_A, y_Ci)`` (Pearson), 0 where ``y_Ci`` is constant.

    Shapes: see the module docstring.
    """

    name = "glen"

    def __call__(self, y_a: torch.Tensor, y_b: torch.Tensor, y_c: torch.Tensor) -> torch.Tensor:
        """``(..., d)`` float64 total indices from ``y_a``, ``y_b`` ``(..., n)`` and ``y_c`` ``(..., d, n)``."""
        ya = y_a.unsqueeze(-2).expand_as(y_c)
        ya_c = ya - ya.mean(dim=-1, keepdim=True)
        yc_c = y_c - y_c.mean(dim=-1, keepdim=True)
        denom = torch.sqrt((ya_c ** 2).sum(-1) * (yc_c ** 2).sum(-1))
        corr = _safe_div((ya_c * yc_c).sum(-1), denom)
        return torch.where(denom <= 0, torch.zeros_like(corr), 1 - corr)


class Saltelli:
    """Sobol' (2007) / Saltelli et al. (2008): ``ST_i = mean(y_A (y_A - y_Ci)) / V``.

    ``V`` is the unbiased variance of ``y_A``. Shapes: see the module docstring.
    """

    name = "saltelli"

    def __call__(self, y_a: torch.Tensor, y_b: torch.Tensor, y_c: torch.Tensor) -> torch.Tensor:
        """``(..., d)`` float64 total indices from ``y_a``, ``y_b`` ``(..., n)`` and ``y_c`` ``(..., d, n)``."""
        var = y_a.var(dim=-1, unbiased=True)
        num = (y_a.unsqueeze(-2) * (y_a.unsqueeze(-2) - y_c)).mean(dim=-1)
        return _safe_div(num, var.unsqueeze(-1))


#: The estimators by name; :func:`register_estimator` adds to it.
ESTIMATORS: dict[str, Callable] = {
    est.name: est for est in (Jansen(), Homma(), Janon(), Glen(), Saltelli())
}


def register_estimator(name: str, estimator: Callable) -> Callable:
    """Add ``estimator`` to :data:`ESTIMATORS` under ``name``; returns it.

    Raises
    ------
    ValueError
        ``name`` is already taken.
    TypeError
        ``estimator`` is not callable.
    """
    if name in ESTIMATORS:
        raise ValueError(f"an estimator named {name!r} is already registered")
    if not callable(estimator):
        raise TypeError(f"an estimator must be callable (y_a, y_b, y_c) -> indices, got {estimator!r}")
    ESTIMATORS[name] = estimator
    return estimator


def get_estimator(estimator: Estimator) -> Callable:
    """The callable of ``estimator``: a name of :data:`ESTIMATORS`, or a callable returned as is.

    Raises
    ------
    ValueError
        Unknown name (the known names are listed), or neither a name nor a callable.
    """
    if isinstance(estimator, str):
        try:
            return ESTIMATORS[estimator]
        except KeyError:
            raise ValueError(
                f"unknown estimator {estimator!r}; choose one of {sorted(ESTIMATORS)} "
                f"or pass a callable (y_a, y_b, y_c) -> indices") from None
    if callable(estimator):
        return estimator
    raise ValueError(f"estimator must be a name ({sorted(ESTIMATORS)}) or a callable, got {estimator!r}")


def estimator_name(estimator: Estimator) -> str:
    """What the settings record for ``estimator``: its name, its ``name`` attribute, or its type's name."""
    if isinstance(estimator, str):
        return estimator
    name = getattr(estimator, "name", None) or getattr(estimator, "__name__", None)
    return str(name or type(estimator).__name__)


def split_outputs(y, nb_design: int, dim: int):
    """``(y_a, y_b, y_c)`` of outputs ``y`` ``(..., n (d + 2))`` in design row order.

    Returns float64 tensors ``(..., n)``, ``(..., n)`` and ``(..., d, n)``.

    Raises
    ------
    ValueError
        ``y`` does not have ``n (d + 2)`` values along its last dimension.
    """
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


def total_indices(y, nb_design: int, dim: int, estimator: Estimator = "jansen") -> torch.Tensor:
    """Sobol' total indices from the outputs on a :class:`~spectral_attribution.attributions.sobol.design.SobolDesign`.

    Parameters
    ----------
    y:
        Outputs, array-like of shape ``(..., N)`` with ``N = nb_design * (dim + 2)``,
        in the row order of :meth:`SobolDesign.rows`. Leading dimensions are
        batch dimensions (e.g. several targets). Computed in ``float64``.
    nb_design, dim:
        ``n`` and ``d`` of the design.
    estimator:
        A name of :data:`ESTIMATORS` (``"jansen"`` by default) or a callable
        ``(y_a, y_b, y_c) -> (..., d)`` (see the module docstring).

    Returns
    -------
    torch.Tensor
        ``float64`` tensor of shape ``(..., dim)``. Values are ``>= 0`` up to
        estimation noise (typically in ``[0, 1]``; interactions can push
        the Jansen estimate slightly above 1 at small ``n``). Never NaN: an
        output that is constant over the design (unbiased variance of
        ``y_A`` at float rounding level, ``<= (1e-12 max(1, max|y_A|))^2``)
        gives zeros and a :class:`ConstantOutputWarning`.

    Raises
    ------
    ValueError
        Unknown estimator, ``y`` of the wrong length, or NaN / infinite outputs.
    """
    fn = get_estimator(estimator)
    y_a, y_b, y_c = split_outputs(y, nb_design, dim)
    if not torch.isfinite(y_a).all() or not torch.isfinite(y_c).all():
        raise ValueError("model outputs contain NaN or infinity; cannot estimate indices")
    st = torch.as_tensor(fn(y_a, y_b, y_c), dtype=torch.float64)
    # A variance at float rounding level means a constant output.
    scale = y_a.abs().amax(dim=-1).clamp_min(1.0)
    constant = y_a.var(dim=-1, unbiased=True) <= (1e-12 * scale) ** 2
    if bool(constant.any()):
        warnings.warn(
            "the model's output is constant over the design (zero variance): "
            "its total Sobol' indices are set to 0",
            ConstantOutputWarning,
            stacklevel=2,
        )
        st = torch.where(constant.unsqueeze(-1), torch.zeros_like(st), st)
    return st

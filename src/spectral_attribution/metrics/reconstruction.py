"""Reconstruction depth (METHOD.md, section 4).

The smallest number ``k`` of grid cells of wavelet coefficients, taken in
decreasing order of their Sobol' total index, that suffice for the model to
predict the explained class; ``d + 1`` (censored) when no ``k`` does
(:func:`reconstruction_depth`, its curve :func:`reconstruction_curve`, the
random-order baseline :func:`random_order_depths`), and the fit of robustness
against depth used by the studies (:func:`depth_robustness_fit`).
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd
import torch

from spectral_attribution._utils import parameters
from spectral_attribution._utils.tables import require_columns
from spectral_attribution.metrics._queries import _device, _dim, _logits, _scores

__all__ = [
    "importance_order",
    "explanation_order",
    "top_k_masks",
    "keep_top_k",
    "reconstruction_curve",
    "ReconstructionDepth",
    "reconstruction_depth",
    "random_order_depths",
    "depth_robustness_fit",
]


def importance_order(attribution, tie_break=None) -> np.ndarray:
    """Cells in decreasing order of importance: ``argsort`` of ``-attribution`` (stable).

    ``attribution`` is any array of ``d`` values (e.g. ``Explanation.indices``
    ``(g, g)``, read row-major); returns an ``int64`` permutation of ``0..d-1``.
    Ties are taken in decreasing ``tie_break`` (an array of ``d`` values, e.g.
    ``Explanation.bounds``), then in row-major order.

    Raises
    ------
    ValueError
        ``tie_break`` does not have ``d`` values.
    """
    a = np.asarray(attribution, dtype=np.float64).ravel()
    if tie_break is None:
        return np.argsort(-a, kind="stable")
    t = np.asarray(tie_break, dtype=np.float64).ravel()
    if t.size != a.size:
        raise ValueError(f"tie_break has {t.size} values, attribution {a.size}")
    return np.lexsort((np.arange(a.size), -t, -a)).astype(np.int64)


def explanation_order(explanation) -> np.ndarray:
    """The cells of an :class:`~spectral_attribution.attributions.explanation.Explanation` in decreasing importance.

    A full estimate: :func:`importance_order` of its ``indices``. A screened one
    (issue 19): its screened-out cells have no estimate of their own (``indices``
    0); they come after every estimated cell of positive index, in decreasing
    order of the total index of the group they were discarded with
    (``bounds``), instead of the arbitrary row-major order of a tie at 0.
    """
    bounds = explanation.bounds if explanation.screened_out is not None else None
    return importance_order(explanation.indices, bounds)


def _check_order(order, d: int) -> np.ndarray:
    order = np.asarray(order).ravel()
    if order.size != d or not np.array_equal(np.sort(order), np.arange(d)):
        raise ValueError(f"order must be a permutation of the {d} cells 0..{d - 1} "
                         f"(got {order.size} values)")
    return order.astype(np.int64)


def top_k_masks(order, k_values, dim: int | None = None) -> np.ndarray:
    """Binary masks keeping the first ``k`` cells of ``order``, one row per ``k``.

    Returns a ``float32`` array ``(len(k_values), d)``: row ``r`` is 1 on
    ``order[:k_values[r]]`` and 0 elsewhere. ``d`` defaults to ``len(order)``.

    Raises
    ------
    ValueError
        ``order`` not a permutation of ``0..d-1`` or a ``k`` outside ``0..d``.
    """
    d = len(np.asarray(order).ravel()) if dim is None else int(dim)
    order = _check_order(order, d)
    k_values = np.asarray(k_values, dtype=np.int64).ravel()
    if k_values.size and (k_values.min() < 0 or k_values.max() > d):
        raise ValueError(f"k values must be in 0..{d}, got {k_values.min()}..{k_values.max()}")
    rank = np.empty(d, dtype=np.int64)
    rank[order] = np.arange(d)
    return (rank[None, :] < k_values[:, None]).astype(np.float32)


def keep_top_k(perturbation, context, order, k: int) -> torch.Tensor:
    """The image rebuilt from the first ``k`` cells of ``order`` only (``(C, H, W)``).

    For a :class:`~spectral_attribution.attributions.perturbations.WaveletPerturbation`: the
    wavelet coefficients under the top-``k`` cells are kept, all others set
    to 0, and the layout is inverted. Pixel values may leave ``[0, 1]``
    slightly (clip for display).
    """
    mask = top_k_masks(order, [k], _dim(perturbation))
    m = torch.as_tensor(mask, device=_device(None, context))
    with torch.inference_mode():
        return perturbation(context, m)[0]


def reconstruction_curve(model, perturbation, context, order, k_values, reference_label: int,
                         batch_size: int = 64, autocast: str | None = None, *,
            precision: str = "float32", backend: str = "eager") -> pd.DataFrame:
    """Predictions on the images rebuilt from the top-``k`` cells, for each ``k``.

    Parameters
    ----------
    order:
        Permutation of the ``d`` cells, most important first (e.g.
        :func:`importance_order` of the WCAM's indices).
    k_values:
        Numbers of kept cells, integers in ``0..d``.
    reference_label:
        The label whose restoration is tracked.
    precision, backend:
        Precision (``"float32"`` default, ``"bfloat16"``, ``"float16"``,
        ``"auto"``) and backend (``"eager"`` default, or one of
        :data:`spectral_attribution.models.backends.BACKENDS`) of the forward passes,
        accepted by every model-querying function here; see
        :class:`~spectral_attribution.models.forward.ForwardPass`.
    autocast:
        Deprecated spelling of ``precision``.

    Returns
    -------
    pandas.DataFrame
        One row per ``k`` in the given order, columns ``k`` (int),
        ``share`` (``k / d``), ``predicted`` (int), ``reference_logit``,
        ``reference_probability`` (softmax, in ``[0, 1]``), ``is_reference``
        (bool: ``predicted == reference_label``).
    """
    reference_label = parameters.check_target(reference_label, "reference_label")
    d = _dim(perturbation)
    k_values = np.asarray(k_values, dtype=np.int64).ravel()
    logits = _logits(model, perturbation, context, top_k_masks(order, k_values, d), batch_size, autocast, precision=precision, backend=backend)
    predicted = logits.argmax(dim=-1).numpy()
    return pd.DataFrame({
        "k": k_values,
        "share": k_values / d,
        "predicted": predicted.astype(np.int64),
        "reference_logit": _scores(logits, int(reference_label), "logit"),
        "reference_probability": _scores(logits, int(reference_label), "probability"),
        "is_reference": predicted == int(reference_label),
    })


class ReconstructionDepth(NamedTuple):
    """Result of :func:`reconstruction_depth`.

    ``depth``: smallest ``k`` restoring the reference label, or, when no
    ``k`` tried restores it, the *censored* depth ``K + 1`` with ``K`` the
    largest ``k`` tried (``d + 1`` by default) (float); ``share``:
    ``depth / dim``; ``found``: whether it was restored (False: ``depth``
    is censored); ``dim``: ``d``; ``nb_forward``: forward passes spent.
    """

    depth: float
    share: float
    found: bool
    dim: int
    nb_forward: int


def reconstruction_depth(model, perturbation, context, order, reference_label: int,
                         k_values=None, batch_size: int = 64,
                         autocast: str | None = None, *,
            precision: str = "float32", backend: str = "eager") -> ReconstructionDepth:
    """Reconstruction depth: the smallest ``k`` whose top-``k`` reconstruction is classified as the reference label.

    Keep the wavelet coefficients of the first ``k`` cells of ``order``
    (zero elsewhere), invert, classify (Kasmi et al. 2023, "sufficient
    reconstruction"). When no ``k`` tried restores the label, the depth is
    *censored* at ``K + 1`` (``K`` the largest ``k`` tried, ``d`` by
    default): the image still counts, ranked after every image that was
    restored, so that medians over images keep every image and an order that
    fails more often cannot look better. The prediction need not be monotonic in ``k``, so
    ``k_values`` are scanned in increasing order, in batches of growing size
    (8, 16, 32, ... up to ``batch_size``), and the scan stops at the first
    batch holding a hit: the cost is at most about ``2 depth + 8`` forward
    passes.

    Parameters
    ----------
    order:
        Permutation of the ``d`` cells, most important first.
    reference_label:
        The class whose restoration is tracked: the class the explanation
        explains (:attr:`Explanation.target <spectral_attribution.attributions.explanation.Explanation.target>`,
        see :mod:`spectral_attribution.attributions.targets`).
    k_values:
        Candidate depths (sorted ascending here); default ``1..d``. A
        coarser set (e.g. every 4th ``k``) gives an upper bound of the depth
        on that set.

    Returns
    -------
    ReconstructionDepth
        ``depth`` in ``1..d``, or ``K + 1`` with ``found=False`` when no
        ``k`` tried restores the label (``d + 1`` by default);
        ``share = depth / d`` in ``(0, (d + 1) / d]``.
    """
    reference_label = parameters.check_target(reference_label, "reference_label")
    d = _dim(perturbation)
    order = _check_order(order, d)
    k_values = np.unique(np.asarray(np.arange(1, d + 1) if k_values is None else k_values,
                                    dtype=np.int64))
    spent, start, step = 0, 0, min(8, int(batch_size))
    while start < len(k_values):
        # Growing batches (8, 16, ... up to batch_size): shallow depths, the
        # common case with the WCAM order, cost few forward passes.
        ks = k_values[start:start + step]
        start += len(ks)
        step = min(2 * step, int(batch_size))
        logits = _logits(model, perturbation, context, top_k_masks(order, ks, d), batch_size, autocast, precision=precision, backend=backend)
        spent += len(ks)
        hits = np.flatnonzero(logits.argmax(dim=-1).numpy() == int(reference_label))
        if hits.size:
            k = int(ks[hits[0]])
            return ReconstructionDepth(float(k), k / d, True, d, spent)
    censored = int(k_values[-1]) + 1 if len(k_values) else 1
    return ReconstructionDepth(float(censored), censored / d, False, d, spent)


def random_order_depths(model, perturbation, context, reference_label: int, nb_draws: int = 5,
                        seed: int | Sequence[int] = 0, k_values=None, batch_size: int = 64,
                        autocast: str | None = None, *,
            precision: str = "float32", backend: str = "eager") -> np.ndarray:
    """Reconstruction depths with random orders of the cells (the baseline of the WCAM order).

    Draw ``r`` uses the permutation ``numpy.random.default_rng([*seed, r]).permutation(d)``
    (``seed`` an int or a sequence of ints, e.g. ``(base_seed, image_index)``):
    the same seed gives the same orders, and draw ``r`` does not depend on
    ``nb_draws``.

    Returns
    -------
    numpy.ndarray
        ``float64`` ``(nb_draws,)`` depths in ``1..d``, censored at ``K + 1``
        (``d + 1`` by default) where the label is never restored. See
        :func:`reconstruction_depth` for the parameters.
    """
    reference_label = parameters.check_target(reference_label, "reference_label")
    nb_draws = parameters.check_nb_random_draws(nb_draws, "nb_draws")
    d = _dim(perturbation)
    out = np.empty(int(nb_draws), dtype=np.float64)
    for r in range(int(nb_draws)):
        order = np.random.default_rng([*(int(v) for v in np.atleast_1d(seed)), r]).permutation(d)
        out[r] = reconstruction_depth(model, perturbation, context, order, reference_label,
                                      k_values, batch_size, autocast, precision=precision, backend=backend).depth
    return out


def depth_robustness_fit(df: pd.DataFrame, x: str = "depth_share", y: str = "robustness",
                         by: str | None = "model", confidence: float = 0.95) -> pd.DataFrame:
    """Least-squares line ``y = slope * x + intercept`` per model, with confidence intervals.

    By default the robustness of each image's prediction against its
    reconstruction depth (share of ``d``): the paper's claim is a negative
    slope (models needing fewer coefficients are more robust). Fitted with
    ``scipy.stats.linregress``; the intervals are ``estimate ± t * stderr``
    with ``t`` the ``(1 + confidence) / 2`` quantile of Student's ``t`` with
    ``n - 2`` degrees of freedom. Rows with NaN in ``x`` or ``y`` are
    dropped; images whose label was never restored enter with their censored
    depth (``(d + 1) / d`` as a share, :func:`reconstruction_depth`).

    Returns
    -------
    pandas.DataFrame
        One row per group (``by``; a single row with ``by=None``), columns
        ``model`` (when grouped), ``n, slope, intercept, r, p, stderr,
        intercept_stderr, slope_low, slope_high, intercept_low,
        intercept_high``. NaN where undefined (fewer than 3 points, or
        ``x`` constant).

    Raises
    ------
    KeyError
        ``x``, ``y`` or ``by`` not a column (the name is given).
    """
    from scipy import stats

    require_columns(df, [x, y] + ([by] if by else []))
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    groups = df.groupby(by, sort=True) if by else [(None, df)]
    rows = []
    for key, part in groups:
        part = part[[x, y]].astype(float).dropna()
        n = len(part)
        row = {by: key} if by else {}
        nan = float("nan")
        row.update(n=n, slope=nan, intercept=nan, r=nan, p=nan, stderr=nan, intercept_stderr=nan,
                   slope_low=nan, slope_high=nan, intercept_low=nan, intercept_high=nan)
        if n >= 3 and part[x].nunique() > 1:
            fit = stats.linregress(part[x], part[y])
            t = stats.t.ppf((1 + confidence) / 2, n - 2)
            row.update(slope=fit.slope, intercept=fit.intercept, r=fit.rvalue, p=fit.pvalue,
                       stderr=fit.stderr, intercept_stderr=fit.intercept_stderr,
                       slope_low=fit.slope - t * fit.stderr, slope_high=fit.slope + t * fit.stderr,
                       intercept_low=fit.intercept - t * fit.intercept_stderr,
                       intercept_high=fit.intercept + t * fit.intercept_stderr)
        rows.append(row)
    return pd.DataFrame(rows)

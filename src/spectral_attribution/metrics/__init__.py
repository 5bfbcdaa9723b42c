"""Metrics of the studies: level contributions, robustness, reconstruction depth, faithfulness.

Pure functions of arrays, tensors and (for the metrics that must query it) a
model: nothing here plots or writes files.

Vocabulary (METHOD.md, section 4):

* **Level contribution** -- how a WCAM's importance splits between the
  approximation and the detail levels of the wavelet transform, per
  coefficient (:func:`level_contributions`); the **approximation share** is
  the approximation's level contribution (:func:`approximation_share`), the
  **approximation mass** the share of the map's total mass on the
  approximation block (:func:`approximation_mass`).
* **Robustness** of a prediction -- share of corrupted copies of an image on
  which the model predicts what it predicts on the clean image
  (:func:`robustness`).
* **Reconstruction depth** -- smallest number ``k`` of grid cells of wavelet
  coefficients, taken in decreasing order of their Sobol' total index, that
  suffice for the model to predict the explained class; ``d + 1`` (censored)
  when no ``k`` does (:func:`reconstruction_depth`, baseline
  :func:`random_order_depths`).
* **Faithfulness** -- mu-fidelity (Bhatt et al., IJCAI 2020), insertion and
  deletion (Petsiuk et al., BMVC 2018), written generically over any
  perturbation (:func:`mu_fidelity`, :func:`insertion_deletion`).

Model-querying functions all take the same four objects (and ``batch_size``
and ``precision`` / ``backend``, passed to the package's one forward loop,
:class:`~spectral_attribution.models.forward.ForwardPass`):

``model``
    A callable ``(b, C, H, W) float [0, 1] -> logits (b, K)``, typically a
    :class:`~spectral_attribution.models.ModelWrapper`.
``perturbation``, ``context``
    A perturbation of :mod:`spectral_attribution.attributions.perturbations` (e.g.
    :class:`~spectral_attribution.attributions.perturbations.WaveletPerturbation`) and the
    context it prepared for one image (``perturbation.prepare(image)``);
    ``perturbation(context, masks)`` turns ``(b, d)`` masks with values in
    ``[0, 1]`` (1 keeps a cell, 0 removes it) into ``(b, C, H, W)`` images.
``d``
    ``perturbation.dim``: the number of grid cells (``g^2`` for grids).
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd
import torch

from spectral_attribution._utils import parameters
from spectral_attribution.models.forward import ForwardPass, model_device
from spectral_attribution._utils.tables import require_columns

__all__ = [
    "level_contributions",
    "approximation_share",
    "approximation_mass",
    "spatial_spread",
    "robustness",
    "importance_order",
    "top_k_masks",
    "keep_top_k",
    "reconstruction_curve",
    "ReconstructionDepth",
    "reconstruction_depth",
    "random_order_depths",
    "depth_robustness_fit",
    "mu_fidelity",
    "removal_subsets",
    "subset_drops",
    "mu_fidelity_from_drops",
    "insertion_deletion",
    "insertion_auc",
    "deletion_auc",
]


# --------------------------------------------------------------------------
# Maps: level contributions and spread
# --------------------------------------------------------------------------
def _level_name(band) -> str:
    return "approximation" if band.name == "approximation" else f"level_{band.level}"


def _map_and_bands(wcam_map, subbands):
    if subbands is None:
        # An Explanation (or anything with .map and .subbands) was given.
        return np.asarray(wcam_map.map, dtype=np.float64), wcam_map.subbands
    if hasattr(wcam_map, "map"):
        wcam_map = wcam_map.map
    return np.asarray(wcam_map, dtype=np.float64), subbands


def level_contributions(wcam_map, subbands=None, per_coefficient: bool = True,
                        normalise_over: Sequence[str] | None = None) -> pd.Series:
    """Contribution of each wavelet level to a WCAM (METHOD.md, "Zoom").

    Definition. Let ``M`` be the WCAM over the dyadic layout (the Sobol' total
    indices upsampled to one value per wavelet coefficient position), with
    negative values (estimation noise of some estimators) set to 0. The
    *levels* are the approximation block, then for each ``j = J .. 1``
    (coarsest to finest) the union of the horizontal, vertical and diagonal
    detail blocks of level ``j``. For a level ``L`` with ``n_L`` coefficient
    positions, its mass is ``m_L = sum of M over its blocks``; with
    ``per_coefficient=True`` its importance is the density ``m_L / n_L``
    (importance per coefficient), otherwise the mass ``m_L``. The
    contributions are the importances divided by their sum over levels, so
    they sum to 1.

    Per coefficient, a uniform map gives equal contributions to all levels
    (``1 / (J + 1)``: compare views with the same ``J``); by mass, it gives
    each level its share of the layout's area (``4^-J`` for the
    approximation).

    ``normalise_over`` restricts the sum to some levels (the others get NaN):
    the zoom study uses it to compare two views over the physical scales both
    hold (:func:`spectral_attribution.studies.zoom.zoom_study`).

    Parameters
    ----------
    wcam_map:
        ``(Hl, Wl)`` array (``Explanation.map`` of a WCAM), or a WCAM
        :class:`~spectral_attribution.attributions.explanation.Explanation` (then
        ``subbands`` may be omitted and ``explanation.subbands`` is used).
    subbands:
        The layout's blocks, :meth:`~spectral_attribution.attributions.transforms.WaveletTransform.subbands`
        of the image size.
    per_coefficient:
        Normalise each level's mass by its number of coefficients (default,
        as in the zoom study) or not.
    normalise_over:
        Names of the levels whose importances sum to 1 (``None``: all).

    Returns
    -------
    pandas.Series
        ``float64`` values in ``[0, 1]`` summing to 1 (over
        ``normalise_over``; NaN elsewhere), indexed ``"approximation",
        "level_J", ..., "level_1"``, named ``"contribution"``. All NaN when
        the map is zero everywhere (on ``normalise_over``).

    Raises
    ------
    ValueError
        A block lies outside the map (map and sub-bands of different sizes),
        or ``normalise_over`` names a level the layout does not have.
    """
    values, bands = _map_and_bands(wcam_map, subbands)
    values = np.clip(values, 0.0, None)
    mass: dict[str, float] = {}
    count: dict[str, int] = {}
    for band in bands:
        if band.rows[1] > values.shape[0] or band.cols[1] > values.shape[1]:
            raise ValueError(f"sub-band {band.name} of level {band.level} spans rows {band.rows}, "
                             f"cols {band.cols}, outside the map of shape {values.shape}")
        key = _level_name(band)
        mass[key] = mass.get(key, 0.0) + float(values[band.slices].sum())
        count[key] = count.get(key, 0) + band.size
    importance = pd.Series({k: mass[k] / count[k] if per_coefficient else mass[k] for k in mass},
                           dtype=np.float64, name="contribution")
    if normalise_over is not None:
        unknown = sorted(set(normalise_over) - set(importance.index))
        if unknown:
            raise ValueError(f"normalise_over names levels {unknown} that the layout does not have "
                             f"(levels: {list(importance.index)})")
        importance[~importance.index.isin(list(normalise_over))] = np.nan
    total = importance.sum()  # NaN-skipping
    if not total > 0:
        return importance * np.nan
    return importance / total


def approximation_share(wcam_map, subbands=None) -> float:
    """The approximation share: the approximation's level contribution, per coefficient.

    ``level_contributions(wcam_map, subbands)["approximation"]``: the
    approximation block's importance per coefficient over the sum of every
    level's importance per coefficient (:func:`level_contributions`). A
    uniform map gives ``1 / (J + 1)``; a map on the approximation only, 1.
    This is the zoom table's "approximation share" (METHOD.md, "Zoom").

    Returns
    -------
    float
        In ``[0, 1]``; NaN for an all-zero map.
    """
    return float(level_contributions(wcam_map, subbands, True)["approximation"])


def approximation_mass(wcam_map, subbands=None) -> float:
    """The approximation mass: share of a WCAM's total mass on the approximation block.

    ``sum of the map over the approximation block / sum of the map`` (negative
    values set to 0). The "robustness margin" reading of the paper: a
    prediction resting on the coarse, low-frequency content survives
    corruptions that destroy the details. A uniform map gives the block's
    share of the layout's area (``4^-J``).

    Returns
    -------
    float
        In ``[0, 1]``; NaN for an all-zero map. See :func:`level_contributions`
        for the parameters.
    """
    return float(level_contributions(wcam_map, subbands, False)["approximation"])


def spatial_spread(spatial_map, mass: float = 0.9) -> float:
    """Share of the image area that holds ``mass`` of the spatial WCAM.

    Pixels are sorted by decreasing value of the (non-negative part of the)
    map; the spread is the smallest number of pixels whose values add up to
    at least ``mass`` of the total, divided by the number of pixels. A map
    concentrated on one pixel gives ``1 / (H W)``; a uniform map gives
    ``mass`` (up to one pixel).

    Parameters
    ----------
    spatial_map:
        ``(H, W)`` array, e.g. ``Explanation.spatial``.
    mass:
        Fraction of the total in ``(0, 1]`` (0.5 and 0.9 are usual).

    Returns
    -------
    float
        In ``(0, 1]``; NaN for an all-zero map.

    Raises
    ------
    ValueError
        ``mass`` outside ``(0, 1]``.
    """
    if not 0 < mass <= 1:
        raise ValueError(f"mass must be in (0, 1], got {mass!r}")
    v = np.clip(np.asarray(spatial_map, dtype=np.float64).ravel(), 0.0, None)
    total = v.sum()
    if not total > 0:
        return float("nan")
    cumulative = np.cumsum(np.sort(v)[::-1]) / total
    # Tolerance: a uniform map must reach exactly ``mass`` at mass * n pixels.
    k = int(np.searchsorted(cumulative, mass - 1e-12)) + 1
    return min(k, v.size) / v.size


def robustness(clean_pred, corrupted_preds) -> float:
    """Share of corrupted copies on which the prediction equals the clean one.

    Parameters
    ----------
    clean_pred:
        Class predicted on the clean image (int).
    corrupted_preds:
        Classes predicted on its corrupted copies (sequence or array of ints).

    Returns
    -------
    float
        In ``[0, 1]`` (1: the prediction never changes).

    Raises
    ------
    ValueError
        No corrupted prediction given.
    """
    preds = np.asarray(corrupted_preds).ravel()
    if preds.size == 0:
        raise ValueError("robustness needs at least one corrupted prediction")
    return float(np.mean(preds == int(clean_pred)))


# --------------------------------------------------------------------------
# Model queries
# --------------------------------------------------------------------------
# numpy < 2 names it trapz.
_trapezoid = getattr(np, "trapezoid", None) or getattr(np, "trapz")

def _device(model, context) -> torch.device:
    """Where masks are built: the model's device, else the context's, else the CPU."""
    dev = model_device(model) if model is not None else None
    if dev is not None:
        return dev
    tensors = getattr(context, "tensors", None)
    if isinstance(tensors, dict):
        for t in tensors.values():
            if isinstance(t, torch.Tensor):
                return t.device
    return torch.device("cpu")


def _logits(model, perturbation, context, masks: np.ndarray, batch_size: int,
            autocast: str | None = None, *,
            precision: str = "float32", backend: str = "eager") -> torch.Tensor:
    """Logits ``(m, K)`` (float32, CPU) of the images built from ``masks`` ``(m, d)``.

    The images are built a batch at a time and go through the package's one
    forward loop (:class:`~spectral_attribution.models.forward.ForwardPass`).
    """
    forward = ForwardPass(model, batch_size, precision, backend, autocast=autocast)
    device = _device(model, context)

    def images():
        for start in range(0, len(masks), forward.batch_size):
            m = torch.as_tensor(np.asarray(masks[start:start + forward.batch_size], dtype=np.float32),
                                device=device)
            yield perturbation(context, m)

    return forward(images())


def _scores(logits: torch.Tensor, target: int, score: str) -> np.ndarray:
    if not 0 <= target < logits.shape[-1]:
        raise ValueError(f"target {target} is outside the model's {logits.shape[-1]} classes "
                         f"[0, {logits.shape[-1]})")
    if score == "logit":
        return logits[:, target].double().numpy()
    if score == "probability":
        return torch.softmax(logits.double(), dim=-1)[:, target].numpy()
    raise ValueError(f"score must be 'logit' or 'probability', got {score!r}")


def _dim(perturbation, dim=None) -> int:
    d = dim if dim is not None else getattr(perturbation, "dim", None)
    if d is None:
        raise ValueError("the perturbation has no 'dim'; pass dim explicitly")
    return int(d)


def importance_order(attribution) -> np.ndarray:
    """Cells in decreasing order of importance: ``argsort`` of ``-attribution`` (stable).

    ``attribution`` is any array of ``d`` values (e.g. ``Explanation.indices``
    ``(g, g)``, read row-major); returns an ``int64`` permutation of ``0..d-1``.
    Ties keep the row-major order.
    """
    a = np.asarray(attribution, dtype=np.float64).ravel()
    return np.argsort(-a, kind="stable")


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


# --------------------------------------------------------------------------
# Faithfulness
# --------------------------------------------------------------------------
def mu_fidelity(model, perturbation, context, attribution, target: int,
                subset_fraction: float = 0.2, nb_subsets: int = 128, seed: int | Sequence[int] = 0,
                batch_size: int = 64, score: str = "logit", correlation: str = "spearman",
                autocast: str | None = None, *,
            precision: str = "float32", backend: str = "eager") -> float:
    """mu-fidelity (Bhatt, Weller & Moura, IJCAI 2020) of an attribution over cells.

    Draw ``nb_subsets`` random subsets ``S`` of ``round(subset_fraction * d)``
    cells (without replacement within a subset; ``numpy.random.default_rng(seed)``,
    ``seed`` an int or a sequence of ints).
    For each, remove the cells of ``S`` (mask 0 on ``S``, 1 elsewhere) and
    measure the drop ``f(x) - f(x_{S removed})`` of the target's score, where
    ``f(x)`` is the score of the all-ones mask (the unperturbed image as the
    perturbation rebuilds it). mu-fidelity is the correlation, over subsets,
    between ``sum_{i in S} attribution[i]`` and the drop. Removing a cell
    means zeroing its wavelet coefficients for a
    :class:`~spectral_attribution.attributions.perturbations.WaveletPerturbation` and its
    pixels for a :class:`~spectral_attribution.attributions.perturbations.SpatialPerturbation`.

    Parameters
    ----------
    attribution:
        ``d`` values (e.g. ``Explanation.indices``, row-major).
    subset_fraction:
        Subset size as a share of the cells, in ``(0, 1)`` (0.2 as in Xplique).
    score:
        ``"logit"`` (default: the quantity Sobol' indices explain) or
        ``"probability"`` (softmax).
    correlation:
        ``"spearman"`` (default, as METHOD.md) or ``"pearson"`` (Bhatt et al.'s
        original definition).

    Returns
    -------
    float
        In ``[-1, 1]``, higher is more faithful; NaN when the attribution
        sums or the drops are constant over the subsets.

    Raises
    ------
    ValueError
        ``attribution`` not of size ``d``, bad fraction, score or correlation,
        fewer than 2 subsets (:mod:`spectral_attribution._utils.parameters`).
    """
    target = parameters.check_target(target)
    d = _dim(perturbation)
    a = np.asarray(attribution, dtype=np.float64).ravel()
    if a.size != d:
        raise ValueError(f"attribution has {a.size} values, the perturbation has d={d} cells")
    subset_fraction = parameters.check_subset_fraction(subset_fraction)
    nb_subsets = parameters.check_nb_subsets(nb_subsets)
    if correlation not in ("spearman", "pearson"):
        raise ValueError(f"correlation must be 'spearman' or 'pearson', got {correlation!r}")
    subsets = removal_subsets(d, subset_fraction, nb_subsets, seed)
    drops = subset_drops(model, perturbation, context, target, subsets, batch_size, score, autocast, precision=precision, backend=backend)
    return mu_fidelity_from_drops(a, subsets, drops, correlation)


def removal_subsets(dim: int, subset_fraction: float = 0.2, nb_subsets: int = 128,
                    seed: int | Sequence[int] = 0, allowed=None) -> np.ndarray:
    """The random subsets of cells removed by :func:`mu_fidelity`, one row per subset.

    Subset ``s`` is ``rng.choice(d, size, replace=False)`` (or a choice
    among ``allowed``), drawn in sequence from
    ``rng = numpy.random.default_rng(seed)``, with ``size =
    max(1, round(subset_fraction * d))`` (at most ``len(allowed)``).

    Parameters
    ----------
    allowed:
        Cells a subset may hold (e.g. every cell but the approximation's);
        ``None``: all ``d``.

    Returns
    -------
    numpy.ndarray
        ``int64`` ``(nb_subsets, size)``.

    Raises
    ------
    ValueError
        ``subset_fraction`` outside ``(0, 1)``, ``nb_subsets < 1``, or no allowed cell.
    """
    d = int(dim)
    if not 0 < subset_fraction < 1:
        raise ValueError(f"subset_fraction must be in (0, 1), got {subset_fraction!r}")
    if int(nb_subsets) != nb_subsets or nb_subsets < 1:
        raise ValueError(f"nb_subsets must be a positive integer, got {nb_subsets!r}")
    pool = d if allowed is None else np.asarray(allowed, dtype=np.int64).ravel()
    available = d if allowed is None else pool.size
    if available < 1:
        raise ValueError("no cell is allowed in the subsets")
    size = min(max(1, int(round(subset_fraction * d))), available)
    rng = np.random.default_rng(seed)
    return np.stack([rng.choice(pool, size=size, replace=False)
                     for _ in range(int(nb_subsets))]).astype(np.int64)


def subset_drops(model, perturbation, context, target: int, subsets, batch_size: int = 64,
                 score: str = "logit", autocast: str | None = None, *,
            precision: str = "float32", backend: str = "eager") -> np.ndarray:
    """Drops ``f(x) - f(x_{S removed})`` of the target's score, one per row of ``subsets``.

    ``f(x)`` is the score of the all-ones mask. The forward passes
    (``len(subsets) + 1``) do not depend on any attribution, so the drops
    serve every attribution of an image (:func:`mu_fidelity_from_drops`).
    Returns ``float64`` ``(nb_subsets,)``.
    """
    target = parameters.check_target(target)
    d = _dim(perturbation)
    subsets = np.asarray(subsets, dtype=np.int64)
    masks = np.ones((len(subsets) + 1, d), dtype=np.float32)
    for s, subset in enumerate(subsets):
        masks[s + 1, subset] = 0.0
    scores = _scores(_logits(model, perturbation, context, masks, batch_size, autocast, precision=precision, backend=backend),
                     int(target), score)
    return scores[0] - scores[1:]


def mu_fidelity_from_drops(attribution, subsets, drops, correlation: str = "spearman") -> float:
    """mu-fidelity of ``attribution`` from precomputed :func:`subset_drops`.

    The correlation over subsets between ``sum_{i in S} attribution[i]`` and
    the drop; NaN when either is constant. See :func:`mu_fidelity`.
    """
    from scipy import stats

    a = np.asarray(attribution, dtype=np.float64).ravel()
    if correlation not in ("spearman", "pearson"):
        raise ValueError(f"correlation must be 'spearman' or 'pearson', got {correlation!r}")
    sums = a[np.asarray(subsets, dtype=np.int64)].sum(axis=1)
    drops = np.asarray(drops, dtype=np.float64)
    if np.ptp(sums) == 0 or np.ptp(drops) == 0:
        return float("nan")
    fn = stats.spearmanr if correlation == "spearman" else stats.pearsonr
    return float(fn(sums, drops)[0])


def insertion_deletion(model, perturbation, context, attribution, target: int, steps: int = 32,
                       batch_size: int = 64, score: str = "probability",
                       autocast: str | None = None, *,
            precision: str = "float32", backend: str = "eager") -> dict:
    """Insertion and deletion curves and their areas (Petsiuk, Das & Saenko, BMVC 2018).

    Cells are taken in decreasing order of ``attribution``. At step
    ``s = 0..steps`` the first ``k_s = round(s d / steps)`` cells are
    *inserted* into an empty input (mask 1 on them, 0 elsewhere: all
    coefficients or pixels zero at ``s = 0``) or *deleted* from the full
    input (mask 0 on them, 1 elsewhere). The curves are the target's score
    against the fraction ``k_s / d``; the areas under them are computed with
    the trapezoidal rule over ``[0, 1]``. A faithful attribution has a high
    insertion and a low deletion area.

    Parameters
    ----------
    attribution:
        ``d`` values (e.g. ``Explanation.indices``).
    steps:
        Number of steps (``steps + 1`` points per curve, ``2 (steps + 1)``
        forward passes).
    score:
        ``"probability"`` (default, softmax of the target as in Petsiuk et
        al.; areas in ``[0, 1]``) or ``"logit"``.

    Returns
    -------
    dict
        ``fractions`` ``(steps + 1,)``, ``insertion`` and ``deletion`` curves
        ``(steps + 1,)``, ``insertion_auc`` and ``deletion_auc`` (floats).
    """
    target = parameters.check_target(target)
    d = _dim(perturbation)
    a = np.asarray(attribution, dtype=np.float64).ravel()
    if a.size != d:
        raise ValueError(f"attribution has {a.size} values, the perturbation has d={d} cells")
    steps = parameters.check_steps(steps)
    ks = np.unique(np.round(np.arange(int(steps) + 1) * d / int(steps)).astype(np.int64))
    inserted = top_k_masks(importance_order(a), ks, d)
    deleted = 1.0 - inserted
    scores = _scores(_logits(model, perturbation, context, np.concatenate([inserted, deleted]),
                             batch_size, autocast, precision=precision, backend=backend), int(target), score)
    fractions = ks / d
    insertion, deletion = scores[:len(ks)], scores[len(ks):]
    return {"fractions": fractions, "insertion": insertion, "deletion": deletion,
            "insertion_auc": float(_trapezoid(insertion, fractions)),
            "deletion_auc": float(_trapezoid(deletion, fractions))}


def insertion_auc(model, perturbation, context, attribution, target: int, **kwargs) -> float:
    """Area under the insertion curve; see :func:`insertion_deletion`."""
    return insertion_deletion(model, perturbation, context, attribution, target, **kwargs)["insertion_auc"]


def deletion_auc(model, perturbation, context, attribution, target: int, **kwargs) -> float:
    """Area under the deletion curve; see :func:`insertion_deletion`."""
    return insertion_deletion(model, perturbation, context, attribution, target, **kwargs)["deletion_auc"]

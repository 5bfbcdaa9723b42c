"""Level contributions of a WCAM and the spread of a spatial map (METHOD.md, section 4).

Pure functions of arrays: how a WCAM's importance splits between the
approximation and the detail levels of the wavelet transform
(:func:`level_contributions`, :func:`approximation_share`,
:func:`approximation_mass`), and the share of pixels holding most of a
spatial map's mass (:func:`spatial_spread`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "level_contributions",
    "approximation_share",
    "approximation_mass",
    "spatial_spread",
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

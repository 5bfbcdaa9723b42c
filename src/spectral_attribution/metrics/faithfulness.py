"""Faithfulness of an attribution, written generically over any perturbation.

mu-fidelity (Bhatt et al., IJCAI 2020: correlation between the attribution
mass of random removal subsets and the score drop they cause;
:func:`mu_fidelity`, with its parts :func:`removal_subsets`,
:func:`subset_drops`, :func:`mu_fidelity_from_drops`), insertion and deletion
(Petsiuk et al., BMVC 2018: area under the score curve as cells are inserted
into a baseline or deleted from the image in decreasing order of importance;
:func:`insertion_deletion`, :func:`insertion_auc`, :func:`deletion_auc`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from spectral_attribution._utils import parameters
from spectral_attribution.metrics._queries import _dim, _logits, _scores, _trapezoid
from spectral_attribution.metrics.reconstruction import importance_order, top_k_masks

__all__ = [
    "mu_fidelity",
    "removal_subsets",
    "subset_drops",
    "mu_fidelity_from_drops",
    "insertion_deletion",
    "insertion_auc",
    "deletion_auc",
]


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
            precision: str = "float32", backend: str = "eager", tie_break=None) -> dict:
    """Insertion and deletion curves and their areas (Petsiuk, Das & Saenko, BMVC 2018).

    ``tie_break`` (``d`` values or ``None``) orders cells of equal attribution
    (:func:`~spectral_attribution.metrics.reconstruction.importance_order`): a
    screened WCAM passes its ``bounds``.

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
    inserted = top_k_masks(importance_order(a, tie_break), ks, d)
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

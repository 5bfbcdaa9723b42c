"""Model-free baselines of the WCAM: orders and attributions that know the wavelet levels only.

Almost all of an image's content sits in the approximation and the coarse
detail levels, so a rule that knows nothing of the model or the image but
the level of each grid cell is a strong baseline for any claim made with a
WCAM (reconstruction depth, faithfulness). Everything here is computed from
the geometry of the grid over the dyadic layout
(:class:`~spectral_attribution.attributions.transforms.SubBand` blocks, the cells of
:func:`~spectral_attribution.attributions.perturbations.cell_ranges`) and a seed; nothing
queries a model.

Level rank of a cell
--------------------
:func:`cell_level_ranks`: 0 for the approximation, then ``1`` for the
coarsest detail level ``J``, ..., ``J`` for the finest level 1. A cell that
straddles several blocks (e.g. grid 28 at 224 px, ``J = 3``: 8-px cells over
a 28-px approximation block) takes its **coarsest** rank: it holds coarse
coefficients, and removing it removes them. A cell over no block (layout
positions outside every sub-band, possible for long wavelets) takes the
finest rank ``J``.

Orders (permutations of the ``d = g^2`` cells, most important first)
--------------------------------------------------------------------
* :func:`random_order` -- a uniform random permutation.
* :func:`coarse_to_fine_order` -- cells by increasing level rank
  (approximation first, finest level last), ties in random order.
* :func:`within_level_order` -- a reference order (typically the WCAM's,
  :func:`approximation_first`) with the cells of each level permuted at
  random among the positions that level holds in it: the sequence of levels
  is the reference's, which cell of a level comes where is random. Against
  it, the WCAM order can only win by choosing *which* cells of a level
  (where, which orientation), not by how it allocates cells to levels.
* :func:`approximation_first` -- a reference order with its approximation
  cells moved to the front (in their reference order).

Attributions (one value per cell, ``(g, g)`` float64)
-----------------------------------------------------
* :func:`level_prior` -- ``J + 1`` on the approximation, ``j`` on detail
  level ``j`` (4, 3, 2, 1 for ``J = 3``).
* :func:`random_attribution` -- i.i.d. uniform values in ``[0, 1)``.
* :func:`centre_distance_prior` -- for a spatial grid (spatial Sobol'):
  ``1 - r / r_max``, ``r`` the distance of the cell's centre to the image
  centre (1 at the centre, 0 at the farthest cell).

Image-dependent baselines: the image's own energy (no model)
-------------------------------------------------------------
Every baseline above ignores the image. The ones below look at it, but not
at any model: the *energy* of a cell is the sum of the squared wavelet
coefficients under it, over the colour channels, in the WCAM's own layout
(the same :class:`~spectral_attribution.attributions.transforms.WaveletTransform`,
padding included, and the same cells,
:func:`~spectral_attribution.attributions.perturbations.cell_ranges` of the
layout, as :class:`~spectral_attribution.attributions.perturbations.WaveletPerturbation`).

* :func:`energy_layout` -- squared coefficients per layout position,
  normalised across levels by one of :data:`ENERGY_NORMALISATIONS`:
  ``"raw"`` (as they are), ``"per-coefficient"`` (divided by the mean energy
  of a coefficient of the same level, so every level has mean 1) or
  ``"per-level"`` (divided by the level's total, so every level sums to 1).
  The levels are the approximation and the union of the three detail
  blocks of each ``j``, as in :func:`~spectral_attribution.metrics.level_contributions`.
* :func:`cell_energy` -- the layout energy summed over each cell, ``(g, g)``:
  the energy map as an attribution (insertion, deletion, mu-fidelity).
* :func:`energy_order` -- cells by decreasing energy, ties at random.

Declared normalisation: :data:`ENERGY_NORMALISATION` is the one the claims
use. It was decided, before the claims run, as the normalisation whose
energy order has the shallowest median reconstruction depth on 8
ImageNet-sample photographs (``benchmarks/claims_energy_normalisation.py``,
results in ``benchmarks/results/claims_energy_normalisation``): the claim
must beat the strongest trivial baseline, not the weakest.

Seeds: every random baseline takes ``seed``, an int or a sequence of ints
handed to :func:`numpy.random.default_rng`, so that a baseline is the same
on every machine; the studies use ``(seed, image_index, draw, kind)``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from spectral_attribution.attributions.perturbations import cell_ranges
from spectral_attribution.attributions.transforms import SubBand, WaveletTransform

__all__ = [
    "cell_level_ranks",
    "level_names",
    "random_order",
    "coarse_to_fine_order",
    "approximation_first",
    "within_level_order",
    "level_prior",
    "random_attribution",
    "centre_distance_prior",
    "BASELINE_KINDS",
    "ENERGY_NORMALISATIONS",
    "ENERGY_NORMALISATION",
    "energy_layout",
    "cell_energy",
    "energy_order",
]

#: Last element of the seed sequence of each random baseline in the studies,
#: ``(seed, image_index, draw, kind)``, so that two baselines of one image
#: never share a stream.
BASELINE_KINDS: dict[str, int] = {"coarse_to_fine": 1, "within_level": 2,
                                  "random_attribution": 3, "random_order": 4, "energy": 5}

#: How :func:`energy_layout` weighs the levels against each other.
ENERGY_NORMALISATIONS = ("raw", "per-coefficient", "per-level")
#: The normalisation of the energy baselines in the claims (see the module notes:
#: the strongest of :data:`ENERGY_NORMALISATIONS` on 8 photographs, decided before the claims run).
ENERGY_NORMALISATION = "raw"


def _rng(seed) -> np.random.Generator:
    return np.random.default_rng([int(v) for v in np.atleast_1d(seed)])


def _geometry(explanation_or_subbands, grid_size):
    """``(subbands, (Hl, Wl), g)`` from an Explanation or from explicit sub-bands."""
    if hasattr(explanation_or_subbands, "settings"):
        e = explanation_or_subbands
        s = e.settings
        try:
            transform = WaveletTransform(s.get("wavelet", "haar"), int(s["levels"]))
            bands = transform.subbands(*s["image_size"])
            g = int(s["grid_size"]) if grid_size is None else int(grid_size)
        except KeyError as err:
            raise ValueError(f"explanation settings lack {err}; cannot place its grid cells") from None
    else:
        bands = list(explanation_or_subbands)
        if grid_size is None:
            raise ValueError("grid_size is needed when sub-bands are given")
        g = int(grid_size)
    if not bands or not all(isinstance(b, SubBand) for b in bands):
        raise ValueError("expected a WCAM explanation or a list of SubBand blocks")
    shape = (max(b.rows[1] for b in bands), max(b.cols[1] for b in bands))
    return bands, shape, g


def cell_level_ranks(explanation_or_subbands, grid_size: int | None = None) -> np.ndarray:
    """Level rank of every grid cell: 0 approximation, 1 coarsest details (level ``J``) .. ``J`` finest.

    Parameters
    ----------
    explanation_or_subbands:
        A WCAM :class:`~spectral_attribution.attributions.explanation.Explanation` (its
        settings give the wavelet, ``J``, the image size and ``g``), or the
        layout's sub-bands
        (:meth:`~spectral_attribution.attributions.transforms.WaveletTransform.subbands`).
    grid_size:
        ``g``; required with sub-bands, overrides the explanation's otherwise.

    Returns
    -------
    numpy.ndarray
        ``int64`` ``(g, g)``, row-major cells as ``Explanation.indices``. A
        straddling cell gets its coarsest rank; a cell over no block ``J``.

    Raises
    ------
    ValueError
        Neither an explanation with ``levels``, ``image_size``,
        ``grid_size`` settings nor a list of sub-bands.
    """
    bands, (height, width), g = _geometry(explanation_or_subbands, grid_size)
    levels = max(b.level for b in bands)
    rows, cols = cell_ranges(g, height), cell_ranges(g, width)
    ranks = np.full((g, g), levels, dtype=np.int64)
    for band in bands:
        rank = 0 if band.name == "approximation" else levels - band.level + 1
        # cells whose row and column ranges both meet the block
        r = (rows[:, 0] < band.rows[1]) & (rows[:, 1] > band.rows[0]) & (rows[:, 1] > rows[:, 0])
        c = (cols[:, 0] < band.cols[1]) & (cols[:, 1] > band.cols[0]) & (cols[:, 1] > cols[:, 0])
        hit = np.outer(r, c)
        ranks[hit] = np.minimum(ranks[hit], rank)
    return ranks


def level_names(levels: int) -> list[str]:
    """Names of the level ranks ``0..J``: ``["approximation", "level_J", ..., "level_1"]``."""
    return ["approximation"] + [f"level_{j}" for j in range(int(levels), 0, -1)]


def _ranks(ranks) -> np.ndarray:
    r = np.asarray(ranks)
    if r.size == 0 or not np.issubdtype(r.dtype, np.integer) or r.min() < 0:
        raise ValueError("ranks must be non-negative integers (cell_level_ranks)")
    return r.ravel().astype(np.int64)


def random_order(dim: int, seed: int | Sequence[int] = 0) -> np.ndarray:
    """A uniform random permutation of the ``dim`` cells (``int64``)."""
    if int(dim) != dim or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    return _rng(seed).permutation(int(dim)).astype(np.int64)


def coarse_to_fine_order(ranks, seed: int | Sequence[int] = 0) -> np.ndarray:
    """Cells by increasing level rank (approximation first, finest last), ties in random order.

    Parameters
    ----------
    ranks:
        :func:`cell_level_ranks` (any shape; read row-major).
    seed:
        Seed of the tie-breaking permutation.

    Returns
    -------
    numpy.ndarray
        ``int64`` permutation of ``0..d-1``.
    """
    r = _ranks(ranks)
    shuffled = _rng(seed).permutation(r.size)
    return shuffled[np.argsort(r[shuffled], kind="stable")].astype(np.int64)


def approximation_first(order, ranks) -> np.ndarray:
    """``order`` with its approximation cells (rank 0) moved to the front, each part in its own order."""
    r = _ranks(ranks)
    order = np.asarray(order, dtype=np.int64).ravel()
    if order.size != r.size or not np.array_equal(np.sort(order), np.arange(r.size)):
        raise ValueError(f"order must be a permutation of the {r.size} cells")
    first = r[order] == 0
    return np.concatenate([order[first], order[~first]])


def within_level_order(ranks, seed: int | Sequence[int] = 0, reference=None) -> np.ndarray:
    """A reference order with the cells of each level permuted at random among that level's positions.

    Parameters
    ----------
    ranks:
        :func:`cell_level_ranks`.
    seed:
        Seed of the permutations (one per level, in rank order).
    reference:
        Permutation of the cells whose sequence of levels is kept (e.g.
        ``approximation_first(importance_order(wcam.indices), ranks)``);
        ``None``: the coarse-to-fine sequence (then the result is
        distributed as :func:`coarse_to_fine_order`).

    Returns
    -------
    numpy.ndarray
        ``int64`` permutation ``o`` with ``ranks[o[k]] == ranks[reference[k]]``
        for every position ``k``.
    """
    r = _ranks(ranks)
    if reference is None:
        reference = np.argsort(r, kind="stable")
    reference = np.asarray(reference, dtype=np.int64).ravel()
    if reference.size != r.size or not np.array_equal(np.sort(reference), np.arange(r.size)):
        raise ValueError(f"reference must be a permutation of the {r.size} cells")
    rng = _rng(seed)
    out = reference.copy()
    seq = r[reference]
    for rank in np.unique(r):
        slots = np.flatnonzero(seq == rank)
        out[slots] = rng.permutation(reference[slots])
    return out


def level_prior(ranks) -> np.ndarray:
    """The level prior as an attribution: ``J + 1`` on the approximation, ``j`` on detail level ``j``.

    With ranks ``0..J`` (:func:`cell_level_ranks`) the value is
    ``J + 1 - rank`` (4, 3, 2, 1 for ``J = 3``). ``J`` is the largest rank
    present, so pass the ranks of a whole grid. Returns ``float64`` of the
    shape of ``ranks``.
    """
    r = np.asarray(ranks)
    _ranks(r)
    return (int(r.max()) + 1 - r).astype(np.float64)


def random_attribution(shape, seed: int | Sequence[int] = 0) -> np.ndarray:
    """I.i.d. uniform values in ``[0, 1)`` of ``shape`` (``float64``), seeded."""
    return _rng(seed).random(tuple(np.atleast_1d(shape).astype(int)))


def centre_distance_prior(grid_size: int, image_size: tuple[int, int]) -> np.ndarray:
    """The centre prior of a spatial grid: ``1 - r / r_max`` per cell.

    ``r`` is the Euclidean distance, in pixels, from the centre of the
    cell's pixel box (the cells of
    :class:`~spectral_attribution.attributions.perturbations.SpatialPerturbation`,
    :func:`~spectral_attribution.attributions.perturbations.cell_ranges`) to the image
    centre ``(H / 2, W / 2)``. Returns ``float64`` ``(g, g)`` in ``[0, 1]``:
    largest at the cells nearest the centre (1 for a cell centred on it),
    0 at the farthest cells; all ones for ``g = 1``.
    """
    g = int(grid_size)
    height, width = (int(v) for v in image_size)
    rows, cols = cell_ranges(g, height), cell_ranges(g, width)
    cy = (rows[:, 0] + rows[:, 1]) / 2 - height / 2
    cx = (cols[:, 0] + cols[:, 1]) / 2 - width / 2
    r = np.sqrt(cy[:, None] ** 2 + cx[None, :] ** 2)
    top = r.max()
    return np.ones((g, g)) if top == 0 else 1.0 - r / top


# --------------------------------------------------------------------------
# The image's own energy
# --------------------------------------------------------------------------
def _level_key(band: SubBand) -> str:
    return "approximation" if band.name == "approximation" else f"level_{band.level}"


def energy_layout(image, wavelet: str = "haar", levels: int = 3,
                  normalisation: str = ENERGY_NORMALISATION) -> tuple[np.ndarray, list[SubBand]]:
    """Energy of the image's wavelet coefficients at every position of the dyadic layout.

    Parameters
    ----------
    image:
        ``(C, H, W)`` or ``(1, C, H, W)`` float tensor or array (the image the
        WCAM explains, in ``[0, 1]``).
    wavelet, levels:
        The WCAM's transform (:class:`~spectral_attribution.attributions.transforms.WaveletTransform`).
    normalisation:
        One of :data:`ENERGY_NORMALISATIONS` (see the module notes).

    Returns
    -------
    (numpy.ndarray, list of SubBand)
        ``float64`` ``(Hl, Wl)`` energy (sum over channels of the squared
        coefficients, then normalised; >= 0; positions outside every block
        keep their raw value, 0 for Haar), and the layout's blocks.

    Raises
    ------
    ValueError
        Unknown normalisation, or not a 3- or 4-dimensional image.
    """
    import torch

    if normalisation not in ENERGY_NORMALISATIONS:
        raise ValueError(f"normalisation must be one of {ENERGY_NORMALISATIONS}, got {normalisation!r}")
    x = torch.as_tensor(np.asarray(image) if not isinstance(image, torch.Tensor) else image)
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4 or x.shape[0] != 1:
        raise ValueError(f"image must be (C, H, W) or (1, C, H, W), got shape {tuple(x.shape)}")
    transform = WaveletTransform(wavelet, int(levels))
    height, width = int(x.shape[-2]), int(x.shape[-1])
    layout = transform.forward(x.detach().to("cpu", torch.float64))
    energy = (layout[0] ** 2).sum(dim=0).numpy().astype(np.float64)
    bands = transform.subbands(height, width)
    if normalisation != "raw":
        total: dict[str, float] = {}
        count: dict[str, int] = {}
        for band in bands:
            key = _level_key(band)
            total[key] = total.get(key, 0.0) + float(energy[band.slices].sum())
            count[key] = count.get(key, 0) + band.size
        out = energy.copy()
        for band in bands:
            key = _level_key(band)
            scale = total[key] / count[key] if normalisation == "per-coefficient" else total[key]
            out[band.slices] = energy[band.slices] / scale if scale > 0 else 0.0
        energy = out
    return energy, bands


def cell_energy(energy: np.ndarray, grid_size: int) -> np.ndarray:
    """The energy map as an attribution: :func:`energy_layout` summed over each ``g x g`` cell.

    Cells are those of the WCAM's perturbation
    (:func:`~spectral_attribution.attributions.perturbations.cell_ranges` over
    the layout). Returns ``float64`` ``(g, g)``, row-major like
    ``Explanation.indices``; an empty cell (``g`` above the layout size) is 0.
    """
    e = np.asarray(energy, dtype=np.float64)
    g = int(grid_size)
    rows, cols = cell_ranges(g, e.shape[0]), cell_ranges(g, e.shape[1])
    out = np.zeros((g, g))
    for a, (r0, r1) in enumerate(rows):
        for b, (c0, c1) in enumerate(cols):
            out[a, b] = e[r0:r1, c0:c1].sum()
    return out


def energy_order(cells, seed: int | Sequence[int] = 0) -> np.ndarray:
    """Cells by decreasing energy (:func:`cell_energy`), ties in random (seeded) order.

    Returns the ``int64`` permutation of ``0..d-1`` (most energetic first).
    """
    v = np.asarray(cells, dtype=np.float64).ravel()
    shuffled = _rng(seed).permutation(v.size)
    return shuffled[np.argsort(-v[shuffled], kind="stable")].astype(np.int64)

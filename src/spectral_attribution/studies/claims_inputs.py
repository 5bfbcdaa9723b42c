"""Per-image inputs of the claims table: depths of every order, depths joined with robustness.

Split out of :mod:`spectral_attribution.studies.claims` (the table itself):
what the comparisons are made of, read from the study tables.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from spectral_attribution import metrics
from spectral_attribution._utils.tables import require_columns
from spectral_attribution.attributions.perturbations import cell_ranges
from spectral_attribution.attributions.transforms import WaveletTransform
from spectral_attribution.studies.baselines import cell_level_ranks, level_prior

__all__ = ["censor", "depth_per_image", "model_free_level_share", "depths_with_robustness",
           "clean_confidence"]


def censor(depth, dim) -> np.ndarray:
    """Depths in cells with unreached ones (NaN) set to ``dim + 1`` (``float64``)."""
    depth = np.asarray(depth, dtype=np.float64)
    return np.where(np.isnan(depth), np.asarray(dim, dtype=np.float64) + 1, depth)


def _median_of_draws(text, dim: int) -> float:
    draws = [float(v) for v in str(text).split(";") if v.strip() != ""]
    if not draws:
        return float("nan")
    return float(np.median(censor(draws, dim)))


def depth_per_image(reconstruction: pd.DataFrame, depth_baselines: pd.DataFrame | None = None
                    ) -> pd.DataFrame:
    """Reconstruction depths of every image and order in one long table.

    ``wcam`` and ``random`` come from the sufficient reconstruction study
    (:func:`~spectral_attribution.studies.reconstruction.sufficient_reconstruction`:
    ``depth``, and the median of the draws in ``random_depths``), the other
    orders (``coarse_to_fine``, ``within_level``, ``energy``, ...) from
    :func:`~spectral_attribution.studies.depth_baselines.baseline_depths`
    (when it also holds ``wcam`` or ``random``, the study's values are kept).
    Unreached depths (NaN) are censored at ``d + 1``.

    Returns
    -------
    pandas.DataFrame
        Columns ``model, image_id, condition, order, dim, depth,
        depth_share`` (``depth_share = depth / d``).
    """
    require_columns(reconstruction, ["model", "image_id", "condition", "dim", "depth"],
                    "reconstruction table")
    base = reconstruction[["model", "image_id", "condition", "dim"]].reset_index(drop=True)
    frames = [base.assign(order="wcam", depth=censor(reconstruction["depth"], reconstruction["dim"]))]
    if "random_depths" in reconstruction.columns:
        frames.append(base.assign(order="random", depth=[
            _median_of_draws(t, int(d)) for t, d in zip(reconstruction["random_depths"],
                                                         reconstruction["dim"])]))
    if depth_baselines is not None and not depth_baselines.empty:
        require_columns(depth_baselines, ["model", "image_id", "condition", "order", "dim", "depth"],
                        "baseline depths table")
        taken = {f["order"].iloc[0] for f in frames if len(f)}
        extra = depth_baselines[~depth_baselines["order"].isin(taken)]
        frames.append(extra[["model", "image_id", "condition", "dim", "order", "depth"]]
                      .assign(depth=lambda f: censor(f["depth"], f["dim"])))
    out = pd.concat(frames, ignore_index=True)
    out["depth_share"] = out["depth"] / out["dim"]
    return out[["model", "image_id", "condition", "order", "dim", "depth", "depth_share"]]


def model_free_level_share(kind: str, grid_size: int, size: int, levels: int,
                           wavelet: str = "haar", normalise_over: Sequence[str] | None = None) -> float:
    """Approximation share of a model-free, image-free map, by the zoom study's definition.

    The map is ``kind`` on the ``g x g`` grid over the dyadic layout of a
    ``size x size`` image at ``J = levels`` -- ``"uniform"`` (every cell 1)
    or ``"level-prior"`` (:func:`~spectral_attribution.studies.baselines.level_prior`)
    -- upsampled to the layout like a WCAM's map, and summarised by
    :func:`spectral_attribution.metrics.level_contributions` (per
    coefficient; over the levels ``normalise_over`` when given). A constant:
    the part of a change between views that the definition alone gives.
    """
    transform = WaveletTransform(wavelet, int(levels))
    bands = transform.subbands(int(size), int(size))
    height, width = transform.layout_shape(int(size), int(size))
    g = int(grid_size)
    if kind == "uniform":
        cells = np.ones((g, g))
    elif kind == "level-prior":
        cells = level_prior(cell_level_ranks(bands, g))
    else:
        raise ValueError(f"kind must be 'uniform' or 'level-prior', got {kind!r}")
    rows, cols = cell_ranges(g, height), cell_ranges(g, width)
    grid_map = np.repeat(np.repeat(cells, rows[:, 1] - rows[:, 0], axis=0), cols[:, 1] - cols[:, 0], axis=1)
    extra = {} if normalise_over is None else {"normalise_over": list(normalise_over)}
    return float(metrics.level_contributions(grid_map, bands, True, **extra)["approximation"])


def clean_confidence(depth_baselines: pd.DataFrame | None) -> pd.DataFrame | None:
    """``model, image_id, confidence`` of the clean images (softmax of the prediction), or ``None``."""
    if depth_baselines is None or not {"confidence", "condition"} <= set(depth_baselines.columns):
        return None
    return (depth_baselines[depth_baselines["condition"] == "clean"]
            .groupby(["model", "image_id"], sort=False)["confidence"].first().reset_index())


def depths_with_robustness(depths: pd.DataFrame, per_image: pd.DataFrame,
                           confidence: pd.DataFrame | None = None) -> pd.DataFrame:
    """Clean depths (shares of ``d``), one column per order, joined with each image's robustness.

    Robustness over ImageNet-C's 15 standard corruptions (the paper's) when
    ``per_image`` has that column, else over every corruption of the run;
    ``correct`` is True where the clean prediction is the label (False where
    the label is unknown, -1); ``confidence`` joined when given.
    """
    clean = depths[depths["condition"] == "clean"]
    wide = clean.pivot_table(index=["model", "image_id"], columns="order", values="depth_share",
                             aggfunc="first").reset_index()
    wide.columns.name = None
    column = ("robustness_standard" if "robustness_standard" in per_image.columns
              and per_image["robustness_standard"].notna().any() else "robustness")
    keep = ["model", "image_id", column] + [c for c in ("label", "clean_prediction")
                                            if c in per_image.columns]
    out = wide.merge(per_image[keep].rename(columns={column: "robustness"}),
                     on=["model", "image_id"], how="inner")
    if {"label", "clean_prediction"} <= set(out.columns):
        out["correct"] = (out["label"] >= 0) & (out["label"] == out["clean_prediction"])
    else:
        out["correct"] = False
    if confidence is not None:
        out = out.merge(confidence, on=["model", "image_id"], how="left")
    return out

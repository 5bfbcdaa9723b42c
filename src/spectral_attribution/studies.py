"""The studies of *Scale Matters* (Kasmi et al. 2023) as functions returning tidy tables.

Every study takes a :class:`~spectral_attribution.models.ModelWrapper`, images
already prepared for it (``(3, H, W)`` float tensors in ``[0, 1]``, i.e.
after the model's resize and crop, before its normalisation) or PIL images
where the study changes the preprocessing itself (zoom), and returns a
:class:`pandas.DataFrame` in long ("tidy") form: one row per observation, one
column per variable. Tables are written with :func:`write_table`.

Studies (METHOD.md, section 4):

* :func:`corruption_baseline` -- predictions on the ImageNet-C corruptions at
  severities 1-5; :func:`robustness_per_image` turns them into the
  *robustness* of each prediction; :func:`select_corrupted_copies` picks which
  corrupted copies to explain; :func:`corrupted_copy` rebuilds one.
* :func:`sufficient_reconstruction` -- *reconstruction depth* of each image
  with the WCAM order of the grid cells and with random orders.
* :func:`zoom_study` / :func:`zoom_table` -- *level contributions* of the WCAM
  for the regular and the zoomed view.
* :func:`faithfulness` / :func:`faithfulness_table` -- mu-fidelity,
  insertion and deletion of the WCAM and of the spatial Sobol' map.

Common columns: ``model`` (registry name of the model), ``image_id`` (a
string naming the image, e.g. its file name).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from . import metrics
from .corruptions import CORRUPTIONS, check_corruption, check_severity, copy_seed, corrupt

__all__ = [
    "corruption_baseline",
    "robustness_per_image",
    "robustness_per_corruption",
    "select_corrupted_copies",
    "corrupted_copy",
    "wavelet_perturbation_for",
    "sufficient_reconstruction",
    "spatial_perturbation_for",
    "depth_and_robustness",
    "ZOOM_VIEWS",
    "zoom_study",
    "zoom_table",
    "faithfulness",
    "faithfulness_table",
    "write_table",
]

_AUTOCAST = {None: None, "bfloat16": torch.bfloat16, "float16": torch.float16}


def _image_list(images) -> list[torch.Tensor]:
    """``(B, 3, H, W)`` tensor or sequence of ``(3, H, W)`` tensors → list of tensors."""
    if isinstance(images, torch.Tensor):
        if images.ndim == 3:
            images = images.unsqueeze(0)
        if images.ndim != 4:
            raise ValueError(f"images must be (B, 3, H, W), got shape {tuple(images.shape)}")
        return list(images)
    out = [torch.as_tensor(x) for x in images]
    for x in out:
        if x.ndim != 3:
            raise ValueError(f"each image must be (3, H, W), got shape {tuple(x.shape)}")
    return out


def _check_ids(image_ids, count: int, what: str = "images") -> list[str]:
    ids = [str(i) for i in image_ids]
    if len(ids) != count:
        raise ValueError(f"got {len(ids)} image_ids for {count} {what}")
    return ids


def _model_name(model) -> str:
    return str(getattr(model, "name", type(model).__name__))


def _model_device(model) -> torch.device:
    dev = getattr(model, "device", None)
    return dev if isinstance(dev, torch.device) else torch.device("cpu")


def _predict(model, images: Sequence[torch.Tensor], batch_size: int = 64,
             autocast: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Predicted classes (int64) and their softmax probabilities (float64)."""
    if autocast not in _AUTOCAST:
        raise ValueError(f"autocast must be None, 'bfloat16' or 'float16', got {autocast!r}")
    device = _model_device(model)
    preds, probs = [], []
    for start in range(0, len(images), batch_size):
        x = torch.stack([img.to(device, torch.float32) for img in images[start:start + batch_size]])
        ctx = (torch.autocast(device_type=device.type, dtype=_AUTOCAST[autocast])
               if autocast else _nullcontext())
        with torch.inference_mode(), ctx:
            p = torch.softmax(model(x).double().cpu(), dim=-1)
        top = p.max(dim=-1)
        preds.append(top.indices.numpy())
        probs.append(top.values.numpy())
    if not preds:
        return np.empty(0, np.int64), np.empty(0)
    return np.concatenate(preds).astype(np.int64), np.concatenate(probs)


def _nullcontext():
    import contextlib

    return contextlib.nullcontext()


def _progress(iterable, progress, desc: str, total=None):
    if not progress:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, leave=False)


def corruption_baseline(model, images, image_ids: Sequence[str], corruptions=None,
                        severities: Sequence[int] = (1, 2, 3, 4, 5), seed: int = 0,
                        batch_size: int = 64, labels: Sequence[int] | None = None,
                        autocast: str | None = None, progress=None) -> pd.DataFrame:
    """Predictions of ``model`` on every corrupted copy of every image.

    Parameters
    ----------
    model:
        :class:`~spectral_attribution.models.ModelWrapper` (or any callable
        ``(B, 3, H, W) [0, 1] -> logits (B, K)``).
    images:
        ``(B, 3, H, W)`` float tensor in ``[0, 1]`` or a sequence of ``(3, H, W)``
        tensors, already at the model's input resolution (the corruption is
        applied after resize + crop, as in ImageNet-C).
    image_ids:
        One string per image.
    corruptions:
        Names among :data:`spectral_attribution.corruptions.CORRUPTIONS`;
        ``None`` means all 19 (15 standard + 4 extra).
    severities:
        Integers in 1..5.
    seed:
        Base seed; the copy ``(image i, corruption c, severity s)`` uses
        :func:`spectral_attribution.corruptions.copy_seed` ``(seed, i, c, s)``,
        recorded in column ``copy_seed``.
    labels:
        Optional ground-truth class indices (recorded in column ``label``,
        ``-1`` when not given).

    Returns
    -------
    pandas.DataFrame
        One row per image x corruption x severity, columns
        ``model, image_id, label, clean_prediction, clean_score, corruption,
        severity, copy_seed, corrupted_prediction, corrupted_score,
        same_as_clean`` (scores are softmax probabilities of the predicted
        class, in ``[0, 1]``; ``same_as_clean`` is a bool).

    Raises
    ------
    ValueError
        Unknown corruption, severity outside 1..5, ``len(image_ids)`` not the
        number of images.

    Notes
    -----
    Cost: ``19 x 5`` corruptions per image on the CPU (each under 0.2 s at
    224 px; ``glass_blur`` compiles its numba loop once per process, about
    2 s) plus as many forward passes, batched by ``batch_size``.
    ``autocast`` (``None``, ``"bfloat16"``, ``"float16"``) sets the precision
    of the forward passes.
    """
    images = _image_list(images)
    ids = _check_ids(image_ids, len(images))
    names = list(CORRUPTIONS) if corruptions is None else [check_corruption(c) for c in corruptions]
    severities = [check_severity(v) for v in severities]
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"got {len(labels)} labels for {len(images)} images")
    clean_pred, clean_prob = _predict(model, images, batch_size, autocast)
    rows = []
    for i in _progress(range(len(images)), progress, "corruptions"):
        copies, meta = [], []
        for name in names:
            for sev in severities:
                seed_i = copy_seed(seed, i, name, sev)
                copies.append(corrupt(images[i].detach().cpu().float().clamp(0, 1), name, sev, seed_i))
                meta.append((name, sev, seed_i))
        pred, prob = _predict(model, copies, batch_size, autocast)
        for (name, sev, seed_i), p, q in zip(meta, pred, prob):
            rows.append({
                "model": _model_name(model), "image_id": ids[i],
                "label": int(labels[i]) if labels is not None else -1,
                "clean_prediction": int(clean_pred[i]), "clean_score": float(clean_prob[i]),
                "corruption": name, "severity": sev, "copy_seed": seed_i,
                "corrupted_prediction": int(p), "corrupted_score": float(q),
                "same_as_clean": bool(p == clean_pred[i]),
            })
    columns = ["model", "image_id", "label", "clean_prediction", "clean_score", "corruption",
               "severity", "copy_seed", "corrupted_prediction", "corrupted_score", "same_as_clean"]
    return pd.DataFrame(rows, columns=columns)


def robustness_per_image(baseline: pd.DataFrame) -> pd.DataFrame:
    """Robustness of each prediction from a :func:`corruption_baseline` table.

    Returns
    -------
    pandas.DataFrame
        One row per ``(model, image_id)``, columns ``model, image_id, label,
        clean_prediction, nb_copies, robustness`` with ``robustness`` the share
        (in ``[0, 1]``) of the image's corrupted copies on which the model
        predicts its clean prediction (:func:`spectral_attribution.metrics.robustness`).
    """
    _require(baseline, ["model", "image_id", "clean_prediction", "corrupted_prediction"])
    rows = []
    for (model, image_id), part in baseline.groupby(["model", "image_id"], sort=False):
        clean = int(part["clean_prediction"].iloc[0])
        rows.append({"model": model, "image_id": image_id,
                     "label": int(part["label"].iloc[0]) if "label" in part else -1,
                     "clean_prediction": clean, "nb_copies": len(part),
                     "robustness": metrics.robustness(clean, part["corrupted_prediction"].to_numpy())})
    return pd.DataFrame(rows, columns=["model", "image_id", "label", "clean_prediction",
                                       "nb_copies", "robustness"])


def robustness_per_corruption(baseline: pd.DataFrame) -> pd.DataFrame:
    """Robustness per model, corruption and severity (for :func:`plots.plot_robustness`).

    Returns
    -------
    pandas.DataFrame
        Columns ``model, corruption, severity, nb_images, robustness``
        (mean of ``same_as_clean`` over images, in ``[0, 1]``).
    """
    _require(baseline, ["model", "corruption", "severity", "same_as_clean"])
    out = (baseline.groupby(["model", "corruption", "severity"], sort=False)
           .agg(nb_images=("same_as_clean", "size"), robustness=("same_as_clean", "mean"))
           .reset_index())
    out["robustness"] = out["robustness"].astype(float)
    return out


def select_corrupted_copies(baseline: pd.DataFrame, per_image: int = 1,
                            severities: Sequence[int] | None = None,
                            prefer_changed: bool = True, seed: int = 0) -> pd.DataFrame:
    """Pick, for every ``(model, image_id)``, which corrupted copies to explain.

    Among the rows of ``baseline`` (restricted to ``severities`` when given),
    draw ``per_image`` copies without replacement, seeded; with
    ``prefer_changed`` the copies whose prediction differs from the clean one
    are drawn first (they show where the prediction moves to), then the others.

    Returns
    -------
    pandas.DataFrame
        A subset of the rows of ``baseline`` (same columns), sorted by
        ``model, image_id``.
    """
    _require(baseline, ["model", "image_id", "severity", "same_as_clean"])
    if int(per_image) != per_image or per_image < 1:
        raise ValueError(f"per_image must be a positive integer, got {per_image!r}")
    pool = baseline
    if severities is not None:
        severities = [check_severity(v) for v in severities]
        pool = pool[pool["severity"].isin(severities)]
    picked = []
    for g, (_, part) in enumerate(pool.groupby(["model", "image_id"], sort=True)):
        rng = np.random.default_rng([int(seed), g])
        index = part.index.to_numpy()
        index = index[rng.permutation(len(index))]
        if prefer_changed:
            changed = ~part.loc[index, "same_as_clean"].to_numpy(dtype=bool)
            index = np.concatenate([index[changed], index[~changed]])
        picked.extend(index[:int(per_image)])
    return baseline.loc[picked].sort_values(["model", "image_id"], kind="stable")


def corrupted_copy(image, corruption: str, severity: int, copy_seed: int):
    """Rebuild a corrupted copy recorded in a :func:`corruption_baseline` row.

    ``image`` is the clean ``(3, H, W)`` tensor in ``[0, 1]``; returns the same
    type and shape. Same as :func:`spectral_attribution.corruptions.corrupt`.
    """
    return corrupt(image, corruption, severity, copy_seed)


def wavelet_perturbation_for(explanation):
    """The :class:`~spectral_attribution.perturbations.WaveletPerturbation` an explanation was made with.

    Rebuilt from ``explanation.settings`` (``wavelet``, ``levels``,
    ``grid_size``, ``drop_approximation``).
    """
    from .perturbations import WaveletPerturbation

    if getattr(explanation, "method", "wcam") != "wcam":
        raise ValueError(f"expected a WCAM explanation, got method {explanation.method!r}")
    s = explanation.settings
    try:
        return WaveletPerturbation(s.get("wavelet", "haar"), int(s["levels"]), int(s["grid_size"]),
                                   bool(s.get("drop_approximation", False)))
    except KeyError as err:
        raise ValueError(f"explanation settings lack {err}; cannot rebuild its perturbation") from None


def spatial_perturbation_for(explanation):
    """The :class:`~spectral_attribution.perturbations.SpatialPerturbation` of a spatial Sobol' explanation."""
    from .perturbations import SpatialPerturbation

    if getattr(explanation, "method", "spatial-sobol") != "spatial-sobol":
        raise ValueError(f"expected a spatial Sobol' explanation, got method {explanation.method!r}")
    s = explanation.settings
    return SpatialPerturbation(int(s["grid_size"]), s.get("baseline", "zero"),
                               float(s.get("blur_sigma", 10.0)))


def sufficient_reconstruction(model, images, explanations, image_ids: Sequence[str],
                              conditions: Sequence[str] | str = "clean",
                              reference_labels: Sequence[int] | None = None,
                              nb_random_draws: int = 5, seed: int = 0,
                              batch_size: int = 64, max_k: int | None = None,
                              extra_columns: pd.DataFrame | None = None,
                              autocast: str | None = None, progress=None) -> pd.DataFrame:
    """Reconstruction depth with the WCAM order and with random orders.

    For each image: rank the WCAM's grid cells by decreasing Sobol' total
    index, keep the top ``k`` cells of the wavelet coefficients (zero
    elsewhere), invert, classify; the *reconstruction depth* is the smallest
    ``k`` at which the model predicts the *reference label* (METHOD.md,
    section 4; :func:`spectral_attribution.metrics.reconstruction_depth`).
    The same is done for ``nb_random_draws`` random orders of the same cells.

    Parameters
    ----------
    images:
        The images the explanations were computed on (clean or corrupted),
        ``(B, 3, H, W)`` tensor or sequence of ``(3, H, W)`` tensors in ``[0, 1]``.
    explanations:
        One WCAM :class:`~spectral_attribution.explanation.Explanation` per image.
    conditions:
        ``"clean"`` / ``"corrupted"`` per image (or one for all).
    reference_labels:
        Label to restore per image; ``None`` uses the model's prediction on
        the image itself (its clean prediction for a clean image, its
        prediction on the corrupted image for a corrupted one).
    nb_random_draws, seed:
        Number of random orders per image; draw ``r`` of image ``i`` uses
        ``numpy.random.default_rng([seed, i, r])`` (see
        :func:`spectral_attribution.metrics.random_order_depths`).
    max_k:
        Largest ``k`` tried (``None``: ``d``); depths beyond are NaN.
    extra_columns:
        Optional table with one row per image (e.g. ``corruption, severity``)
        whose columns are copied into the result.

    Returns
    -------
    pandas.DataFrame
        One row per image, columns ``model, image_id, condition,
        reference_label, dim, depth, depth_share, found, random_depth_median,
        random_depth_share_median, random_found_share, random_depths``
        (+ ``extra_columns``). ``depth`` is an integer number of cells in
        ``1..d`` (NaN when the label is never restored, ``found`` False);
        ``depth_share = depth / d`` in ``(0, 1]``; ``random_depths`` is the
        ``;``-separated list of the draws' depths (``nan`` when not found).
        The random median is taken with unreached draws counted as ``+inf``
        (NaN if more than half never restore the label).
    """
    images = _image_list(images)
    explanations = list(explanations)
    ids = _check_ids(image_ids, len(images))
    if len(explanations) != len(images):
        raise ValueError(f"got {len(explanations)} explanations for {len(images)} images")
    if isinstance(conditions, str):
        conditions = [conditions] * len(images)
    if len(conditions) != len(images):
        raise ValueError(f"got {len(conditions)} conditions for {len(images)} images")
    bad = sorted(set(conditions) - {"clean", "corrupted"})
    if bad:
        raise ValueError(f"conditions must be 'clean' or 'corrupted', got {bad}")
    if reference_labels is not None and len(reference_labels) != len(images):
        raise ValueError(f"got {len(reference_labels)} reference labels for {len(images)} images")
    if extra_columns is not None and len(extra_columns) != len(images):
        raise ValueError(f"extra_columns has {len(extra_columns)} rows for {len(images)} images")
    if reference_labels is None:
        reference_labels, _ = _predict(model, images, batch_size, autocast)
    device = _model_device(model)
    rows, cache = [], {}
    for i in _progress(range(len(images)), progress, "reconstruction"):
        expl = explanations[i]
        key = tuple(sorted((k, str(v)) for k, v in expl.settings.items()
                           if k in ("wavelet", "levels", "grid_size", "drop_approximation")))
        pert = cache.get(key) or cache.setdefault(key, wavelet_perturbation_for(expl))
        ctx = pert.prepare(images[i].to(device, torch.float32))
        d = pert.dim
        k_values = None if max_k is None else np.arange(1, min(int(max_k), d) + 1)
        ref = int(reference_labels[i])
        res = metrics.reconstruction_depth(model, pert, ctx, metrics.importance_order(expl.indices),
                                           ref, k_values, batch_size, autocast)
        rnd = metrics.random_order_depths(model, pert, ctx, ref, nb_random_draws, (seed, i),
                                          k_values, batch_size, autocast)
        # Unreached draws count as +inf: the median is NaN when most never restore the label.
        median = float(np.median(np.where(np.isnan(rnd), np.inf, rnd)))
        median = median if np.isfinite(median) else float("nan")
        rows.append({
            "model": _model_name(model), "image_id": ids[i], "condition": conditions[i],
            "reference_label": ref, "dim": d, "depth": res.depth, "depth_share": res.share,
            "found": res.found, "random_depth_median": median,
            "random_depth_share_median": median / d,
            "random_found_share": float(np.mean(~np.isnan(rnd))),
            "random_depths": ";".join(f"{v:g}" for v in rnd),
        })
    out = pd.DataFrame(rows, columns=["model", "image_id", "condition", "reference_label", "dim",
                                      "depth", "depth_share", "found", "random_depth_median",
                                      "random_depth_share_median", "random_found_share",
                                      "random_depths"])
    if extra_columns is not None:
        extra = extra_columns.reset_index(drop=True)
        extra = extra[[c for c in extra.columns if c not in out.columns]]
        out = pd.concat([out, extra], axis=1)
    return out


def depth_and_robustness(reconstruction: pd.DataFrame, robustness: pd.DataFrame) -> pd.DataFrame:
    """Join a :func:`sufficient_reconstruction` table with :func:`robustness_per_image`.

    Joined on ``model, image_id`` (for corrupted copies ``image_id`` is the
    clean image's id, so each copy gets the robustness of its clean image).
    Returns the reconstruction table with a ``robustness`` column added, ready
    for :func:`spectral_attribution.metrics.depth_robustness_fit` and
    :func:`spectral_attribution.plots.plot_depth_vs_robustness`.
    """
    _require(reconstruction, ["model", "image_id"])
    _require(robustness, ["model", "image_id", "robustness"])
    return reconstruction.merge(robustness[["model", "image_id", "robustness"]],
                                on=["model", "image_id"], how="left", validate="many_to_one")


#: The two views of the zoom study: name -> (resize, crop, wavelet levels J).
ZOOM_VIEWS: dict[str, tuple[int, int, int]] = {
    "regular": (256, 224, 3),
    "zoomed": (512, 224, 4),
}


def zoom_study(model, pil_images, image_ids: Sequence[str], grid_size: int = 28,
               nb_design: int = 8, seed: int = 0, batch_size: int = 64,
               views: dict[str, tuple[int, int, int]] | None = None,
               per_coefficient: bool = True, explainer_kwargs: dict | None = None,
               return_explanations: bool = False, progress=None):
    """Level contributions of the WCAM in the regular and the zoomed view.

    Regular view: Resize(256) + CenterCrop(224), ``J = 3``; zoomed view:
    Resize(512) + CenterCrop(224), ``J = 4`` (:data:`ZOOM_VIEWS`). Each image is
    prepared with the model's interpolation and normalisation but the view's
    resize and crop, explained with a WCAM of ``J`` levels (target: the
    model's prediction in that view), and its map is summarised by
    :func:`spectral_attribution.metrics.level_contributions`.

    The level contributions can only separate the approximation from the
    coarsest details when the grid's cells align with the approximation
    block (``grid_size`` a multiple of ``2^J`` for a square image whose side
    is a multiple of ``2^J``: 16 or 32 for both views at 224 px; the paper's
    grid 28 straddles at ``J = 4``); a ``UserWarning`` says so otherwise.

    Parameters
    ----------
    pil_images:
        Sequence of PIL RGB images (original resolution).
    explainer_kwargs:
        Extra keyword arguments of :class:`~spectral_attribution.explainers.WCAM`
        (e.g. ``autocast="bfloat16"``).

    return_explanations:
        Also return the explanations, ``{view: [Explanation, ...]}``.

    Returns
    -------
    pandas.DataFrame (or ``(DataFrame, dict)`` with ``return_explanations``)
        One row per image x view x level, columns ``model, image_id, view,
        resize, crop, levels, grid_size, nb_design, seed, target, level,
        level_order, contribution``. ``level`` is ``"approximation"`` or
        ``"level_j"`` (``j = J`` coarsest .. ``1`` finest);
        ``level_order`` is 0 for the approximation then 1, 2, ... from
        coarsest to finest; contributions of one image and view sum to 1.
    """
    import dataclasses

    from .explainers import WCAM

    pil_images = list(pil_images)
    ids = _check_ids(image_ids, len(pil_images))
    views = ZOOM_VIEWS if views is None else views
    kwargs = dict(explainer_kwargs or {})
    kwargs.setdefault("progress", False)
    base = getattr(model, "preprocessing", None)
    if base is None:
        raise ValueError("zoom_study needs a ModelWrapper (it changes the model's preprocessing)")
    rows, kept = [], {}
    for view, (resize, crop, levels) in views.items():
        _warn_if_grid_straddles(int(grid_size), int(levels), int(crop), view)
        pre = dataclasses.replace(base, resize=int(resize), crop=int(crop))
        explainer = WCAM(model, grid_size=grid_size, nb_design=nb_design, levels=int(levels),
                         seed=seed, batch_size=batch_size, **kwargs)
        expls = []
        for i in _progress(range(len(pil_images)), progress, f"zoom {view}"):
            [e] = explainer(pre.to_tensor(pil_images[i]).unsqueeze(0))
            expls.append(e)
            contrib = metrics.level_contributions(e.map, e.subbands, per_coefficient)
            for order, (level, value) in enumerate(contrib.items()):
                rows.append({"model": _model_name(model), "image_id": ids[i], "view": view,
                             "resize": int(resize), "crop": int(crop), "levels": int(levels),
                             "grid_size": int(grid_size), "nb_design": int(nb_design),
                             "seed": int(seed), "target": int(e.target), "level": level,
                             "level_order": order, "contribution": float(value)})
        kept[view] = expls
    df = pd.DataFrame(rows, columns=["model", "image_id", "view", "resize", "crop", "levels",
                                     "grid_size", "nb_design", "seed", "target", "level",
                                     "level_order", "contribution"])
    return (df, kept) if return_explanations else df


def _warn_if_grid_straddles(grid_size: int, levels: int, size: int, view: str) -> None:
    """Warn when grid cells straddle the approximation block (METHOD.md, grid/sub-band alignment)."""
    import warnings

    from .transforms import WaveletTransform

    transform = WaveletTransform("haar", levels)
    approx = transform.subbands(size, size)[0]
    side = transform.layout_shape(size, size)[0]
    if (approx.rows[1] * grid_size) % side:
        warnings.warn(
            f"zoom view {view!r}: with grid_size={grid_size} and J={levels} on {size} px, the grid "
            f"cells ({side / grid_size:.3g} px) do not align with the {approx.rows[1]}-px "
            f"approximation block, so level contributions mix the approximation with the "
            f"coarsest details; use a grid_size that is a multiple of {2 ** levels}",
            UserWarning, stacklevel=3)


def zoom_table(df: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """The zoom table in the layout of the original: models x (view, level).

    Parameters
    ----------
    df:
        Output of :func:`zoom_study` (several models concatenated).

    Returns
    -------
    pandas.DataFrame
        Index ``model``; one column per ``view`` and ``level`` named
        ``"<view> <level>"`` (e.g. ``"regular approximation"``,
        ``"zoomed level_4"``), in view order then level order, holding
        ``"mean ± std"`` strings over images with ``digits`` decimals (std with
        ``ddof=1``; ``"mean ± nan"`` for a single image).
    """
    _require(df, ["model", "view", "level", "level_order", "contribution"])
    view_rank = {v: i for i, v in enumerate(ZOOM_VIEWS)}
    stats = (df.groupby(["model", "view", "level"], sort=False)
             .agg(order=("level_order", "first"), mean=("contribution", "mean"),
                  std=("contribution", "std"))
             .reset_index())
    stats["view_rank"] = stats["view"].map(lambda v: view_rank.get(v, len(view_rank)))
    columns = (stats[["view_rank", "view", "order", "level"]].drop_duplicates()
               .sort_values(["view_rank", "view", "order"]))
    models = list(dict.fromkeys(df["model"]))
    table = pd.DataFrame(index=pd.Index(models, name="model"))
    for _, c in columns.iterrows():
        part = stats[(stats["view"] == c["view"]) & (stats["level"] == c["level"])].set_index("model")
        table[f"{c['view']} {c['level']}"] = [
            f"{part.loc[m, 'mean']:.{digits}f} ± {part.loc[m, 'std']:.{digits}f}" if m in part.index else ""
            for m in models]
    return table


def faithfulness(model, images, image_ids: Sequence[str], wcam_explanations,
                 spatial_explanations=None, nb_subsets: int = 128,
                 subset_fraction: float = 0.2, steps: int = 32, seed: int = 0,
                 batch_size: int = 64, score: str = "probability",
                 autocast: str | None = None, progress=None) -> pd.DataFrame:
    """mu-fidelity, insertion and deletion of the WCAM and the spatial Sobol' map.

    For each image and each method: the attribution is the explanation's
    ``indices`` (one Sobol' total index per grid cell); cells are removed by
    zeroing the wavelet coefficients under them (WCAM, through
    :class:`~spectral_attribution.perturbations.WaveletPerturbation`) or the
    pixels under them (spatial Sobol', ``x * m``). See
    :func:`spectral_attribution.metrics.mu_fidelity`,
    :func:`~spectral_attribution.metrics.insertion_auc` and
    :func:`~spectral_attribution.metrics.deletion_auc`.

    Parameters
    ----------
    nb_subsets, subset_fraction:
        mu-fidelity: number of random subsets and their size as a share of
        the cells.
    steps:
        Insertion/deletion: number of steps between 0 and all cells.
    score:
        Score of insertion/deletion: ``"probability"`` (softmax of the
        target, Petsiuk et al.) or ``"logit"``. mu-fidelity always uses the
        logit (the quantity the Sobol' indices explain).
    seed:
        mu-fidelity subsets of image ``i`` are drawn with
        ``numpy.random.default_rng([seed, i])``: both methods of an image
        are scored on the same subsets when their grids have the same ``d``.

    Returns
    -------
    pandas.DataFrame
        One row per image x method, columns ``model, image_id, method,
        target, dim, mu_fidelity, insertion_auc, deletion_auc`` (``method`` is
        ``"wcam"`` or ``"spatial-sobol"``; mu-fidelity in ``[-1, 1]``, higher
        is better; AUCs in ``[0, 1]`` with probabilities, insertion higher
        and deletion lower is better).
    """
    images = _image_list(images)
    ids = _check_ids(image_ids, len(images))
    wcam_explanations = list(wcam_explanations)
    spatial_explanations = None if spatial_explanations is None else list(spatial_explanations)
    for what, ex in (("WCAM", wcam_explanations), ("spatial", spatial_explanations)):
        if ex is not None and len(ex) != len(images):
            raise ValueError(f"got {len(ex)} {what} explanations for {len(images)} images")
    device = _model_device(model)
    rows = []
    for i in _progress(range(len(images)), progress, "faithfulness"):
        image = images[i].to(device, torch.float32)
        pairs = [("wcam", wcam_explanations[i], wavelet_perturbation_for)]
        if spatial_explanations is not None:
            pairs.append(("spatial-sobol", spatial_explanations[i], spatial_perturbation_for))
        for method, expl, make in pairs:
            pert = make(expl)
            ctx = pert.prepare(image)
            target = int(expl.target)
            mu = metrics.mu_fidelity(model, pert, ctx, expl.indices, target, subset_fraction,
                                     nb_subsets, (seed, i), batch_size, "logit", autocast=autocast)
            curves = metrics.insertion_deletion(model, pert, ctx, expl.indices, target, steps,
                                                batch_size, score, autocast)
            rows.append({"model": _model_name(model), "image_id": ids[i], "method": method,
                         "target": target, "dim": pert.dim, "mu_fidelity": mu,
                         "insertion_auc": curves["insertion_auc"],
                         "deletion_auc": curves["deletion_auc"]})
    return pd.DataFrame(rows, columns=["model", "image_id", "method", "target", "dim",
                                       "mu_fidelity", "insertion_auc", "deletion_auc"])


def faithfulness_table(df: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Mean (± std) of each faithfulness metric per model and method.

    Returns
    -------
    pandas.DataFrame
        Index ``model, method``; columns ``mu_fidelity, insertion_auc,
        deletion_auc`` as ``"mean ± std"`` strings, and ``nb_images``.
    """
    cols = ["mu_fidelity", "insertion_auc", "deletion_auc"]
    _require(df, ["model", "method"] + cols)
    rows = []
    for (model, method), part in df.groupby(["model", "method"], sort=False):
        row = {"model": model, "method": method}
        for c in cols:
            row[c] = f"{part[c].mean():.{digits}f} ± {part[c].std():.{digits}f}"
        row["nb_images"] = int(part["image_id"].nunique()) if "image_id" in part else len(part)
        rows.append(row)
    return pd.DataFrame(rows, columns=["model", "method", *cols, "nb_images"]).set_index(["model", "method"])


def write_table(df: pd.DataFrame, stem, index: bool | None = None,
                floatfmt: str = ".4g") -> dict[str, Path]:
    """Write ``df`` as ``<stem>.csv``, ``<stem>.md`` (tabulate) and ``<stem>.tex``.

    The LaTeX table (``DataFrame.to_latex``, which needs ``jinja2``) is
    escaped (``_`` → ``\\_``) and ``±`` is written ``$\\pm$``; it uses
    booktabs rules (``\\usepackage{booktabs}``).

    Each file is written to a temporary file in the same directory and moved
    into place (``os.replace``), so a reader never sees a partial table.

    Parameters
    ----------
    stem:
        Path without extension; parent directories are created.
    index:
        Write the index; ``None`` writes it only when it is named (e.g. the
        ``model`` index of :func:`zoom_table`), not a bare row number.

    Returns
    -------
    dict
        ``{"csv": Path, "md": Path, "tex": Path}``.
    """
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    if index is None:
        index = any(name is not None for name in df.index.names)
    texts = {
        "csv": df.to_csv(index=index),
        # index levels as ordinary columns: tabulate prints a MultiIndex as tuples
        "md": (df.reset_index() if index else df).to_markdown(index=False, floatfmt=floatfmt) + "\n",
        # escape: "_" in level names would break LaTeX; then a real \pm for "±"
        "tex": df.to_latex(index=index, escape=True,
                           float_format=lambda v: format(v, floatfmt)).replace("±", r"$\pm$"),
    }
    paths = {}
    for ext, text in texts.items():
        target = stem.with_name(f"{stem.name}.{ext}")
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        paths[ext] = target
    return paths


def _require(df: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"table lacks column(s) {missing}; it has {list(df.columns)}")

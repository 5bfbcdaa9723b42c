"""Zoom study: how the WCAM's importance moves across wavelet levels when the view zooms in.

(Just over 500 lines: one study, its per-image measures and its summary; the level shares, the energy shift and the two view definitions are read together by the zoom table and claim (c).)

:func:`zoom_study` explains each image in a regular view (Resize 256,
CenterCrop 224) and a zoomed view (Resize 512, CenterCrop 224), for the same
class in both, and summarises each WCAM by its *level contributions*
(:func:`spectral_attribution.metrics.level_contributions`); :func:`zoom_table`
lays them out as the paper's table (Kasmi et al. 2023).

Comparing like with like
------------------------
Level contributions are normalised to sum to 1 over a view's ``J + 1``
levels, so a uniform map gives ``1 / (J + 1)`` to each: views with different
``J`` differ by construction (the paper's J = 3 vs J = 4 gives an
approximation share of 1/4 against 1/5 before any model is involved).
Hence:

* **default** (:data:`ZOOM_VIEWS`): both views ``J = 4``; a uniform map gives
  the same share in both. The grid must align with the sub-bands at ``J = 4``
  (16 or 32 at 224 px).
* **the paper's setting** (:data:`PAPER_ZOOM_VIEWS`: ``J = 3`` at Resize 256
  against ``J = 4`` at Resize 512) is reported *per physical scale*: zooming
  by 2 moves a frequency band of the photograph one level coarser, so the
  regular view's level ``j`` covers the band of the zoomed view's level
  ``j + 1`` and both approximations cover the same band. Each level's
  importance per coefficient is normalised over the scales both views hold
  (the zoomed view's finest level, beyond what the regular view resolves, is
  left out: ``scale_contribution`` NaN). A uniform map then gives ``1 / 4``
  to every scale of both views, and a map on the approximation only gives 1
  in both. Views with different ``J`` that are not one octave apart per
  level of resize are refused.

The class explained is the same in every view: the label (target policy
``"label"``) or the first (regular) view's prediction (``"prediction"``);
the share of images whose prediction changes between views is reported on
its own (``prediction_changed``).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from spectral_attribution import metrics
from spectral_attribution._utils.checks import check_ids, progress_bar
from spectral_attribution.models.forward import model_name
from spectral_attribution._utils.tables import require_columns
from spectral_attribution.attributions.wcam import WCAM
from spectral_attribution.attributions.targets import (
    check_target_policy,
    explained_classes,
    record_target,
    target_source_of,
)
from spectral_attribution.studies.stats import bootstrap_ci, wilcoxon_test
from spectral_attribution.attributions.transforms import WaveletTransform
from spectral_attribution.studies.baselines import energy_layout
from spectral_attribution.studies.labels import level_sort_key

__all__ = ["ZOOM_VIEWS", "PAPER_ZOOM_VIEWS", "ZOOM_COLUMNS", "aligned_grid_sizes", "zoom_study",
           "zoom_table", "zoom_measure", "zoom_differences"]


#: The two views of the zoom study, like with like: name -> (resize, crop, wavelet levels J).
ZOOM_VIEWS: dict[str, tuple[int, int, int]] = {
    "regular": (256, 224, 4),
    "zoomed": (512, 224, 4),
}
#: The paper's views (J = 3 vs J = 4), compared per physical scale.
PAPER_ZOOM_VIEWS: dict[str, tuple[int, int, int]] = {
    "regular": (256, 224, 3),
    "zoomed": (512, 224, 4),
}
#: Columns of :func:`zoom_study`.
ZOOM_COLUMNS = ["model", "image_id", "view", "resize", "crop", "levels", "grid_size", "nb_design",
                "seed", "target", "target_source", "target_policy", "prediction",
                "prediction_changed", "level", "level_order", "contribution", "scale_level",
                "scale_contribution", "mass_contribution", "energy_contribution"]


def _aligned(grid_size: int, levels: int, size: int) -> bool:
    transform = WaveletTransform("haar", levels)
    side = transform.layout_shape(size, size)[0]
    edges = {e for band in transform.subbands(size, size) for e in band.rows}
    return all((e * grid_size) % side == 0 for e in edges)


def aligned_grid_sizes(levels: int, size: int, limit: int | None = None) -> list[int]:
    """Grid sizes whose cells align with every sub-band of ``levels`` Haar levels on a ``size`` px square.

    A grid is aligned when every sub-band edge of the dyadic layout is a
    cell edge, so that no cell mixes two levels (for a side that is a
    multiple of ``2^J``: the multiples of ``2^J``, e.g. 16 and 32 at
    ``J = 4`` and 224 px). Returns the sizes ``1..limit`` (default: the
    layout's side), ascending.
    """
    side = WaveletTransform("haar", levels).layout_shape(size, size)[0]
    return [g for g in range(1, (limit or side) + 1) if _aligned(g, levels, size)]


def _check_grid(grid_size: int, levels: int, size: int, view: str, allow_straddling: bool) -> None:
    """Refuse (or, when allowed, warn about) a grid whose cells straddle sub-bands."""
    if _aligned(grid_size, levels, size):
        return
    ok = [g for g in aligned_grid_sizes(levels, size) if g > 1]
    below = max((g for g in ok if g < grid_size), default=None)
    above = min((g for g in ok if g > grid_size), default=None)
    nearest = " and ".join(str(g) for g in (below, above) if g is not None) or "none"
    message = (f"zoom view {view!r}: grid_size={grid_size} straddles the sub-bands of J={levels} "
               f"on {size} px (cells of {size / grid_size:.3g} px, sub-band edges at multiples of "
               f"{size / 2 ** levels:.3g} px), so level contributions would mix levels; nearest "
               f"aligned grid sizes: {nearest}")
    if not allow_straddling:
        raise ValueError(message + "; pass allow_straddling=True to accept mixed levels")
    warnings.warn(message, UserWarning, stacklevel=3)


def _scale_levels(views: dict[str, tuple[int, int, int]]) -> dict[str, dict[str, str]] | None:
    """Per view, level -> the first view's level of the same physical band (same J: ``None``).

    Raises ``ValueError`` when the views have different ``J`` and are not
    one octave apart per level of resize.
    """
    specs = list(views.items())
    if len({levels for _, (_, _, levels) in specs}) == 1:
        return None
    ref_name, (ref_resize, _, ref_levels) = specs[0]
    out = {}
    for name, (resize, _, levels) in specs:
        octave = math.log2(resize / ref_resize)
        if abs(octave - round(octave)) > 1e-9 or levels - round(octave) != ref_levels:
            raise ValueError(
                f"zoom views {dict(views)} have different J and view {name!r} is not "
                f"J = {ref_levels} + log2(resize / {ref_resize}) levels deep, so no level covers "
                f"the same band of the photograph in every view; use the same J in every view "
                f"(like with like, e.g. {ZOOM_VIEWS}) or the paper's {PAPER_ZOOM_VIEWS}")
        shift = round(octave)
        mapping = {"approximation": "approximation"}
        for j in range(1, levels + 1):
            if 1 <= j - shift <= ref_levels:
                mapping[f"level_{j}"] = f"level_{j - shift}"
        out[name] = mapping
    common = set.intersection(*(set(m.values()) for m in out.values()))
    return {name: {lvl: ref for lvl, ref in m.items() if ref in common} for name, m in out.items()}


def _check_reused(expls, view: str, count: int, levels: int, grid_size: int, nb_design: int,
                  seed: int) -> list:
    expls = list(expls)
    if len(expls) != count:
        raise ValueError(f"explanations of view {view!r}: got {len(expls)} for {count} images")
    for e in expls:
        s = e.settings
        got = (s.get("levels"), s.get("grid_size"), s.get("nb_design"), s.get("seed"))
        if got != (levels, grid_size, nb_design, seed):
            raise ValueError(f"explanations of view {view!r} were made with (levels, grid_size, "
                             f"nb_design, seed) = {got}, the study uses "
                             f"{(levels, grid_size, nb_design, seed)}")
    return expls


def zoom_study(model, pil_images, image_ids: Sequence[str], grid_size: int = 16,
               nb_design: int = 8, seed: int = 0, batch_size: int = 64,
               views: dict[str, tuple[int, int, int]] | None = None,
               explainer_kwargs: dict | None = None, return_explanations: bool = False,
               progress=None, labels: Sequence[int] | None = None,
               target_policy: str = "prediction", allow_straddling: bool = False,
               explanations: dict[str, Sequence] | None = None):
    """Level contributions of the WCAM in the regular and the zoomed view, for one class.

    Each image is prepared with the model's interpolation and normalisation
    but each view's resize and crop (:data:`ZOOM_VIEWS`: Resize 256 and
    Resize 512, CenterCrop 224, ``J = 4`` in both), explained with a WCAM of
    the view's ``J`` levels, and its map summarised by
    :func:`spectral_attribution.metrics.level_contributions` (per
    coefficient, normalised over the view's levels). With views of different
    ``J`` (:data:`PAPER_ZOOM_VIEWS`), ``scale_contribution`` normalises over
    the physical scales every view holds (see the module notes).

    The explained class is the same in every view: the first view (the
    regular one) decides it with the target policy
    (:mod:`spectral_attribution.attributions.targets`: ``"prediction"``, its prediction;
    ``"label"``, the label, the prediction where the label is unknown); each
    view's own prediction is recorded, and ``prediction_changed`` says where
    it differs from the first view's.

    Parameters
    ----------
    pil_images:
        Sequence of PIL RGB images (original resolution).
    grid_size:
        Must align with the sub-bands of every view (16 or 32 for ``J <= 4``
        at 224 px, :func:`aligned_grid_sizes`).
    views:
        ``{name: (resize, crop, J)}``, the first view deciding the class
        (default :data:`ZOOM_VIEWS`). Views must share ``J``, or be one
        octave apart per level of resize.
    explainer_kwargs:
        Extra keyword arguments of :class:`~spectral_attribution.attributions.wcam.WCAM`
        (e.g. ``precision="bfloat16"``, ``backend="auto"``).
    labels:
        Ground-truth labels (``-1`` unknown), for policy ``"label"``.
    target_policy:
        ``"prediction"`` (default) or ``"label"``.
    allow_straddling:
        Accept a grid whose cells straddle sub-bands (a ``UserWarning``
        instead of the ``ValueError``); the contributions then mix levels.
    explanations:
        Explanations already computed for some views, ``{view: [Explanation,
        ...]}`` (a previous call's ``return_explanations``), used instead of
        explaining again; they must match the view's ``J``, the grid, the
        designs and the seed, and explain the class this call chooses.
    return_explanations:
        Also return the explanations, ``{view: [Explanation, ...]}``.

    Returns
    -------
    pandas.DataFrame (or ``(DataFrame, dict)`` with ``return_explanations``)
        One row per image x view x level, columns :data:`ZOOM_COLUMNS`:
        ``model, image_id, view, resize, crop, levels, grid_size, nb_design,
        seed``; ``target`` (the class explained, the same in every view),
        ``target_source``, ``target_policy``, ``prediction`` (the view's
        prediction), ``prediction_changed`` (bool, vs the first view);
        ``level`` (``"approximation"`` or ``"level_j"``, ``j = J`` coarsest
        .. ``1`` finest), ``level_order`` (0 for the approximation, then 1,
        2, ... coarsest to finest), ``contribution`` (sums to 1 over the
        levels of one image and view); ``scale_level`` (the first view's
        level of the same physical band, ``""`` when views share ``J`` or
        the band is not in every view) and ``scale_contribution`` (NaN then);
        ``mass_contribution`` (the WCAM's level shares by mass, not per
        coefficient) and ``energy_contribution`` (the same per-coefficient
        shares of the image's own wavelet energy in the view,
        :func:`~spectral_attribution.studies.baselines.energy_layout` raw: no
        model, the part of a change between views that the image's content
        gives), both over the levels of the study's measure (the physical
        scales every view holds when the views differ in ``J``).

    Raises
    ------
    ValueError
        A straddling grid (names the grid, ``J`` and the nearest aligned
        sizes), views that cannot be compared, an unknown policy, reused
        explanations that do not match, or not a ModelWrapper.
    """
    pil_images = list(pil_images)
    ids = check_ids(image_ids, len(pil_images))
    check_target_policy(target_policy)
    views = dict(ZOOM_VIEWS if views is None else views)
    if not views:
        raise ValueError("zoom_study needs at least one view")
    base = getattr(model, "preprocessing", None)
    if base is None:
        raise ValueError("zoom_study needs a ModelWrapper (it changes the model's preprocessing)")
    for view, (resize, crop, levels) in views.items():
        _check_grid(int(grid_size), int(levels), int(crop), view, allow_straddling)
    scales = _scale_levels(views)
    label_list = [-1] * len(pil_images) if labels is None else [int(v) for v in labels]
    if len(label_list) != len(pil_images):
        raise ValueError(f"got {len(label_list)} labels for {len(pil_images)} images")
    kwargs = dict(explainer_kwargs or {})
    kwargs.setdefault("progress", False)
    reused = dict(explanations or {})
    unknown = sorted(set(reused) - set(views))
    if unknown:
        raise ValueError(f"explanations given for views {unknown} that the study does not have "
                         f"({list(views)})")
    kept: dict[str, list] = {}
    first = next(iter(views))
    targets: list[int] = []
    reference: list[int] = []
    for v, (view, (resize, crop, levels)) in enumerate(views.items()):
        if view in reused:
            expls = _check_reused(reused[view], view, len(pil_images), int(levels),
                                  int(grid_size), int(nb_design), int(seed))
        else:
            pre = dataclasses.replace(base, resize=int(resize), crop=int(crop))
            explainer = WCAM(model, grid_size=grid_size, nb_design=nb_design, levels=int(levels),
                             seed=seed, batch_size=batch_size, **kwargs)
            expls = []
            for i in progress_bar(range(len(pil_images)), progress, f"zoom {view}"):
                x = pre.to_tensor(pil_images[i]).unsqueeze(0)
                if v == 0:   # the first view decides the class of every view
                    known = target_policy == "label" and label_list[i] >= 0
                    [e] = explainer(x, [label_list[i]] if known else None)
                    [source] = explained_classes(target_policy, [e.predicted], [label_list[i]])[1]
                else:
                    [e] = explainer(x, [targets[i]])
                    source = target_source_of(kept[first][i])
                expls.append(record_target(e, target_policy, source))
        if v == 0:
            first = view
            targets = [int(e.target) for e in expls]
            reference = [int(e.predicted) for e in expls]
            expected = explained_classes(target_policy, reference, label_list)[0]
            wrong = [ids[i] for i, t in enumerate(targets) if t != int(expected[i])]
            if wrong:
                raise ValueError(f"explanations of view {view!r} do not explain the class of "
                                 f"target policy {target_policy!r} for images {wrong}")
        else:
            wrong = [ids[i] for i, e in enumerate(expls) if int(e.target) != targets[i]]
            if wrong:
                raise ValueError(f"explanations of view {view!r} explain another class than the "
                                 f"first view for images {wrong}")
        kept[view] = expls
    rows = []
    for view, (resize, crop, levels) in views.items():
        mapping = None if scales is None else scales[view]
        over = None if mapping is None else list(mapping)
        pre = dataclasses.replace(base, resize=int(resize), crop=int(crop))
        for i, e in enumerate(kept[view]):
            contrib = metrics.level_contributions(e.map, e.subbands)
            scaled = (None if mapping is None else
                      metrics.level_contributions(e.map, e.subbands, normalise_over=over))
            mass = metrics.level_contributions(e.map, e.subbands, False, normalise_over=over)
            energy, bands = energy_layout(pre.to_tensor(pil_images[i]),
                                          e.settings.get("wavelet", "haar"), int(levels), "raw")
            energy_share = metrics.level_contributions(energy, bands, True, normalise_over=over)
            for order, (level, value) in enumerate(contrib.items()):
                rows.append({
                    "model": model_name(model), "image_id": ids[i], "view": view,
                    "resize": int(resize), "crop": int(crop), "levels": int(levels),
                    "grid_size": int(grid_size), "nb_design": int(nb_design), "seed": int(seed),
                    "target": int(e.target), "target_source": target_source_of(e),
                    "target_policy": target_policy, "prediction": int(e.predicted),
                    "prediction_changed": int(e.predicted) != reference[i],
                    "level": level, "level_order": order, "contribution": float(value),
                    "scale_level": "" if mapping is None else mapping.get(level, ""),
                    "scale_contribution": float("nan") if scaled is None else float(scaled[level]),
                    "mass_contribution": float(mass[level]),
                    "energy_contribution": float(energy_share[level]),
                })
    df = pd.DataFrame(rows, columns=ZOOM_COLUMNS)
    return (df, kept) if return_explanations else df


def zoom_measure(df: pd.DataFrame) -> str:
    """``"contribution"`` when every view of ``df`` has the same ``J``, else ``"scale_contribution"``."""
    require_columns(df, ["levels"])
    return "contribution" if df["levels"].nunique() <= 1 else "scale_contribution"


def zoom_table(df: pd.DataFrame, digits: int = 3, seed: int = 0) -> pd.DataFrame:
    """The zoom table, long form: one row per model and level, one column per view.

    The values are the per-coefficient level contributions when every view
    has the same ``J`` (``contribution``), else the contributions per
    physical scale (``scale_contribution``; rows are the physical scales,
    named by the first view's level, and levels outside the common scales
    are left out) -- :func:`zoom_measure`; see the module notes.

    Parameters
    ----------
    df:
        Output of :func:`zoom_study` (several models concatenated).
    digits:
        Decimals of the ``"mean [low, high]"`` strings.
    seed:
        Seed of every bootstrap.

    Returns
    -------
    pandas.DataFrame
        One row per model and level (approximation first, then the detail
        levels from the coarsest to the finest), columns ``model, level,
        nb_images`` (images of the model), then one column per view (named
        as the view, e.g. ``regular``, ``zoomed``; view order) holding the
        mean over images ``"mean [low, high]"`` with ``digits`` decimals
        (95 % percentile bootstrap interval over images, seeded; a point
        interval for a single image; NaN where the view has no such level),
        then, for each view ``v`` after the first, ``difference_<v>``: the
        mean paired difference ``first - v`` over the images with the level
        in both views (:func:`zoom_differences`) with its interval (NaN when
        the level is in one view only), ``wilcoxon_p_<v>`` (Wilcoxon
        signed-rank p-value of those differences, in ``[0, 1]``) and
        ``wilcoxon_n_<v>`` (the images paired). ``attrs["notes"]`` says which
        measure, which class, and (when ``df`` has ``prediction_changed``)
        how many images change prediction between the views, per model.

    Raises
    ------
    KeyError
        A column is missing (named).
    """
    require_columns(df, ["model", "view", "level", "contribution"])
    measure = zoom_measure(df) if "levels" in df else "contribution"
    full = df
    if measure == "scale_contribution":  # one row per physical scale, named as in the first view
        require_columns(df, ["scale_contribution", "scale_level"])
        df = df[df["scale_contribution"].notna()].assign(level=lambda f: f["scale_level"])
    views = list(dict.fromkeys(full["view"]))
    models = list(dict.fromkeys(full["model"]))
    levels = sorted(dict.fromkeys(df["level"]), key=level_sort_key)
    diffs = {v: zoom_differences(full, (views[0], v), measure) if "image_id" in df else None
             for v in views[1:]}
    rows = []
    for model in models:
        part = df[df["model"] == model]
        nb_images = (full.loc[full["model"] == model, "image_id"].nunique() if "image_id" in full
                     else np.nan)
        for level in levels:
            row = {"model": model, "level": level, "nb_images": nb_images}
            for view in views:
                values = part.loc[(part["view"] == view) & (part["level"] == level), measure]
                row[view] = (bootstrap_ci(values.astype(float), seed=seed).format(digits)
                             if len(values) else np.nan)
            for view, d in diffs.items():
                d = (pd.Series(dtype=float) if d is None else
                     d.loc[(d["model"] == model) & (d["level"] == level), "difference"].astype(float))
                test = wilcoxon_test(d) if len(d) else None
                row[f"difference_{view}"] = bootstrap_ci(d, seed=seed).format(digits) if len(d) else np.nan
                row[f"wilcoxon_p_{view}"] = test.p if test else np.nan
                row[f"wilcoxon_n_{view}"] = test.n if test else 0
            if any(pd.notna(row[v]) for v in views):
                rows.append(row)
    columns = (["model", "level", "nb_images", *views]
               + [f"{k}_{v}" for v in views[1:] for k in ("difference", "wilcoxon_p", "wilcoxon_n")])
    table = pd.DataFrame(rows, columns=columns)
    notes = []
    if measure == "contribution":
        js = sorted(full["levels"].unique()) if "levels" in full else []
        notes.append("Level contributions per coefficient, normalised to sum to 1 over each view's "
                     "levels" + (f" (J = {js[0]} in every view: a uniform map gives "
                                 f"1/{js[0] + 1} to every level of every view)."
                                 if len(js) == 1 else "."))
    else:
        notes.append("Contributions per physical scale: each level's importance per coefficient, "
                     "normalised over the scales every view holds; a row is one physical scale, "
                     f"named by the {views[0]} view's level (its level j is the band of the other "
                     "view's level j + 1; the zoomed view's finest level is left out); a uniform "
                     "map gives the same value to every scale of every view.")
    if len(views) > 1:
        notes.append(f"Difference: {views[0]} view minus the other view, per image, then the mean "
                     "over the images with the level in both views; Wilcoxon p: two-sided "
                     "signed-rank test of those differences (zero differences per Pratt).")
    if "target_policy" in full and len(full):
        policy = ",".join(sorted(set(full["target_policy"].astype(str))))
        notes.append(f"The same class is explained in every view (target policy: {policy}).")
    if "prediction_changed" in full and "image_id" in full and len(views) > 1:
        per_image = full.drop_duplicates(["model", "image_id", "view"])
        counts = []
        for model in models:
            for view in views[1:]:
                changed = per_image.loc[(per_image["model"] == model) & (per_image["view"] == view),
                                        "prediction_changed"].astype(bool)
                counts.append(f"{model}, {view} view: {int(changed.sum())} of {len(changed)} images")
        notes.append(f"Prediction changed from the {views[0]} view: " + "; ".join(counts) + ".")
    table.attrs["notes"] = notes
    table.attrs["views"] = views
    return table


def zoom_differences(zoom: pd.DataFrame, views: Sequence[str] | None = None,
                     measure: str | None = None) -> pd.DataFrame:
    """Paired difference of each level's contribution between two views, per image.

    Parameters
    ----------
    zoom:
        :func:`~spectral_attribution.studies.zoom.zoom_study` table (columns
        ``model, image_id, view, level, contribution``).
    views:
        ``(first, second)``; default ``("regular", "zoomed")`` when both are
        present, else the first two views in table order.
    measure:
        The column compared: ``"contribution"``, ``"scale_contribution"``,
        ``"mass_contribution"`` or ``"energy_contribution"`` (default: the
        zoom study's own choice, per physical scale when the views have
        different ``J``); levels are matched by ``scale_level`` when the
        views differ in ``J``.

    Returns
    -------
    pandas.DataFrame
        One row per model, image and level present in both views, columns
        ``model, image_id, level, first, second, difference`` (``first -
        second``: regular - zoomed by default), plus ``first_view,
        second_view, measure``.
    """
    require_columns(zoom, ["model", "image_id", "view", "level", "contribution"], "zoom table")
    if measure is None:  # the study's own measure; tables without the per-scale column: per level
        measure = (zoom_measure(zoom) if {"levels", "scale_contribution"} <= set(zoom.columns)
                   else "contribution")
    present = list(dict.fromkeys(zoom["view"]))
    if views is None:
        views = ("regular", "zoomed") if {"regular", "zoomed"} <= set(present) else present[:2]
    if len(views) != 2 or not set(views) <= set(present):
        raise ValueError(f"zoom table: need two views among {present}, got {list(views)}")
    parts = []
    by_scale = measure == "scale_contribution" or (
        measure in ("mass_contribution", "energy_contribution") and "levels" in zoom.columns
        and zoom_measure(zoom) == "scale_contribution")
    require_columns(zoom, [measure], "zoom table")
    for v in views:
        part = zoom[zoom["view"] == v]
        if by_scale:  # the same physical band, named as in the first view
            part = part[part[measure].notna()].assign(level=lambda f: f["scale_level"])
        parts.append(part[["model", "image_id", "level", measure]])
    out = parts[0].merge(parts[1], on=["model", "image_id", "level"], suffixes=("_a", "_b"))
    out = out.rename(columns={f"{measure}_a": "first", f"{measure}_b": "second"})
    out["difference"] = out["first"] - out["second"]
    return out.assign(first_view=views[0], second_view=views[1], measure=measure)

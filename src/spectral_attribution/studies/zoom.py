"""Zoom study: how the WCAM's importance moves across wavelet levels when the view zooms in.

:func:`zoom_study` explains each image in a regular view (Resize 256,
CenterCrop 224, ``J = 3``) and a zoomed view (Resize 512, CenterCrop 224,
``J = 4``) and summarises each WCAM by its *level contributions*
(:func:`spectral_attribution.metrics.level_contributions`); :func:`zoom_table`
lays them out as the paper's table (Kasmi et al. 2023).
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Sequence

import pandas as pd

from .. import metrics
from .._common import check_ids, model_name, progress_bar, require_columns
from ..explainers import WCAM
from ..transforms import WaveletTransform

__all__ = ["ZOOM_VIEWS", "zoom_study", "zoom_table"]


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
    pil_images = list(pil_images)
    ids = check_ids(image_ids, len(pil_images))
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
        for i in progress_bar(range(len(pil_images)), progress, f"zoom {view}"):
            [e] = explainer(pre.to_tensor(pil_images[i]).unsqueeze(0))
            expls.append(e)
            contrib = metrics.level_contributions(e.map, e.subbands, per_coefficient)
            for order, (level, value) in enumerate(contrib.items()):
                rows.append({"model": model_name(model), "image_id": ids[i], "view": view,
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
    require_columns(df, ["model", "view", "level", "level_order", "contribution"])
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

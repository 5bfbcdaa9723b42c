"""The figures of the workflow: a registry of figure makers, by name.

:data:`FIGURES` maps each figure (``figures/{name}.pdf/.png``) to its
maker: the study tables it reads (CSV files under ``results/studies/``,
plus ``samples`` for the figures that show images) and the function that
draws it. The figures that show images (``wcam_gallery``,
``reconstructions``) also read shards from a ``results/`` folder; no model
is ever loaded. :func:`draw_figure` and :func:`make_figure` run a maker by
name; adding a figure is adding an entry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from spectral_attribution import catalog, metrics, results
from spectral_attribution._utils.tables import read_table, require_columns
from spectral_attribution.data import load_image
from spectral_attribution.attributions.perturbations import wavelet_perturbation_for
from spectral_attribution.studies.corruption import corrupted_copy
from spectral_attribution.studies.reconstruction import depth_and_robustness
from spectral_attribution.plots.claims import plot_claims
from spectral_attribution.plots.common import save_figure
from spectral_attribution.plots.style import value_label
from spectral_attribution.plots.explanations import plot_reconstructions, plot_wcam_gallery
from spectral_attribution.plots.depth_figures import plot_depth_orders, plot_depth_vs_robustness
from spectral_attribution.plots.method_figures import plot_faithfulness, plot_methods
from spectral_attribution.plots.robustness_figures import plot_robustness, plot_zoom

__all__ = [
    "FigureMaker",
    "FIGURES",
    "draw_figure",
    "make_figure",
    "wcam_gallery",
    "reconstructions",
    "depth_vs_robustness",
]


def _image_of(samples: pd.DataFrame, image_id: str, preprocessing):
    row = samples[samples["image_id"] == str(image_id)].iloc[0]
    return preprocessing.to_tensor(load_image(row["path"]))


def wcam_gallery(samples: pd.DataFrame, *, results_dir, models: Sequence[str], nb_images: int):
    """The gallery figure: the first ``nb_images`` images of ``samples`` and their corrupted copies.

    One row per clean image, then one per corrupted copy explained (the
    ``corrupted`` shards of the first model name the copies); one WCAM (and
    spatial WCAM) per model and row, read from the shards under
    ``results_dir`` (:func:`spectral_attribution.results.load_explanation`).
    Images are prepared with the first model's recorded preprocessing.
    Returns :func:`~spectral_attribution.plots.explanations.plot_wcam_gallery`'s figure.
    """
    results_dir = Path(results_dir)
    models = list(models)
    first = models[0]
    pre = results.preprocessing_of(results_dir, first)
    corrupted = results.load_manifest(results_dir, first, "corrupted")
    rows_images, rows_exps, labels = [], [], []
    for image_id in list(samples["image_id"])[:nb_images]:
        clean = _image_of(samples, image_id, pre)
        rows_images.append(clean.permute(1, 2, 0).numpy())
        rows_exps.append([results.load_explanation(results_dir, m, image_id) for m in models])
        labels.append(f"{image_id}: clean")
        copies = corrupted[corrupted.get("source_image_id", corrupted["image_id"]) == image_id] \
            if not corrupted.empty else corrupted
        for _, row in copies.iterrows():
            img = corrupted_copy(clean, row["corruption"], int(row["severity"]), int(row["copy_seed"]))
            rows_images.append(img.permute(1, 2, 0).numpy())
            rows_exps.append([results.load_explanation(results_dir, m, row["image_id"], "corrupted")
                              for m in models])
            labels.append(f"{value_label('corruption', row['corruption'])}, "
                          f"severity {int(row['severity'])}")
    nb_clean = min(int(nb_images), len(samples))
    note = (f"n = {nb_clean} of {len(samples)} clean images shown, "
            f"with {len(labels) - nb_clean} corrupted copies")
    return plot_wcam_gallery(rows_images, rows_exps, labels, models, n_note=note)


def reconstructions(samples: pd.DataFrame, reconstruction: pd.DataFrame, *, results_dir,
                    models: Sequence[str], nb_images: int):
    """The reconstructions figure: the first ``nb_images`` clean images of the first model,
    next to their reconstruction at the reconstruction depth.

    Each reconstruction keeps the wavelet coefficients of the top-``depth``
    cells of the stored WCAM (all cells when the explained class was never
    restored, ``found`` False: the depth is then censored at ``d + 1``)
    (:func:`spectral_attribution.metrics.keep_top_k`).
    """
    require_columns(reconstruction, ["model", "condition", "image_id", "depth", "dim"],
                    "reconstruction table")
    results_dir = Path(results_dir)
    first = list(models)[0]
    pre = results.preprocessing_of(results_dir, first)
    rows = reconstruction[(reconstruction["model"] == first)
                          & (reconstruction["condition"] == "clean")].head(nb_images)
    images, recs, labels = [], [], []
    for _, row in rows.iterrows():
        image = _image_of(samples, row["image_id"], pre)
        exp = results.load_explanation(results_dir, first, row["image_id"])
        found = bool(row["found"]) if "found" in row else np.isfinite(row["depth"])
        k = int(row["depth"]) if found else int(row["dim"])
        pert = wavelet_perturbation_for(exp)
        rec = metrics.keep_top_k(pert, pert.prepare(image), metrics.explanation_order(exp), k)
        images.append(image.permute(1, 2, 0).numpy())
        recs.append(rec.detach().cpu().clamp(0, 1).permute(1, 2, 0).numpy())
        share = f"{100 * k / int(row['dim']):.1f} %"
        labels.append(f"{row['image_id']}: depth {k} cells\n({share} of the grid)"
                      if found else f"{row['image_id']}: not restored\n(all cells kept)")
    total = int(((reconstruction["model"] == first) & (reconstruction["condition"] == "clean")).sum())
    return plot_reconstructions(images, recs, labels,
                                n_note=f"n = {len(images)} of {total} clean images shown ({first})")


def depth_vs_robustness(reconstruction: pd.DataFrame, per_image: pd.DataFrame):
    """Depth of the clean images against the robustness of their prediction (inner join)."""
    return plot_depth_vs_robustness(
        depth_and_robustness(reconstruction, per_image, condition="clean", how="inner"))


@dataclass(frozen=True)
class FigureMaker:
    """One figure of the workflow.

    Attributes
    ----------
    inputs:
        Names of the tables it reads, in the order ``draw`` takes them.
    draw:
        ``draw(*tables, **options) -> matplotlib.figure.Figure``.
    options:
        Names of the keyword arguments ``draw`` needs (among ``results_dir``,
        ``models``, ``nb_images``); other options given to
        :func:`draw_figure` are ignored.
    """

    inputs: tuple[str, ...]
    draw: Callable
    options: tuple[str, ...] = ()


#: Figure name → maker. Tables: ``per_corruption``, ``per_image``,
#: ``reconstruction``, ``zoom``, ``faithfulness``, ``methods`` (study tables),
#: ``samples`` (``results/data/samples.csv``) and ``claims`` (the table
#: ``results/tables/claims.csv``).
_MAKERS: dict[str, FigureMaker] = {
    "robustness": FigureMaker(("per_corruption",), plot_robustness),
    "wcam_gallery": FigureMaker(("samples",), wcam_gallery, ("results_dir", "models", "nb_images")),
    "reconstructions": FigureMaker(("samples", "reconstruction"), reconstructions,
                                   ("results_dir", "models", "nb_images")),
    "depth_vs_robustness": FigureMaker(("reconstruction", "per_image"), depth_vs_robustness),
    "depth_orders": FigureMaker(("reconstruction",), plot_depth_orders),
    "zoom": FigureMaker(("zoom",), plot_zoom),
    "faithfulness": FigureMaker(("faithfulness",), plot_faithfulness),
    "claims": FigureMaker(("claims",), plot_claims),
    "methods": FigureMaker(("methods",), plot_methods),
}
#: The registry, in the order and with the names of :data:`spectral_attribution.catalog.FIGURES`
#: (a name without a maker fails here, at import).
FIGURES: dict[str, FigureMaker] = {name: _MAKERS[name] for name in catalog.FIGURES}


def draw_figure(name: str, inputs: Mapping[str, str | os.PathLike | pd.DataFrame], **options):
    """Draw figure ``name`` of :data:`FIGURES`.

    Parameters
    ----------
    inputs:
        Table name → CSV path (read with
        :func:`~spectral_attribution._utils.tables.read_table`) or DataFrame.
    **options:
        ``results_dir`` (the ``results/`` folder), ``models`` (nicknames,
        the first one's shards and preprocessing are used), ``nb_images``:
        passed to the makers that declare them.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        Unknown figure name (the known ones are listed).
    KeyError
        A table or an option the maker needs is missing (named).
    """
    try:
        maker = FIGURES[name]
    except KeyError:
        raise ValueError(f"unknown figure {name!r}; expected one of {tuple(FIGURES)}") from None
    absent = [key for key in maker.inputs if key not in inputs]
    if absent:
        raise KeyError(f"figure {name!r} needs the table(s) {absent}; given: {sorted(inputs)}")
    missing = [k for k in maker.options if k not in options]
    if missing:
        raise KeyError(f"figure {name!r} needs the option(s) {missing}")
    tables = [inputs[k] if isinstance(inputs[k], pd.DataFrame) else read_table(inputs[k])
              for k in maker.inputs]
    return maker.draw(*tables, **{k: options[k] for k in maker.options})


def make_figure(name: str, inputs: Mapping[str, str | os.PathLike | pd.DataFrame], stem,
                **options) -> dict[str, Path]:
    """:func:`draw_figure` then :func:`~spectral_attribution.plots.common.save_figure`
    to ``stem.pdf`` and ``stem.png``; returns ``{"pdf": Path, "png": Path}``."""
    return save_figure(draw_figure(name, inputs, **options), stem)

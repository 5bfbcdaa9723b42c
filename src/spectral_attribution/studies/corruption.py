"""Corruption study: predictions on ImageNet-C corrupted copies and the robustness of each prediction.

* :func:`corruption_baseline` -- predictions on every corruption at
  severities 1-5 (seeded copies);
* :func:`robustness_per_image`, :func:`robustness_per_corruption` -- the
  *robustness* of each prediction, and per corruption and severity;
* :func:`robustness_table` -- the study's table (per model);
* :func:`select_corrupted_copies` -- which corrupted copies to explain;
  :func:`corrupted_copy`, :func:`corrupted_copies`, :func:`corrupted_id` --
  rebuild them and name them.

Robustness (METHOD.md, section 4): the share of an image's corrupted copies
on which the model keeps its clean prediction. Corruptions: Hendrycks &
Dietterich (ICLR 2019), through :mod:`spectral_attribution.data.corruptions`.

Corruption sets: the baseline runs on a named set (``standard-15``, the
paper's and ImageNet-C's benchmark, by default; ``extra-4``; ``all-19``) or
a list; every table names the set it was computed on
(:func:`~spectral_attribution.data.corruptions.corruption_set_label`), and the
robustness table reports the standard corruptions apart from the extras.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch

from spectral_attribution import metrics
from spectral_attribution._utils.checks import as_image_list, check_ids, progress_bar
from spectral_attribution._utils.parameters import check_labels
from spectral_attribution.models.forward import model_name, predictions
from spectral_attribution._utils.tables import require_columns
from spectral_attribution.data.corruptions import (
    STANDARD_CORRUPTIONS,
    check_severity,
    copy_seed,
    corrupt,
    corruption_set_label,
    corruption_set_of,
    resolve_corruptions,
)

__all__ = [
    "corruption_baseline",
    "robustness_per_image",
    "robustness_per_corruption",
    "robustness_table",
    "select_corrupted_copies",
    "corrupted_copy",
    "corrupted_copies",
    "corrupted_id",
]


def corruption_baseline(model, images, image_ids: Sequence[str], corruptions="standard-15",
                        severities: Sequence[int] = (1, 2, 3, 4, 5), seed: int = 0,
                        batch_size: int = 64, labels: Sequence[int] | None = None,
                        autocast: str | None = None, progress=None, *,
                        precision: str = "float32", backend: str = "eager") -> pd.DataFrame:
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
        A set name (``"standard-15"``, the default and the paper's;
        ``"extra-4"``; ``"all-19"``) or a list of names among
        :data:`spectral_attribution.data.corruptions.CORRUPTIONS`; ``None`` is
        ``"standard-15"`` (:func:`~spectral_attribution.data.corruptions.resolve_corruptions`).
    severities:
        Integers in 1..5.
    seed:
        Base seed; the copy ``(image i, corruption c, severity s)`` uses
        :func:`spectral_attribution.data.corruptions.copy_seed` ``(seed, i, c, s)``,
        recorded in column ``copy_seed``.
    labels:
        Optional ground-truth class indices (recorded in column ``label``,
        ``-1`` when not given).

    Returns
    -------
    pandas.DataFrame
        One row per image x corruption x severity, columns
        ``model, image_id, label, clean_prediction, clean_score, corruption,
        corruption_set, severity, copy_seed, corrupted_prediction,
        corrupted_score, same_as_clean`` (``corruption_set``: the set the
        corruption belongs to, ``"standard-15"`` or ``"extra-4"``; scores are
        softmax probabilities of the predicted class, in ``[0, 1]``;
        ``same_as_clean`` is a bool).

    Raises
    ------
    ValueError
        Unknown corruption, severity outside 1..5, ``len(image_ids)`` not the
        number of images.

    Notes
    -----
    Cost: ``15 x 5`` corruptions per image (standard-15) on the CPU (each under 0.2 s at
    224 px; ``glass_blur`` compiles its numba loop once per process, about
    2 s) plus as many forward passes, batched by ``batch_size``.
    ``precision`` (``"float32"`` default, ``"bfloat16"``, ``"float16"``,
    ``"auto"``) and ``backend`` (``"eager"`` default, ``"auto"``, ...: see
    :mod:`spectral_attribution.models.backends`) set how the forward passes run;
    ``autocast`` is the deprecated spelling of ``precision``.
    """
    images = as_image_list(images)
    ids = check_ids(image_ids, len(images))
    names = list(resolve_corruptions(corruptions))
    severities = [check_severity(v) for v in severities]
    if labels is not None:
        labels = check_labels(labels, len(images))  # integers, -1 unknown (issue 22 §1)
    clean_pred, clean_prob = predictions(model, images, batch_size, autocast, precision=precision, backend=backend)
    rows = []
    for i in progress_bar(range(len(images)), progress, "corruptions"):
        copies, meta = [], []
        for name in names:
            for sev in severities:
                seed_i = copy_seed(seed, i, name, sev)
                copies.append(corrupt(images[i].detach().cpu().float().clamp(0, 1), name, sev, seed_i))
                meta.append((name, sev, seed_i))
        pred, prob = predictions(model, copies, batch_size, autocast, precision=precision, backend=backend)
        for (name, sev, seed_i), p, q in zip(meta, pred, prob):
            rows.append({
                "model": model_name(model), "image_id": ids[i],
                "label": int(labels[i]) if labels is not None else -1,
                "clean_prediction": int(clean_pred[i]), "clean_score": float(clean_prob[i]),
                "corruption": name, "corruption_set": corruption_set_of(name),
                "severity": sev, "copy_seed": seed_i,
                "corrupted_prediction": int(p), "corrupted_score": float(q),
                "same_as_clean": bool(p == clean_pred[i]),
            })
    columns = ["model", "image_id", "label", "clean_prediction", "clean_score", "corruption",
               "corruption_set", "severity", "copy_seed", "corrupted_prediction", "corrupted_score",
               "same_as_clean"]
    return pd.DataFrame(rows, columns=columns)


def _standard(corruptions: pd.Series) -> pd.Series:
    """Whether each corruption is one of the standard 15."""
    return corruptions.isin(STANDARD_CORRUPTIONS)


def robustness_per_image(baseline: pd.DataFrame) -> pd.DataFrame:
    """Robustness of each prediction from a :func:`corruption_baseline` table.

    Returns
    -------
    pandas.DataFrame
        One row per ``(model, image_id)``, columns ``model, image_id, label,
        clean_prediction, nb_copies, robustness, corruptions,
        robustness_standard, robustness_extra``: ``robustness`` is the share
        (in ``[0, 1]``) of the image's corrupted copies on which the model
        predicts its clean prediction
        (:func:`spectral_attribution.metrics.robustness`), over the
        corruptions named by ``corruptions`` (e.g. ``"standard-15"``,
        ``"6 of standard-15"``, ``"all-19"``;
        :func:`~spectral_attribution.data.corruptions.corruption_set_label`);
        ``robustness_standard`` and ``robustness_extra`` are the same over
        the copies of standard and of extra corruptions only (NaN when there
        are none).
    """
    require_columns(baseline, ["model", "image_id", "clean_prediction", "corruption",
                               "corrupted_prediction"])
    rows = []
    for (model, image_id), part in baseline.groupby(["model", "image_id"], sort=False):
        clean = int(part["clean_prediction"].iloc[0])
        preds = part["corrupted_prediction"].to_numpy()
        standard = _standard(part["corruption"]).to_numpy()
        rows.append({"model": model, "image_id": image_id,
                     "label": int(part["label"].iloc[0]) if "label" in part else -1,
                     "clean_prediction": clean, "nb_copies": len(part),
                     "robustness": metrics.robustness(clean, preds),
                     "corruptions": corruption_set_label(part["corruption"]),
                     "robustness_standard": metrics.robustness(clean, preds[standard])
                     if standard.any() else float("nan"),
                     "robustness_extra": metrics.robustness(clean, preds[~standard])
                     if (~standard).any() else float("nan")})
    return pd.DataFrame(rows, columns=["model", "image_id", "label", "clean_prediction",
                                       "nb_copies", "robustness", "corruptions",
                                       "robustness_standard", "robustness_extra"])


def robustness_per_corruption(baseline: pd.DataFrame) -> pd.DataFrame:
    """Robustness per model, corruption and severity (for :func:`plots.plot_robustness`).

    Returns
    -------
    pandas.DataFrame
        Columns ``model, corruption, corruption_set, severity, nb_images,
        robustness`` (mean of ``same_as_clean`` over images, in ``[0, 1]``;
        ``corruption_set``: ``"standard-15"`` or ``"extra-4"``, the set the
        corruption belongs to).
    """
    require_columns(baseline, ["model", "corruption", "severity", "same_as_clean"])
    out = (baseline.groupby(["model", "corruption", "severity"], sort=False)
           .agg(nb_images=("same_as_clean", "size"), robustness=("same_as_clean", "mean"))
           .reset_index())
    out["robustness"] = out["robustness"].astype(float)
    out.insert(2, "corruption_set", [corruption_set_of(c) for c in out["corruption"]])
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
    require_columns(baseline, ["model", "image_id", "severity", "same_as_clean"])
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
    type and shape. Same as :func:`spectral_attribution.data.corruptions.corrupt`.
    """
    return corrupt(image, corruption, severity, copy_seed)


def corrupted_id(image_id: str, corruption: str, severity: int) -> str:
    """Identifier of a corrupted copy in the ``corrupted`` shards: ``"{image_id}@{corruption}-{severity}"``."""
    return f"{image_id}@{corruption}-{int(severity)}"


def corrupted_copies(images, image_ids: Sequence[str], labels: Sequence[int], selection: pd.DataFrame):
    """The corrupted copies listed in ``selection`` of the images it names.

    Parameters
    ----------
    images:
        ``(B, 3, H, W)`` float tensor of clean images in ``[0, 1]``.
    image_ids, labels:
        One id and one label per image.
    selection:
        Rows ``image_id, corruption, severity, copy_seed`` (e.g.
        :func:`select_corrupted_copies`); rows of other images are ignored.

    Returns
    -------
    (copies, ids, labels, extra)
        ``copies`` a ``(M, 3, H, W)`` tensor (``images[:0]`` when none), their
        ids (:func:`corrupted_id`), the labels of their clean images, and
        ``extra``: ``{"source_image_id", "corruption", "severity",
        "copy_seed"}`` lists of ``M`` values, in image order then selection order.

    Raises
    ------
    KeyError
        ``selection`` lacks one of the columns (named).
    """
    require_columns(selection, ["image_id", "corruption", "severity", "copy_seed"], "selection")
    out, out_ids, out_labels = [], [], []
    extra = {"source_image_id": [], "corruption": [], "severity": [], "copy_seed": []}
    for img, image_id, label in zip(images, image_ids, labels):
        for _, row in selection[selection["image_id"] == image_id].iterrows():
            out.append(corrupted_copy(img, row["corruption"], int(row["severity"]),
                                      int(row["copy_seed"])))
            out_ids.append(corrupted_id(image_id, row["corruption"], int(row["severity"])))
            out_labels.append(label)
            extra["source_image_id"].append(image_id)
            extra["corruption"].append(row["corruption"])
            extra["severity"].append(int(row["severity"]))
            extra["copy_seed"].append(int(row["copy_seed"]))
    stacked = torch.stack(out) if out else images[:0]
    return stacked, out_ids, out_labels, extra


def robustness_table(per_image: pd.DataFrame, per_corruption: pd.DataFrame) -> pd.DataFrame:
    """The robustness table: per model and corruption set, mean robustness and the worst corruption.

    The standard corruptions (ImageNet-C's benchmark, the paper's) and the
    extra ones are reported on separate rows, and together on a third row
    when the baseline has both.

    Parameters
    ----------
    per_image:
        :func:`robustness_per_image` (columns ``model, image_id, robustness``;
        ``robustness_standard, robustness_extra`` for the split).
    per_corruption:
        :func:`robustness_per_corruption` (columns ``model, corruption,
        severity, robustness``).

    Returns
    -------
    pandas.DataFrame
        One row per model and set, columns ``model, corruptions`` (the set:
        ``"standard-15"``, ``"6 of standard-15"``, ``"extra-4"``,
        ``"all-19"``, ...), ``nb_corruptions, nb_images, robustness_mean,
        robustness_std`` (``ddof=1``; robustness in ``[0, 1]``),
        ``worst_corruption, worst_severity, worst_robustness`` (the
        corruption and severity of lowest robustness in the set).

    Raises
    ------
    KeyError
        A table lacks a column (named).
    """
    require_columns(per_image, ["model", "image_id", "robustness"], "per-image robustness")
    require_columns(per_corruption, ["model", "corruption", "severity", "robustness"],
                    "per-corruption robustness")
    rows = []
    for model in dict.fromkeys(per_corruption["model"]):
        corr = per_corruption[per_corruption["model"] == model]
        images = per_image[per_image["model"] == model]
        standard = _standard(corr["corruption"])
        parts = [("robustness_standard", corr[standard]), ("robustness_extra", corr[~standard])]
        parts = [(col, part) for col, part in parts if len(part)]
        if len(parts) == 2:
            parts.append(("robustness", corr))
        for col, part in parts:
            if len(parts) == 1:  # one kind only: "robustness" is over it
                values = images["robustness"]
            else:
                require_columns(images, [col], "per-image robustness")
                values = images[col]
            worst = part.sort_values("robustness", kind="stable").iloc[0]
            rows.append({"model": model, "corruptions": corruption_set_label(part["corruption"]),
                         "nb_corruptions": int(part["corruption"].nunique()),
                         "nb_images": int(values.notna().sum()),
                         "robustness_mean": float(values.mean()),
                         "robustness_std": float(values.std()),
                         **_interval(values),
                         "worst_corruption": worst["corruption"],
                         "worst_severity": int(worst["severity"]),
                         "worst_robustness": float(worst["robustness"])})
    table = pd.DataFrame(rows, columns=["model", "corruptions", "nb_corruptions", "nb_images",
                                        "robustness_mean", "robustness_std", "robustness_low",
                                        "robustness_high", "worst_corruption",
                                        "worst_severity", "worst_robustness"])
    table.attrs["notes"] = [
        "Robustness: share of an image's corrupted copies on which the model keeps its clean "
        "prediction. standard-15: ImageNet-C's 15 benchmark corruptions (the paper's); extra-4: "
        "speckle noise, Gaussian blur, spatter, saturate; 'K of SET': K corruptions of that set."]
    return table


def _interval(values) -> dict:
    """``robustness_low, robustness_high``: the 95 % bootstrap interval of the mean over images."""
    from spectral_attribution.studies.stats import bootstrap_ci

    e = bootstrap_ci(pd.Series(values).astype(float), "mean")
    return {"robustness_low": e.low, "robustness_high": e.high}

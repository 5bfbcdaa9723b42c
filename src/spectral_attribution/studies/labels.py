"""Human names, with units, of the columns and values of the study tables.

One dictionary serves the axis labels of the figures
(:mod:`spectral_attribution.plots.style`) and the headers of the Markdown,
LaTeX and HTML tables (:mod:`spectral_attribution.studies.tables`); CSV
files keep the snake_case column names (they are read by programs).

:func:`label` gives a column's name in words (``"depth_share"`` →
``"reconstruction depth (share of grid cells)"``); :func:`value_label` a
value's (``"gaussian_noise"`` → ``"Gaussian noise"``, ``"level_4"`` →
``"detail level 4"``). Unknown columns fall back to their name with spaces
for underscores, so a new column is readable before it gets an entry here.
"""

from __future__ import annotations

import re

__all__ = ["COLUMNS", "SHORT", "label", "short_label", "value_label", "level_label",
           "level_sort_key"]

#: Column → name in words, with the unit in parentheses (shares are in [0, 1]).
COLUMNS: dict[str, str] = {
    # identifiers and groups
    "model": "classifier",
    "method": "attribution method",
    "condition": "image set",
    "view": "view (resize and crop)",
    "image_id": "image",
    "level": "wavelet level",
    "corruption": "corruption",
    "severity": "severity (ImageNet-C, 1-5)",
    "order": "order of the grid cells",
    # counts
    "nb_images": "images (n)",
    "n": "images in the fit (n)",
    "nb_copies": "corrupted copies per image",
    "dim": "grid cells (d)",
    # robustness
    "robustness": "robustness (share of copies with the clean prediction)",
    "robustness_mean": "robustness (share of copies)",
    "robustness_std": "robustness, SD over images",
    "worst_corruption": "worst corruption",
    "worst_severity": "its severity",
    "worst_robustness": "its robustness (share of images)",
    "same_as_clean": "prediction unchanged (share of images)",
    # reconstruction
    "depth": "reconstruction depth (grid cells)",
    "depth_share": "reconstruction depth (share of grid cells)",
    "found": "prediction restored",
    "found_share": "restored (share of images)",
    "depth_share_median": "median depth, WCAM order (share of cells)",
    "random_depth_median": "median depth, random orders (grid cells)",
    "random_depth_share_median": "median depth, random orders (share of cells)",
    "random_found_share": "random orders that restore (share)",
    "slope": "slope of robustness on depth",
    "intercept": "intercept",
    "r": "Pearson r",
    "p": "p-value",
    # zoom
    "contribution": "level contribution (share per coefficient)",
    "regular": "regular view",
    "zoomed": "zoomed view",
    "difference": "zoomed - regular",
    # faithfulness
    "mu_fidelity": "mu-fidelity (Spearman correlation)",
    "insertion_auc": "insertion AUC (higher is better)",
    "deletion_auc": "deletion AUC (lower is better)",
    "mu_fidelity_approximation_kept": "mu-fidelity, approximation kept (Spearman correlation)",
    # corruption sets, targets, depths
    "corruptions": "corruption set",
    "nb_corruptions": "corruptions (n)",
    "target_policy": "class explained",
    "depth_median": "median depth, WCAM order (grid cells)",
    "random_found_share": "random orders that restore (share)",
    # intervals and tests
    "wilcoxon_p": "Wilcoxon p (WCAM vs random orders)",
    "wilcoxon_n": "images in the Wilcoxon test (n)",
    "wilcoxon_statistic": "Wilcoxon statistic",
    "spearman": "Spearman rho",
    "slope_low": "slope, lower 95 % bound",
    "slope_high": "slope, upper 95 % bound",
    # claims
    "claim": "claim of the paper",
    "quantity": "quantity compared",
    "statistic": "statistic over images",
    "wcam": "WCAM",
    "baseline": "baseline",
    "baseline_value": "baseline's value",
    "estimate": "margin (> 0 favours the claim)",
    "role": "role of the baseline",
    "p_holm": "p, Holm-corrected over the deciding rows",
    "images_needed": "images that would decide it",
    "test": "paired test",
    "test_statistic": "test statistic",
    "verdict": "verdict",
    # WCAM estimation noise
    "grid_size": "grid size",
    "nb_design": "designs",
    "levels": "wavelet levels (J)",
    "spearman_min": "lowest Spearman rho",
    "same_top_cell": "same most important cell (share of images)",
    "top_overlap": "overlap of the top cells (share)",
    # methods
    "predictor": "predictor of robustness",
    "spearman_details": "Spearman rho with the WCAM, detail cells",
    "share_approximation": "share of mass on the approximation",
    "wall_time_s": "time per image (s, median)",
    "nb_forward": "forward passes per image",
    "nb_backward": "backward passes per image",
}

#: Shorter names for table headers and panel titles, where the long one does not fit.
SHORT: dict[str, str] = {
    "robustness": "robustness",
    "contribution": "level contribution",
    "mu_fidelity": "mu-fidelity",
    "insertion_auc": "insertion AUC",
    "deletion_auc": "deletion AUC",
    "depth_share": "depth (share of cells)",
    "random_depth_share_median": "depth, random orders (share of cells)",
}

_VALUES: dict[str, dict[str, str]] = {
    "condition": {"clean": "clean images", "corrupted": "corrupted copies"},
    "method": {"wcam": "WCAM", "spatial-sobol": "spatial Sobol'", "wam": "WAM",
               "fourier-cam": "Fourier-CAM", "level-prior": "level prior",
               "random-attribution": "random attribution", "centre-prior": "centre prior",
               "wam-gradient": "WAM (gradient)", "wam-smoothgrad": "WAM (SmoothGrad)",
               "wam-integratedgrad": "WAM (integrated gradients)"},
    "view": {"regular": "regular view", "zoomed": "zoomed view"},
}

_PROPER = {"gaussian": "Gaussian", "jpeg": "JPEG"}


def label(column: str) -> str:
    """``column`` in words with its unit (:data:`COLUMNS`); unknown: underscores → spaces."""
    column = str(column)
    if column in COLUMNS:
        return COLUMNS[column]
    for suffix, bound in (("_low", "lower"), ("_high", "upper")):  # bounds of a 95 % CI
        if column.endswith(suffix) and column[: -len(suffix)] in COLUMNS:
            return f"{COLUMNS[column[: -len(suffix)]]}, {bound} 95 % bound"
    return column.replace("_", " ")


def short_label(column: str) -> str:
    """The short name of ``column`` (:data:`SHORT`), else :func:`label`."""
    return SHORT.get(str(column), label(column))


def level_label(level: str) -> str:
    """``"approximation"`` → ``"approximation"``; ``"level_j"`` → ``"detail level j"``
    (``j = 1`` the finest details); anything else with spaces for underscores."""
    level = str(level)
    match = re.fullmatch(r"level_(\d+)", level)
    return f"detail level {match.group(1)}" if match else level.replace("_", " ")


def value_label(column: str, value) -> str:
    """A value of ``column`` in words: condition, method, view, level and corruption names.

    Corruptions: ``"gaussian_noise"`` → ``"Gaussian noise"``, ``"jpeg_compression"`` →
    ``"JPEG compression"``; levels: :func:`level_label`; other values as ``str``.
    """
    column, text = str(column), str(value)
    if column in _VALUES:
        return _VALUES[column].get(text, text.replace("_", " "))
    if column in ("level",):
        return level_label(text)
    if column in ("corruption", "worst_corruption"):
        return " ".join(_PROPER.get(w, w) for w in text.split("_"))
    return text


def level_sort_key(level: str):
    """Sort key of level names: approximation, then ``level_j`` by decreasing ``j`` (coarsest first)."""
    if level == "approximation":
        return (0, 0)
    try:
        return (1, -int(str(level).rsplit("_", 1)[-1]))
    except ValueError:
        return (2, str(level))

"""Small synthetic study tables with known structure, for the figure and table tests.

:func:`synthetic_inputs` gives one table per input name of the figure and
table registries (``plots.FIGURES``, ``studies.TABLES``); a new input name
needs an entry here, so every new figure or table is checked for style.
"""

import numpy as np
import pandas as pd

from spectral_attribution import studies as S



def _reconstruction():
    """Two models, 6 clean images and 6 corrupted copies each; 5 clean points of model-a coincide."""
    rng = np.random.default_rng(0)
    rows = []
    for m in ("model-a", "model-b"):
        for cond, shift in (("clean", 0.0), ("corrupted", 0.2)):
            for i in range(6):
                same = m == "model-a" and i < 5
                share = 0.25 if same else float(rng.uniform(0.05, 0.5))
                rows.append({"model": m, "image_id": f"img{i}", "condition": cond, "dim": 64,
                             "depth": round((share + shift) * 64), "depth_share": share + shift,
                             "found": True, "random_depth_share_median": min(1.0, 2 * share + 0.1),
                             "robustness": 0.5 if same else float(rng.uniform(0, 1))})
    return pd.DataFrame(rows)


def _per_image(recon):
    clean = recon[recon["condition"] == "clean"]
    return clean[["model", "image_id", "robustness"]].reset_index(drop=True)


def _zoom():
    return pd.DataFrame([
        {"model": m, "image_id": i, "view": v, "level": lvl, "level_order": k,
         "contribution": c + 0.01 * n}
        for m in ("model-a", "model-b") for n, i in enumerate(("x", "y", "z"))
        for v, levels in (("regular", 3), ("zoomed", 4))
        for k, (lvl, c) in enumerate(zip(["approximation"] + [f"level_{j}" for j in range(levels, 0, -1)],
                                         np.linspace(0.7, 0.05, levels + 1)))])


def _baseline():
    return pd.DataFrame([{"model": m, "image_id": f"img{i}", "corruption": c, "severity": s,
                          "same_as_clean": (s + i) % 3 != 0}
                         for m in ("model-a", "model-b") for i in range(3)
                         for c in ("gaussian_noise", "jpeg_compression") for s in (1, 3, 5)])


def _faithfulness():
    return pd.DataFrame([{"model": m, "image_id": f"img{i}", "method": meth,
                          "mu_fidelity": 0.1 * i, "insertion_auc": 0.5 + 0.05 * i,
                          "deletion_auc": 0.2 + 0.01 * i}
                         for m in ("model-a", "model-b") for i in range(4)
                         for meth in ("wcam", "spatial-sobol")])


def synthetic_inputs():
    """One synthetic table per input name of :data:`plots.FIGURES`."""
    recon = _reconstruction()
    baseline = _baseline()
    return {"reconstruction": recon.drop(columns="robustness"), "per_image": _per_image(recon),
            "per_corruption": S.robustness_per_corruption(baseline), "zoom": _zoom(),
            "faithfulness": _faithfulness()}

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
                             "random_depth_median": min(64.0, round((2 * share + 0.1) * 64)),
                             "random_found_share": 1.0,
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


def _depth_baselines(recon):
    """The coarse-to-fine depth of every image (twice the WCAM's, capped) and its confidence."""
    return recon.assign(order="coarse_to_fine",
                        depth=lambda f: np.minimum(2 * f["depth"], 64),
                        depth_share=lambda f: np.minimum(2 * f["depth"], 64) / 64,
                        confidence=lambda f: 0.3 + 0.1 * f["image_id"].str[-1].astype(int))[
        ["model", "image_id", "condition", "order", "dim", "depth", "depth_share", "confidence"]]


def _wcam_noise():
    return pd.DataFrame([{"model": m, "image_id": f"img{i}", "grid_size": 8, "nb_design": 4,
                          "levels": 3, "spearman": 0.5 + 0.1 * i, "same_top_cell": i % 2 == 0,
                          "top_overlap": 0.25 * i} for m in ("model-a", "model-b") for i in range(3)])


def _methods():
    return pd.DataFrame([{"model": "model-a", "method": meth, "image_id": f"img{i}",
                          "spearman": 1.0 if meth == "wcam" else 0.2 * i,
                          "spearman_details": 1.0 if meth == "wcam" else 0.1 * i,
                          "mu_fidelity": 0.1 * i, "insertion_auc": 0.5, "deletion_auc": 0.1,
                          "share_approximation": 0.4 + 0.05 * i, "wall_time_s": 2.0 + i,
                          "nb_forward": 65, "nb_backward": 0 if meth == "wcam" else 8}
                         for meth in ("wcam", "wam-smoothgrad") for i in range(3)])


def _claims(inputs):
    return S.claims_table(inputs["reconstruction"], inputs["depth_baselines"], inputs["per_image"],
                          inputs["zoom"], inputs["faithfulness"], n_resamples=99)


def synthetic_inputs():
    """One synthetic table per input name of :data:`plots.FIGURES` and :data:`studies.TABLES`."""
    recon = _reconstruction()
    baseline = _baseline()
    inputs = {"reconstruction": recon.drop(columns="robustness"), "per_image": _per_image(recon),
              "per_corruption": S.robustness_per_corruption(baseline), "zoom": _zoom(),
              "faithfulness": _faithfulness(), "depth_baselines": _depth_baselines(recon),
              "wcam_noise": _wcam_noise(), "methods": _methods()}
    inputs["claims"] = _claims(inputs)
    return inputs

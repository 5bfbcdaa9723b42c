"""Issue 23: the image's own energy as baseline, verdicts against a rule declared in advance."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from helpers_studies import tiny_images, wrap
from spectral_attribution import studies as S
from spectral_attribution.attributions.explanation import Explanation
from spectral_attribution.attributions.transforms import WaveletTransform
from spectral_attribution.studies.baselines import cell_energy, energy_layout, energy_order
from spectral_attribution.studies.claims import claims_summary
from spectral_attribution.studies.stats import partial_spearman, spearman
from spectral_attribution.studies.verdicts import apply_verdicts, holm, role_of


class EnergyModel(nn.Module):
    """Class 1 iff the kept wavelet energy exceeds half of the (unit) energy of the image."""

    def __init__(self, levels):
        super().__init__()
        self.transform = WaveletTransform("haar", levels)

    def forward(self, x):
        energy = (self.transform.forward(x) ** 2).sum(dim=(1, 2, 3))
        return torch.stack([torch.full_like(energy, 0.5), energy], dim=1)


def unit_energy_images(count=4, size=32):
    x = tiny_images(count, size).double()
    layout = WaveletTransform("haar", 2).forward(x)
    return (x / (layout ** 2).sum(dim=(1, 2, 3)).sqrt()[:, None, None, None]).float()


def test_energy_layout_normalisations_and_cells():
    x = tiny_images(1)[0]
    raw, bands = energy_layout(x, "haar", 2, "raw")
    layout = WaveletTransform("haar", 2).forward(x[None].double())[0]
    np.testing.assert_allclose(raw, (layout ** 2).sum(0).numpy(), rtol=1e-12)
    per_level, _ = energy_layout(x, "haar", 2, "per-level")
    per_coef, _ = energy_layout(x, "haar", 2, "per-coefficient")
    for level, size in (("approximation", 64), ("level_2", 192), ("level_1", 768)):
        blocks = [b for b in bands if (b.name == "approximation") == (level == "approximation")
                  and f"level_{b.level}" == level or (level == "approximation" and b.name == level)]
        assert sum(per_level[b.slices].sum() for b in blocks) == pytest.approx(1.0)
        assert sum(per_coef[b.slices].sum() for b in blocks) == pytest.approx(size)
    cells = cell_energy(raw, 4)
    assert cells.shape == (4, 4) and cells.sum() == pytest.approx(raw.sum())
    assert cells[0, 0] == pytest.approx(raw[:8, :8].sum())
    order = energy_order(cells)
    assert np.all(np.diff(cells.ravel()[order]) <= 0)
    with pytest.raises(ValueError, match="normalisation"):
        energy_layout(x, "haar", 2, "loudness")


def test_a_model_of_the_image_energy_ties_the_energy_baseline():
    # the model only reads the kept energy: the exact total Sobol' index of cell i under
    # f(m) = sum_i m_i^2 E_i (i.i.d. masks) is proportional to E_i^2, so the WCAM order is the
    # energy order and the claim has nothing over the image's own energy
    g, n = 4, 4
    x = unit_energy_images(n)
    model = wrap(EnergyModel(2))
    expls = []
    for i in range(n):
        cells = cell_energy(energy_layout(x[i], "haar", 2, "raw")[0], g)
        expls.append(Explanation(method="wcam", indices=(cells ** 2).astype(np.float32),
                                 map=np.kron(cells ** 2, np.ones((8, 8))).astype(np.float32),
                                 spatial=None, target=1, predicted=1, score=0.0,
                                 predicted_score=0.0,
                                 settings={"wavelet": "haar", "levels": 2, "grid_size": g,
                                           "drop_approximation": False, "image_size": [32, 32]}))
    ids = [f"i{k}" for k in range(n)]
    depths = S.baseline_depths(model, x, expls, ids, orders=("wcam", "energy", "coarse_to_fine"))
    wide = depths.pivot(index="image_id", columns="order", values="depth")
    np.testing.assert_array_equal(wide["wcam"], wide["energy"])
    recon = depths[depths["order"] == "wcam"][["model", "image_id", "condition", "dim", "depth"]]
    per_image = pd.DataFrame({"model": recon["model"], "image_id": ids, "robustness": 0.5})
    table = S.claims_table(recon, depths, per_image, n_resamples=99)
    row = table[table["baseline"].str.startswith("energy order")].iloc[0]
    assert row["role"] == "decides"
    assert row["estimate"] == row["estimate_low"] == row["estimate_high"] == 0.0
    assert row["verdict"] == "not supported"


def test_holm_is_never_below_the_raw_p_and_matches_known_values():
    p = np.array([0.01, 0.04, np.nan, 0.03, 0.5])
    adjusted = holm(p)
    # sorted 0.01, 0.03, 0.04, 0.5 (m = 4): 0.04, 0.09, 0.09 (monotone), 0.5
    np.testing.assert_allclose(adjusted, [0.04, 0.09, np.nan, 0.09, 0.5])
    rng = np.random.default_rng(0)
    for _ in range(50):
        raw = rng.random(rng.integers(1, 12)) ** 3
        assert np.all(holm(raw) >= raw) and np.all(holm(raw) <= 1)


def _raw(baseline, quantity="reconstruction depth (share of d)", claim="a", p=1e-6, est=0.3):
    return {"model": "m", "claim_id": claim, "claim": claim, "condition": "clean",
            "quantity": quantity, "statistic": "median", "wcam": 0.1, "baseline": baseline,
            "baseline_value": 0.4, "estimate": est, "estimate_low": est / 2,
            "estimate_high": est * 2, "test": "wilcoxon", "test_statistic": 0.0, "p": p, "n": 20,
            "effect": 0.2, "effect_kind": "difference"}


def test_a_random_baseline_can_never_decide_the_verdict():
    for name in ("random order", "random attribution", "random order / random attribution"):
        assert role_of("a", "reconstruction depth (share of d)", name) == "sanity check"
        assert role_of("d", "insertion AUC", name) == "sanity check"
    table = apply_verdicts(pd.DataFrame([_raw("random order"),
                                         _raw("energy order", p=0.2, est=0.01)]))
    random_row, energy_row = table.iloc[0], table.iloc[1]
    assert random_row["role"] == "sanity check" and np.isnan(random_row["p_holm"])
    assert energy_row["role"] == "decides" and energy_row["verdict"] == "inconclusive"
    assert energy_row["images_needed"] > 20
    summary = claims_summary(table)
    assert "random order" not in summary and "energy order: inconclusive" in summary.replace(
        " vs energy order", "energy order")
    assert "undecided" in summary
    # names holding " = " are not split: the correlation claim's deciding row
    assert role_of("b", "partial Spearman rho with robustness, correctly classified images",
                   "no relation (partial rho = 0)") == "decides"
    assert role_of("b", "Spearman rho with robustness", "no relation (rho = 0)") == "reference"
    # spatial Sobol' never decides a WCAM claim
    assert role_of("d'", "insertion AUC", "centre prior") == "separate comparison"


def test_a_constant_baseline_pair_is_reported_once():
    rows = []
    for k in range(8):
        for view in ("regular", "zoomed"):
            rows.append({"model": "m", "image_id": f"i{k}", "view": view, "crop": 32, "levels": 2,
                         "grid_size": 4, "level": "approximation",
                         "contribution": 0.5 + (0.02 * k if view == "regular" else 0.0),
                         "energy_contribution": 0.5, "mass_contribution": 0.1})
    zoom = pd.DataFrame(rows)
    recon = pd.DataFrame({"model": "m", "image_id": [f"i{k}" for k in range(8)],
                          "condition": "clean", "dim": 16, "depth": 3.0})
    per_image = recon[["model", "image_id"]].assign(robustness=0.5)
    table = S.claims_table(recon, None, per_image, zoom=zoom, n_resamples=99)
    c = table[table["claim"].str.startswith("c:")]
    # same J in both views: the uniform map and the level prior both give a difference of 0
    # (and so does the energy shift of these images): one row, its baselines named together
    shares = c[c["quantity"].str.contains("per coefficient")]
    assert len(shares) == 1
    assert shares["baseline"].iloc[0] == "energy shift / uniform map / level prior"
    assert shares["role"].iloc[0] == "decides"
    assert c["quantity"].str.contains("mass share").sum() == 1


def test_partial_spearman_removes_a_confounder():
    rng = np.random.default_rng(0)
    z = rng.normal(size=200)
    x, y = z + 0.01 * rng.normal(size=200), z + 0.01 * rng.normal(size=200)
    assert spearman(x, y) > 0.95
    assert abs(partial_spearman(x, y, z)) < 0.2
    assert partial_spearman(x, y) == pytest.approx(spearman(x, y))


def test_claims_csv_columns_are_tidy(tmp_path):
    from spectral_attribution._utils.tables import read_table

    recon = pd.DataFrame({"model": "m", "image_id": [f"i{k}" for k in range(6)],
                          "condition": "clean", "dim": 16, "depth": np.arange(6.0) + 1,
                          "random_depths": "9;10;11"})
    per_image = recon[["model", "image_id"]].assign(robustness=np.linspace(0, 1, 6))
    paths = S.make_table("claims", {"reconstruction": recon, "per_image": per_image},
                         tmp_path / "claims")
    back = read_table(paths["csv"])
    for column in ("estimate", "estimate_low", "estimate_high", "p", "n"):
        assert pd.api.types.is_numeric_dtype(back[column]), column
    assert set(back["role"]) <= {"decides", "reference", "sanity check", "separate comparison"}

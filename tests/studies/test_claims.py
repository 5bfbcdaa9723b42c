"""The claims table: baselines in the studies and verdicts, on constructed cases with known answers."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from helpers_studies import TinyNet, tiny_images, wrap
from spectral_attribution import studies as S
from spectral_attribution.studies.baselines import (
    BASELINE_KINDS,
    approximation_first,
    cell_level_ranks,
    coarse_to_fine_order,
    level_prior,
    within_level_order,
)
from spectral_attribution.attributions.explanation import Explanation
from spectral_attribution.attributions.wcam import WCAM
from spectral_attribution.metrics import explanation_order, importance_order
from spectral_attribution.studies.claims import model_free_level_share
from spectral_attribution.attributions.transforms import WaveletTransform


def wcam_with(indices, levels=2, size=32, target=0):
    g = indices.shape[0]
    return Explanation(method="wcam", indices=np.asarray(indices, np.float32),
                       map=np.kron(indices, np.ones((size // g, size // g))).astype(np.float32),
                       spatial=None, target=target, predicted=target, score=0.0, predicted_score=0.0,
                       settings={"wavelet": "haar", "levels": levels, "grid_size": g,
                                 "drop_approximation": False, "image_size": [size, size]})


# -- the verdict rule --------------------------------------------------------------
def test_verdict_rule_on_constructed_numbers():
    assert S.verdict(0.3, 0.1, 0.5, 0.01) == "supported"
    assert S.verdict(0.3, 0.1, 0.5, 0.20) == "inconclusive"      # interval and test disagree
    assert S.verdict(0.3, -0.1, 0.5, 0.01) == "inconclusive"     # interval reaches 0
    assert S.verdict(0.0, 0.0, 0.0, 1.0) == "not supported"      # baseline as good
    assert S.verdict(-0.2, -0.4, -0.1, 0.001) == "not supported"  # baseline better
    assert S.verdict(-0.01, -0.3, 0.2, 0.9) == "not supported"
    assert S.verdict(np.nan, 0.1, 0.5, 0.01) == "inconclusive"
    assert S.verdict(0.3, 0.1, 0.5, np.nan) == "inconclusive"


# -- a constructed claims table ------------------------------------------------------
def constructed_tables(n=20):
    ids = [f"i{k}" for k in range(n)]
    rng = np.random.default_rng(0)
    wcam = np.full(n, 8.0)                          # 8 cells of 64
    recon = pd.DataFrame({"model": "m", "image_id": ids, "condition": "clean", "dim": 64,
                          "depth": wcam, "random_depths": ["30;nan;34"] * n})
    rows = []
    for k, i in enumerate(ids):
        for order, depth in (("wcam", 8.0), ("coarse_to_fine", 6.0), ("wcam_approximation_first", 8.0),
                             ("within_level", 8.0 + (1 if k % 2 else -1) * (k % 3))):
            rows.append({"model": "m", "image_id": i, "condition": "clean", "order": order,
                         "dim": 64, "depth": depth, "confidence": 0.5 + 0.4 * k / n})
    base = pd.DataFrame(rows)
    per_image = pd.DataFrame({"model": "m", "image_id": ids, "robustness": rng.random(n)})
    return recon, base, per_image


def test_depth_claims_known_margins():
    recon, base, per_image = constructed_tables()
    table = S.claims_table(recon, base, per_image, n_resamples=999)
    a = table[table["claim"] == "a: few coefficients suffice"].set_index("baseline")
    # random: draws 30, 65 (censored at d + 1), 34 -> median 34; margin (34 - 8) / 64 everywhere
    r = a.loc["random order"]
    assert r["estimate"] == r["estimate_low"] == r["estimate_high"] == pytest.approx(26 / 64)
    assert r["wcam"] == 8 / 64 and r["baseline_value"] == 34 / 64
    assert r["n"] == 20 and r["p"] < 1e-4 and r["verdict"] == "supported"
    c = a.loc["coarse-to-fine order"]        # shallower than the WCAM on every image
    assert c["estimate"] == pytest.approx(-2 / 64) and c["verdict"] == "not supported"
    assert c["role"] == "reference" and r["role"] == "sanity check"
    w = a.loc["within-level order"]          # balanced +/- differences: no evidence
    assert w["quantity"].endswith("approximation first") and w["verdict"] != "supported"
    assert set(table["verdict"]) <= set(S.claims.VERDICTS)


def test_robustness_claim_against_its_confounders():
    n = 30
    ids = [f"i{k}" for k in range(n)]
    depth = np.arange(1, n + 1, dtype=float)
    recon = pd.DataFrame({"model": "m", "image_id": ids, "condition": "clean", "dim": 64,
                          "depth": depth, "random_depths": "40"})
    base = pd.DataFrame({"model": "m", "image_id": ids, "condition": "clean", "order": "coarse_to_fine",
                         "dim": 64, "depth": 5.0, "confidence": np.linspace(0.9, 0.2, n)})
    base.loc[::2, "depth"] = 6.0
    # robustness falls with the WCAM depth exactly, and rises with the confidence exactly
    per_image = pd.DataFrame({"model": "m", "image_id": ids, "robustness": 1 - depth / 64})
    table = S.claims_table(recon, base, per_image, n_resamples=999)
    b = table[table["claim"] == "b: fewer coefficients, more robust"].set_index("baseline")
    none = b.loc["no relation (rho = 0)"]
    assert none["wcam"] == pytest.approx(-1.0) and none["estimate"] == pytest.approx(1.0)
    assert none["estimate_low"] == none["estimate_high"] == pytest.approx(1.0)
    assert none["p"] < 1e-6 and none["verdict"] == "supported"
    conf = b.loc["clean confidence"]          # as strong as the WCAM depth: margin 0
    assert conf["baseline_value"] == pytest.approx(1.0) and conf["estimate"] == pytest.approx(0.0)
    assert conf["verdict"] == "not supported" and conf["role"] == "reference"
    c2f = b.loc["coarse-to-fine depth"]
    assert c2f["estimate"] > 0.5 and c2f["test"] == "bootstrap"


def test_zoom_claim_subtracts_what_the_definition_gives_a_model_free_map():
    # per coefficient, a uniform map gives every level group the same share: 1/3 at J = 2,
    # 1/4 at J = 3 (issue 14: part of a regular-vs-zoomed drop is arithmetic)
    assert model_free_level_share("uniform", 4, 32, 2) == pytest.approx(1 / 3)
    assert model_free_level_share("uniform", 8, 32, 3) == pytest.approx(1 / 4)
    assert model_free_level_share("level-prior", 4, 32, 2) == pytest.approx(3 / 6)
    # per physical scale (views of different J, issue 14): normalised over the common levels
    assert model_free_level_share("uniform", 8, 32, 3, normalise_over=[
        "approximation", "level_3", "level_2"]) == pytest.approx(1 / 3)
    rows = []
    for k in range(10):
        for view, levels, grid, share in (("regular", 2, 4, 0.6), ("zoomed", 3, 8, 0.6 - 1 / 12)):
            rows.append({"model": "m", "image_id": f"i{k}", "view": view, "crop": 32, "levels": levels,
                         "grid_size": grid, "level": "approximation", "contribution": share})
    zoom = pd.DataFrame(rows)
    diffs = S.zoom_differences(zoom)
    np.testing.assert_allclose(diffs["difference"], 1 / 12)
    recon, base, per_image = constructed_tables()
    table = S.claims_table(recon, base, per_image, zoom=zoom, n_resamples=99)
    c = table[table["claim"] == "c: zoom lowers the approximation share"].set_index("baseline")
    # the drop (1/12) is exactly the uniform map's: no margin left
    assert c.loc["uniform map", "estimate"] == pytest.approx(0.0, abs=1e-12)
    assert c.loc["uniform map", "verdict"] == "not supported"
    assert c.loc["uniform map", "wcam"] == pytest.approx(1 / 12)


# -- baselines in the studies --------------------------------------------------------
def test_an_attribution_equal_to_the_level_prior_has_zero_margin_over_it():
    model = wrap(TinyNet())
    x = tiny_images(3)
    ranks = cell_level_ranks(wcam_with(np.zeros((4, 4))))
    prior = level_prior(ranks)
    expls = [wcam_with(prior, target=t) for t in range(3)]
    df = S.faithfulness(model, x, ["a", "b", "c"], expls, nb_subsets=16, steps=4, seed=1)
    wide = df.set_index(["image_id", "method"])
    for column in ("mu_fidelity", "mu_fidelity_approximation_kept", "insertion_auc", "deletion_auc"):
        pd.testing.assert_series_equal(wide.xs("wcam", level="method")[column],
                                       wide.xs("level-prior", level="method")[column])
    recon, base, per_image = constructed_tables()
    table = S.claims_table(recon, base, per_image, faithfulness=df, n_resamples=99)
    d = table[(table["claim"] == "d: WCAMs are faithful") & (table["baseline"] == "level prior")]
    assert len(d) == 4
    assert (d["estimate"] == 0).all() and (d["estimate_low"] == 0).all() and (d["estimate_high"] == 0).all()
    assert (d["p"] == 1).all() and (d["verdict"] == "not supported").all() and (d["n"] == 3).all()


def test_mu_fidelity_with_the_approximation_kept_never_removes_it():
    from spectral_attribution import metrics

    ranks = cell_level_ranks(wcam_with(np.zeros((4, 4)))).ravel()
    kept = np.flatnonzero(ranks > 0)
    subsets = metrics.removal_subsets(16, 0.25, 50, (0, 1), allowed=kept)
    assert subsets.shape == (50, 4) and not np.isin(subsets, np.flatnonzero(ranks == 0)).any()
    plain = metrics.removal_subsets(16, 0.25, 50, (0, 1))
    assert np.isin(plain, [0]).any()


class OneFineCellModel(nn.Module):
    """Class 1 iff the wavelet coefficients of one level-1 grid cell are present (energy > 0)."""

    def __init__(self, levels, rows, cols):
        super().__init__()
        self.transform = WaveletTransform("haar", levels)
        self.rows, self.cols = rows, cols

    def forward(self, x):
        layout = self.transform.forward(x)
        energy = (layout[..., self.rows, self.cols] ** 2).mean(dim=(1, 2, 3))
        return torch.stack([torch.full_like(energy, 1e-4), energy], dim=1)


def test_one_fine_cell_model_wcam_depth_one_and_coarse_to_fine_depth_its_index():
    # 32 px, J = 2, grid 8 (4-px cells): cell (5, 2) lies in the level-1 horizontal block.
    g, cell = 8, 5 * 8 + 2
    model = wrap(OneFineCellModel(2, slice(20, 24), slice(8, 12)))
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    [e] = WCAM(model, grid_size=g, nb_design=4, levels=2, progress=False)(x)
    assert e.target == 1 and int(importance_order(e.indices)[0]) == cell
    ranks = cell_level_ranks(e)
    assert ranks.ravel()[cell] == 2
    seed = 3
    df = S.baseline_depths(model, x, [e], ["x"], nb_draws=2, seed=seed,
                           orders=("wcam", "coarse_to_fine", "wcam_approximation_first",
                                   "within_level"))
    depth = df.set_index("order")["depths"]
    assert depth["wcam"] == "1"
    expected = [1 + int(np.flatnonzero(coarse_to_fine_order(
        ranks, (seed, 0, r, BASELINE_KINDS["coarse_to_fine"])) == cell)[0]) for r in range(2)]
    assert depth["coarse_to_fine"] == ";".join(str(v) for v in expected)
    assert all(v > 4 + 12 for v in expected)          # after the 4 approximation and 12 level-2 cells
    first = approximation_first(explanation_order(e), ranks)  # the study's order (screened cells by bound)
    assert depth["wcam_approximation_first"] == "5"   # the 4 approximation cells, then the cell
    within = [1 + int(np.flatnonzero(within_level_order(
        ranks, (seed, 0, r, BASELINE_KINDS["within_level"]), reference=first) == cell)[0])
        for r in range(2)]
    assert depth["within_level"] == ";".join(str(v) for v in within)
    row = df.set_index("order").loc["coarse_to_fine"]
    assert row["depth"] == np.median(expected) and row["depth_share"] == np.median(expected) / 64
    assert row["predicted"] == 1 and 0.5 < row["confidence"] <= 1 and row["found_share"] == 1.0


def test_baseline_depths_censors_unrestored_images_at_d_plus_one():
    model = wrap(OneFineCellModel(2, slice(20, 24), slice(8, 12)))
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    e = wcam_with(np.eye(8), levels=2, target=1)
    df = S.baseline_depths(model, x, [e], ["x"], orders=("wcam",), max_k=10)
    # the needed cell (5, 2) is not on the diagonal's first 10 cells: never restored
    assert df.loc[0, "depth"] == 11 and df.loc[0, "found_share"] == 0.0 and df.loc[0, "max_k"] == 10
    with pytest.raises(ValueError, match="unknown orders"):
        S.baseline_depths(model, x, [e], ["x"], orders=("fine_to_coarse",))


def test_wcam_noise_of_a_model_that_needs_one_cell():
    # Only cell (2, 1) of a 4 x 4 grid matters: every seed ranks it first.
    model = wrap(OneFineCellModel(2, slice(20, 24), slice(8, 12)))
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    expls = WCAM(model, grid_size=4, nb_design=4, levels=2, progress=False, seed=5)(x)
    df = S.wcam_noise(model, x, ["a", "b"], expls, top_share=1 / 16)
    assert df["seed_a"].tolist() == [5, 5] and df["seed_b"].tolist() == [6, 6]
    assert df["same_top_cell"].all() and (df["top_overlap"] == 1).all()
    assert df["spearman"].between(-1, 1).all() and (df["nb_design"] == 4).all()
    table = S.wcam_noise_table(df)
    assert table.loc[0, "nb_images"] == 2 and table.loc[0, "same_top_cell"] == 1.0
    with pytest.raises(ValueError, match="seed_offset"):
        S.wcam_noise(model, x, ["a", "b"], expls, seed_offset=0)


def test_claims_table_and_figure_from_the_registries(tmp_path):
    from spectral_attribution import plots
    from spectral_attribution._utils.tables import read_table

    recon, base, per_image = constructed_tables()
    # zoom and faithfulness are optional inputs (studies switched off)
    paths = S.make_table("claims", {"reconstruction": recon, "depth_baselines": base,
                                    "per_image": per_image}, tmp_path / "claims")
    back = read_table(paths["csv"])
    assert list(back.columns) == S.claims.CLAIMS_COLUMNS
    assert back["claim"].unique().tolist() == ["a: few coefficients suffice",
                                               "b: fewer coefficients, more robust"]
    assert "\\toprule" in paths["tex"].read_text()
    assert "verdict: supported when" in paths["md"].read_text()
    with pytest.raises(KeyError, match="per_image"):
        S.build_table("claims", {"reconstruction": recon})
    fig = plots.draw_figure("claims", {"claims": paths["csv"]})
    ticks = [len(ax.get_yticks()) for ax in fig.axes]
    assert ticks == back.groupby("claim", sort=False).size().tolist()
    saved = plots.save_figure(fig, tmp_path / "claims")
    assert saved["pdf"].stat().st_size > 0 and saved["png"].stat().st_size > 0


def test_depth_robustness_fits_of_the_confounders_known_values():
    recon, base, per_image = constructed_tables(n=10)
    # robustness = 1 - confidence exactly; the depths are constant (no fit)
    per_image["robustness"] = 1 - base.groupby("image_id", sort=False)["confidence"].first().to_numpy()
    table = S.build_table("depth_robustness", {"reconstruction": recon, "depth_baselines": base,
                                               "per_image": per_image})
    assert set(table["images"]) == {"all clean", "correctly classified"}
    table = table[table["images"] == "all clean"].set_index("predictor")
    conf = table.loc["clean confidence"]
    assert conf["n"] == 10 and conf["slope"] == pytest.approx(-1.0) and conf["r"] == pytest.approx(-1.0)
    assert conf["spearman"] == conf["spearman_low"] == conf["spearman_high"] == pytest.approx(-1.0)
    wcam = table.loc["WCAM depth (share of d)"]
    assert np.isnan(wcam["slope"]) and np.isnan(wcam["spearman"])   # every image at depth 8

"""The methods comparison (WAM against WCAM) on models and maps with known answers."""

import numpy as np
import pandas as pd
import pytest
import torch

from helpers_studies import LinearLogits, TinyNet, tiny_images, wrap
from spectral_attribution.attributions import perturbations
from spectral_attribution import studies as S
from spectral_attribution.attributions.explanation import Explanation
from spectral_attribution.attributions.wcam import WCAM
from spectral_attribution.models import ModelWrapper, Preprocessing
from spectral_attribution.attributions.wam import WAM


def mean_model(size=32, threshold=0.25):
    """Class 1 iff the image's mean exceeds ``threshold``: only the approximation matters."""
    n = 3 * size * size
    w = np.zeros((n, 2), np.float32)
    w[:, 1] = 1.0 / n
    return ModelWrapper(LinearLogits(w, bias=[threshold, 0.0]),
                        Preprocessing(resize=None, crop=None, mean=None, std=None), name="mean")


def grid_explanation(indices, method="wcam", levels=2, size=32, target=1, **settings):
    g = indices.shape[0]
    return Explanation(method=method, indices=indices.astype(np.float32),
                       map=np.kron(indices, np.ones((size // g, size // g))).astype(np.float32),
                       spatial=None, target=target, predicted=target, score=0.0, predicted_score=0.0,
                       settings={"wavelet": "haar", "levels": levels, "grid_size": g,
                                 "image_size": [size, size], **settings})


# -- rank agreement and the cells of the details ---------------------------------
def test_rank_agreement_known_values():
    a = np.arange(16.0).reshape(4, 4)
    assert S.rank_agreement(a, a * 3 + 1) == pytest.approx(1.0)
    assert S.rank_agreement(a, -a) == pytest.approx(-1.0)
    # one swap of neighbours among 4: rho = 1 - 6 * 2 / (4 * 15) = 0.8
    assert S.rank_agreement([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    keep = np.array([True, True, True, True, False])
    assert S.rank_agreement([1, 2, 3, 4, 0], [1, 3, 2, 4, 99], keep) == pytest.approx(0.8)
    assert np.isnan(S.rank_agreement(a, np.zeros((4, 4))))
    with pytest.raises(ValueError, match=r"\(4, 4\) and \(2, 2\)"):
        S.rank_agreement(a, np.zeros((2, 2)))


@pytest.mark.parametrize("levels, grid, excluded", [
    (2, 4, {(0, 0)}),                                  # 8 x 8 approximation = one 8-px cell
    (2, 8, {(0, 0), (0, 1), (1, 0), (1, 1)}),          # the same block = 2 x 2 cells of 4 px
    (3, 8, {(0, 0)}),                                  # 4 x 4 approximation = one 4-px cell
    (3, 6, {(0, 0)}),                                  # cells of 5-6 px still hold it whole
])
def test_detail_cells_leave_out_the_cells_of_the_approximation(levels, grid, excluded):
    e = grid_explanation(np.zeros((grid, grid)), levels=levels)
    details = S.detail_cells(e)
    assert details.shape == (grid, grid)
    assert {tuple(c) for c in np.argwhere(~details)} == excluded


# -- the comparison ------------------------------------------------------------------
def test_wam_of_the_mean_model_agrees_with_its_ideal_wcam():
    # f = mean(x): its gradient w.r.t. the Haar coefficients lives on the
    # approximation only (W of a constant image), so the WAM pooled on the
    # grid is one-hot on cell 0, like the ideal WCAM: rank agreement 1, the
    # same faithfulness (the values of the mean-model faithfulness test), all
    # the mass on the approximation, and the WAM's passes counted.
    model = mean_model()
    x = torch.full((1, 3, 32, 32), 0.5)
    ideal = np.zeros((4, 4))
    ideal[0, 0] = 1.0
    wcam = grid_explanation(ideal, nb_forward=8 * 18)
    [wam] = WAM(model, variant="gradient", grid_size=4, levels=2)(x, targets=1)
    df = S.compare_methods(model, x, ["a"], [wcam], {"wam-gradient": [wam]},
                           {"wcam": [12.5], "wam-gradient": [0.25]},
                           nb_subsets=32, steps=16, score="logit")
    assert list(df["method"]) == ["wcam", "wam-gradient"]
    assert list(df["variant"]) == ["", "gradient"]
    assert df["spearman"].tolist() == pytest.approx([1.0, 1.0])
    assert df["spearman_details"].isna().all()          # no detail cell matters to either
    assert df["mu_fidelity"].tolist() == pytest.approx([1.0, 1.0])
    assert df["deletion_auc"].tolist() == pytest.approx([0.5 / 32] * 2, abs=1e-4)
    assert df["insertion_auc"].tolist() == pytest.approx([0.5 - 0.5 / 32] * 2, abs=1e-4)
    assert df["share_approximation"].tolist() == pytest.approx([1.0, 1.0], abs=1e-6)
    assert df["share_level_1"].tolist() == pytest.approx([0.0, 0.0], abs=1e-6)
    assert df["wall_time_s"].tolist() == [12.5, 0.25]
    assert df["nb_forward"].tolist() == [8 * 18 + 1, 2] and df["nb_backward"].tolist() == [0, 1]


def test_every_method_is_scored_on_the_subsets_of_the_faithfulness_study():
    # The WCAM's metrics in the comparison are those of studies.faithfulness
    # (same subsets for image i, same steps); a copy of the WCAM given as
    # another method gets the same values and a rank agreement of 1.
    model, x = wrap(TinyNet()), tiny_images(2)
    wcams = WCAM(model, grid_size=4, nb_design=4, levels=2, progress=False)(x)
    kw = dict(nb_subsets=16, steps=4, seed=3)
    faith = S.faithfulness(model, x, ["p", "q"], wcams, **kw)
    df = S.compare_methods(model, x, ["p", "q"], wcams, {"copy": wcams}, **kw)
    mine = df[df["method"] == "wcam"].reset_index(drop=True)
    faith = faith[faith["method"] == "wcam"].reset_index(drop=True)   # not its model-free baselines
    assert len(faith) == 2
    for column in ("mu_fidelity", "insertion_auc", "deletion_auc"):
        np.testing.assert_allclose(mine[column], faith[column], rtol=1e-6)
        np.testing.assert_allclose(df[df["method"] == "copy"][column], faith[column], rtol=1e-6)
    assert df["spearman"].tolist() == pytest.approx([1.0] * 4)
    assert df["wall_time_s"].isna().all()


def test_explanations_of_another_class_or_grid_are_refused_naming_the_image():
    model, x = mean_model(), torch.full((1, 3, 32, 32), 0.5)
    wcam = grid_explanation(np.eye(4))
    with pytest.raises(ValueError, match=r"image 'a': wam explains class 0, the WCAM class 1"):
        S.compare_methods(model, x, ["a"], [wcam], {"wam": [grid_explanation(np.eye(4), target=0)]})
    with pytest.raises(ValueError, match=r"image 'a': wam has a grid of shape \(8, 8\)"):
        S.compare_methods(model, x, ["a"], [wcam], {"wam": [grid_explanation(np.eye(8))]})
    with pytest.raises(ValueError, match="got 2 wam explanations for 1 images"):
        S.compare_methods(model, x, ["a"], [wcam], {"wam": [wcam, wcam]})


def test_methods_table_hand_computed():
    rows = []
    for method, spearman, times, fwd, bwd in (("wcam", [1.0, 1.0], [10.0, 30.0], 265, 0),
                                              ("wam-smoothgrad", [0.5, 0.7], [1.0, 2.0], 17, 16)):
        for i in range(2):
            rows.append({"model": "m", "image_id": f"i{i}", "method": method,
                         "spearman": spearman[i], "spearman_details": spearman[i] / 2,
                         "mu_fidelity": 0.1 * (i + 1), "insertion_auc": 0.5, "deletion_auc": 0.25,
                         "share_approximation": 0.2, "wall_time_s": times[i],
                         "nb_forward": fwd, "nb_backward": bwd})
    table = S.methods_table(pd.DataFrame(rows))
    # mean [95 % percentile bootstrap CI]: two images, resampled means are the mean or either value
    assert table.loc[("m", "wam-smoothgrad"), "spearman"] == "0.600 [0.500, 0.700]"
    assert table.loc[("m", "wcam"), "spearman"] == "1.000 [1.000, 1.000]"     # constant: a point
    assert table.loc[("m", "wcam"), "mu_fidelity"] == "0.150 [0.100, 0.200]"
    assert table.loc[("m", "wcam"), "wall_time_s"] == 20.0
    assert table.loc[("m", "wam-smoothgrad"), ["nb_forward", "nb_backward", "nb_images"]].tolist() == [17, 16, 2]
    built = S.build_table("methods", {"methods": pd.DataFrame(rows)})
    assert list(built.columns[:3]) == ["model", "method", "spearman"]


# -- a WAM explanation is one of the wavelet grid ---------------------------------
def test_a_wam_explanation_rebuilds_the_wcam_perturbation_of_its_grid():
    [wam] = WAM(mean_model(), variant="gradient", grid_size=4, levels=2)(torch.rand(1, 3, 32, 32))
    pert = perturbations.perturbation_for(wam)
    assert isinstance(pert, perturbations.WaveletPerturbation)
    assert pert.settings() == {"wavelet": "haar", "levels": 2, "grid_size": 4, "drop_approximation": False}
    spatial = grid_explanation(np.eye(4), method="spatial-sobol")
    with pytest.raises(ValueError, match="expected a WCAM or WAM explanation, got method 'spatial-sobol'"):
        perturbations.wavelet_perturbation_for(spatial)

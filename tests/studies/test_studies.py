"""Studies on tiny models with known answers; tables checked against hand-computed values."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from helpers_studies import ConstantModel, LinearLogits, TinyNet, tiny_images, wrap
from spectral_attribution import studies as S
from spectral_attribution.data.corruptions import copy_seed, corrupt
from spectral_attribution.attributions.explanation import Explanation
from spectral_attribution.attributions.spatial_sobol import SpatialSobol
from spectral_attribution.attributions.wcam import WCAM
from spectral_attribution.models import ModelWrapper, Preprocessing

IDS = ["img0", "img1"]


def mean_model(size=32, threshold=0.25, name="mean"):
    """Class 1 iff the image's mean pixel value exceeds ``threshold``: only the approximation matters."""
    n = 3 * size * size
    w = np.zeros((n, 2), np.float32)
    w[:, 1] = 1.0 / n
    pre = Preprocessing(resize=40, crop=size, mean=None, std=None)
    return ModelWrapper(LinearLogits(w, bias=[threshold, 0.0]), pre, name=name)


def fake_wcam(indices, levels=2, size=32, target=1, predicted=None, **settings):
    g = indices.shape[0]
    return Explanation(method="wcam", indices=indices.astype(np.float32),
                       map=np.kron(indices, np.ones((size // g, size // g))).astype(np.float32),
                       spatial=None, target=target,
                       predicted=target if predicted is None else predicted,
                       score=0.0, predicted_score=0.0,
                       settings={"wavelet": "haar", "levels": levels, "grid_size": g,
                                 "drop_approximation": False, "image_size": [size, size],
                                 **settings})


# -- corruption baseline --------------------------------------------------------
def test_robustness_of_a_model_that_ignores_its_input_is_one():
    model = wrap(ConstantModel(predicted=3))
    base = S.corruption_baseline(model, tiny_images(2), IDS, corruptions=["fog", "gaussian_noise"],
                                 severities=[1, 5])
    assert list(base.columns) == ["model", "image_id", "label", "clean_prediction", "clean_score",
                                  "corruption", "corruption_set", "severity", "copy_seed",
                                  "corrupted_prediction", "corrupted_score", "same_as_clean"]
    assert list(base["corruption_set"].unique()) == ["standard-15"]
    assert len(base) == 2 * 2 * 2 and base["same_as_clean"].all()
    rob = S.robustness_per_image(base)
    assert list(rob["robustness"]) == [1.0, 1.0] and list(rob["nb_copies"]) == [4, 4]
    assert (rob["clean_prediction"] == 3).all()


def test_baseline_values_match_hand_computation():
    model = mean_model(threshold=0.45)
    images = torch.stack([torch.full((3, 32, 32), 0.47), torch.full((3, 32, 32), 0.6)])
    names, sevs = ["brightness", "contrast", "gaussian_noise"], [1, 3, 5]
    base = S.corruption_baseline(model, images, IDS, corruptions=names, severities=sevs, seed=4,
                                 labels=[1, 0])
    assert list(base["label"].unique()) == [1, 0]
    expected = []
    for i, img in enumerate(images):
        clean = int(img.mean() > 0.45)
        for n in names:
            for s in sevs:
                seed = copy_seed(4, i, n, s)
                pred = int(corrupt(img, n, s, seed).mean() > 0.45)
                expected.append((IDS[i], clean, n, s, seed, pred, pred == clean))
    got = list(base[["image_id", "clean_prediction", "corruption", "severity", "copy_seed",
                     "corrupted_prediction", "same_as_clean"]].itertuples(index=False, name=None))
    assert got == expected
    rob = S.robustness_per_image(base).set_index("image_id")["robustness"]
    for image_id in IDS:
        same = [e[-1] for e in expected if e[0] == image_id]
        assert rob[image_id] == pytest.approx(np.mean(same))
    per = S.robustness_per_corruption(base)
    row = per[(per.corruption == "contrast") & (per.severity == 5)].iloc[0]
    hand = np.mean([e[-1] for e in expected if e[2] == "contrast" and e[3] == 5])
    assert row["robustness"] == pytest.approx(hand) and row["nb_images"] == 2
    # the recorded seed rebuilds the copy
    r = base.iloc[4]
    rebuilt = S.corrupted_copy(images[0], r.corruption, r.severity, r.copy_seed)
    assert int(rebuilt.mean() > 0.45) == r.corrupted_prediction


def test_baseline_validates_its_arguments():
    model = wrap(ConstantModel())
    with pytest.raises(ValueError, match="severity"):
        S.corruption_baseline(model, tiny_images(1), ["a"], corruptions=["fog"], severities=[0])
    with pytest.raises(ValueError, match="'haze'"):
        S.corruption_baseline(model, tiny_images(1), ["a"], corruptions=["haze"])
    with pytest.raises(ValueError, match="image_ids"):
        S.corruption_baseline(model, tiny_images(2), ["a"], corruptions=["fog"])


def test_select_corrupted_copies_prefers_changed_and_is_seeded():
    rows = []
    for image_id, changed in (("a", {1, 4}), ("b", set())):
        for k in range(6):
            rows.append({"model": "m", "image_id": image_id, "severity": 1 + k % 5,
                         "corruption": f"c{k}", "same_as_clean": k not in changed})
    base = pd.DataFrame(rows)
    pick = S.select_corrupted_copies(base, per_image=2, seed=3)
    a = pick[pick.image_id == "a"]
    assert len(a) == 2 and not a["same_as_clean"].any()
    assert len(pick[pick.image_id == "b"]) == 2
    pd.testing.assert_frame_equal(pick, S.select_corrupted_copies(base, per_image=2, seed=3))
    only5 = S.select_corrupted_copies(base, per_image=3, severities=[5])
    assert set(only5["severity"]) == {5}


# -- sufficient reconstruction ---------------------------------------------------
def test_sufficient_reconstruction_known_depths():
    model = mean_model()
    images = torch.stack([torch.full((3, 32, 32), 0.5), torch.rand(3, 32, 32) * 0.4 + 0.3])
    # levels=2 on 32 px: the approximation is the 8x8 block = grid cell 0 of a 4x4 grid
    one_hot = np.zeros((4, 4))
    one_hot[0, 0] = 1.0
    last = np.ones((4, 4))
    last[0, 0] = 0.0
    expls = [fake_wcam(one_hot), fake_wcam(last)]
    extra = pd.DataFrame({"corruption": ["none", "fog"], "severity": [0, 3]})
    df = S.sufficient_reconstruction(model, images, expls, IDS, conditions=["clean", "corrupted"],
                                     nb_random_draws=5, seed=9, extra_columns=extra)
    assert list(df["depth"]) == [1, 16] and list(df["found"]) == [True, True]
    np.testing.assert_allclose(df["depth_share"], [1 / 16, 1.0])
    assert list(df["target"]) == [1, 1] and list(df["condition"]) == ["clean", "corrupted"]
    assert list(df["target_source"]) == ["prediction", "prediction"]
    # a random order restores the label when cell 0 comes in
    for i in range(2):
        depths = [1 + int(np.flatnonzero(np.random.default_rng([9, i, r]).permutation(16) == 0)[0])
                  for r in range(5)]
        assert df.loc[i, "random_depths"] == ";".join(str(d) for d in depths)
        assert df.loc[i, "random_depth_median"] == np.median(depths)
    assert list(df["corruption"]) == ["none", "fog"]
    rob = pd.DataFrame({"model": ["mean", "mean"], "image_id": IDS, "robustness": [0.9, 0.1]})
    joined = S.depth_and_robustness(df, rob)
    assert list(joined["robustness"]) == [0.9, 0.1]


def test_a_wcam_explained_for_class_c_is_reconstructed_against_class_c():
    # The mean model predicts 1 on a grey image; the WCAM explains class 0 (c != prediction).
    # Class 0 needs a mean below 0.25, i.e. the approximation (cell 0) removed: the order puts
    # cell 0 last, so class 0 is there at k = 1 while the prediction (1) needs all 16 cells.
    model = mean_model()
    images = torch.full((1, 3, 32, 32), 0.5)
    last = np.ones((4, 4))
    last[0, 0] = 0.0
    expl = fake_wcam(last, target=0, predicted=1, target_policy="label", target_source="label")
    df = S.sufficient_reconstruction(model, images, [expl], ["x"], nb_random_draws=2)
    assert df.loc[0, "target"] == 0 and df.loc[0, "prediction"] == 1
    assert df.loc[0, "depth"] == 1 and bool(df.loc[0, "found"])
    assert df.loc[0, "target_source"] == "label" and df.loc[0, "target_policy"] == "label"
    # the same map explaining the prediction is scored against the prediction
    df = S.sufficient_reconstruction(model, images, [fake_wcam(last, target=1)], ["x"],
                                     nb_random_draws=2)
    assert df.loc[0, "depth"] == 16 and df.loc[0, "target_source"] == "prediction"


def test_a_class_never_restored_has_the_censored_depth():
    model = mean_model()
    images = torch.full((1, 3, 32, 32), 0.5)
    # class 0 needs cell 0 (the approximation) removed: cell 0 comes first in this order
    expl = fake_wcam(np.eye(4), target=0, predicted=1)
    df = S.sufficient_reconstruction(model, images, [expl], ["x"], nb_random_draws=2, max_k=3)
    assert df.loc[0, "found"] == False  # noqa: E712
    assert df.loc[0, "depth"] == 4 and df.loc[0, "depth_share"] == 4 / 16   # max_k + 1
    assert df.loc[0, "target_source"] == "given"
    full = S.sufficient_reconstruction(model, images, [expl], ["x"], nb_random_draws=1)
    # cell 0 first: every k keeps the approximation, class 0 never comes: d + 1
    assert full.loc[0, "depth"] == 17 and full.loc[0, "depth_share"] == 17 / 16
    rnd = [float(v) for v in full.loc[0, "random_depths"].split(";")]
    assert all(1 <= v <= 17 for v in rnd)


def test_summary_keeps_every_image_so_an_order_that_fails_more_cannot_look_better():
    # d = 16. The WCAM order restores all 4 images (depths 2, 3, 4, 5); the random order
    # restores one image only, at depth 1. Medians over the restored images alone would
    # put random first (1 < 3.5); over every image (censored at 17) random is worse.
    recon = pd.DataFrame({
        "model": ["m"] * 4, "image_id": list("abcd"), "condition": ["clean"] * 4,
        "target_policy": ["prediction"] * 4, "dim": [16] * 4,
        "depth": [2.0, 3.0, 4.0, 5.0], "found": [True] * 4,
        "random_depth_median": [1.0, 17.0, 17.0, 17.0], "random_found_share": [1.0, 0, 0, 0],
    })
    recon["depth_share"] = recon["depth"] / 16
    recon["random_depth_share_median"] = recon["random_depth_median"] / 16
    rob = pd.DataFrame({"model": ["m"] * 4, "image_id": list("abcd"),
                        "robustness": [0.9, 0.8, 0.7, 0.6], "corruptions": ["standard-15"] * 4})
    table = S.reconstruction_summary(recon, rob)
    row = table.iloc[0]
    assert row["nb_images"] == 4 and row["depth_median"] == 3.5 and row["random_depth_median"] == 17
    assert row["depth_share_median"] == 3.5 / 16 and row["random_depth_share_median"] == 17 / 16
    assert row["found_share"] == 1.0 and row["random_found_share"] == 0.25
    assert row["target_policy"] == "prediction" and row["corruptions"] == "standard-15"
    assert row["slope"] == pytest.approx(-0.1 / (1 / 16))   # robustness falls 0.1 per cell
    assert row["depth_share_median_low"] <= row["depth_share_median"] <= row["depth_share_median_high"]
    assert 2 / 16 <= row["depth_share_median_low"] and row["depth_share_median_high"] <= 5 / 16
    assert row["random_depth_share_median_high"] == 17 / 16
    # WCAM - random per image: +1, -14, -13, -12 cells: ranks 1 vs 4 + 3 + 2, exact p = 4 / 16
    assert row["wilcoxon_n"] == 4 and row["wilcoxon_statistic"] == 1.0
    assert row["wilcoxon_p"] == pytest.approx(0.25)
    assert "d + 1" in table.attrs["notes"][0]


def test_sufficient_reconstruction_with_real_explanations():
    model = wrap(TinyNet())
    x = tiny_images(2)
    expls = WCAM(model, grid_size=4, nb_design=4, levels=2, progress=False)(x)
    df = S.sufficient_reconstruction(model, x, expls, IDS, nb_random_draws=2)
    assert ((df["depth"] >= 1) & (df["depth"] <= 17)).all()
    assert (df["target"] == [e.target for e in expls]).all()


# -- zoom -------------------------------------------------------------------------
def test_zoom_study_known_contributions():
    from PIL import Image

    model = mean_model()
    rng = np.random.default_rng(0)
    pils = [Image.fromarray((rng.random((48, 64, 3)) * 255).astype(np.uint8)) for _ in range(2)]
    views = {"regular": (40, 32, 2), "zoomed": (80, 32, 2)}
    df, expls = S.zoom_study(model, pils, IDS, grid_size=4, nb_design=4, views=views,
                             return_explanations=True)
    assert len(expls["regular"]) == 2 and expls["zoomed"][0].settings["levels"] == 2
    sums = df.groupby(["image_id", "view"])["contribution"].sum()
    np.testing.assert_allclose(sums, 1.0)
    # only the mean matters: all importance on grid cell 0 = the approximation block (J=2)
    approx = df[df.level == "approximation"]["contribution"]
    np.testing.assert_allclose(approx, 1.0, atol=1e-4)
    assert list(df[df.view == "zoomed"]["level"][:3]) == ["approximation", "level_2", "level_1"]
    assert (df["scale_level"] == "").all() and df["scale_contribution"].isna().all()


def _uniform_wcams(levels, grid=4, size=32, count=2, target=1, value=None):
    indices = np.ones((grid, grid)) if value is None else value
    return [fake_wcam(indices, levels=levels, size=size, target=target, nb_design=4, seed=0)
            for _ in range(count)]


def _blank_pils(count=2):
    from PIL import Image

    return [Image.new("RGB", (64, 48), (128, 128, 128)) for _ in range(count)]


def test_a_uniform_map_gives_the_same_approximation_share_in_both_views():
    model = mean_model()
    # like with like: same J in both views -> 1/(J+1) in both
    same = {"regular": (40, 32, 2), "zoomed": (80, 32, 2)}
    df = S.zoom_study(model, _blank_pils(), IDS, grid_size=4, nb_design=4, views=same,
                      explanations={v: _uniform_wcams(2) for v in same})
    approx = df[df.level == "approximation"].set_index(["view", "image_id"])["contribution"]
    np.testing.assert_allclose(approx, 1 / 3)
    assert "1/3" in S.zoom_table(df).attrs["notes"][0]
    # the paper's setting (J = 2 vs J = 3, one octave of resize apart): the per-coefficient
    # contributions differ by construction (1/3 vs 1/4); per physical scale they do not.
    paper = {"regular": (40, 32, 2), "zoomed": (80, 32, 3)}
    df = S.zoom_study(model, _blank_pils(), IDS, grid_size=8, nb_design=4, views=paper,
                      explanations={"regular": _uniform_wcams(2, grid=8),
                                    "zoomed": _uniform_wcams(3, grid=8)})
    reg = df[df.view == "regular"].set_index(["image_id", "level"])
    zoo = df[df.view == "zoomed"].set_index(["image_id", "level"])
    assert reg.loc[("img0", "approximation"), "contribution"] == pytest.approx(1 / 3)
    assert zoo.loc[("img0", "approximation"), "contribution"] == pytest.approx(1 / 4)
    np.testing.assert_allclose(df["scale_contribution"].dropna(), 1 / 3)
    # zoomed level j covers the band of regular level j - 1; its finest level has no counterpart
    assert dict(zip(zoo.loc["img0"].index, zoo.loc["img0", "scale_level"])) == {
        "approximation": "approximation", "level_3": "level_2", "level_2": "level_1", "level_1": ""}
    assert math.isnan(zoo.loc[("img0", "level_1"), "scale_contribution"])
    table = S.zoom_table(df)
    # one row per physical scale, named by the regular view's level; zoomed level_1 left out
    assert table["level"].tolist() == ["approximation", "level_2", "level_1"]
    approx = table.set_index(["model", "level"]).loc[("mean", "approximation")]
    assert approx["zoomed"] == "0.333 [0.333, 0.333]"
    assert approx["difference_zoomed"] == "0.000 [0.000, 0.000]"
    assert table["zoomed"].tolist() == ["0.333 [0.333, 0.333]"] * 3
    assert "physical scale" in table.attrs["notes"][0]
    # a map on the approximation alone gives 1 per physical scale in both views
    regular, zoomed = np.zeros((8, 8)), np.zeros((8, 8))   # grid cells of 4 px on 32 px
    regular[:2, :2] = 1.0   # the 8-px approximation block at J = 2
    zoomed[0, 0] = 1.0      # the 4-px approximation block at J = 3
    df = S.zoom_study(model, _blank_pils(), IDS, grid_size=8, nb_design=4, views=paper,
                      explanations={"regular": _uniform_wcams(2, grid=8, value=regular),
                                    "zoomed": _uniform_wcams(3, grid=8, value=zoomed)})
    approx = df[df.level == "approximation"]["scale_contribution"]
    np.testing.assert_allclose(approx, 1.0)


@pytest.mark.filterwarnings("ignore:the model's output is constant")  # class 0's logit is a constant
def test_zoom_explains_the_same_class_in_both_views_and_counts_changed_predictions():
    from PIL import Image

    # Bright centre on black: the regular view (more surroundings) has a mean below the
    # mean model's threshold (class 0), the zoomed view above it (class 1).
    array = np.zeros((64, 64, 3), np.uint8)
    array[24:40, 24:40] = 255
    pils = [Image.fromarray(array)] * 2
    model = mean_model()
    views = {"regular": (40, 32, 2), "zoomed": (80, 32, 2)}
    df = S.zoom_study(model, pils, IDS, grid_size=4, nb_design=4, views=views)
    per = df.drop_duplicates(["image_id", "view"]).set_index(["image_id", "view"])
    assert per.loc[("img0", "regular"), "prediction"] == 0
    assert per.loc[("img0", "zoomed"), "prediction"] == 1
    assert (per["target"] == 0).all() and (per["target_source"] == "prediction").all()
    assert list(per["prediction_changed"]) == [False, False, True, True]
    table = S.zoom_table(df)
    assert "mean, zoomed view: 2 of 2 images" in table.attrs["notes"][-1]
    # policy "label": the label in every view; unknown label -> the regular view's prediction
    df = S.zoom_study(model, pils, IDS, grid_size=4, nb_design=4, views=views, labels=[1, -1],
                      target_policy="label")
    per = df.drop_duplicates(["image_id", "view"]).set_index(["image_id", "view"])
    assert list(per["target"]) == [1, 0, 1, 0]   # (regular: img0, img1), (zoomed: img0, img1)
    assert list(per["target_source"]) == ["label", "prediction_fallback"] * 2


def test_zoom_refuses_a_straddling_grid_and_defaults_to_an_aligned_one():
    import inspect

    model = mean_model()
    views = {"regular": (40, 32, 2), "zoomed": (80, 32, 3)}   # J = 3 on 32 px: edges every 4 px
    with pytest.raises(ValueError, match=r"grid_size=6 straddles the sub-bands of J=2.*"
                                         r"nearest aligned grid sizes: 4 and 8"):
        S.zoom_study(model, _blank_pils(), IDS, grid_size=6, nb_design=4, views=views)
    with pytest.raises(ValueError, match=r"'zoomed': grid_size=4 straddles.*J=3.*sizes: 8;"):
        S.zoom_study(model, _blank_pils(), IDS, grid_size=4, nb_design=4, views=views)
    with pytest.warns(UserWarning, match="straddles"):
        S.zoom_study(model, _blank_pils(1), IDS[:1], grid_size=4, nb_design=2, views=views,
                     allow_straddling=True)
    assert S.aligned_grid_sizes(4, 224, limit=40) == [16, 32]
    default = inspect.signature(S.zoom_study).parameters["grid_size"].default
    for table in (S.ZOOM_VIEWS, S.PAPER_ZOOM_VIEWS):
        for resize, crop, levels in table.values():
            assert default in S.aligned_grid_sizes(levels, crop)
    assert {J for _, _, J in S.ZOOM_VIEWS.values()} == {4}


def test_zoom_refuses_views_that_cannot_be_compared():
    with pytest.raises(ValueError, match="same J in every view"):
        S.zoom_study(mean_model(), _blank_pils(), IDS, grid_size=8, nb_design=4,
                     views={"regular": (40, 32, 2), "zoomed": (40, 32, 3)})


def test_zoom_table_hand_computed():
    df = pd.DataFrame({
        "model": ["m"] * 4 + ["n"] * 4,
        "view": ["regular", "regular", "zoomed", "zoomed"] * 2,
        "image_id": ["a", "b"] * 4,
        "level": ["approximation"] * 8, "level_order": [0] * 8,
        "contribution": [0.8, 0.6, 0.5, 0.7, 1.0, 1.0, 0.2, 0.4],
    })
    table = S.zoom_table(df)
    assert list(table.columns) == ["model", "level", "nb_images", "regular", "zoomed",
                                   "difference_zoomed", "wilcoxon_p_zoomed", "wilcoxon_n_zoomed"]
    assert "1/" not in table.attrs["notes"][0]   # no J given: no uniform-map value claimed
    table = table.set_index("model")
    # two images: the bootstrap means are the mean of one, or of both -> [min, max]
    assert table.loc["m", "regular"] == "0.700 [0.600, 0.800]"
    assert table.loc["n", "zoomed"] == "0.300 [0.200, 0.400]"
    # paired differences regular - zoomed: m (0.3, -0.1), n (0.8, 0.6)
    assert table.loc["m", "difference_zoomed"] == "0.100 [-0.100, 0.300]"
    assert table.loc["n", "difference_zoomed"] == "0.700 [0.600, 0.800]"
    # Wilcoxon, exact on 2 pairs: both positive -> p = 2 / 4; one each way -> p = 1
    assert table.loc["n", "wilcoxon_p_zoomed"] == pytest.approx(0.5)
    assert table.loc["m", "wilcoxon_p_zoomed"] == pytest.approx(1.0)
    assert table["wilcoxon_n_zoomed"].tolist() == [2, 2] and table["nb_images"].tolist() == [2, 2]


# -- faithfulness ------------------------------------------------------------------
def test_faithfulness_table_columns_and_ranges():
    model = wrap(TinyNet())
    x = tiny_images(2)
    wcams = WCAM(model, grid_size=4, nb_design=4, levels=2, progress=False)(x)
    spatial = SpatialSobol(model, grid_size=4, nb_design=4, progress=False)(x)
    df = S.faithfulness(model, x, IDS, wcams, spatial, nb_subsets=16, steps=4)
    assert list(df.columns) == ["model", "image_id", "method", "domain", "target", "target_source",
                                "dim", "mu_fidelity", "mu_fidelity_approximation_kept",
                                "insertion_auc", "deletion_auc"]
    assert (df["target_source"] == "prediction").all()
    assert list(df["method"]) == ["wcam", "energy", "level-prior", "random-attribution",
                                  "spatial-sobol", "centre-prior"] * 2
    assert df["mu_fidelity_approximation_kept"].isna().tolist() == [False] * 4 + [True] * 2 + \
        [False] * 4 + [True] * 2
    assert df[["insertion_auc", "deletion_auc"]].stack().between(0, 1).all()
    table = S.faithfulness_table(df)
    assert table.loc[("tinynet", "wcam"), "nb_images"] == 2


def test_faithfulness_of_the_mean_model():
    # Removing wavelet cells other than cell 0 never changes the mean: the WCAM
    # (all on cell 0) has the ideal curves: the logit (mean 0.5) drops to 0 at
    # the first deletion step and reaches 0.5 at the first insertion step, so
    # with 16 steps of 1/16 the trapezoids give 0.5 / 32 and 0.5 - 0.5 / 32.
    model = mean_model()
    x = torch.full((1, 3, 32, 32), 0.5)
    one_hot = np.zeros((4, 4))
    one_hot[0, 0] = 1.0
    df = S.faithfulness(model, x, ["a"], [fake_wcam(one_hot)], nb_subsets=32, steps=16, score="logit")
    assert df.loc[0, "mu_fidelity"] == pytest.approx(1.0)
    assert df.loc[0, "deletion_auc"] == pytest.approx(0.5 / 32, abs=1e-4)
    assert df.loc[0, "insertion_auc"] == pytest.approx(0.5 - 0.5 / 32, abs=1e-4)  # float32 sums


# -- tables on disk ------------------------------------------------------------------
def test_write_table_outputs_parse_back(tmp_path):
    df = pd.DataFrame({"model": ["a", "b"], "depth_share": [0.125, 0.5], "note": ["x_y", "0.1 ± 0.2"]})
    paths = S.write_table(df, tmp_path / "sub" / "table")
    assert {p.suffix for p in paths.values()} == {".csv", ".md", ".tex", ".html"}
    pd.testing.assert_frame_equal(pd.read_csv(paths["csv"]), df)
    md = paths["md"].read_text().splitlines()
    assert md[0].split("|")[1].strip() == "classifier" and md[3].startswith("| b")
    assert [c.strip() for c in md[2].split("|")[1:-1]] == ["a", "0.125", "x_y"]
    tex = paths["tex"].read_text()
    assert "\\toprule" in tex and "x\\_y" in tex and "$\\pm$" in tex
    assert not list(tmp_path.joinpath("sub").glob("*.tmp"))
    indexed = S.write_table(S.zoom_table(pd.DataFrame({
        "model": ["m"], "view": ["regular"], "level": ["approximation"], "level_order": [0],
        "contribution": [0.5]})), tmp_path / "zoom")
    back = pd.read_csv(indexed["csv"])
    assert back.loc[0, "model"] == "m" and back.loc[0, "regular"] == 0.5  # tidy: numbers in the CSV
    assert back.loc[0, "regular_low"] == 0.5 and back.loc[0, "regular_high"] == 0.5


def test_depth_and_robustness_is_the_one_join_for_every_use():
    recon = pd.DataFrame({"model": ["m"] * 3, "image_id": ["a", "b", "a@fog-1"],
                          "condition": ["clean", "clean", "corrupted"], "depth_share": [0.1, 0.2, 0.3]})
    recon.loc[2, "image_id"] = "a"   # corrupted copies carry their clean image's id
    rob = pd.DataFrame({"model": ["m"], "image_id": ["a"], "robustness": [0.75]})
    left = S.depth_and_robustness(recon, rob)
    assert left["robustness"].tolist()[0::2] == [0.75, 0.75] and np.isnan(left["robustness"][1])
    clean = S.depth_and_robustness(recon, rob, condition="clean", how="inner")
    assert clean["image_id"].tolist() == ["a"] and clean["robustness"].tolist() == [0.75]
    with pytest.raises(KeyError, match="robustness"):
        S.depth_and_robustness(recon, rob.drop(columns="robustness"))


def test_robustness_table_from_the_registry_known_values(tmp_path):
    per_image = pd.DataFrame({"model": ["m", "m", "n"], "image_id": ["a", "b", "a"],
                              "robustness": [0.5, 1.0, 0.25]})
    per_corr = pd.DataFrame({"model": ["m", "m", "n"], "corruption": ["fog", "snow", "fog"],
                             "severity": [3, 5, 1], "robustness": [0.9, 0.2, 0.25]})
    per_image.to_csv(tmp_path / "per_image.csv", index=False)
    table = S.build_table("robustness", {"per_image": tmp_path / "per_image.csv",
                                         "per_corruption": per_corr})
    assert table["model"].tolist() == ["m", "n"]
    assert table["robustness_mean"].tolist() == [0.75, 0.25]
    # 95 % bootstrap interval of the mean of (0.5, 1.0): [0.5, 1.0]; one image: a point
    assert table["robustness_low"].tolist() == [0.5, 0.25]
    assert table["robustness_high"].tolist() == [1.0, 0.25]
    assert table["worst_corruption"].tolist() == ["snow", "fog"]
    assert table["worst_severity"].tolist() == [5, 1]
    paths = S.make_table("robustness", {"per_image": per_image, "per_corruption": per_corr},
                         tmp_path / "t")
    pd.testing.assert_frame_equal(pd.read_csv(paths["csv"]), table)


def test_robustness_reports_the_standard_corruptions_apart_from_the_extras():
    # image a: kept on fog (standard) at both severities, lost on spatter (extra) at one of two;
    # image b: lost on fog at one severity, kept on spatter.
    rows = []
    for image_id, same in (("a", {("fog", 1): 1, ("fog", 5): 1, ("spatter", 1): 1, ("spatter", 5): 0}),
                           ("b", {("fog", 1): 1, ("fog", 5): 0, ("spatter", 1): 1, ("spatter", 5): 1})):
        for (corruption, severity), kept in same.items():
            rows.append({"model": "m", "image_id": image_id, "label": 3, "clean_prediction": 3,
                         "corruption": corruption, "severity": severity,
                         "corrupted_prediction": 3 if kept else 4, "same_as_clean": bool(kept)})
    base = pd.DataFrame(rows)
    per_image = S.robustness_per_image(base).set_index("image_id")
    assert per_image.loc["a", "robustness"] == 0.75 and per_image.loc["a", "corruptions"] == "2 of all-19"
    assert per_image.loc["a", "robustness_standard"] == 1.0 and per_image.loc["a", "robustness_extra"] == 0.5
    assert per_image.loc["b", "robustness_standard"] == 0.5 and per_image.loc["b", "robustness_extra"] == 1.0
    per_corr = S.robustness_per_corruption(base)
    assert dict(zip(per_corr["corruption"], per_corr["corruption_set"])) == {
        "fog": "standard-15", "spatter": "extra-4"}
    table = S.robustness_table(per_image.reset_index(), per_corr)
    assert table["corruptions"].tolist() == ["1 of standard-15", "1 of extra-4", "2 of all-19"]
    assert table["robustness_mean"].tolist() == [0.75, 0.75, 0.75]
    assert table["robustness_std"].tolist() == pytest.approx([np.std([1, 0.5], ddof=1)] * 2 + [0.0])
    assert table["worst_corruption"].tolist() == ["fog", "spatter", "fog"]
    assert table["worst_severity"].tolist() == [5, 5, 5]
    assert "standard-15" in table.attrs["notes"][0]
    # a baseline on both kinds needs the split columns
    with pytest.raises(KeyError, match="robustness_standard"):
        S.robustness_table(per_image.reset_index()[["model", "image_id", "robustness"]], per_corr)

"""Studies on tiny models with known answers; tables checked against hand-computed values."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from helpers_studies import ConstantModel, LinearLogits, TinyNet, tiny_images, wrap
from spectral_attribution import studies as S
from spectral_attribution.corruptions import copy_seed, corrupt
from spectral_attribution.explainers import Explanation, SpatialSobol, WCAM
from spectral_attribution.models import ModelWrapper, Preprocessing

IDS = ["img0", "img1"]


def mean_model(size=32, threshold=0.25, name="mean"):
    """Class 1 iff the image's mean pixel value exceeds ``threshold``: only the approximation matters."""
    n = 3 * size * size
    w = np.zeros((n, 2), np.float32)
    w[:, 1] = 1.0 / n
    pre = Preprocessing(resize=40, crop=size, mean=None, std=None)
    return ModelWrapper(LinearLogits(w, bias=[threshold, 0.0]), pre, name=name)


def fake_wcam(indices, levels=2, size=32, target=1):
    g = indices.shape[0]
    return Explanation(method="wcam", indices=indices.astype(np.float32),
                       map=np.kron(indices, np.ones((size // g, size // g))).astype(np.float32),
                       spatial=None, target=target, predicted=target, score=0.0, predicted_score=0.0,
                       settings={"wavelet": "haar", "levels": levels, "grid_size": g,
                                 "drop_approximation": False, "image_size": [size, size]})


# -- corruption baseline --------------------------------------------------------
def test_robustness_of_a_model_that_ignores_its_input_is_one():
    model = wrap(ConstantModel(predicted=3))
    base = S.corruption_baseline(model, tiny_images(2), IDS, corruptions=["fog", "gaussian_noise"],
                                 severities=[1, 5])
    assert list(base.columns) == ["model", "image_id", "label", "clean_prediction", "clean_score",
                                  "corruption", "severity", "copy_seed", "corrupted_prediction",
                                  "corrupted_score", "same_as_clean"]
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
    assert list(df["reference_label"]) == [1, 1] and list(df["condition"]) == ["clean", "corrupted"]
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


def test_sufficient_reconstruction_unreachable_label_is_nan():
    model = mean_model()
    images = torch.full((1, 3, 32, 32), 0.5)
    df = S.sufficient_reconstruction(model, images, [fake_wcam(np.eye(4))], ["x"],
                                     reference_labels=[0], nb_random_draws=2, max_k=0 + 3)
    # label 0 needs a mean below 0.25: only k=0 (not tried) gives it, or orders without cell 0
    assert df.loc[0, "found"] == False  # noqa: E712  (cell 0 comes first in this order)
    assert math.isnan(df.loc[0, "depth"]) and math.isnan(df.loc[0, "depth_share"])


def test_sufficient_reconstruction_with_real_explanations():
    model = wrap(TinyNet())
    x = tiny_images(2)
    expls = WCAM(model, grid_size=4, nb_design=4, levels=2, progress=False)(x)
    df = S.sufficient_reconstruction(model, x, expls, IDS, nb_random_draws=2)
    assert ((df["depth"] >= 1) & (df["depth"] <= 16)).all()
    assert (df["reference_label"] == [e.predicted for e in expls]).all()


# -- zoom -------------------------------------------------------------------------
def test_zoom_study_known_contributions():
    from PIL import Image

    model = mean_model()
    rng = np.random.default_rng(0)
    pils = [Image.fromarray((rng.random((48, 64, 3)) * 255).astype(np.uint8)) for _ in range(2)]
    views = {"regular": (40, 32, 2), "zoomed": (80, 32, 3)}
    with pytest.warns(UserWarning, match="zoomed.*do not align"):  # J=3: 8-px cells, 4-px block
        df, expls = S.zoom_study(model, pils, IDS, grid_size=4, nb_design=4, views=views,
                                 return_explanations=True)
    assert len(expls["regular"]) == 2 and expls["zoomed"][0].settings["levels"] == 3
    sums = df.groupby(["image_id", "view"])["contribution"].sum()
    np.testing.assert_allclose(sums, 1.0)
    # only the mean matters: all importance on grid cell 0.
    # regular (J=2): cell 0 is exactly the approximation block -> approximation 1.
    reg = df[(df.view == "regular") & (df.level == "approximation")]["contribution"]
    np.testing.assert_allclose(reg, 1.0, atol=1e-4)
    # zoomed (J=3): cell 0 (8x8) holds the 4x4 approximation and the three 4x4
    # level-3 blocks, uniformly: per coefficient, 1/2 each.
    zoom = df[df.view == "zoomed"].set_index(["image_id", "level"])["contribution"]
    for i in IDS:
        assert zoom[(i, "approximation")] == pytest.approx(0.5, abs=1e-4)
        assert zoom[(i, "level_3")] == pytest.approx(0.5, abs=1e-4)
    assert list(df[df.view == "zoomed"]["level"][:4]) == ["approximation", "level_3", "level_2", "level_1"]


def test_zoom_table_hand_computed():
    df = pd.DataFrame({
        "model": ["m"] * 4 + ["n"] * 4,
        "view": ["regular", "regular", "zoomed", "zoomed"] * 2,
        "image_id": ["a", "b"] * 4,
        "level": ["approximation"] * 8, "level_order": [0] * 8,
        "contribution": [0.8, 0.6, 0.5, 0.7, 1.0, 1.0, 0.2, 0.4],
    })
    table = S.zoom_table(df)
    assert list(table.columns) == ["regular approximation", "zoomed approximation"]
    assert table.loc["m", "regular approximation"] == f"0.700 ± {np.std([0.8, 0.6], ddof=1):.3f}"
    assert table.loc["n", "zoomed approximation"] == "0.300 ± 0.141"


# -- faithfulness ------------------------------------------------------------------
def test_faithfulness_table_columns_and_ranges():
    model = wrap(TinyNet())
    x = tiny_images(2)
    wcams = WCAM(model, grid_size=4, nb_design=4, levels=2, progress=False)(x)
    spatial = SpatialSobol(model, grid_size=4, nb_design=4, progress=False)(x)
    df = S.faithfulness(model, x, IDS, wcams, spatial, nb_subsets=16, steps=4)
    assert list(df.columns) == ["model", "image_id", "method", "target", "dim", "mu_fidelity",
                                "insertion_auc", "deletion_auc"]
    assert list(df["method"]) == ["wcam", "spatial-sobol"] * 2
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
    back = pd.read_csv(indexed["csv"], index_col=0)
    assert back.index.name == "model" and back.loc["m", "regular approximation"] == "0.500 ± nan"


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
    assert table["worst_corruption"].tolist() == ["snow", "fog"]
    assert table["worst_severity"].tolist() == [5, 1]
    paths = S.make_table("robustness", {"per_image": per_image, "per_corruption": per_corr},
                         tmp_path / "t")
    pd.testing.assert_frame_equal(pd.read_csv(paths["csv"]), table)

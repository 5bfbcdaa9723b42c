"""Figures from small tables: produced, saved as PDF and PNG, non-empty."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

from helpers_studies import TinyNet, tiny_images, wrap
from spectral_attribution import plots as P


@pytest.fixture(scope="module")
def explained():
    from spectral_attribution.attributions.fourier_cam import FourierCAM
    from spectral_attribution.attributions.spatial_sobol import SpatialSobol
    from spectral_attribution.attributions.wcam import WCAM

    model = wrap(TinyNet())
    x = tiny_images(2)
    kw = dict(grid_size=4, nb_design=4, progress=False)
    return (x, WCAM(model, levels=2, **kw)(x), SpatialSobol(model, **kw)(x),
            FourierCAM(model, family="circle", **kw)(x))


def _saved(fig, tmp_path, name):
    paths = P.save_figure(fig, tmp_path / "figs" / name)
    for ext, path in paths.items():
        assert path.exists() and path.stat().st_size > 1000, (ext, path)
    assert paths["pdf"].read_bytes()[:5] == b"%PDF-"
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return paths


def test_backend_is_agg():
    assert matplotlib.get_backend().lower() == "agg"


def test_plot_explanation_every_method(explained, tmp_path):
    x, wcams, spatial, fourier = explained
    image = x[0].permute(1, 2, 0).numpy()
    fig = P.plot_explanation(image, wcams[0], title="tench")
    assert len(fig.axes) >= 3 and fig._suptitle.get_text() == "tench"
    # the WCAM panel carries one rectangle per sub-band (1 + 3 J)
    assert len(fig.axes[1].patches) == 1 + 3 * 2
    _saved(fig, tmp_path, "wcam")
    _saved(P.plot_explanation(x[0], spatial[0]), tmp_path, "spatial")
    _saved(P.plot_explanation(image, fourier[0]), tmp_path, "fourier")


def test_plot_explanation_of_a_wam(explained, tmp_path):
    from spectral_attribution.attributions.wam import WAM

    x = explained[0]
    [e] = WAM(wrap(TinyNet()), variant="gradient", grid_size=4, levels=2)(x[:1])
    fig = P.plot_explanation(x[0], e)
    assert [ax.get_title() for ax in fig.axes[:3]] == ["image", "WAM (dyadic layout)", "spatial WAM"]
    assert len(fig.axes[1].patches) == 1 + 3 * 2
    _saved(fig, tmp_path, "wam")


def test_methods_figure_from_the_registry(tmp_path):
    rows = []
    for method, fwd, bwd, t in (("wcam", 265, 0, 20.0), ("wam-integratedgrad", 17, 16, 1.0)):
        for i in range(3):
            rows.append({"model": "m", "image_id": f"i{i}", "method": method, "variant": "",
                         "spearman": 1.0 if method == "wcam" else 0.2 * i,
                         "spearman_details": 1.0 if method == "wcam" else 0.1 * i,
                         "mu_fidelity": 0.3, "insertion_auc": 0.6, "deletion_auc": 0.2,
                         "share_approximation": 0.5, "share_level_2": 0.3, "share_level_1": 0.2,
                         "wall_time_s": t, "nb_forward": fwd, "nb_backward": bwd})
    fig = P.draw_figure("methods", {"methods": pd.DataFrame(rows)})
    assert len(fig.axes) == 4
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == ["approximation", "detail level 2", "detail level 1"]
    assert fig.axes[3].get_yscale() == "log"
    assert "17 forward\n+ 16 backward" in [t.get_text() for t in fig.axes[3].texts]
    footnote = " ".join(fig._supxlabel.get_text().split())
    assert "n = 3 images" in footnote and "95 % bootstrap CI" in footnote
    # (c): bars are the means over images, WCAM first; constant values give no whisker
    heights = [p.get_height() for p in fig.axes[2].patches]
    assert heights == pytest.approx([0.3, 0.6, 0.2, 0.3, 0.6, 0.2])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["WCAM", "WAM (integrated gradients)"]
    _saved(fig, tmp_path, "methods")


def test_subbands_of_matches_the_transform(explained):
    from spectral_attribution.attributions.transforms import WaveletTransform

    _, wcams, _, _ = explained
    assert P.subbands_of(wcams[0]) == WaveletTransform("haar", 2).subbands(32, 32)


def test_gallery_and_reconstructions(explained, tmp_path):
    x, wcams, _, _ = explained
    images = [x[0].permute(1, 2, 0).numpy(), x[1].permute(1, 2, 0).numpy()]
    fig = P.plot_wcam_gallery(images, [[wcams[0], wcams[0]], [wcams[1], wcams[1]]],
                              ["clean", "fog, severity 3"], ["tiny-a", "tiny-b"])
    assert len(fig.axes) == 2 * 5 + 2   # and two colour bars: WCAMs, spatial WCAMs
    _saved(fig, tmp_path, "gallery")
    with pytest.raises(ValueError, match="models"):
        P.plot_wcam_gallery(images, [[wcams[0]], [wcams[1], wcams[1]]], ["a", "b"], ["m1", "m2"])
    _saved(P.plot_reconstructions(images, images[::-1], ["depth 3", "depth 5"]), tmp_path, "recon")


def _reconstruction_table():
    rng = np.random.default_rng(0)
    rows = []
    for m, slope in (("model-a", -0.8), ("model-b", -0.3)):
        for i in range(12):
            share = rng.uniform(0.02, 0.5)
            rows.append({"model": m, "image_id": f"i{i}", "condition": "clean",
                         "depth_share": share, "random_depth_share_median": min(1, share * 3),
                         "robustness": float(np.clip(0.9 + slope * share + rng.normal(0, 0.05), 0, 1))})
    return pd.DataFrame(rows)


def test_reconstruction_figures(tmp_path):
    df = _reconstruction_table()
    fig = P.plot_depth_vs_robustness(df)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]   # one legend, for the figure
    assert any(t.startswith("model-a, fit:\nslope") for t in labels)
    _saved(fig, tmp_path, "depth_robustness")
    _saved(P.plot_depth_orders(df), tmp_path, "orders")
    with pytest.raises(KeyError, match="robustness"):
        P.plot_depth_vs_robustness(df.drop(columns="robustness"))


def test_zoom_robustness_faithfulness_figures(tmp_path):
    zoom = pd.DataFrame([
        {"model": m, "image_id": i, "view": v, "level": lvl, "level_order": k, "contribution": c}
        for m in ("a", "b") for i in ("x", "y") for v, levels in (("regular", 3), ("zoomed", 4))
        for k, (lvl, c) in enumerate(zip(["approximation"] + [f"level_{j}" for j in range(levels, 0, -1)],
                                         np.linspace(0.7, 0.05, levels + 1)))])
    fig = P.plot_zoom(zoom)
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["approximation", "detail level 4", "detail level 3", "detail level 2",
                     "detail level 1"]
    _saved(fig, tmp_path, "zoom")
    base = pd.DataFrame([{"model": m, "image_id": i, "corruption": c, "severity": s,
                          "same_as_clean": (s + i) % 3 != 0}
                         for m in ("a", "b") for i in range(3) for c in ("fog", "contrast") for s in range(1, 6)])
    _saved(P.plot_robustness(base), tmp_path, "robustness")
    faith = pd.DataFrame([{"model": m, "image_id": i, "method": meth, "mu_fidelity": 0.1 * i,
                           "insertion_auc": 0.5, "deletion_auc": 0.2}
                          for m in ("a", "b") for i in range(3) for meth in ("wcam", "spatial-sobol")])
    _saved(P.plot_faithfulness(faith), tmp_path, "faithfulness")


def test_save_figure_is_atomic_and_closes(tmp_path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    P.save_figure(fig, tmp_path / "line")
    assert not plt.fignum_exists(fig.number)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["line.pdf", "line.png"]


def test_study_figures_name_their_definitions(tmp_path):
    # zoom, the paper's J = 3 vs J = 4: bars per physical scale, the zoomed finest level left out
    rows = []
    for view, levels, mapping in (("regular", 3, {"approximation": "approximation", "level_3": "level_3",
                                                  "level_2": "level_2", "level_1": "level_1"}),
                                  ("zoomed", 4, {"approximation": "approximation", "level_4": "level_3",
                                                 "level_3": "level_2", "level_2": "level_1"})):
        names = ["approximation"] + [f"level_{j}" for j in range(levels, 0, -1)]
        for k, name in enumerate(names):
            rows.append({"model": "a", "image_id": "x", "view": view, "levels": levels, "level": name,
                         "level_order": k, "contribution": 1 / len(names),
                         "scale_level": mapping.get(name, ""),
                         "scale_contribution": 0.25 if name in mapping else np.nan})
    fig = P.plot_zoom(pd.DataFrame(rows))
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [
        "approximation", "detail level 3", "detail level 2", "detail level 1"]
    assert "physical scale" in fig.axes[0].get_title()
    _saved(fig, tmp_path, "zoom_paper")
    # robustness: the title names the set, a line separates the extras
    base = pd.DataFrame([{"model": "a", "image_id": i, "corruption": c, "severity": s,
                          "same_as_clean": bool((i + s) % 2)}
                         for i in range(2) for c in ("fog", "contrast", "spatter") for s in (1, 5)])
    fig = P.plot_robustness(base)
    assert fig._suptitle.get_text() == "Robustness to ImageNet-C corruptions (3 of all-19)"
    assert [line.get_ydata()[0] for line in fig.axes[0].get_lines()] == [1.5]
    _saved(fig, tmp_path, "robustness_sets")
    # depth orders: censored depths (d + 1) stay on the plot, above the line at 1
    df = _reconstruction_table()
    df.loc[0, "random_depth_share_median"] = 17 / 16
    fig = P.plot_depth_orders(df)
    assert fig.axes[0].get_ylim()[1] >= 17 / 16
    _saved(fig, tmp_path, "orders_censored")

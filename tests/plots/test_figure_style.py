"""The figures follow the style guide of ``plots.style``: checked on every figure.

Labels are words, not the table's column names; n is on the figure; the one
legend lies outside every panel; coinciding points all show; compared maps
share one colour scale; a flat map is drawn flat with its range; the
depth-orders figure keeps clean and corrupted images apart with the table's
medians.
"""

import re
from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from spectral_attribution import plots as P
from spectral_attribution import studies as S
from spectral_attribution.plots import style
from synthetic_tables import _baseline, _per_image, _reconstruction, synthetic_inputs


#: Figures that read shards from a results folder: their plot functions are tested below.
FROM_RESULTS = {"wcam_gallery", "reconstructions"}


# -- what a reader sees ---------------------------------------------------------------
def _texts(fig) -> list[str]:
    fig.canvas.draw()  # tick labels exist only once drawn
    # wrapped lines joined: a footnote reads as one line
    return [" ".join(t.get_text().split()) for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip()]


def _overlap(a, b, tol: float = 1.0) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > tol) and (min(a.y1, b.y1) - max(a.y0, b.y0) > tol)


def check_style(fig, columns=()):
    """The style guide's checks that hold for every figure."""
    texts = _texts(fig)
    for text in texts:
        for column in columns:
            assert text.strip() != column, f"raw column name {column!r} shown"
            if "_" in column:
                assert column not in text, f"raw column name {column!r} in {text!r}"
        assert not re.search(r"\blevel_\d", text), text
    assert any(re.search(r"\bn = \d+", t) for t in texts), f"no 'n = ...' on the figure: {texts}"
    assert all(ax.get_legend() is None for ax in fig.axes), "a legend per panel"
    assert len(fig.legends) <= 1
    renderer = fig.canvas.get_renderer()
    for legend in fig.legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert not _overlap(box, ax.get_window_extent(renderer)), "legend over a panel"
    for ax in fig.axes:
        for im in ax.get_images():
            cmap = im.get_cmap().name
            assert cmap in ("viridis", "cividis", "magma") or im.get_array().ndim == 3, cmap
    return texts


@pytest.mark.parametrize("name", sorted(set(P.FIGURES) - FROM_RESULTS))
def test_every_registry_figure_follows_the_style(name):
    inputs = synthetic_inputs()
    maker = P.FIGURES[name]
    missing = [k for k in maker.inputs if k not in inputs]
    assert not missing, f"add a synthetic {missing} table for figure {name!r} to this test"
    fig = P.draw_figure(name, {k: inputs[k] for k in maker.inputs})
    columns = set().union(*(inputs[k].columns for k in maker.inputs))
    check_style(fig, columns)
    matplotlib.pyplot.close(fig)


def test_registry_figures_are_all_checked():
    assert FROM_RESULTS <= set(P.FIGURES)
    tested = {"test_gallery_shares_one_colour_scale", "test_reconstructions_follow_the_style"}
    assert all(callable(globals()[t]) for t in tested)


def test_error_bars_are_named():
    inputs = synthetic_inputs()
    for fig in (P.plot_zoom(inputs["zoom"]), P.plot_faithfulness(inputs["faithfulness"])):
        assert any("95 % bootstrap CI" in t for t in _texts(fig))
    fig = P.plot_depth_orders(inputs["reconstruction"])
    assert any("quartiles" in t for t in _texts(fig))


def test_robustness_from_the_baseline_table_follows_the_style():
    base = _baseline()
    texts = check_style(P.plot_robustness(base), base.columns)
    assert "Gaussian noise" in texts and "JPEG compression" in texts
    assert any("n = 3 images per classifier" in t for t in texts)


def test_depth_vs_robustness_shows_every_point():
    # 6 images, 5 at identical coordinates: all 6 points sit at distinct places.
    df = pd.DataFrame({"model": ["m"] * 6, "image_id": list("abcdef"),
                       "depth_share": [0.2] * 5 + [0.4], "robustness": [0.5] * 5 + [0.9]})
    fig = P.plot_depth_vs_robustness(df)
    fig.canvas.draw()
    ax = fig.axes[0]
    [points] = ax.collections
    xy = ax.transData.transform(points.get_offsets())
    assert len(xy) == 6
    gaps = [np.hypot(*(xy[i] - xy[j])) for i in range(6) for j in range(i)]
    diameter_px = np.sqrt(points.get_sizes()[0]) * fig.dpi / 72
    assert min(gaps) >= 0.9 * diameter_px, (min(gaps), diameter_px)
    assert 0 < points.get_alpha() < 1 and len(points.get_edgecolors())
    # the fit and the true values are not moved: the spread is centred on 0.2
    assert np.mean(points.get_offsets()[:5, 0]) == pytest.approx(0.2)
    texts = check_style(fig, df.columns)
    assert any("spread horizontally" in t for t in texts)
    assert any("n = 6 images" in t for t in texts)


def test_spread_overlaps_moves_only_coinciding_points():
    x = np.array([0.1, 0.1, 0.1, 0.5, 0.9])
    y = np.array([0.3, 0.3, 0.3, 0.3, 0.3])
    out = style.spread_overlaps(x, y, (0, 1), (0, 1), step=0.05)
    np.testing.assert_allclose(out, [0.05, 0.1, 0.15, 0.5, 0.9])


def test_depth_orders_keeps_conditions_apart_with_the_tables_medians():
    recon = _reconstruction()
    fig = P.plot_depth_orders(recon)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("clean images") and titles[1].startswith("corrupted copies")
    summary = S.reconstruction_summary(recon.drop(columns="robustness"), _per_image(recon)) \
        .set_index(["model", "condition"])
    medians = {line.get_gid(): line.get_ydata()[0] for ax in fig.axes for line in ax.lines
               if (line.get_gid() or "").startswith("median|")}
    assert len(medians) == 2 * 2 * 2   # models x conditions x orders
    for (model, cond), row in summary.iterrows():
        assert medians[f"median|{model}|{cond}|depth_share"] == pytest.approx(row["depth_share_median"])
        assert medians[f"median|{model}|{cond}|random_depth_share_median"] == pytest.approx(
            row["random_depth_share_median"])
    # the pooled median (what the figure used to show) is neither
    pooled = recon[recon["model"] == "model-b"]["depth_share"].median()
    assert pooled not in {summary.loc[("model-b", c), "depth_share_median"] for c in ("clean", "corrupted")}
    check_style(fig, recon.columns)


def test_depth_orders_leaves_unrestored_images_out_as_the_table_does():
    recon = _reconstruction()
    recon.loc[recon.index[:2], "depth_share"] = np.nan
    fig = P.plot_depth_orders(recon)
    summary = S.reconstruction_summary(recon.drop(columns="robustness"), _per_image(recon)) \
        .set_index(["model", "condition"])
    line = next(ln for ax in fig.axes for ln in ax.lines
                if ln.get_gid() == "median|model-a|clean|depth_share")
    assert line.get_ydata()[0] == pytest.approx(summary.loc[("model-a", "clean"), "depth_share_median"])
    assert any("never restored" in t for t in _texts(fig))


# -- colour scales --------------------------------------------------------------------
def _wcam(values, spatial=None):
    values = np.asarray(values, dtype=np.float32)
    return SimpleNamespace(map=values, spatial=values if spatial is None else spatial,
                           settings={"levels": 2, "image_size": list(values.shape)})


def _map_images(fig):
    """``imshow`` images that are maps (2-D arrays), in drawing order."""
    return [im for ax in fig.axes for im in ax.get_images() if im.get_array().ndim == 2]


def test_gallery_shares_one_colour_scale():
    rng = np.random.default_rng(0)
    big = rng.uniform(0.0, 1.0, (16, 16))
    small = big / 100                     # 100-fold smaller indices
    image = np.full((16, 16, 3), 0.5)
    fig = P.plot_wcam_gallery([image], [[_wcam(big), _wcam(small)]], ["img0: clean"], ["m1", "m2"])
    wcam_big, spatial_big, wcam_small, spatial_small = _map_images(fig)
    for a, b in ((wcam_big, wcam_small), (spatial_big, spatial_small)):
        assert (a.norm.vmin, a.norm.vmax) == (b.norm.vmin, b.norm.vmax) == (0.0, pytest.approx(big.max()))
        shown_a = a.norm(a.get_array())
        shown_b = b.norm(b.get_array())
        np.testing.assert_allclose(shown_b, shown_a / 100, rtol=1e-5, atol=1e-7)  # 100x darker
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert "Sobol' total index (WCAM)" in labels and style.SPATIAL_LABEL in labels
    check_style(fig)


def test_nearly_uniform_map_is_drawn_flat_with_its_range():
    rng = np.random.default_rng(1)
    uniform = 0.25 + rng.uniform(-3e-4, 3e-4, (16, 16))
    varied = rng.uniform(0.0, 0.5, (16, 16))
    image = np.full((16, 16, 3), 0.5)
    fig = P.plot_wcam_gallery([image, image], [[_wcam(varied)], [_wcam(uniform)]],
                              ["img0: clean", "fog, severity 3"], ["m1"])
    wcam_varied, _, wcam_uniform, _ = _map_images(fig)
    assert np.ptp(wcam_varied.get_array()) > 0.4              # not flattened
    flat = np.asarray(wcam_uniform.get_array())
    assert np.ptp(flat) == 0 and flat[0, 0] == pytest.approx(uniform.mean())
    text = f"flat: {uniform.min():.4g}-{uniform.max():.4g}"
    assert text in _texts(fig)
    # alone, on its own scale from 0, it is flat too (range 0.24 % of the scale)
    one = P.plot_explanation(image, SimpleNamespace(method="wcam", predicted=1, target=1,
                                                    predicted_score=1.0, score=1.0,
                                                    **vars(_wcam(uniform))))
    assert text in _texts(one)
    check_style(one)


def test_negligible_is_relative_to_the_shared_scale():
    norm = style.shared_norm([np.array([0.0, 1.0])])
    assert style.is_negligible(np.array([0.5, 0.5 + 0.004]), norm)
    assert not style.is_negligible(np.array([0.5, 0.5 + 0.01]), norm)
    assert style.shared_norm([np.zeros(4)]).vmax > 0   # all-zero maps: a valid scale, all flat


def test_reconstructions_follow_the_style():
    image = np.full((16, 16, 3), 0.5)
    fig = P.plot_reconstructions([image, image], [image, image], ["a: depth 3 cells", "b: depth 5 cells"],
                                 n_note="n = 2 of 6 clean images shown")
    texts = check_style(fig)
    assert any(t.startswith("n = 2 of 6 clean images shown;") for t in texts)


def test_labels_are_words_with_units():
    from spectral_attribution.studies import labels

    assert labels.label("depth_share") == "reconstruction depth (share of grid cells)"
    assert labels.value_label("level", "level_4") == "detail level 4"
    assert labels.value_label("corruption", "gaussian_noise") == "Gaussian noise"
    assert labels.label("some_new_column") == "some new column"
    assert style.count_note({"a": 6, "b": 6}) == "n = 6 images per classifier"
    assert style.count_note({"a": 6, "b": 5}) == "n = 6 (a), 5 (b) images"

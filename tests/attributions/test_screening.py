"""Screening with group total indices (issue 19): known answers on toy models, exact agreement
with the full design on the cells it estimates, and the pass count the settings record."""

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from spectral_attribution.attributions.explanation import Explanation
from spectral_attribution.attributions.fourier_cam import FourierCAM
from spectral_attribution.attributions.sobol.screening import (
    DEFAULT_SCREENING,
    check_screening,
    grid_roots,
    quadtree_children,
    rect_group,
)
from spectral_attribution.attributions.spatial_sobol import SpatialSobol
from spectral_attribution.attributions.transforms import WaveletTransform
from spectral_attribution.attributions.wcam import WCAM, WaveletSobol

from toys import LowPassModel, RegionModel


class OneCellModel(nn.Module):
    """Logit 0 is the energy of the Haar layout (J = 3) inside ``rows x cols`` of the layout.

    With a 32-px image and an 8 x 8 grid each cell is 4 x 4 layout coefficients,
    so ``rows=slice(24, 28), cols=slice(20, 24)`` is exactly cell (6, 5), in the
    level-1 diagonal sub-band: its total index is 1, every other cell's exactly 0.
    """

    def __init__(self, rows=slice(24, 28), cols=slice(20, 24)):
        super().__init__()
        self.transform = WaveletTransform("haar", 3)
        self.rows, self.cols = rows, cols

    def forward(self, x):
        layout = self.transform.forward(x)
        energy = (layout[..., self.rows, self.cols] ** 2).sum(dim=(1, 2, 3))
        return torch.stack([energy, -energy], dim=1)


def image(size=32, seed=0):
    return torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed))


def test_one_fine_cell_is_found_and_everything_else_discarded_for_few_passes():
    n, g = 8, 8
    [e] = WCAM(OneCellModel(), grid_size=g, nb_design=n, screening=0.01, backend="eager")(image(), 0)
    s = e.settings
    # Rounds: A, B and the 10 sub-bands; the level-1 diagonal's 4 quadrants; the 4 cells
    # of the kept quadrant: (2 + 10 + 4 + 4) n rows instead of n (g^2 + 2). Estimated:
    # those 4 cells and the 4 sub-bands of one cell (approximation, level-3 details).
    assert s["nb_forward"] == (2 + 10 + 4 + 4) * n == 160
    assert s["nb_forward_full"] == n * (g * g + 2) == 528
    assert s["screening"] == 0.01 and s["screening_fallback"] is False
    assert s["screening_groups"] == 10 and s["nb_estimated"] == 8
    assert e.estimated.shape == (g, g) and e.estimated.sum() == 8
    assert e.estimated[6:8, 4:6].all() and e.estimated[0, 0] and e.estimated[0:2, 0:2].all()
    top = np.unravel_index(np.argmax(e.indices), e.indices.shape)
    assert top == (6, 5) and e.indices[6, 5] > 0.1  # Jansen at n = 8: noisy around 1
    others = np.ones((g, g), bool)
    others[6, 5] = False
    assert (np.abs(e.indices[others]) < 1e-6).all()  # 0 up to float rounding
    # Screened cells are bounded by their group's index (0 here, the model ignores them);
    # an estimated cell's bound is its own index.
    assert (np.abs(e.bounds[~e.estimated]) < 1e-6).all()
    np.testing.assert_array_equal(e.bounds[e.estimated], e.indices[e.estimated])


def test_estimated_cells_equal_the_full_wcam_and_tau_zero_is_the_full_wcam():
    x = image(seed=3)
    model = RegionModel(slice(4, 20), slice(8, 24), nb_classes=3, target=1)
    full = WCAM(model, grid_size=8, nb_design=8, screening=None)(x, 1)[0]
    zero = WCAM(model, grid_size=8, nb_design=8, screening=0)(x, 1)[0]
    np.testing.assert_array_equal(zero.indices, full.indices)
    assert zero.estimated is None and zero.settings["screening"] is None
    assert zero.settings["nb_forward"] == full.settings["nb_forward"] == 8 * 66
    screened = WCAM(model, grid_size=8, nb_design=8, screening=0.01)(x, 1)[0]
    est = screened.estimated
    assert 0 < est.sum() < 64
    np.testing.assert_allclose(screened.indices[est], full.indices[est], rtol=1e-6, atol=1e-7)
    assert (screened.indices[~est] == 0).all()
    # The screened-out cells of the full WCAM are small: each below the 1 % threshold
    # of the sub-bands' total, up to estimation noise.
    share = full.indices[~est].max() / screened.settings["screening_total"]
    assert share < 0.05


def test_a_tiny_threshold_keeps_every_cell_and_falls_back_to_the_full_design():
    x = image(seed=1)
    model = RegionModel(slice(0, 32), slice(0, 32), nb_classes=2, target=0)  # every coefficient counts
    full = WCAM(model, grid_size=8, nb_design=4, screening=None)(x, 0)[0]
    [e] = WCAM(model, grid_size=8, nb_design=4, screening=1e-9)(x, 0)
    assert e.settings["screening_fallback"] is True and e.estimated.all()
    np.testing.assert_allclose(e.indices, full.indices, rtol=1e-6, atol=1e-7)
    # Spent: the rounds until the guard stopped them, then every remaining cell.
    assert e.settings["nb_forward"] > full.settings["nb_forward"]


def test_pass_count_in_settings_is_the_number_of_forward_passes_made():
    calls = []

    class Counting(OneCellModel):
        def forward(self, x):
            calls.append(len(x))
            return super().forward(x)

    [full] = WCAM(Counting(), grid_size=8, nb_design=4, batch_size=7, screening=None,
                  backend="eager")(image(), 0)
    overhead = sum(calls) - full.settings["nb_forward"]
    assert full.settings["nb_forward"] == 4 * 66 and overhead == 2  # the clean pass, and one when the forward pass is built
    calls.clear()
    [e] = WCAM(Counting(), grid_size=8, nb_design=4, batch_size=7, screening=0.01,
               backend="eager")(image(), 0)
    assert sum(calls) - overhead == e.settings["nb_forward"] == (2 + 10 + 4 + 4) * 4
    assert max(calls) <= 7


def test_screened_explanation_round_trips_through_npz(tmp_path):
    [e] = WCAM(OneCellModel(), grid_size=8, nb_design=4, backend="eager")(image(), 0)
    back = Explanation.load(e.save(tmp_path / "e.npz"))
    np.testing.assert_array_equal(back.estimated, e.estimated)
    np.testing.assert_array_equal(back.bounds, e.bounds)
    assert back.settings["nb_forward"] == e.settings["nb_forward"]
    assert back.screened_out is not None and back.screened_out.sum() == 64 - 8


def test_defaults_screen_the_wcam_only():
    model = LowPassModel()
    assert DEFAULT_SCREENING == 0.01
    assert WCAM(model, grid_size=4, nb_design=2).screening == 0.01
    assert WaveletSobol(model, grid_size=4, nb_design=2).screening is None
    assert SpatialSobol(model, grid_size=4, nb_design=2).screening is None
    assert FourierCAM(model, grid_size=4, nb_design=2).screening is None


def test_spatial_sobol_and_fourier_rings_screen_on_their_grid():
    # The region model reads pixels 0:8 x 0:8 of a 32-px image: cells (0..1, 0..1) of 8 x 8.
    model = RegionModel(slice(0, 8), slice(0, 8), nb_classes=2, target=0)
    x = image(seed=2)
    full = SpatialSobol(model, grid_size=8, nb_design=8)(x, 0)[0]
    [e] = SpatialSobol(model, grid_size=8, nb_design=8, screening=0.01)(x, 0)
    assert e.estimated[:2, :2].all() and e.estimated.sum() == 4
    np.testing.assert_allclose(e.indices[e.estimated], full.indices[e.estimated], rtol=1e-6)
    # 16 roots of 2 x 2 cells, one kept: 2 + 16 + 4 jobs of n rows.
    assert e.settings["nb_forward"] == (2 + 16 + 4) * 8
    # Fourier rings: a 1 x g row of inputs, screened by halves.
    fc = FourierCAM(LowPassModel(), grid_size=8, nb_design=8, screening=0.01)
    [r] = fc(x, 0)
    assert r.indices.shape == (8,) and r.estimated.shape == (8,) and r.estimated[0]
    np.testing.assert_allclose(r.indices[r.estimated],
                               FourierCAM(LowPassModel(), grid_size=8, nb_design=8)(x, 0)[0]
                               .indices[r.estimated], rtol=1e-6, atol=1e-7)


def test_groups_partition_the_grid_and_quadtree_halves():
    g = rect_group(0, 5, 2, 5, width=8)
    kids = quadtree_children(g)
    assert [k.rect for k in kids] == [(0, 3, 2, 4), (0, 3, 4, 5), (3, 5, 2, 4), (3, 5, 4, 5)]
    assert sorted(np.concatenate([k.cells for k in kids]).tolist()) == sorted(g.cells.tolist())
    roots = grid_roots(1, 10)
    assert [r.rect for r in roots] == [(0, 1, 0, 2), (0, 1, 2, 5), (0, 1, 5, 7), (0, 1, 7, 10)]
    # WCAM roots: the sub-bands, a partition of the cells (grid 28 over a 224 layout:
    # cells straddle the sub-band borders and go where their centre is).
    explainer = WCAM(LowPassModel(), grid_size=28, nb_design=2)
    ctx = explainer.perturbation.prepare(torch.zeros(3, 224, 224))
    roots = explainer.screening_roots(ctx)
    assert len(roots) == 10 and roots[0].name == "level 3 approximation"
    cells = np.concatenate([r.cells for r in roots])
    assert sorted(cells.tolist()) == list(range(28 * 28))


@pytest.mark.parametrize("bad", [-0.1, 1.0, float("nan"), "much", True])
def test_bad_screening_values_are_refused(bad):
    with pytest.raises(ValueError, match="screening"):
        check_screening(bad)
    assert check_screening("none") is None and check_screening(0) is None
    assert check_screening(0.05) == 0.05


def test_library_and_cli_defaults_give_the_same_indices():
    from spectral_attribution.cli.explain import _explainer
    from spectral_attribution.cli.parser import build_parser
    from spectral_attribution.models import load_model

    model = load_model("efficientnet-lite0")
    args = build_parser().parse_args(["explain", "photo.jpg", "--out", "out", "--grid-size", "4",
                                      "--nb-design", "2", "--no-progress"])
    cli = _explainer(args, model)
    lib = WCAM(model, grid_size=4, nb_design=2, progress=False)
    assert (cli.screening, cli.backend, cli.precision, cli.batch_size, cli.estimator) == \
        (lib.screening, lib.backend, lib.precision, lib.batch_size, lib.estimator) == \
        (0.01, "onnxruntime", "float32", 64, "jansen")
    x = image(224, seed=5)
    [a], [b] = cli(x), lib(x)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.estimated, b.estimated)
    assert a.settings == b.settings
    # --screening none: the full design
    args = build_parser().parse_args(["explain", "photo.jpg", "--out", "out", "--screening", "none"])
    assert _explainer(args, model).screening is None


def test_cli_refuses_a_bad_screening_value(capsys):
    from spectral_attribution.cli.parser import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["explain", "photo.jpg", "--out", "out", "--screening", "1.5"])
    assert "screening must be a share" in capsys.readouterr().err


def test_workflow_key_reaches_every_sobol_explainer():
    from spectral_attribution.pipeline import explainer_params

    config = {"wcam": {"grid_size": 16, "nb_design": 8, "levels": 3, "wavelet": "haar",
                       "batch_size": 64, "backend": "auto", "screening": 0.02},
              "faithfulness": {"spatial": {}}, "zoom": {}}
    for kind in ("wcam", "spatial", "zoom"):
        assert explainer_params(config, kind)["screening"] == 0.02
    config["wcam"]["screening"] = None
    assert explainer_params(config, "wcam")["screening"] is None
    del config["wcam"]["screening"]
    assert explainer_params(config, "wcam")["screening"] == 0.01
    config["wcam"]["screening"] = 2
    with pytest.raises(ValueError, match="wcam.screening"):
        explainer_params(config, "wcam")


def test_shards_keep_estimated_and_bounds(tmp_path):
    from spectral_attribution import results

    es = WCAM(OneCellModel(), grid_size=8, nb_design=4, backend="eager")(torch.cat([image(), image(seed=1)]), 0)
    npz, _ = results.write_shard(tmp_path / "shard-000.npz", es, ["a", "b"])
    back = results.load_shard(npz)
    for e, b in zip(es, back.explanations):
        np.testing.assert_array_equal(b.estimated, e.estimated)
        np.testing.assert_array_equal(b.bounds, e.bounds)
        assert b.settings["nb_forward"] == e.settings["nb_forward"] < e.settings["nb_forward_full"]


def test_plots_shade_exactly_the_screened_cells():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spectral_attribution.plots.explanations import plot_explanation, screened_mask, shade_screened

    [e] = WCAM(OneCellModel(), grid_size=8, nb_design=4, backend="eager")(image(), 0)
    mask = screened_mask(e)
    assert mask.shape == e.map.shape == (32, 32)
    assert mask.sum() == (64 - 8) * 16            # 56 cells of 4 x 4 layout positions
    assert not mask[24:28, 20:24].any() and mask[8:12, 8:12].all()
    fig, ax = plt.subplots()
    assert shade_screened(ax, e) == 56
    plt.close(fig)
    plt.close(plot_explanation(image()[0].permute(1, 2, 0).numpy(), e))


def test_a_grid_too_small_to_screen_runs_the_full_design_at_once():
    # grid 2 at 1 level: 4 sub-band groups for 4 cells; the first round alone would cost
    # more than 75 % of the full design, so the full design runs (no extra passes)
    import torch

    from spectral_attribution import WCAM

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 3))
    x = torch.rand(1, 3, 32, 32)
    [full] = WCAM(model, grid_size=2, nb_design=2, levels=1, screening=None, backend="eager")(x)
    [scr] = WCAM(model, grid_size=2, nb_design=2, levels=1, screening=0.01, backend="eager")(x)
    assert scr.settings["nb_forward"] == scr.settings["nb_forward_full"] == 2 * (4 + 2)
    assert scr.settings["screening_fallback"] is True and scr.screened_out is None
    assert float(abs(scr.indices - full.indices).max()) == 0.0


def test_the_fallback_never_spends_more_than_the_full_design():
    # a model that reads every pixel: every sub-band is kept and splitting them would cost
    # more than estimating their cells; the fallback estimates those cells directly
    import numpy as np
    import torch

    from spectral_attribution import WCAM

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 3))
    x = torch.rand(1, 3, 32, 32)
    [full] = WCAM(model, grid_size=8, nb_design=2, levels=3, screening=None, backend="eager")(x)
    [scr] = WCAM(model, grid_size=8, nb_design=2, levels=3, screening=0.01, backend="eager")(x)
    assert scr.settings["screening_fallback"] is True
    assert scr.settings["nb_forward"] <= scr.settings["nb_forward_full"] == 2 * (64 + 2)
    est = np.asarray(scr.estimated)
    np.testing.assert_allclose(scr.indices[est], full.indices[est], atol=1e-6)

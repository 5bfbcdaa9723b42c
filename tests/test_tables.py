"""Tables as a reader gets them: headers in words, "±" defined, NaN cells with their reason,
LaTeX caption and label, the zoom table in long form; CSV kept for programs."""

import base64
import re

import numpy as np
import pandas as pd
import pytest

from spectral_attribution import studies as S
from spectral_attribution._common import read_table
from synthetic_tables import _per_image, synthetic_inputs


def _md_rows(path):
    """Header and body cells of the pipe table at the top of a Markdown file."""
    lines = [ln for ln in path.read_text().splitlines() if ln.startswith("|")]
    cells = [[c.strip() for c in ln.split("|")[1:-1]] for ln in lines]
    return cells[0], cells[2:]


def test_write_table_csv_for_programs_and_words_for_readers(tmp_path):
    df = pd.DataFrame({"model": ["a", "b"], "depth_share": [0.125, np.nan], "nb_images": [3, 1]})
    paths = S.write_table(df, tmp_path / "sub" / "depth")
    assert set(paths) == {"csv", "md", "tex", "html"}
    pd.testing.assert_frame_equal(read_table(paths["csv"]), df)          # snake_case, numbers, NaN
    header, rows = _md_rows(paths["md"])
    assert header == ["classifier", "reconstruction depth (share of grid cells)", "images (n)"]
    assert rows == [["a", "0.125", "3"], ["b", "n/a", "1"]]
    tex = paths["tex"].read_text()
    assert "\\caption{" in tex and "\\label{tab:depth}" in tex and "\\toprule" in tex
    assert not list(tmp_path.joinpath("sub").glob("*.tmp"))


def test_html_page_shows_the_table_once_and_links_csv_and_latex(tmp_path):
    paths = S.make_table("robustness", {k: v for k, v in synthetic_inputs().items()
                                        if k in ("per_image", "per_corruption")}, tmp_path / "robustness")
    page = paths["html"].read_text()
    assert page.count("<table") == 1 and "<caption>Robustness per classifier" in page
    links = dict(re.findall(r'download="([^"]+)" href="data:[^;]+;charset=utf-8;base64,([^"]+)"', page))
    assert set(links) == {"robustness.csv", "robustness.tex"}
    assert base64.b64decode(links["robustness.csv"]) == paths["csv"].read_bytes()
    assert base64.b64decode(links["robustness.tex"]) == paths["tex"].read_bytes()
    assert "mean ± SD: over the n images" in page


def test_robustness_table_defines_pm_and_says_why_a_cell_is_empty(tmp_path):
    per_image = pd.DataFrame({"model": ["m", "m", "n"], "image_id": ["a", "b", "a"],
                              "robustness": [0.5, 1.0, 0.25]})
    per_corr = pd.DataFrame({"model": ["m", "m", "n"], "corruption": ["fog", "gaussian_noise", "fog"],
                             "severity": [3, 5, 1], "robustness": [0.9, 0.2, 0.25]})
    paths = S.make_table("robustness", {"per_image": per_image, "per_corruption": per_corr},
                         tmp_path / "robustness")
    header, rows = _md_rows(paths["md"])
    assert header[2] == "robustness, mean ± SD (share of copies)"
    assert rows[0][2] == f"0.750 ± {np.std([0.5, 1.0], ddof=1):.3f}" and rows[0][3] == "Gaussian noise"
    assert rows[1][2] == "0.250 ± n/a (1 image)"
    md = paths["md"].read_text()
    assert "Note: mean ± SD: over the n images" in md and "Table: Robustness per classifier" in md
    tex = paths["tex"].read_text()
    assert "0.750 $\\pm$ 0.354" in tex and "\\label{tab:robustness}" in tex
    csv = read_table(paths["csv"])
    assert np.isnan(csv.loc[1, "robustness_std"]) and csv.loc[0, "robustness_mean"] == 0.75


def test_reconstruction_table_says_why_a_fit_is_missing(tmp_path):
    recon = pd.DataFrame({"model": ["m"] * 4, "image_id": ["a", "b", "a", "b"],
                          "condition": ["clean", "clean", "corrupted", "corrupted"],
                          "depth_share": [0.1, 0.3, 0.2, np.nan], "found": [True, True, True, False],
                          "random_depth_share_median": [0.5, 0.7, 0.6, np.nan]})
    per_image = pd.DataFrame({"model": ["m", "m"], "image_id": ["a", "b"], "robustness": [0.9, 0.4]})
    paths = S.make_table("reconstruction", {"reconstruction": recon, "per_image": per_image},
                         tmp_path / "reconstruction")
    header, rows = _md_rows(paths["md"])
    slope = header.index("slope (robustness per share of cells)")
    assert rows[0][slope] == "n/a (fit needs ≥ 3 restored images)"        # 2 clean images
    assert rows[1][slope] == "n/a (fit on clean images only)"
    assert rows[0][1] == "clean images" and rows[1][1] == "corrupted copies"
    assert rows[1][header.index("restored (share of images)")] == "0.500"
    assert "$\\geq$ 3" in paths["tex"].read_text()


def test_zoom_table_is_long_and_narrow_with_known_values(tmp_path):
    zoom = pd.DataFrame({
        "model": ["m"] * 6, "image_id": ["a", "b", "a", "b", "a", "b"],
        "view": ["regular", "regular", "zoomed", "zoomed", "zoomed", "zoomed"],
        "level": ["approximation"] * 4 + ["level_4"] * 2,
        "level_order": [0, 0, 0, 0, 1, 1], "contribution": [0.8, 0.6, 0.5, 0.7, 0.5, 0.3]})
    table = S.zoom_summary(zoom)
    assert list(table.columns) == ["model", "level", "nb_images", "regular_mean", "regular_sd",
                                   "zoomed_mean", "zoomed_sd", "difference_mean", "difference_sd"]
    approx = table.iloc[0]
    assert approx["level"] == "approximation" and approx["regular_mean"] == pytest.approx(0.7)
    assert approx["zoomed_mean"] == pytest.approx(0.6)
    assert approx["difference_mean"] == pytest.approx(-0.1)                  # (-0.3 + 0.1) / 2
    assert approx["difference_sd"] == pytest.approx(np.std([-0.3, 0.1], ddof=1))
    assert np.isnan(table.iloc[1]["regular_mean"])
    paths = S.make_table("zoom", {"zoom": zoom}, tmp_path / "zoom")
    header, rows = _md_rows(paths["md"])
    assert len(header) == 6 and header[3:] == ["regular view, mean ± SD", "zoomed view, mean ± SD",
                                               "zoomed − regular, mean ± SD"]
    assert rows[1][:2] == ["m", "detail level 4"]
    assert rows[1][3] == "n/a (no such level in this view)" and rows[1][5] == "n/a (level in one view only)"
    assert rows[0][5] == f"-0.100 ± {np.std([-0.3, 0.1], ddof=1):.3f}"


def test_faithfulness_table_keeps_numbers_in_the_csv(tmp_path):
    faith = pd.DataFrame({"model": ["m"] * 4, "image_id": ["a", "a", "b", "b"],
                          "method": ["wcam", "spatial-sobol"] * 2, "mu_fidelity": [0.2, 0.1, 0.4, 0.1],
                          "insertion_auc": [0.5] * 4, "deletion_auc": [0.1] * 4})
    paths = S.make_table("faithfulness", {"faithfulness": faith}, tmp_path / "faithfulness")
    csv = read_table(paths["csv"])
    assert csv.loc[0, "mu_fidelity_mean"] == pytest.approx(0.3)
    assert csv.loc[0, "mu_fidelity_sd"] == pytest.approx(np.std([0.2, 0.4], ddof=1))
    header, rows = _md_rows(paths["md"])
    assert rows[0][:3] == ["m", "WCAM", "2"] and rows[1][1] == "spatial Sobol'"
    assert rows[1][3] == "0.100 ± 0.000"


@pytest.mark.parametrize("name", sorted(S.TABLES))
def test_every_registry_table_reads_as_words(name, tmp_path):
    inputs = synthetic_inputs()
    maker = S.TABLES[name]
    missing = [k for k in maker.inputs if k not in inputs]
    assert not missing, f"add a synthetic {missing} table for table {name!r} to synthetic_tables.py"
    paths = S.make_table(name, {k: inputs[k] for k in maker.inputs}, tmp_path / name)
    header, rows = _md_rows(paths["md"])
    csv = read_table(paths["csv"])
    assert all("_" not in h for h in header), header                     # no snake_case headers
    assert any("_" in c for c in csv.columns) or len(csv.columns) <= 3   # the CSV keeps its names
    assert len(header) <= 8, f"{name}: {len(header)} columns"
    assert all(cell and cell.lower() != "nan" for row in rows for cell in row)
    tex = paths["tex"].read_text()
    assert re.search(r"\\caption\{[^}]+\}", tex) and f"\\label{{tab:{name}}}" in tex
    if any("±" in h for h in header):
        assert "Note: mean ± SD" in paths["md"].read_text()
    assert paths["html"].read_text().count("<table") == 1


def test_synthetic_inputs_are_consistent():
    recon = synthetic_inputs()["reconstruction"]
    assert set(recon["condition"]) == {"clean", "corrupted"}
    assert len(_per_image(recon.assign(robustness=0.5))) == 12

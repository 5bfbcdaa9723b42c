"""Tables as a reader gets them: headers in words, "±" defined, NaN cells with their reason,
LaTeX caption and label, the zoom table in long form; CSV kept for programs."""

import base64
import re

import numpy as np
import pandas as pd
import pytest

from spectral_attribution import studies as S
from spectral_attribution._utils.tables import read_table
from spectral_attribution.studies.table_format import LABEL_COLUMNS, display_table, tidy_table
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
    assert "mean [low, high]: the mean over images and its 95 % percentile-bootstrap" in page


def test_robustness_table_shows_the_ci_and_says_why_a_cell_is_empty(tmp_path):
    per_image = pd.DataFrame({"model": ["m", "m", "n"], "image_id": ["a", "b", "a"],
                              "robustness": [0.5, 1.0, 0.25]})
    per_corr = pd.DataFrame({"model": ["m", "m", "n"], "corruption": ["fog", "gaussian_noise", "fog"],
                             "severity": [3, 5, 1], "robustness": [0.9, 0.2, 0.25]})
    paths = S.make_table("robustness", {"per_image": per_image, "per_corruption": per_corr},
                         tmp_path / "robustness")
    header, rows = _md_rows(paths["md"])
    assert header[3] == "robustness (share of copies), mean [95 % CI]"
    # two images: the resampled means are 0.5, 0.75 and 1, so the percentile CI is [0.5, 1]
    assert rows[0][3] == "0.750 [0.500, 1.000]" and rows[0][4] == "Gaussian noise"
    assert rows[1][3] == "0.250 [0.250, 0.250]"                          # 1 image: a point
    md = paths["md"].read_text()
    assert "Note: mean [low, high]: the mean over images" in md and "Table: Robustness per classifier" in md
    assert "speckle noise, Gaussian blur" in md
    tex = paths["tex"].read_text()
    assert "0.750 [0.500, 1.000]" in tex and "\\label{tab:robustness}" in tex
    csv = read_table(paths["csv"])
    assert np.isnan(csv.loc[1, "robustness_std"]) and csv.loc[0, "robustness_mean"] == 0.75
    assert csv.loc[0, ["robustness_low", "robustness_high"]].tolist() == [0.5, 1.0]


def test_reconstruction_table_says_why_a_fit_is_missing(tmp_path):
    recon = pd.DataFrame({"model": ["m"] * 4, "image_id": ["a", "b", "a", "b"],
                          "condition": ["clean", "clean", "corrupted", "corrupted"],
                          "depth": [1, 3, 2, 11], "depth_share": [0.1, 0.3, 0.2, 1.1],
                          "found": [True, True, True, False],
                          "random_depth_median": [5, 7, 6, 11],
                          "random_depth_share_median": [0.5, 0.7, 0.6, 1.1],
                          "random_found_share": [1.0, 1.0, 1.0, 0.0]})
    per_image = pd.DataFrame({"model": ["m", "m"], "image_id": ["a", "b"], "robustness": [0.9, 0.4]})
    paths = S.make_table("reconstruction", {"reconstruction": recon, "per_image": per_image},
                         tmp_path / "reconstruction")
    header, rows = _md_rows(paths["md"])
    slope = header.index("slope of robustness on depth (Pearson r)")
    assert rows[0][slope] == "n/a (fit needs ≥ 3 images with distinct depths and robustness)"  # 2 images
    assert rows[1][slope] == "n/a (fit on clean images only)"
    assert rows[0][1] == "clean images" and rows[1][1] == "corrupted copies"
    assert rows[1][header.index("restored by the WCAM order (share of images)")] == "0.500"
    # median of two values, resampled: either value or their mean -> [low, high] the two values
    assert rows[0][header.index("depth, WCAM order (share of cells), median [95 % CI]")] == \
        "0.200 [0.100, 0.300]"
    random = [h for h in header if h.startswith("depth, random orders")][0]
    assert rows[1][header.index(random)] == "0.850 [0.600, 1.100] (0.50)"   # share of draws restoring
    assert rows[0][header.index("Wilcoxon p, WCAM vs random (n)")] == "0.5 (n = 2)"
    assert "$\\geq$ 3" in paths["tex"].read_text()
    assert len(header) <= 8


def _zoom_rows():
    return pd.DataFrame({
        "model": ["m"] * 6, "image_id": ["a", "b", "a", "b", "a", "b"],
        "view": ["regular", "regular", "zoomed", "zoomed", "zoomed", "zoomed"],
        "level": ["approximation"] * 4 + ["level_4"] * 2,
        "level_order": [0, 0, 0, 0, 1, 1], "contribution": [0.8, 0.6, 0.5, 0.7, 0.5, 0.3],
        "prediction_changed": [False, False, True, False, True, False]})


def test_zoom_table_is_long_and_narrow_with_known_values(tmp_path):
    zoom = _zoom_rows()
    table = S.zoom_table(zoom)
    assert list(table.columns) == ["model", "level", "nb_images", "regular", "zoomed",
                                   "difference_zoomed", "wilcoxon_p_zoomed", "wilcoxon_n_zoomed"]
    assert table["level"].tolist() == ["approximation", "level_4"]             # coarsest first
    approx = table.iloc[0]
    assert approx["regular"] == "0.700 [0.600, 0.800]" and approx["zoomed"] == "0.600 [0.500, 0.700]"
    # regular - zoomed per image: 0.3 and -0.1; mean 0.1, CI the two values
    assert approx["difference_zoomed"] == "0.100 [-0.100, 0.300]"
    assert approx["wilcoxon_p_zoomed"] == pytest.approx(1.0) and approx["wilcoxon_n_zoomed"] == 2
    assert pd.isna(table.iloc[1]["regular"]) and pd.isna(table.iloc[1]["difference_zoomed"])
    assert "m, zoomed view: 1 of 2 images" in " ".join(table.attrs["notes"])
    paths = S.make_table("zoom", {"zoom": zoom}, tmp_path / "zoom")
    header, rows = _md_rows(paths["md"])
    assert header == ["classifier", "wavelet level", "images (n)", "regular view, mean [95 % CI]",
                      "zoomed view, mean [95 % CI]", "regular − zoomed, mean [95 % CI]",
                      "Wilcoxon p, regular vs zoomed"]
    assert rows[0] == ["m", "approximation", "2", "0.700 [0.600, 0.800]", "0.600 [0.500, 0.700]",
                       "0.100 [-0.100, 0.300]", "1"]
    assert rows[1][:2] == ["m", "detail level 4"]
    assert rows[1][3] == "n/a (no such level in this view)" and rows[1][5] == "n/a (level in one view only)"
    assert "Note: Prediction changed from the regular view: m, zoomed view: 1 of 2 images." in \
        paths["md"].read_text()


def test_zoom_table_per_physical_scale_pairs_level_j_with_the_zoomed_level_j_plus_1():
    # the paper's views: J = 3 at Resize 256, J = 4 at Resize 512; one image
    rows = []
    for view, levels, mapping, values in (
            ("regular", 3, {"approximation": "approximation", "level_3": "level_3",
                            "level_2": "level_2", "level_1": "level_1"}, [0.4, 0.3, 0.2, 0.1]),
            ("zoomed", 4, {"approximation": "approximation", "level_4": "level_3",
                           "level_3": "level_2", "level_2": "level_1"}, [0.1, 0.2, 0.3, 0.4, None])):
        names = ["approximation"] + [f"level_{j}" for j in range(levels, 0, -1)]
        for k, name in enumerate(names):
            rows.append({"model": "a", "image_id": "x", "view": view, "levels": levels, "level": name,
                         "level_order": k, "contribution": 0.2, "scale_level": mapping.get(name, ""),
                         "scale_contribution": np.nan if values[k] is None else values[k]})
    table = S.zoom_table(pd.DataFrame(rows))
    assert table["level"].tolist() == ["approximation", "level_3", "level_2", "level_1"]
    assert table["regular"].tolist() == ["0.400 [0.400, 0.400]", "0.300 [0.300, 0.300]",
                                         "0.200 [0.200, 0.200]", "0.100 [0.100, 0.100]"]
    assert table["zoomed"].tolist() == ["0.100 [0.100, 0.100]", "0.200 [0.200, 0.200]",
                                        "0.300 [0.300, 0.300]", "0.400 [0.400, 0.400]"]
    assert table["difference_zoomed"].tolist() == ["0.300 [0.300, 0.300]", "0.100 [0.100, 0.100]",
                                                   "-0.100 [-0.100, -0.100]", "-0.300 [-0.300, -0.300]"]
    assert "physical scale" in table.attrs["notes"][0]


def test_faithfulness_table_shows_mean_and_ci(tmp_path):
    faith = pd.DataFrame({"model": ["m"] * 4, "image_id": ["a", "a", "b", "b"],
                          "method": ["wcam", "spatial-sobol"] * 2, "mu_fidelity": [0.2, 0.1, 0.4, 0.1],
                          "insertion_auc": [0.5] * 4, "deletion_auc": [0.1] * 4,
                          "mu_fidelity_approximation_kept": [0.5, np.nan, 0.7, np.nan]})
    paths = S.make_table("faithfulness", {"faithfulness": faith}, tmp_path / "faithfulness")
    csv = read_table(paths["csv"])
    assert csv.loc[0, ["mu_fidelity", "mu_fidelity_low", "mu_fidelity_high"]].tolist() == [0.3, 0.2, 0.4]
    assert csv.loc[0, "nb_images"] == 2
    header, rows = _md_rows(paths["md"])
    assert header[3] == "mu-fidelity, mean [95 % CI]"
    assert rows[0][:3] == ["m", "WCAM", "2"] and rows[1][1] == "spatial Sobol'"
    assert rows[1][3] == "0.100 [0.100, 0.100]"
    # a metric the method has no value for: NaN in the CSV, its reason for readers
    assert csv.loc[0, "mu_fidelity_approximation_kept"] == 0.6
    assert np.isnan(csv.loc[1, "mu_fidelity_approximation_kept"])
    assert np.isnan(csv.loc[1, "mu_fidelity_approximation_kept_high"])
    assert rows[1][4] == "n/a (undefined for this method)"


def test_claims_table_reads_as_sentences(tmp_path):
    inputs = synthetic_inputs()
    paths = S.make_table("claims", {k: inputs[k] for k in S.TABLES["claims"].inputs}, tmp_path / "claims")
    header, rows = _md_rows(paths["md"])
    assert header == ["classifier", "claim (image set)", "quantity (statistic over images)", "WCAM",
                      "baseline (its value), role", "margin, estimate [95 % CI]", "p (test, n)",
                      "verdict"]
    csv = read_table(paths["csv"])
    first = csv.iloc[0]
    assert rows[0][1] == "a: few coefficients suffice (clean images)"
    assert rows[0][4] == f"{first['baseline']} ({first['baseline_value']:.3f}), {first['role']}"
    assert rows[0][5] == (f"{first['estimate']:.3f} [{first['estimate_low']:.3f}, "
                          f"{first['estimate_high']:.3f}]")
    assert rows[0][6].endswith(f"(Wilcoxon, n = {first['n']})")
    undefined = S.claims_table(inputs["reconstruction"].iloc[:2], None,
                               inputs["per_image"].iloc[:1], n_resamples=99)
    shown = display_table(undefined, S.TABLES["claims"].format)
    rho = shown[shown["quantity (statistic over images)"].str.startswith("Spearman")].iloc[0]
    assert rho["WCAM"] == "n/a (a correlation needs ≥ 2 images with distinct values)"
    for row, (_, line) in zip(rows, csv.iterrows()):
        assert row[7].startswith(line["verdict"])
        assert ("Holm p" in row[7]) == bool(pd.notna(line["p_holm"]))


def test_methods_and_noise_tables_fit_in_eight_columns(tmp_path):
    inputs = synthetic_inputs()
    paths = S.make_table("wcam_noise", {"wcam_noise": inputs["wcam_noise"]}, tmp_path / "noise")
    header, rows = _md_rows(paths["md"])
    assert rows[0][:4] == ["model-a", "grid 8, 4 designs, J = 3", "3", "0.600 [0.500, 0.700]"]
    paths = S.make_table("methods", {"methods": inputs["methods"]}, tmp_path / "methods")
    header, rows = _md_rows(paths["md"])
    assert rows[1][1] == "WAM (SmoothGrad)" and rows[1][-1] == "3 s; 65 forward, 8 backward"
    assert rows[0][3] == "1.000 [1.000, 1.000]"


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
    if any("[95 % CI]" in h for h in header):
        assert re.search(r"Note: (mean|median|estimate) \[low, high\]", paths["md"].read_text())
    assert not any("±" in h for h in header)                              # every summary is a CI
    assert paths["html"].read_text().count("<table") == 1


def test_synthetic_inputs_are_consistent():
    recon = synthetic_inputs()["reconstruction"]
    assert set(recon["condition"]) == {"clean", "corrupted"}
    assert len(_per_image(recon.assign(robustness=0.5))) == 12


def test_tidy_table_splits_interval_cells_into_three_numbers():
    df = pd.DataFrame({"model": ["a", "b", "c"],
                       "spearman": ["0.645 [0.501, 0.774]", np.nan, "-0.100 [n/a]"],
                       "n": [3, 1, 2], "note": ["x [1, 2]", "plain words", None]})
    df.attrs["notes"] = ["kept"]
    tidy = tidy_table(df)
    assert list(tidy.columns) == ["model", "spearman", "spearman_low", "spearman_high", "n", "note"]
    assert tidy.loc[0, ["spearman", "spearman_low", "spearman_high"]].tolist() == [0.645, 0.501, 0.774]
    assert np.isnan(tidy.loc[1, "spearman"]) and tidy.loc[2, "spearman"] == -0.1
    assert np.isnan(tidy.loc[2, "spearman_low"]) and np.isnan(tidy.loc[2, "spearman_high"])
    assert tidy["note"].tolist()[:2] == ["x [1, 2]", "plain words"]      # not all intervals: words
    assert tidy.attrs["notes"] == ["kept"]
    shown = display_table(tidy)                            # the cell made again, bounds not shown
    assert shown.shape[1] == 4 and not any("low" in h or "high" in h for h in shown.columns)
    assert shown.iloc[0, 1] == "0.645 [0.501, 0.774]" and shown.iloc[2, 1] == "-0.1 [n/a]"
    with pytest.raises(ValueError, match="'spearman'.*spearman_low"):
        tidy_table(df.assign(spearman_low=1.0))


@pytest.mark.parametrize("name", sorted(S.TABLES))
def test_every_registry_table_csv_is_tidy_numbers(name, tmp_path):
    """Every table the workflow writes, built from the synthetic study tables (they cover every
    input of the registry): read back with pandas.read_csv, each column is a label or numeric."""
    inputs = synthetic_inputs()
    paths = S.make_table(name, {k: inputs[k] for k in S.TABLES[name].inputs}, tmp_path / name)
    csv = pd.read_csv(paths["csv"])
    words = [c for c in csv.columns if not pd.api.types.is_numeric_dtype(csv[c])
             and not pd.api.types.is_bool_dtype(csv[c])]
    assert set(words) <= LABEL_COLUMNS, f"{name}.csv: text in statistic columns {sorted(set(words) - LABEL_COLUMNS)}"
    for column in csv.columns:      # x_low <= x_high (a percentile interval may leave out x itself)
        if f"{column}_low" in csv.columns and f"{column}_high" in csv.columns:
            ok = csv[[f"{column}_low", f"{column}_high"]].dropna()
            assert (ok[f"{column}_low"] <= ok[f"{column}_high"]).all(), (name, column)

"""Configuration helpers of the workflow steps (fast; no model, no Snakemake)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from spectral_attribution import pipeline

ROOT = Path(__file__).resolve().parents[1]


def _config(name="tiny.yaml"):
    return yaml.safe_load((ROOT / "config" / name).read_text())


def test_shards_come_from_the_configuration_alone():
    cfg = _config("replication.yaml")
    assert pipeline.n_shards(cfg) == 10 and pipeline.shard_ids(cfg)[-1] == "009"
    cfg["data"]["n_images"] = 101
    assert pipeline.n_shards(cfg) == 11
    assert pipeline.use_gpu(cfg) == 1 and pipeline.use_gpu(_config()) == 0


def test_model_entries_and_nicknames():
    cfg = _config("replication.yaml")
    assert pipeline.nicknames(cfg)[:2] == ["baseline", "augmix"]
    assert pipeline.model_entry(cfg, "adv")["name"] == "robustbench:Linf:Salman2020Do_R50"
    with pytest.raises(KeyError, match="configured"):
        pipeline.model_entry(cfg, "nope")
    cfg["models"].append(dict(cfg["models"][0]))
    with pytest.raises(ValueError, match="baseline"):
        pipeline.model_entries(cfg)


def test_step_config_holds_only_what_a_step_reads():
    cfg = _config()
    step = pipeline.step_config(cfg, ["wcam"], model="efficientnet-lite0")
    assert set(step) == {"seed", "device", "threads", "model_dir", "wcam", "models"}
    assert [m["nickname"] for m in step["models"]] == ["efficientnet-lite0"]


def test_data_source_config_keeps_the_keys_of_its_source():
    cfg = _config("replication.yaml")
    src = pipeline.data_source_config(cfg)
    assert src["source"] == "imagenet" and src["root"] == "data/imagenet" and src["seed"] == 0
    assert "cache_dir" not in src
    emb = pipeline.data_source_config({"seed": 3, "data": {"source": "embedded", "n_images": 2,
                                                           "root": None, "download": False}})
    assert emb == {"source": "embedded", "n_images": 2, "seed": 3}


def test_shard_rows_names_the_key_when_a_shard_is_empty():
    import pandas as pd

    df = pd.DataFrame({"image_id": list("abc")})
    assert list(pipeline.shard_rows(df, "001", 2)["image_id"]) == ["c"]
    with pytest.raises(IndexError, match="data.n_images"):
        pipeline.shard_rows(df, 2, 2)


def test_table_and_figure_names_are_those_of_the_registries():
    from spectral_attribution import plots, studies

    assert pipeline.TABLES == tuple(studies.TABLES)
    assert pipeline.FIGURES == tuple(plots.FIGURES)
    cfg = _config("tiny.yaml")
    assert pipeline.figure_options(cfg, "wcam_gallery")["nb_images"] == cfg["figures"]["gallery_images"]
    assert "nb_images" not in pipeline.figure_options(cfg, "zoom")
    with pytest.raises(ValueError, match="unknown table 'nope'"):
        studies.build_table("nope", {})
    with pytest.raises(ValueError, match="unknown figure 'nope'"):
        plots.draw_figure("nope", {})
    with pytest.raises(KeyError, match="per_corruption"):
        studies.build_table("robustness", {"per_image": "x.csv"})


def test_method_entries_normalise_the_methods_list():
    cfg = _config("config.yaml")
    entries = pipeline.method_entries(cfg)
    assert [e["label"] for e in entries] == ["wcam", "wam-smoothgrad", "wam-integratedgrad"]
    assert entries[1]["options"] == {"nb_samples": 16, "noise_level": 0.25}
    assert pipeline.wam_variants(cfg) == ["smoothgrad", "integratedgrad"]
    # the WCAM is the reference, listed or not; "wam" alone is the default variant
    assert pipeline.method_entries({"methods": ["wam"]})[1] == {
        "label": "wam-smoothgrad", "method": "wam", "variant": "smoothgrad", "options": {}}
    assert pipeline.wam_variants({}) == [] and pipeline.wam_variants({"methods": ["wcam"]}) == []


@pytest.mark.parametrize("methods, message", [
    (["wcam", {"method": "gradcam"}], r"methods\[1\].*unknown method 'gradcam'"),
    ([{"method": "wam", "variant": "saliency"}], r"methods\[0\].*unknown WAM variant 'saliency'"),
    ([{"method": "wam", "nb_sample": 3}], r"unknown WAM option\(s\) \['nb_sample'\]"),
    ([{"method": "wcam", "nb_steps": 3}], r"WCAM takes its settings from 'wcam'"),
    (["wam", {"method": "wam", "variant": "smoothgrad"}], r"methods\[1\].*'smoothgrad' is listed twice"),
    ([{"method": "wam", "variant": "integratedgrad", "nb_steps": 1}], r"nb_steps must be >= 2"),
])
def test_method_entries_name_the_bad_entry(methods, message):
    with pytest.raises(ValueError, match=message):
        pipeline.method_entries({"methods": methods})


def test_select_config_keeps_only_the_given_paths():
    cfg = _config()
    step = pipeline.select_config(cfg, ["wcam.grid_size", "wcam.levels", "faithfulness"],
                                  model="efficientnet-lite0")
    assert step["wcam"] == {"grid_size": 4, "levels": 3}
    assert step["faithfulness"] == cfg["faithfulness"]
    assert set(step) == {"seed", "device", "threads", "model_dir", "wcam", "faithfulness", "models"}
    with pytest.raises(KeyError, match="'wcam.grid_sise'"):
        pipeline.select_config(cfg, ["wcam.grid_sise"])

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


def test_schema_target_policy_and_corruption_sets():
    validate = pytest.importorskip("snakemake.utils").validate
    schema = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")
    for name in ("config.yaml", "tiny.yaml", "replication.yaml"):
        cfg = _config(name)
        validate(cfg, schema)
        assert pipeline.target_policy(cfg) == "prediction"
    cfg = _config()
    cfg["corruptions"]["names"] = "all-19"
    cfg["target_policy"] = "label"
    validate(cfg, schema)
    assert pipeline.target_policy(cfg) == "label"
    for key, value in (("names", "all-20"), ("names", ["fog", "haze"])):
        bad = _config()
        bad["corruptions"][key] = value
        with pytest.raises(Exception, match="Error validating"):
            validate(bad, schema)
    # the old key is refused with a message that names its replacement
    old = _config()
    old["wcam"]["target"] = "label"
    with pytest.raises(Exception, match="target_policy"):
        validate(old, schema)
    with pytest.raises(ValueError, match="'wcam.target' was replaced by the top-level key 'target_policy'"):
        pipeline.target_policy(old)
    with pytest.raises(ValueError, match="'predicted' is now spelled 'prediction'"):
        pipeline.target_policy({"target_policy": "predicted"})

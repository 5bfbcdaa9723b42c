"""Configuration helpers of the workflow steps (fast; no model, no Snakemake)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from spectral_attribution import pipeline

ROOT = Path(__file__).resolve().parents[2]


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


def test_params_hold_only_what_a_step_reads():
    cfg = _config()
    assert pipeline.model_params(cfg, "efficientnet-lite0") == {"name": "efficientnet-lite0",
                                                                "options": {}}
    assert pipeline.explainer_params(cfg, "wcam") == {
        "method": "wcam", "grid_size": 4, "nb_design": 2, "levels": 3, "wavelet": "haar",
        "estimator": "jansen", "batch_size": 36, "screening": 0.01, "precision": "float32",
        "backend": "auto"}
    # spatial and zoom: their own grid and designs, the wcam's estimator and precision
    assert pipeline.explainer_params(cfg, "spatial") == {
        "method": "spatial-sobol", "grid_size": 4, "nb_design": 2, "estimator": "jansen",
        "batch_size": 36, "screening": 0.01, "precision": "float32", "backend": "auto"}
    cfg["zoom"]["grid_size"] = None
    cfg["wcam"]["grid_size"] = 6
    assert pipeline.explainer_params(cfg, "zoom")["grid_size"] == 6  # null: the WCAM's
    assert pipeline.explainer_params(cfg, "spatial")["grid_size"] == 4
    assert pipeline.faithfulness_params(cfg) == {"nb_subsets": 8, "subset_fraction": 0.25,
                                                 "steps": 4, "score": "probability"}
    assert pipeline.reconstruction_params(cfg) == {"nb_random_draws": 2, "max_k": None}
    assert pipeline.corruption_params(cfg) == {"names": ["gaussian_noise", "contrast"],
                                               "severities": [1, 5]}
    assert pipeline.selection_params(cfg) == {"per_image": 1, "severities": None,
                                              "prefer_changed": True,
                                              "reference_model": "efficientnet-lite0"}
    assert pipeline.zoom_views(cfg) == {"regular": [256, 224, 4], "zoomed": [512, 224, 4]}
    with pytest.raises(ValueError, match="unknown explainer kind 'fourier'"):
        pipeline.explainer_params(cfg, "fourier")


def test_params_do_not_depend_on_the_order_of_the_configuration_s_keys():
    """Snakemake compares params by repr: a reordered (or sorted) configuration file must not
    look changed."""
    cfg = _config()
    reordered = yaml.safe_load(yaml.safe_dump(cfg, sort_keys=True))
    reordered["data"] = dict(reversed(list(reordered["data"].items())))
    reordered["zoom"]["views"] = dict(reversed(list(reordered["zoom"]["views"].items())))
    for make in (pipeline.source_params, lambda c: pipeline.explainer_params(c, "zoom"),
                 pipeline.zoom_views, pipeline.faithfulness_params,
                 lambda c: pipeline.model_params(c, "efficientnet-lite0")):
        assert repr(make(reordered)) == repr(make(cfg))
    assert list(pipeline.source_params(cfg)) == sorted(pipeline.source_params(cfg))


def test_model_dir_goes_only_to_the_loaders_that_read_it():
    cfg = _config("replication.yaml")
    assert pipeline.model_params(cfg, "adv") == {"name": "robustbench:Linf:Salman2020Do_R50",
                                                 "options": {"model_dir": "models"}}
    assert pipeline.model_params(cfg, "vit") == {"name": "vit_b_16", "options": {}}


def test_figure_params_are_the_options_each_maker_reads():
    from spectral_attribution import plots

    cfg = _config()
    for name in pipeline.FIGURES:
        assert pipeline.FIGURE_OPTIONS[name] == plots.FIGURES[name].options
        assert set(pipeline.figure_params(cfg, name)) == set(plots.FIGURES[name].options)
    assert pipeline.figure_params(cfg, "wcam_gallery") == {
        "results_dir": "results", "models": ["efficientnet-lite0"], "nb_images": 1}
    assert pipeline.figure_params(cfg, "robustness") == {}
    with pytest.raises(ValueError, match="unknown figure 'nope'"):
        pipeline.figure_params(cfg, "nope")


def test_source_params_keep_the_keys_of_its_source():
    cfg = _config("replication.yaml")
    src = pipeline.source_params(cfg)
    assert src["source"] == "imagenet" and src["root"] == "data/imagenet" and src["seed"] == 0
    assert "cache_dir" not in src
    emb = pipeline.source_params({"seed": 3, "data": {"source": "embedded", "n_images": 2,
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



# Helpers shared by the rules: everything is derived from the configuration
# alone, so that the DAG (e.g. `snakemake -n`) is built without any data.

import re

from spectral_attribution import pipeline

MODELS = pipeline.nicknames(config)
FIRST_MODEL = MODELS[0]
SHARDS = pipeline.shard_ids(config)
GPU = pipeline.use_gpu(config)
THREADS = int(config["threads"])
EXPLAIN_CORRUPTED = int(config["corruptions"]["explain"]["per_image"]) > 0
RECONSTRUCT_CORRUPTED = EXPLAIN_CORRUPTED and config["reconstruction"]["corrupted"]
ZOOM = config["zoom"]["enabled"]
FAITHFULNESS = config["faithfulness"]["enabled"]
NOISE = int(config["baselines"]["noise_images"]) > 0


wildcard_constraints:
    model="|".join(re.escape(m) for m in MODELS),
    shard=r"\d{3}",
    variant="clean|corrupted|spatial",


def shard_files(pattern, models=None, **kw):
    """`pattern` expanded over models and shards."""
    return expand(pattern, model=models or MODELS, shard=SHARDS, **kw)


def reconstruction_variants():
    return ["clean", "corrupted"] if RECONSTRUCT_CORRUPTED else ["clean"]


def table_names():
    names = ["robustness", "reconstruction"]
    if ZOOM:
        names.append("zoom")
    if FAITHFULNESS:
        names.append("faithfulness")
    names += ["claims", "depth_robustness"]
    if NOISE:
        names.append("wcam_noise")
    return names


def figure_names():
    names = ["robustness", "wcam_gallery", "reconstructions", "depth_vs_robustness", "depth_orders"]
    if ZOOM:
        names.append("zoom")
    if FAITHFULNESS:
        names.append("faithfulness")
    names.append("claims")
    return names


def all_outputs():
    """Every table and figure of the configured studies."""
    return (
        expand("results/tables/{table}.{ext}", table=table_names(), ext=["csv", "md", "tex"])
        + expand("figures/{figure}.{ext}", figure=figure_names(), ext=["pdf", "png"])
    )


def wcam_inputs(wildcards):
    """Inputs of a WCAM shard: the sample, the model check, and for corrupted
    copies the selection made on the first model's corruption baseline."""
    inputs = {
        "samples": "results/data/samples.csv",
        "model": f"results/models/{wildcards.model}.json",
    }
    if wildcards.variant == "corrupted":
        inputs["selection"] = "results/studies/corrupted_selection.csv"
    return inputs


def gallery_inputs(wildcards):
    inputs = {
        "samples": "results/data/samples.csv",
        "models": expand("results/models/{model}.json", model=MODELS),
        "clean": shard_files("results/wcam/{model}/clean/shard-{shard}.csv"),
    }
    if EXPLAIN_CORRUPTED:
        inputs["corrupted"] = shard_files("results/wcam/{model}/corrupted/shard-{shard}.csv")
    return inputs


def claims_inputs(wildcards):
    """Study tables of the claims table; zoom and faithfulness only when enabled."""
    inputs = {
        "reconstruction": "results/studies/reconstruction.csv",
        "depth_baselines": "results/studies/depth_baselines.csv",
        "per_image": "results/studies/robustness_per_image.csv",
    }
    if ZOOM:
        inputs["zoom"] = "results/studies/zoom.csv"
    if FAITHFULNESS:
        inputs["faithfulness"] = "results/studies/faithfulness.csv"
    return inputs

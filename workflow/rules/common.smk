# Helpers shared by the rules: everything is derived from the configuration
# alone, so that the DAG (e.g. `snakemake -n`) is built without any data.
#
# Parameters: each rule's `params` hold exactly the values its job reads
# (Snakemake reruns a job whose params changed), cut out of the configuration
# by spectral_attribution.pipeline.params; the helpers below bind them to the
# wildcards of a job. Names of variants, tables and figures come from
# spectral_attribution.catalog; which of them a configuration makes, from
# spectral_attribution.pipeline.config. The job of each rule file
# workflow/rules/<name>.smk is in spectral_attribution/pipeline/steps/<name>.py.

import re

from spectral_attribution import catalog, pipeline

MODELS = pipeline.nicknames(config)
FIRST_MODEL = MODELS[0]
SHARDS = pipeline.shard_ids(config)
GPU = pipeline.use_gpu(config)
THREADS = int(config["threads"])
EXPLAIN_CORRUPTED = int(config["corruptions"]["explain"]["per_image"]) > 0
ZOOM = config["zoom"]["enabled"]
FAITHFULNESS = config["faithfulness"]["enabled"]
NOISE = int(config["baselines"]["noise_images"]) > 0
WAM_VARIANTS = pipeline.wam_variants(config)


wildcard_constraints:
    model="|".join(re.escape(m) for m in MODELS),
    shard=r"\d{3}",
    variant="|".join(catalog.EXPLAINED_VARIANTS),
    wam="|".join(catalog.WAM_VARIANTS),


# --- parameters ----------------------------------------------------------
def model_params(wildcards):
    """How the job loads its model: registry name and load_model options."""
    return pipeline.model_params(config, wildcards.model)


def explainer_params(kind):
    """The explainer settings of `kind` ("wcam", "spatial", "zoom"), resolved."""
    return pipeline.explainer_params(config, kind)


def figure_params(name):
    """The options figure `name` reads (results folder, models, number of images)."""
    return pipeline.figure_params(config, name)


# --- inputs and targets --------------------------------------------------
def shard_files(pattern, models=None, **kw):
    """`pattern` expanded over models and shards."""
    return expand(pattern, model=models or MODELS, shard=SHARDS, **kw)


def reconstruction_variants():
    """The WCAM variants the reconstruction study scores (clean, and corrupted when on)."""
    return pipeline.reconstruction_variants(config)


def all_outputs():
    """Every table and figure of the configured studies."""
    return expand(
        "results/tables/{table}.{ext}",
        table=pipeline.table_names(config),
        ext=catalog.TABLE_FORMATS,
    ) + expand(
        "figures/{figure}.{ext}",
        figure=pipeline.figure_names(config),
        ext=catalog.FIGURE_FORMATS,
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
        inputs["corrupted"] = shard_files(
            "results/wcam/{model}/corrupted/shard-{shard}.csv"
        )
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
    if NOISE:  # the seed-to-seed noise of the approximation share (a note of claim c)
        inputs["wcam_noise"] = "results/studies/wcam_noise.csv"
    return inputs


def wam_params(wildcards):
    """What a WAM shard reads: the WCAM's grid, levels and wavelet, and this
    variant's entry of `methods` only (adding another variant does not rerun this one).
    """
    return pipeline.wam_params(config, wildcards.wam)


def methods_inputs(wildcards):
    """The clean WCAM shard and the WAM shards (one per variant) of one shard."""
    inputs = {
        "samples": "results/data/samples.csv",
        "model": f"results/models/{wildcards.model}.json",
        "wcam": f"results/wcam/{wildcards.model}/clean/shard-{wildcards.shard}.npz",
        "wcam_manifest": f"results/wcam/{wildcards.model}/clean/shard-{wildcards.shard}.csv",
    }
    for variant in WAM_VARIANTS:
        inputs[f"wam_{variant}"] = (
            f"results/wam/{wildcards.model}/{variant}/shard-{wildcards.shard}.npz"
        )
        inputs[f"wam_{variant}_manifest"] = (
            f"results/wam/{wildcards.model}/{variant}/shard-{wildcards.shard}.csv"
        )
    return inputs

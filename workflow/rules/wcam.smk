# Explanations by model and shard of `wcam.shard_size` images: WCAMs of the
# clean images and of the selected corrupted copies (rule wcam), spatial
# Sobol' maps for the faithfulness study (rule spatial_sobol, folder of its
# own). Outputs are written atomically (arrays first, manifest last), so a
# killed run resumes without recomputing finished shards. Params: the
# explainer of the variant, the shard selection, the seed and the device; no
# study or figure setting.


rule wcam:
    input:
        unpack(wcam_inputs),
    output:
        npz="results/wcam/{model}/{variant}/shard-{shard}.npz",
        manifest="results/wcam/{model}/{variant}/shard-{shard}.csv",
    log:
        "logs/wcam/{model}/{variant}/shard-{shard}.log",
    benchmark:
        "results/benchmarks/wcam/{model}/{variant}/shard-{shard}.tsv"
    conda:
        "../envs/spectral-attribution.yaml"
    threads: THREADS
    resources:
        gpu=GPU,
    params:
        model=model_params,
        explainer=explainer_params("wcam"),
        shard_size=lookup(dpath="wcam/shard_size", within=config),
        target_policy=pipeline.target_policy(config),
        seed=lookup(dpath="seed", within=config),
        device=lookup(dpath="device", within=config),
    script:
        "../scripts/wcam_shard.py"


rule spatial_sobol:
    input:
        samples="results/data/samples.csv",
        model="results/models/{model}.json",
    output:
        npz="results/spatial/{model}/shard-{shard}.npz",
        manifest="results/spatial/{model}/shard-{shard}.csv",
    log:
        "logs/spatial_sobol/{model}/shard-{shard}.log",
    benchmark:
        "results/benchmarks/spatial_sobol/{model}/shard-{shard}.tsv"
    conda:
        "../envs/spectral-attribution.yaml"
    threads: THREADS
    resources:
        gpu=GPU,
    params:
        model=model_params,
        explainer=explainer_params("spatial"),
        shard_size=lookup(dpath="wcam/shard_size", within=config),
        target_policy=pipeline.target_policy(config),
        seed=lookup(dpath="seed", within=config),
        device=lookup(dpath="device", within=config),
    script:
        "../scripts/spatial_shard.py"

# Sufficient reconstruction: reconstruction depth of each WCAM shard (clean
# images, and the explained corrupted copies), WCAM order vs random orders.


rule reconstruction:
    input:
        samples="results/data/samples.csv",
        model="results/models/{model}.json",
        npz="results/wcam/{model}/{variant}/shard-{shard}.npz",
        manifest="results/wcam/{model}/{variant}/shard-{shard}.csv",
    output:
        "results/studies/reconstruction/{model}/{variant}/shard-{shard}.csv",
    log:
        "logs/reconstruction/{model}/{variant}/shard-{shard}.log",
    benchmark:
        "results/benchmarks/reconstruction/{model}/{variant}/shard-{shard}.tsv"
    conda:
        "../envs/spectral-attribution.yaml"
    threads: THREADS
    resources:
        gpu=GPU,
    params:
        model=model_params,
        reconstruction=pipeline.reconstruction_params(config),
        batch_size=lookup(dpath="wcam/batch_size", within=config),
        seed=lookup(dpath="seed", within=config),
        device=lookup(dpath="device", within=config),
        forward=pipeline.study_forward_params(config),
    script:
        "../scripts/reconstruction.py"


rule reconstruction_merge:
    input:
        expand(
            "results/studies/reconstruction/{model}/{variant}/shard-{shard}.csv",
            model=MODELS,
            variant=reconstruction_variants(),
            shard=SHARDS,
        ),
    output:
        "results/studies/reconstruction.csv",
    log:
        "logs/reconstruction/merge.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/concat_tables.py"

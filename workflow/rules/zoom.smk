# Zoom: level contributions of the WCAM in the regular and the zoomed view,
# by model and shard.


rule zoom:
    input:
        samples="results/data/samples.csv",
        model="results/models/{model}.json",
    output:
        "results/studies/zoom/{model}/shard-{shard}.csv",
    log:
        "logs/zoom/{model}/shard-{shard}.log",
    benchmark:
        "results/benchmarks/zoom/{model}/shard-{shard}.tsv"
    conda:
        "../envs/spectral-attribution.yaml"
    threads: THREADS
    resources:
        gpu=GPU,
    params:
        model=model_params,
        explainer=explainer_params("zoom"),
        views=pipeline.zoom_views(config),
        shard_size=lookup(dpath="wcam/shard_size", within=config),
        seed=lookup(dpath="seed", within=config),
        device=lookup(dpath="device", within=config),
        target_policy=pipeline.target_policy(config),
        allow_straddling=bool(config["zoom"].get("allow_straddling", False)),
    script:
        "../scripts/zoom.py"


rule zoom_merge:
    input:
        shard_files("results/studies/zoom/{model}/shard-{shard}.csv"),
    output:
        "results/studies/zoom.csv",
    log:
        "logs/zoom/merge.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/concat_tables.py"

# Zoom: level contributions of the WCAM in the regular and the zoomed view,
# by model and shard.


rule zoom:
    input:
        samples="results/data/samples.csv",
        model="results/models/{model}.json",
    output:
        "results/studies/zoom/{model}/shard-{shard}.csv",
    params:
        config=lambda wc: pipeline.step_config(
            config, ["data", "wcam", "zoom", "target_policy"], model=wc.model
        ),
    threads: THREADS
    resources:
        gpu=GPU,
    log:
        "logs/zoom/{model}/shard-{shard}.log",
    benchmark:
        "results/benchmarks/zoom/{model}/shard-{shard}.tsv"
    conda:
        "../envs/spectral-attribution.yaml"
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

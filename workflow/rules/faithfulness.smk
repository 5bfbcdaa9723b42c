# Faithfulness: mu-fidelity, insertion and deletion of the WCAM and of the
# spatial Sobol' map, by model and shard.


rule faithfulness:
    input:
        samples="results/data/samples.csv",
        model="results/models/{model}.json",
        wcam="results/wcam/{model}/clean/shard-{shard}.npz",
        wcam_manifest="results/wcam/{model}/clean/shard-{shard}.csv",
        spatial="results/wcam/{model}/spatial/shard-{shard}.npz",
        spatial_manifest="results/wcam/{model}/spatial/shard-{shard}.csv",
    output:
        "results/studies/faithfulness/{model}/shard-{shard}.csv",
    params:
        config=lambda wc: pipeline.step_config(
            config, ["data", "wcam", "faithfulness"], model=wc.model
        ),
    threads: THREADS
    resources:
        gpu=GPU,
    log:
        "logs/faithfulness/{model}/shard-{shard}.log",
    benchmark:
        "results/benchmarks/faithfulness/{model}/shard-{shard}.tsv"
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/faithfulness.py"


rule faithfulness_merge:
    input:
        shard_files("results/studies/faithfulness/{model}/shard-{shard}.csv"),
    output:
        "results/studies/faithfulness.csv",
    log:
        "logs/faithfulness/merge.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/concat_tables.py"

# Faithfulness: mu-fidelity, insertion and deletion of the WCAM and of the
# spatial Sobol' map, by model and shard.


rule faithfulness:
    input:
        samples="results/data/samples.csv",
        model="results/models/{model}.json",
        wcam="results/wcam/{model}/clean/shard-{shard}.npz",
        wcam_manifest="results/wcam/{model}/clean/shard-{shard}.csv",
        spatial="results/spatial/{model}/shard-{shard}.npz",
        spatial_manifest="results/spatial/{model}/shard-{shard}.csv",
    output:
        "results/studies/faithfulness/{model}/shard-{shard}.csv",
    log:
        "logs/faithfulness/{model}/shard-{shard}.log",
    benchmark:
        "results/benchmarks/faithfulness/{model}/shard-{shard}.tsv"
    conda:
        "../envs/spectral-attribution.yaml"
    threads: THREADS
    resources:
        gpu=GPU,
    params:
        model=model_params,
        faithfulness=pipeline.faithfulness_params(config),
        batch_size=lookup(dpath="wcam/batch_size", within=config),
        seed=lookup(dpath="seed", within=config),
        device=lookup(dpath="device", within=config),
        forward=pipeline.study_forward_params(config),
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

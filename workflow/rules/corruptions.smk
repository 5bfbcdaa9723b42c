# Corruption baseline: predictions on the ImageNet-C corruptions of every
# image (by model and shard), the robustness tables, and the choice of the
# corrupted copies that get a WCAM (made on the first model's baseline).


rule corruption_baseline:
    input:
        samples="results/data/samples.csv",
        model="results/models/{model}.json",
    output:
        "results/studies/corruption_baseline/{model}/shard-{shard}.csv",
    log:
        "logs/corruption_baseline/{model}/shard-{shard}.log",
    benchmark:
        "results/benchmarks/corruption_baseline/{model}/shard-{shard}.tsv"
    conda:
        "../envs/spectral-attribution.yaml"
    threads: THREADS
    resources:
        gpu=GPU,
    params:
        model=model_params,
        corruptions=pipeline.corruption_params(config),
        shard_size=lookup(dpath="wcam/shard_size", within=config),
        batch_size=lookup(dpath="wcam/batch_size", within=config),
        seed=lookup(dpath="seed", within=config),
        device=lookup(dpath="device", within=config),
        forward=pipeline.study_forward_params(config),
    script:
        "../scripts/corruption_baseline.py"


rule corruption_baseline_merge:
    input:
        shard_files("results/studies/corruption_baseline/{model}/shard-{shard}.csv"),
    output:
        "results/studies/corruption_baseline.csv",
    log:
        "logs/corruption_baseline/merge.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/concat_tables.py"


rule robustness:
    input:
        "results/studies/corruption_baseline.csv",
    output:
        per_image="results/studies/robustness_per_image.csv",
        per_corruption="results/studies/robustness_per_corruption.csv",
    log:
        "logs/robustness.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/robustness.py"


rule select_corrupted:
    input:
        shard_files(
            "results/studies/corruption_baseline/{model}/shard-{shard}.csv",
            models=[FIRST_MODEL],
        ),
    output:
        "results/studies/corrupted_selection.csv",
    log:
        "logs/select_corrupted.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        selection=pipeline.selection_params(config),
        seed=lookup(dpath="seed", within=config),
    script:
        "../scripts/select_corrupted.py"

# Methods comparison: WAM maps (gradients with respect to the wavelet
# coefficients, Kasmi et al. 2025) of every configured WAM variant, in their
# own folder results/wam/{model}/{wam}/, and their comparison with the clean
# WCAMs of the same shard (rank agreement, level shares, faithfulness, cost).
# Each rule's params hold only the settings it reads.


rule wam:
    input:
        samples="results/data/samples.csv",
        model="results/models/{model}.json",
    output:
        npz="results/wam/{model}/{wam}/shard-{shard}.npz",
        manifest="results/wam/{model}/{wam}/shard-{shard}.csv",
    log:
        "logs/wam/{model}/{wam}/shard-{shard}.log",
    benchmark:
        "results/benchmarks/wam/{model}/{wam}/shard-{shard}.tsv"
    conda:
        "../envs/spectral-attribution.yaml"
    threads: THREADS
    resources:
        gpu=GPU,
    params:
        model=model_params,
        wam=wam_params,
        shard_size=lookup(dpath="wcam/shard_size", within=config),
        target_policy=pipeline.target_policy(config),
        seed=lookup(dpath="seed", within=config),
        device=lookup(dpath="device", within=config),
    script:
        "../scripts/wam_shard.py"


rule methods:
    input:
        unpack(methods_inputs),
    output:
        "results/studies/methods/{model}/shard-{shard}.csv",
    log:
        "logs/methods/{model}/shard-{shard}.log",
    benchmark:
        "results/benchmarks/methods/{model}/shard-{shard}.tsv"
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
        "../scripts/methods.py"


rule methods_merge:
    input:
        shard_files("results/studies/methods/{model}/shard-{shard}.csv"),
    output:
        "results/studies/methods.csv",
    log:
        "logs/methods/merge.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/concat_tables.py"

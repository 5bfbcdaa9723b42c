# Model-free baselines of the claims table: reconstruction depth of each WCAM
# shard with the coarse-to-fine and within-level orders (and the WCAM order,
# approximation first), and the WCAM's seed-to-seed estimation noise on the
# first shard of each model.


rule depth_baselines:
    input:
        samples="results/data/samples.csv",
        model="results/models/{model}.json",
        npz="results/wcam/{model}/{variant}/shard-{shard}.npz",
        manifest="results/wcam/{model}/{variant}/shard-{shard}.csv",
    output:
        "results/studies/depth_baselines/{model}/{variant}/shard-{shard}.csv",
    log:
        "logs/depth_baselines/{model}/{variant}/shard-{shard}.log",
    benchmark:
        "results/benchmarks/depth_baselines/{model}/{variant}/shard-{shard}.tsv"
    conda:
        "../envs/spectral-attribution.yaml"
    threads: THREADS
    resources:
        gpu=GPU,
    params:
        model=model_params,
        reconstruction=pipeline.reconstruction_params(config),
        nb_draws=lookup(dpath="baselines/nb_draws", within=config),
        batch_size=lookup(dpath="wcam/batch_size", within=config),
        seed=lookup(dpath="seed", within=config),
        device=lookup(dpath="device", within=config),
        forward=pipeline.study_forward_params(config),
    script:
        "../scripts/depth_baselines.py"


rule depth_baselines_merge:
    input:
        expand(
            "results/studies/depth_baselines/{model}/{variant}/shard-{shard}.csv",
            model=MODELS,
            variant=reconstruction_variants(),
            shard=SHARDS,
        ),
    output:
        "results/studies/depth_baselines.csv",
    log:
        "logs/depth_baselines/merge.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/concat_tables.py"


rule wcam_noise:
    input:
        samples="results/data/samples.csv",
        models=expand("results/models/{model}.json", model=MODELS),
        npz=expand(
            "results/wcam/{model}/clean/shard-{shard}.npz",
            model=MODELS,
            shard=SHARDS[:1],
        ),
        manifest=expand(
            "results/wcam/{model}/clean/shard-{shard}.csv",
            model=MODELS,
            shard=SHARDS[:1],
        ),
    output:
        "results/studies/wcam_noise.csv",
    log:
        "logs/wcam_noise.log",
    benchmark:
        "results/benchmarks/wcam_noise.tsv"
    conda:
        "../envs/spectral-attribution.yaml"
    threads: THREADS
    resources:
        gpu=GPU,
    params:
        models={m: pipeline.model_params(config, m) for m in MODELS},
        noise_images=lookup(dpath="baselines/noise_images", within=config),
        batch_size=lookup(dpath="wcam/batch_size", within=config),
        device=lookup(dpath="device", within=config),
    script:
        "../scripts/wcam_noise.py"

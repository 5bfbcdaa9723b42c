# Explanations by model, variant and shard of `wcam.shard_size` images:
# clean WCAMs, WCAMs of the selected corrupted copies, spatial Sobol' maps
# (for faithfulness). Outputs are written atomically (arrays first, manifest
# last), so a killed run resumes without recomputing finished shards.


rule wcam:
    input:
        unpack(wcam_inputs),
    output:
        npz="results/wcam/{model}/{variant}/shard-{shard}.npz",
        manifest="results/wcam/{model}/{variant}/shard-{shard}.csv",
    params:
        config=lambda wc: pipeline.step_config(
            config,
            ["data", "wcam", "corruptions", "faithfulness", "target_policy"],
            model=wc.model,
        ),
    threads: THREADS
    resources:
        gpu=GPU,
    log:
        "logs/wcam/{model}/{variant}/shard-{shard}.log",
    benchmark:
        "results/benchmarks/wcam/{model}/{variant}/shard-{shard}.tsv"
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/wcam_shard.py"

# Make each configured model available: load it once, record its registry
# name, weights SHA-256 and preprocessing. A missing checkpoint fails here
# with the path where it is expected.


rule model:
    output:
        "results/models/{model}.json",
    params:
        config=lambda wc: pipeline.step_config(config, [], model=wc.model),
    log:
        "logs/models/{model}.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/model.py"

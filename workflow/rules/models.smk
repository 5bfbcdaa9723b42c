# Make each configured model available: load it once (on the CPU), record its
# registry name, weights SHA-256 and preprocessing. A missing checkpoint fails
# here with the path where it is expected.


rule model:
    output:
        "results/models/{model}.json",
    log:
        "logs/models/{model}.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        model=model_params,
    script:
        "../scripts/model.py"

# Images: resolve the configured source (embedded photographs, a folder of
# labelled images, or the ImageNet validation set: download, verify, extract)
# and draw the seeded sample every other rule reads.


rule samples:
    output:
        "results/data/samples.csv",
    params:
        config=pipeline.step_config(config, ["data"]),
    log:
        "logs/data/samples.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/samples.py"

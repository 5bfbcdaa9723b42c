# Images: resolve the configured source (embedded photographs, a folder of
# labelled images, or the ImageNet validation set: download, verify, extract)
# and draw the seeded sample every other rule reads.


rule samples:
    output:
        "results/data/samples.csv",
    log:
        "logs/data/samples.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        source=pipeline.source_params(config),
        cache_dir=lookup(dpath="data/cache_dir", within=config),
    script:
        "../scripts/samples.py"

# One rule per figure: figures/<name>.pdf (vector) and .png, drawn from the
# study tables (and, for the gallery and the reconstructions, from the WCAM
# shards); no model is loaded. `snakemake figures/<name>.pdf` rebuilds one.
# Params: the figure's name and the options its maker reads (no file-name parsing).


rule figure_robustness:
    input:
        per_corruption="results/studies/robustness_per_corruption.csv",
    output:
        pdf="figures/robustness.pdf",
        png=report(
            "figures/robustness.png",
            caption="../report/robustness.rst",
            category="Corruption baseline",
        ),
    log:
        "logs/figures/robustness.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        name="robustness",
        options=figure_params("robustness"),
    script:
        "../scripts/figure.py"


rule figure_wcam_gallery:
    input:
        unpack(gallery_inputs),
    output:
        pdf="figures/wcam_gallery.pdf",
        png=report(
            "figures/wcam_gallery.png",
            caption="../report/wcam_gallery.rst",
            category="Corruption baseline",
        ),
    log:
        "logs/figures/wcam_gallery.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        name="wcam_gallery",
        options=figure_params("wcam_gallery"),
    script:
        "../scripts/figure.py"


rule figure_reconstructions:
    input:
        samples="results/data/samples.csv",
        models=expand("results/models/{model}.json", model=MODELS),
        clean=shard_files(
            "results/wcam/{model}/clean/shard-{shard}.csv", models=[FIRST_MODEL]
        ),
        reconstruction="results/studies/reconstruction.csv",
    output:
        pdf="figures/reconstructions.pdf",
        png=report(
            "figures/reconstructions.png",
            caption="../report/reconstructions.rst",
            category="Sufficient reconstruction",
        ),
    log:
        "logs/figures/reconstructions.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        name="reconstructions",
        options=figure_params("reconstructions"),
    script:
        "../scripts/figure.py"


rule figure_depth_vs_robustness:
    input:
        reconstruction="results/studies/reconstruction.csv",
        per_image="results/studies/robustness_per_image.csv",
    output:
        pdf="figures/depth_vs_robustness.pdf",
        png=report(
            "figures/depth_vs_robustness.png",
            caption="../report/depth_vs_robustness.rst",
            category="Sufficient reconstruction",
        ),
    log:
        "logs/figures/depth_vs_robustness.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        name="depth_vs_robustness",
        options=figure_params("depth_vs_robustness"),
    script:
        "../scripts/figure.py"


rule figure_depth_orders:
    input:
        reconstruction="results/studies/reconstruction.csv",
    output:
        pdf="figures/depth_orders.pdf",
        png=report(
            "figures/depth_orders.png",
            caption="../report/depth_orders.rst",
            category="Sufficient reconstruction",
        ),
    log:
        "logs/figures/depth_orders.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        name="depth_orders",
        options=figure_params("depth_orders"),
    script:
        "../scripts/figure.py"


rule figure_zoom:
    input:
        zoom="results/studies/zoom.csv",
    output:
        pdf="figures/zoom.pdf",
        png=report("figures/zoom.png", caption="../report/zoom.rst", category="Zoom"),
    log:
        "logs/figures/zoom.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        name="zoom",
        options=figure_params("zoom"),
    script:
        "../scripts/figure.py"


rule figure_faithfulness:
    input:
        faithfulness="results/studies/faithfulness.csv",
    output:
        pdf="figures/faithfulness.pdf",
        png=report(
            "figures/faithfulness.png",
            caption="../report/faithfulness.rst",
            category="Faithfulness",
        ),
    log:
        "logs/figures/faithfulness.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        name="faithfulness",
        options=figure_params("faithfulness"),
    script:
        "../scripts/figure.py"


rule figure_claims:
    input:
        claims="results/tables/claims.csv",
    output:
        pdf="figures/claims.pdf",
        png=report(
            "figures/claims.png", caption="../report/claims.rst", category="Claims"
        ),
    log:
        "logs/figures/claims.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        name="claims",
        options=figure_params("claims"),
    script:
        "../scripts/figure.py"


rule figure_methods:
    input:
        methods="results/studies/methods.csv",
    output:
        pdf="figures/methods.pdf",
        png=report(
            "figures/methods.png",
            caption="../report/methods.rst",
            category="Methods",
        ),
    log:
        "logs/figures/methods.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        name="methods",
        options=figure_params("methods"),
    script:
        "../scripts/figure.py"

# Tables of the studies, from the study tables only (no model), each as
# CSV, Markdown and LaTeX.


rule table_robustness:
    input:
        per_image="results/studies/robustness_per_image.csv",
        per_corruption="results/studies/robustness_per_corruption.csv",
    output:
        report(
            multiext("results/tables/robustness", ".csv", ".md", ".tex"),
            caption="../report/table_robustness.rst",
            category="Tables",
        ),
    log:
        "logs/tables/robustness.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/table.py"


rule table_reconstruction:
    input:
        reconstruction="results/studies/reconstruction.csv",
        per_image="results/studies/robustness_per_image.csv",
    output:
        report(
            multiext("results/tables/reconstruction", ".csv", ".md", ".tex"),
            caption="../report/table_reconstruction.rst",
            category="Tables",
        ),
    log:
        "logs/tables/reconstruction.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/table.py"


rule table_zoom:
    input:
        zoom="results/studies/zoom.csv",
    output:
        report(
            multiext("results/tables/zoom", ".csv", ".md", ".tex"),
            caption="../report/table_zoom.rst",
            category="Tables",
        ),
    log:
        "logs/tables/zoom.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/table.py"


rule table_faithfulness:
    input:
        faithfulness="results/studies/faithfulness.csv",
    output:
        report(
            multiext("results/tables/faithfulness", ".csv", ".md", ".tex"),
            caption="../report/table_faithfulness.rst",
            category="Tables",
        ),
    log:
        "logs/tables/faithfulness.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/table.py"


rule table_claims:
    input:
        unpack(claims_inputs),
    output:
        report(
            multiext("results/tables/claims", ".csv", ".md", ".tex"),
            caption="../report/table_claims.rst",
            category="Tables",
        ),
    log:
        "logs/tables/claims.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/table.py"


rule table_wcam_noise:
    input:
        wcam_noise="results/studies/wcam_noise.csv",
    output:
        report(
            multiext("results/tables/wcam_noise", ".csv", ".md", ".tex"),
            caption="../report/table_wcam_noise.rst",
            category="Tables",
        ),
    log:
        "logs/tables/wcam_noise.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/table.py"


rule table_depth_robustness:
    input:
        reconstruction="results/studies/reconstruction.csv",
        depth_baselines="results/studies/depth_baselines.csv",
        per_image="results/studies/robustness_per_image.csv",
    output:
        report(
            multiext("results/tables/depth_robustness", ".csv", ".md", ".tex"),
            caption="../report/table_depth_robustness.rst",
            category="Tables",
        ),
    log:
        "logs/tables/depth_robustness.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/table.py"

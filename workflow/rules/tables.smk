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


rule table_methods:
    input:
        methods="results/studies/methods.csv",
    output:
        report(
            multiext("results/tables/methods", ".csv", ".md", ".tex"),
            caption="../report/table_methods.rst",
            category="Tables",
        ),
    log:
        "logs/tables/methods.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/table.py"

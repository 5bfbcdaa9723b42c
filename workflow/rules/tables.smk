# Tables of the studies, from the study tables only (no model): CSV for
# programs (snake_case columns, numbers), Markdown, LaTeX and HTML for readers
# (headers in words, "mean [low, high]" with its 95 % CI, captions). The report shows the HTML page,
# which links to the CSV and LaTeX files.


rule table_robustness:
    input:
        per_image="results/studies/robustness_per_image.csv",
        per_corruption="results/studies/robustness_per_corruption.csv",
    output:
        multiext("results/tables/robustness", ".csv", ".md", ".tex"),
        html=report(
            "results/tables/robustness.html",
            caption="../report/table_robustness.rst",
            category="Tables",
        ),
    params:
        name="robustness",
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
        multiext("results/tables/reconstruction", ".csv", ".md", ".tex"),
        html=report(
            "results/tables/reconstruction.html",
            caption="../report/table_reconstruction.rst",
            category="Tables",
        ),
    params:
        name="reconstruction",
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
        multiext("results/tables/zoom", ".csv", ".md", ".tex"),
        html=report(
            "results/tables/zoom.html",
            caption="../report/table_zoom.rst",
            category="Tables",
        ),
    params:
        name="zoom",
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
        multiext("results/tables/faithfulness", ".csv", ".md", ".tex"),
        html=report(
            "results/tables/faithfulness.html",
            caption="../report/table_faithfulness.rst",
            category="Tables",
        ),
    params:
        name="faithfulness",
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
        multiext("results/tables/claims", ".csv", ".md", ".tex"),
        html=report(
            "results/tables/claims.html",
            caption="../report/table_claims.rst",
            category="Tables",
        ),
    params:
        name="claims",
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
        multiext("results/tables/wcam_noise", ".csv", ".md", ".tex"),
        html=report(
            "results/tables/wcam_noise.html",
            caption="../report/table_wcam_noise.rst",
            category="Tables",
        ),
    params:
        name="wcam_noise",
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
        multiext("results/tables/depth_robustness", ".csv", ".md", ".tex"),
        html=report(
            "results/tables/depth_robustness.html",
            caption="../report/table_depth_robustness.rst",
            category="Tables",
        ),
    params:
        name="depth_robustness",
    log:
        "logs/tables/depth_robustness.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/table.py"


rule table_methods:
    input:
        methods="results/studies/methods.csv",
    output:
        multiext("results/tables/methods", ".csv", ".md", ".tex"),
        html=report(
            "results/tables/methods.html",
            caption="../report/table_methods.rst",
            category="Tables",
        ),
    params:
        name="methods",
    log:
        "logs/tables/methods.log",
    conda:
        "../envs/spectral-attribution.yaml"
    script:
        "../scripts/table.py"

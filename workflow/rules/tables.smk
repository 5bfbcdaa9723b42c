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
    log:
        "logs/tables/robustness.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        name="robustness",
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
    log:
        "logs/tables/reconstruction.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        name="reconstruction",
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
    log:
        "logs/tables/zoom.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        name="zoom",
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
    log:
        "logs/tables/faithfulness.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        name="faithfulness",
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
    log:
        "logs/tables/claims.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        name="claims",
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
    log:
        "logs/tables/wcam_noise.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        name="wcam_noise",
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
    log:
        "logs/tables/depth_robustness.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        name="depth_robustness",
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
    log:
        "logs/tables/methods.log",
    conda:
        "../envs/spectral-attribution.yaml"
    params:
        name="methods",
    script:
        "../scripts/table.py"

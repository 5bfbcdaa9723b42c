# Snakemake workflow of spectral-attribution: the studies of "Scale Matters"
# (Kasmi et al. 2023). Layout after the snakemake-workflows conventions:
# rules in workflow/rules, thin scripts in workflow/scripts (all logic lives in
# the package, spectral_attribution.pipeline), the configuration schema in
# workflow/schemas, report captions in workflow/report, configurations in
# config/ and execution profiles in profiles/.
#
#   snakemake --profile profiles/default                    # embedded default run
#   snakemake --profile profiles/default --configfile config/replication.yaml
#   snakemake --profile profiles/default figures/zoom.pdf   # one figure
#   snakemake --report report.html                          # HTML report


import os

from snakemake.utils import min_version, validate

min_version("9.0")


# the default configuration, found from any working directory (snakemake --directory ...)
configfile: os.path.join(workflow.basedir, "config", "config.yaml")


# Fails before any job, naming the offending key, on unknown keys or bad values
# (the schema's limits are those of spectral_attribution._utils.parameters); then the
# rules no schema can state (a zoom view's levels against its crop).
validate(config, "workflow/schemas/config.schema.yaml")

from spectral_attribution import pipeline as _pipeline

_pipeline.check_config(config)


# results/ holds the results of one configuration (recorded in results/config.yaml
# when a run starts): another one is refused here, naming the keys. Finished
# shards are checked against their manifests: a corrupted one is set aside and
# recomputed, one finished by an orphaned job is kept (spectral_attribution.pipeline.run_checks).
from spectral_attribution.pipeline import run_checks

# Shards set aside are asked for explicitly (Snakemake would not recompute a missing
# intermediate file under up-to-date outputs); what was built on them follows.
SET_ASIDE = run_checks.at_start(config, main_process=workflow.is_main_process, exit_on_mismatch=True)


onstart:
    run_checks.record(config)


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/wcam.smk"
include: "workflow/rules/corruptions.smk"
include: "workflow/rules/reconstruction.smk"
include: "workflow/rules/zoom.smk"
include: "workflow/rules/faithfulness.smk"
include: "workflow/rules/baselines.smk"
include: "workflow/rules/methods.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/figures.smk"


localrules:
    all,


rule all:
    input:
        all_outputs(),
        SET_ASIDE,
    default_target: True

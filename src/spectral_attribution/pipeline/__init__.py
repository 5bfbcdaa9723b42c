"""The package side of the Snakemake workflow: configuration readers, rule params, steps.

The workflow (``workflow/Snakefile``, ``workflow/rules/*.smk``) only decides
which step runs where and when; each of its scripts (``workflow/scripts/*.py``)
passes ``snakemake.input`` / ``params`` / ``output`` to one function of
:mod:`spectral_attribution.pipeline.steps`, in the module named after the
rule file (``workflow/rules/wcam.smk`` → ``pipeline/steps/wcam.py``). No
study logic lives here: the steps call the studies, explainers, tables and
figures of the package.

=====================================================  ==========================================
module                                                 job
=====================================================  ==========================================
:mod:`~spectral_attribution.pipeline.config`           readers of the validated configuration
                                                       (models, shards, methods, what a run makes)
:mod:`~spectral_attribution.pipeline.params`           each rule's ``params``: exactly what its
                                                       job reads (a change reruns exactly it)
:mod:`~spectral_attribution.pipeline.job`              the job preamble (threads, device check,
                                                       device lease, model load) as one context
                                                       manager; the scripts' log; shared readers
:mod:`~spectral_attribution.pipeline.steps`            one module per rule file
:mod:`~spectral_attribution.pipeline.run_checks`       the checks of ``results/`` when a run starts
=====================================================  ==========================================

Names of variants, methods, tables and figures: :mod:`spectral_attribution.catalog`.

This package re-exports the names the workflow, the tests and earlier code
import (``pipeline.model_params``, ``pipeline.explain_shard``, ``pipeline.logged``,
...). Heavy modules (torch, the studies, the plots) are imported inside the
functions, so that Snakemake imports it cheaply while it builds the DAG;
:func:`make_table` and :func:`make_figure` (the registries' own) are loaded on
first use.

The class every explanation explains, and so every metric of it scores,
follows the top-level ``target_policy`` (``prediction`` or ``label``;
:mod:`spectral_attribution.attributions.targets`). Forward passes run at
``wcam.precision`` through ``wcam.backend`` (:func:`forward_settings`); the
studies' functions take ``forward`` (:func:`study_forward_params`: float32
through the configured backend).
"""

from __future__ import annotations

from spectral_attribution import catalog
from spectral_attribution.pipeline.config import (check_config, figure_names, forward_settings,
                                                  method_entries, model_entries, model_entry,
                                                  n_shards, nicknames, reconstruction_variants,
                                                  shard_ids, table_names, target_policy, use_gpu,
                                                  wam_variants)
from spectral_attribution.pipeline.job import Job, job, logged, read_samples, shard_rows
from spectral_attribution.pipeline.params import (corruption_params, data_source_config,
                                                  explainer_params, faithfulness_params,
                                                  figure_params, model_params,
                                                  reconstruction_params, selection_params,
                                                  source_params, study_forward_params, wam_params,
                                                  zoom_views)
from spectral_attribution.pipeline.steps.baselines import depth_baselines_shard, measure_wcam_noise
from spectral_attribution.pipeline.steps.common import concat_tables
from spectral_attribution.pipeline.steps.corruptions import (corruption_baseline_shard,
                                                             robustness_tables, select_corrupted)
from spectral_attribution.pipeline.steps.data import prepare_samples
from spectral_attribution.pipeline.steps.faithfulness import faithfulness_shard
from spectral_attribution.pipeline.steps.methods import methods_shard, wam_shard
from spectral_attribution.pipeline.steps.models import check_model
from spectral_attribution.pipeline.steps.reconstruction import reconstruction_shard
from spectral_attribution.pipeline.steps.wcam import explain_shard, make_explainer
from spectral_attribution.pipeline.steps.zoom import zoom_shard

#: :data:`spectral_attribution.catalog.SHARD_VARIANTS`.
VARIANTS = catalog.SHARD_VARIANTS
TABLES = catalog.TABLES
FIGURES = catalog.FIGURES
FIGURE_OPTIONS = catalog.FIGURE_OPTIONS
WAM_VARIANTS = catalog.WAM_VARIANTS
WAM_OPTIONS = catalog.WAM_OPTIONS

__all__ = [
    "VARIANTS", "TABLES", "FIGURES", "FIGURE_OPTIONS", "WAM_VARIANTS", "WAM_OPTIONS",
    # config
    "model_entries", "model_entry", "nicknames", "n_shards", "shard_ids", "use_gpu",
    "method_entries", "wam_variants", "target_policy", "forward_settings", "check_config",
    "reconstruction_variants", "table_names", "figure_names",
    # params
    "model_params", "source_params", "data_source_config", "explainer_params",
    "corruption_params", "selection_params", "reconstruction_params", "zoom_views",
    "faithfulness_params", "figure_params", "study_forward_params", "wam_params",
    # job
    "Job", "job", "logged", "read_samples", "shard_rows",
    # steps
    "prepare_samples", "check_model", "explain_shard", "make_explainer",
    "corruption_baseline_shard", "concat_tables", "robustness_tables", "select_corrupted",
    "reconstruction_shard", "zoom_shard", "faithfulness_shard", "depth_baselines_shard",
    "measure_wcam_noise", "wam_shard", "methods_shard", "make_table", "make_figure",
]

_LAZY = {"make_table": "spectral_attribution.pipeline.steps.tables",
         "make_figure": "spectral_attribution.pipeline.steps.figures"}


def __getattr__(name: str):
    """:func:`make_table` and :func:`make_figure`, imported on first use (they pull in the
    studies and matplotlib, which building the DAG does not need)."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

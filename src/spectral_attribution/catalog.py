"""The names the package and the workflow share: one place, read by every other.

Shard variants, attribution methods and WAM variants, tables and figures are
spelt here once. The results folder (:mod:`spectral_attribution.results`),
the WAM (:mod:`spectral_attribution.attributions.wam`), the table and figure
registries (:data:`spectral_attribution.studies.TABLES`,
:data:`spectral_attribution.plots.FIGURES`), the pipeline's configuration
readers and the Snakefile (``workflow/rules/common.smk``) read them from
here. This module imports nothing (no torch, no pandas), so that Snakemake can
read it while it builds the DAG.

A test (``tests/pipeline/test_catalog.py``) checks that the registries hold exactly
these names, in this order.
"""

from __future__ import annotations

__all__ = [
    "SHARD_VARIANTS",
    "EXPLAINED_VARIANTS",
    "SHARD_METHODS",
    "METHODS",
    "WAM_VARIANTS",
    "WAM_DEFAULT_VARIANT",
    "WAM_OPTIONS",
    "TABLES",
    "FIGURES",
    "FIGURE_OPTIONS",
    "TABLE_FORMATS",
    "FIGURE_FORMATS",
]

#: Variants of an explanation shard: WCAMs of the ``clean`` images and of the
#: chosen ``corrupted`` copies (``results/wcam/{model}/{variant}/``), and the
#: ``spatial`` Sobol' maps of the faithfulness study (``results/spatial/{model}/``).
SHARD_VARIANTS: tuple[str, ...] = ("clean", "corrupted", "spatial")
#: The WCAM variants (rule ``wcam``; reconstruction and depth baselines run on them).
EXPLAINED_VARIANTS: tuple[str, ...] = ("clean", "corrupted")
#: Folders of explanation shards under a results folder, by method.
SHARD_METHODS: tuple[str, ...] = ("wcam", "wam")
#: Attribution methods an entry of the configuration key ``methods`` may name.
METHODS: tuple[str, ...] = ("wcam", "wam")
#: Variants of the WAM (Kasmi et al. 2025): plain gradient, SmoothGrad, integrated gradients.
WAM_VARIANTS: tuple[str, ...] = ("gradient", "smoothgrad", "integratedgrad")
#: The WAM variant of a bare ``"wam"`` entry of ``methods``.
WAM_DEFAULT_VARIANT = "smoothgrad"
#: Options a ``wam`` entry of ``methods`` may set (keywords of the WAM).
WAM_OPTIONS: tuple[str, ...] = ("nb_samples", "noise_level", "nb_steps", "rule", "batch_size")

#: Tables of the workflow (``results/tables/{name}.*``), in the order they are listed.
TABLES: tuple[str, ...] = ("robustness", "reconstruction", "zoom", "faithfulness", "claims",
                           "wcam_noise", "depth_robustness", "methods")
#: Figures of the workflow (``figures/{name}.pdf`` and ``.png``).
FIGURES: tuple[str, ...] = ("robustness", "wcam_gallery", "reconstructions", "depth_vs_robustness",
                            "depth_orders", "zoom", "faithfulness", "claims", "methods")
#: Figure name → the options its maker reads (besides its tables).
FIGURE_OPTIONS: dict[str, tuple[str, ...]] = {
    "robustness": (),
    "wcam_gallery": ("results_dir", "models", "nb_images"),
    "reconstructions": ("results_dir", "models", "nb_images"),
    "depth_vs_robustness": (),
    "depth_orders": (),
    "zoom": (),
    "faithfulness": (),
    "claims": (),
    "methods": (),
}
#: The files of one table: CSV (data), Markdown, LaTeX and HTML (for readers).
TABLE_FORMATS: tuple[str, ...] = ("csv", "md", "tex", "html")
#: The files of one figure: vector and raster.
FIGURE_FORMATS: tuple[str, ...] = ("pdf", "png")

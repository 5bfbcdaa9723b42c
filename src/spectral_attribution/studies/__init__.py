"""The studies of *Scale Matters* (Kasmi et al. 2023) as functions returning tidy tables.

Every study takes a :class:`~spectral_attribution.models.ModelWrapper`, images
already prepared for it (``(3, H, W)`` float tensors in ``[0, 1]``, i.e.
after the model's resize and crop, before its normalisation) or PIL images
where the study changes the preprocessing itself (zoom), and returns a
:class:`pandas.DataFrame` in long ("tidy") form: one row per observation, one
column per variable. Common columns: ``model`` (registry name of the model),
``image_id`` (a string naming the image, e.g. its file name).

One study per module (METHOD.md, section 4):

=================================================  ==========================================
module                                             functions
=================================================  ==========================================
:mod:`~spectral_attribution.studies.corruption`    :func:`corruption_baseline`,
                                                   :func:`robustness_per_image`,
                                                   :func:`robustness_per_corruption`,
                                                   :func:`robustness_table`,
                                                   :func:`select_corrupted_copies`,
                                                   :func:`corrupted_copy`, :func:`corrupted_copies`,
                                                   :func:`corrupted_id`
:mod:`~spectral_attribution.studies.reconstruction`  :func:`sufficient_reconstruction`,
                                                   :func:`depth_and_robustness`,
                                                   :func:`reconstruction_summary`
:mod:`~spectral_attribution.studies.zoom`          :data:`ZOOM_VIEWS`, :data:`PAPER_ZOOM_VIEWS`,
                                                   :func:`zoom_study`, :func:`zoom_table`,
                                                   :func:`aligned_grid_sizes`,
                                                   :func:`zoom_differences`
:mod:`~spectral_attribution.studies.faithfulness`  :func:`faithfulness`, :func:`faithfulness_scores`,
                                                   :func:`faithfulness_table`
:mod:`~spectral_attribution.studies.depth_baselines`  :func:`baseline_depths` (model-free orders)
:mod:`~spectral_attribution.studies.noise`         :func:`wcam_noise`, :func:`wcam_noise_table`
:mod:`~spectral_attribution.studies.claims`        :func:`claims_table`, :func:`claims_summary`,
                                                   :func:`write_claims_summary`
:mod:`~spectral_attribution.studies.claims_inputs` :func:`depth_per_image` (per-image inputs)
:mod:`~spectral_attribution.studies.claims_rows`   one row per comparison (claims a-d, d')
:mod:`~spectral_attribution.studies.verdicts`      :func:`verdict`, :func:`holm`, the deciding
                                                   baselines declared in advance, roles
:mod:`~spectral_attribution.studies.robustness_fits`  :func:`depth_robustness_fits` (all clean
                                                   and correctly classified; partial Spearman)
:mod:`~spectral_attribution.studies.methods`       :func:`compare_methods` (WAM vs WCAM),
                                                   :func:`methods_table`, :func:`rank_agreement`,
                                                   :func:`detail_cells`
                                                   units) for tables and figures
:mod:`~spectral_attribution.studies.table_format`  :class:`TableFormat`, :class:`Column`:
                                                   how a table is shown to readers
:mod:`~spectral_attribution.studies.tables`        :func:`write_table`, the registry
                                                   :data:`TABLES`, :func:`build_table`,
                                                   :func:`make_table`
=================================================  ==========================================

Every public name is re-exported here (``from spectral_attribution import
studies; studies.zoom_study(...)``), with
:func:`~spectral_attribution.attributions.perturbations.wavelet_perturbation_for` and
:func:`~spectral_attribution.attributions.perturbations.spatial_perturbation_for`.
"""

from spectral_attribution.attributions.perturbations import spatial_perturbation_for, wavelet_perturbation_for
from spectral_attribution.studies.corruption import (
    corrupted_copies,
    corrupted_copy,
    corrupted_id,
    corruption_baseline,
    robustness_per_corruption,
    robustness_per_image,
    robustness_table,
    select_corrupted_copies,
)
from spectral_attribution.studies.claims import (
    claims_summary,
    claims_table,
    depth_per_image,
    depth_robustness_fits,
    verdict,
    write_claims_summary,
)
from spectral_attribution.studies.depth_baselines import DEPTH_ORDERS, baseline_depths
from spectral_attribution.studies.faithfulness import faithfulness, faithfulness_scores, faithfulness_table
from spectral_attribution.studies.methods import compare_methods, detail_cells, methods_table, rank_agreement
from spectral_attribution.studies.noise import wcam_noise, wcam_noise_table
from spectral_attribution.studies.reconstruction import (
    depth_and_robustness,
    reconstruction_summary,
    sufficient_reconstruction,
)
from spectral_attribution.studies.table_format import Column, TableFormat
from spectral_attribution.studies.tables import TABLES, TableMaker, build_table, make_table, write_table
from spectral_attribution.studies.zoom import (
    PAPER_ZOOM_VIEWS,
    ZOOM_VIEWS,
    aligned_grid_sizes,
    zoom_differences,
    zoom_study,
    zoom_table,
)

__all__ = [
    "corruption_baseline",
    "robustness_per_image",
    "robustness_per_corruption",
    "robustness_table",
    "select_corrupted_copies",
    "corrupted_copy",
    "corrupted_copies",
    "corrupted_id",
    "wavelet_perturbation_for",
    "spatial_perturbation_for",
    "sufficient_reconstruction",
    "depth_and_robustness",
    "reconstruction_summary",
    "ZOOM_VIEWS",
    "PAPER_ZOOM_VIEWS",
    "aligned_grid_sizes",
    "zoom_study",
    "zoom_table",
    "faithfulness",
    "faithfulness_scores",
    "faithfulness_table",
    "DEPTH_ORDERS",
    "baseline_depths",
    "wcam_noise",
    "wcam_noise_table",
    "claims_table",
    "claims_summary",
    "write_claims_summary",
    "depth_robustness_fits",
    "verdict",
    "depth_per_image",
    "zoom_differences",
    "compare_methods",
    "methods_table",
    "rank_agreement",
    "detail_cells",
    "write_table",
    "TableFormat",
    "Column",
    "TableMaker",
    "TABLES",
    "build_table",
    "make_table",
]

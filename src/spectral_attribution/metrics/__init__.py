"""Metrics of the studies: level contributions, robustness, reconstruction depth, faithfulness.

Pure functions of arrays, tensors and (for the metrics that must query it) a
model: nothing here plots or writes files. One module per family, all
re-exported here (``metrics.robustness`` is the function, not its module):

* :mod:`~spectral_attribution.metrics.levels` -- level contributions, spread;
* :mod:`~spectral_attribution.metrics.robustness` -- robustness;
* :mod:`~spectral_attribution.metrics.reconstruction` -- reconstruction depth;
* :mod:`~spectral_attribution.metrics.faithfulness` -- mu-fidelity,
  insertion, deletion;
* ``_queries`` -- the model queries the last two share.

Vocabulary (METHOD.md, section 4):

* **Level contribution** -- how a WCAM's importance splits between the
  approximation and the detail levels of the wavelet transform, per
  coefficient (:func:`level_contributions`); the **approximation share** is
  the approximation's level contribution (:func:`approximation_share`), the
  **approximation mass** the share of the map's total mass on the
  approximation block (:func:`approximation_mass`).
* **Robustness** of a prediction -- share of corrupted copies of an image on
  which the model predicts what it predicts on the clean image
  (:func:`robustness`).
* **Reconstruction depth** -- smallest number ``k`` of grid cells of wavelet
  coefficients, taken in decreasing order of their Sobol' total index, that
  suffice for the model to predict the explained class; ``d + 1`` (censored)
  when no ``k`` does (:func:`reconstruction_depth`, baseline
  :func:`random_order_depths`).
* **Faithfulness** -- mu-fidelity (Bhatt et al., IJCAI 2020), insertion and
  deletion (Petsiuk et al., BMVC 2018), written generically over any
  perturbation (:func:`mu_fidelity`, :func:`insertion_deletion`).

Model-querying functions all take the same four objects (and ``batch_size``
and ``precision`` / ``backend``, passed to the package's one forward loop,
:class:`~spectral_attribution.models.forward.ForwardPass`):

``model``
    A callable ``(b, C, H, W) float [0, 1] -> logits (b, K)``, typically a
    :class:`~spectral_attribution.models.ModelWrapper`.
``perturbation``, ``context``
    A perturbation of :mod:`spectral_attribution.attributions.perturbations` (e.g.
    :class:`~spectral_attribution.attributions.perturbations.WaveletPerturbation`) and the
    context it prepared for one image (``perturbation.prepare(image)``);
    ``perturbation(context, masks)`` turns ``(b, d)`` masks with values in
    ``[0, 1]`` (1 keeps a cell, 0 removes it) into ``(b, C, H, W)`` images.
``d``
    ``perturbation.dim``: the number of grid cells (``g^2`` for grids).
"""

from spectral_attribution.metrics.levels import (  # noqa: F401
    level_contributions,
    approximation_share,
    approximation_mass,
    spatial_spread,
)
from spectral_attribution.metrics.robustness import (  # noqa: F401
    robustness,
)
from spectral_attribution.metrics.reconstruction import (  # noqa: F401
    explanation_order,
    importance_order,
    top_k_masks,
    keep_top_k,
    reconstruction_curve,
    ReconstructionDepth,
    reconstruction_depth,
    random_order_depths,
    depth_robustness_fit,
)
from spectral_attribution.metrics.faithfulness import (  # noqa: F401
    mu_fidelity,
    removal_subsets,
    subset_drops,
    mu_fidelity_from_drops,
    insertion_deletion,
    insertion_auc,
    deletion_auc,
)

__all__ = [
    "level_contributions",
    "approximation_share",
    "approximation_mass",
    "spatial_spread",
    "robustness",
    "importance_order",
    "explanation_order",
    "top_k_masks",
    "keep_top_k",
    "reconstruction_curve",
    "ReconstructionDepth",
    "reconstruction_depth",
    "random_order_depths",
    "depth_robustness_fit",
    "mu_fidelity",
    "removal_subsets",
    "subset_drops",
    "mu_fidelity_from_drops",
    "insertion_deletion",
    "insertion_auc",
    "deletion_auc",
]

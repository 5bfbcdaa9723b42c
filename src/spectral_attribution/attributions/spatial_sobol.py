"""Spatial Sobol' attribution (Fel et al., NeurIPS 2021).

:class:`~spectral_attribution.attributions.sobol.engine.SobolAttribution` with the
:class:`~spectral_attribution.attributions.perturbations.SpatialPerturbation`: a ``g x g`` grid of
masks over the image, moving each cell towards 0 or towards a blurred copy of the image.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from spectral_attribution.attributions.perturbations import SpatialPerturbation
from spectral_attribution.attributions.sobol.engine import SobolAttribution

__all__ = ["SpatialSobol"]


class SpatialSobol(SobolAttribution):
    """Spatial Sobol' attribution (Fel et al., NeurIPS 2021).

    Parameters
    ----------
    grid_size:
        ``g`` cells per side over the image.
    baseline:
        ``"zero"`` (``x * m``) or ``"blur"`` (towards a blurred copy).
    **kwargs:
        See :class:`SobolAttribution`.
    """

    method = "spatial-sobol"

    def __init__(self, model: nn.Module, grid_size: int = 28, nb_design: int = 8,
                 baseline: str = "zero", blur_sigma: float = 10.0, **kwargs: Any):
        super().__init__(model, SpatialPerturbation(grid_size, baseline, blur_sigma),
                         nb_design=nb_design, **kwargs)

    def _spatial(self, grid_map: np.ndarray, size) -> np.ndarray:
        return grid_map

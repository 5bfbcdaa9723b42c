"""Fourier-CAM (Kasmi et al., 2023): Sobol' total indices of masks on the centred Fourier spectrum.

:class:`~spectral_attribution.attributions.sobol.engine.SobolAttribution` with the
:class:`~spectral_attribution.attributions.perturbations.FourierPerturbation`: a ``g x g`` grid,
or ``g`` square or circular rings, over the centred spectrum of the image.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from spectral_attribution.attributions.perturbations import FourierPerturbation
from spectral_attribution.attributions.sobol.engine import SobolAttribution

__all__ = ["FourierCAM"]


class FourierCAM(SobolAttribution):
    """Fourier-CAM: Sobol' total indices of masks on the centred Fourier spectrum.

    Parameters
    ----------
    grid_size:
        ``g``: cells per side (``family="grid"``) or number of rings.
    family:
        ``"circle"`` (default; rings of equal radial width up to the corner,
        fewer ringing artefacts), ``"square"`` or ``"grid"``.
    **kwargs:
        See :class:`SobolAttribution`.

    Notes
    -----
    ``Explanation.indices`` is ``(g, g)`` for the grid and ``(g,)`` for rings
    (a radial importance profile, ring 0 at the zero frequency);
    ``Explanation.map`` is ``(H, W)`` over the centred spectrum.
    """

    method = "fourier-cam"

    def __init__(self, model: nn.Module, grid_size: int = 28, nb_design: int = 8,
                 family: str = "circle", **kwargs: Any):
        super().__init__(model, FourierPerturbation(grid_size, family), nb_design=nb_design, **kwargs)

    def _map(self, st: np.ndarray, ctx) -> np.ndarray:
        if self.perturbation.family == "grid":
            return super()._map(st, ctx)
        return st[ctx.tensors["rings"].cpu().numpy()]

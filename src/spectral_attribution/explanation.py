"""The result type of every explainer: :class:`Explanation`, one per image.

An explanation holds the Sobol' total indices of one image's grid cells (or
Fourier rings), the same indices on the perturbed domain (``map``), an
optional spatial projection, the class explained and the scores, and the
settings that reproduce it. :meth:`Explanation.save` / :meth:`Explanation.load`
write and read one as a plain ``.npz`` (no pickles); shards of many
explanations are :mod:`spectral_attribution.results`' business.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._common import write_npz
from .transforms import SubBand, WaveletTransform

__all__ = ["Explanation"]


@dataclass
class Explanation:
    """The attribution of one image.

    Attributes
    ----------
    method:
        ``"wcam"``, ``"fourier-cam"`` or ``"spatial-sobol"``.
    indices:
        ``float32`` Sobol' total indices: ``(g, g)`` for grids (row-major
        cells), ``(g,)`` for Fourier ring families (ring 0 at the zero
        frequency). Non-negative up to estimation noise.
    map:
        ``float32`` ``(Hl, Wl)``: the indices upsampled (nearest) onto the
        perturbed domain: the dyadic wavelet layout (WCAM), the centred
        spectrum (Fourier-CAM) or the image (spatial Sobol').
    spatial:
        ``float32`` ``(H, W)`` or ``None``: for the WCAM, its spatial
        projection (sum over sub-bands of each band's part of the map, resized
        bilinearly to the image); for spatial Sobol', the map; ``None`` for
        Fourier-CAM.
    target:
        Class explained (full-range ``int``).
    predicted:
        Class predicted on the unperturbed image.
    score, predicted_score:
        Logits of ``target`` and of ``predicted`` on the unperturbed image,
        computed with the same precision as the explanation.
    settings:
        Everything needed to reproduce the explanation (method parameters,
        seed, image and layout sizes, package version).
    """

    method: str
    indices: np.ndarray
    map: np.ndarray
    spatial: np.ndarray | None
    target: int
    predicted: int
    score: float
    predicted_score: float
    settings: dict = field(default_factory=dict)

    @property
    def subbands(self) -> list[SubBand]:
        """Blocks of the dyadic layout (WCAM only), from the recorded settings."""
        if self.method != "wcam":
            raise AttributeError(f"{self.method} explanations have no sub-bands")
        s = self.settings
        return WaveletTransform(s["wavelet"], s["levels"]).subbands(*s["image_size"])

    def save(self, path: str | Path) -> Path:
        """Write a compressed ``.npz``: arrays ``indices``, ``map``, ``spatial``
        (absent for Fourier-CAM) and ``meta`` (a JSON string of the scalars and
        settings). Written atomically (:func:`~spectral_attribution._common.atomic_path`),
        so a partial file never exists under ``path``. A ``path`` without the
        ``.npz`` suffix gets it; returns the path written."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        arrays = {"indices": self.indices, "map": self.map,
                  "meta": np.array(json.dumps(self._meta()))}
        if self.spatial is not None:
            arrays["spatial"] = self.spatial
        return write_npz(path, **arrays)

    def _meta(self) -> dict:
        return {"method": self.method, "target": int(self.target),
                "predicted": int(self.predicted), "score": float(self.score),
                "predicted_score": float(self.predicted_score),
                "settings": self.settings}

    @classmethod
    def load(cls, path: str | Path) -> "Explanation":
        """Read an explanation written by :meth:`save`.

        Raises
        ------
        ValueError
            The file is not an explanation (missing arrays), naming the file.
        """
        with np.load(path, allow_pickle=False) as data:
            try:
                meta = json.loads(str(data["meta"]))
                return cls(indices=data["indices"], map=data["map"],
                           spatial=data["spatial"] if "spatial" in data else None, **meta)
            except KeyError as err:
                raise ValueError(f"{path}: not an explanation file (missing {err})") from None

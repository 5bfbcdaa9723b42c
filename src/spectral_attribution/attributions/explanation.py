"""The result type of every explainer: :class:`Explanation`, one per image.

An explanation holds the attribution of one image's grid cells (Sobol'
total indices of cells or Fourier rings; a WAM's pooled gradients), the same
on the perturbed domain (``map``), an optional spatial projection, optional
signed coefficient-level attributions (WAM), the class explained and the
scores, and the settings that reproduce it. :meth:`Explanation.save` / :meth:`Explanation.load`
write and read one as a plain ``.npz`` (no pickles); shards of many
explanations are :mod:`spectral_attribution.results`' business.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spectral_attribution._utils.files import write_npz
from spectral_attribution.attributions.transforms import SubBand, WaveletTransform

__all__ = ["Explanation"]


@dataclass
class Explanation:
    """The attribution of one image.

    Attributes
    ----------
    method:
        ``"wcam"``, ``"fourier-cam"``, ``"spatial-sobol"`` or ``"wam"``.
    indices:
        ``float32`` attribution of each grid cell: Sobol' total indices,
        ``(g, g)`` for grids (row-major cells), ``(g,)`` for Fourier ring
        families (ring 0 at the zero frequency), non-negative up to
        estimation noise; for a WAM, the coefficient map summed over each
        cell of the WCAM's ``g x g`` grid
        (:func:`~spectral_attribution.attributions.transforms.pool_on_grid`).
    map:
        ``float32`` ``(Hl, Wl)``: the indices upsampled (nearest) onto the
        perturbed domain: the dyadic wavelet layout (WCAM), the centred
        spectrum (Fourier-CAM) or the image (spatial Sobol'); for a WAM, the
        absolute attribution of every coefficient over the dyadic layout.
    spatial:
        ``float32`` ``(H, W)`` or ``None``: for the WCAM and the WAM, the
        spatial projection of ``map``
        (:func:`~spectral_attribution.attributions.transforms.spatial_projection`: sum over
        sub-bands of each band's part of the map, resized bilinearly to the
        image); for spatial Sobol', the map; ``None`` for Fourier-CAM.
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
    attributions:
        ``float32`` ``(C, Hl, Wl)`` or ``None``: signed attributions of every
        coefficient of every channel (the WAM's; ``None`` for the Sobol'
        methods).
    estimated:
        ``bool`` array of the shape of ``indices``, or ``None`` (every cell
        estimated: a full design, or a WAM). With screening
        (``settings["screening"]`` not ``None``), ``False`` marks the cells
        screened out: their ``indices`` are 0 and not estimates.
    bounds:
        ``float32`` array of the shape of ``indices``, or ``None``: for a
        screened-out cell, the total index of the group it was discarded with
        (its own total index is at most that, up to estimation noise); for an
        estimated cell, its index.
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
    attributions: np.ndarray | None = None
    estimated: np.ndarray | None = None
    bounds: np.ndarray | None = None

    @property
    def screened_out(self) -> np.ndarray | None:
        """``bool`` mask of the cells screened out (``~estimated``), or ``None`` when all were estimated."""
        if self.estimated is None or bool(np.all(self.estimated)):
            return None
        return ~np.asarray(self.estimated, bool)

    @property
    def subbands(self) -> list[SubBand]:
        """Blocks of the dyadic layout, from the recorded settings.

        Defined for every explanation over a wavelet layout (WCAM, WAM):
        those whose settings hold ``wavelet``, ``levels`` and ``image_size``.

        Raises
        ------
        AttributeError
            The settings lack one of these keys (Fourier-CAM, spatial Sobol').
        """
        s = self.settings
        missing = [k for k in ("wavelet", "levels", "image_size") if k not in s]
        if missing:
            raise AttributeError(f"{self.method} explanation has no sub-bands "
                                 f"(settings lack {missing})")
        return WaveletTransform(s["wavelet"], int(s["levels"])).subbands(*s["image_size"])

    def save(self, path: str | Path) -> Path:
        """Write a compressed ``.npz``: arrays ``indices``, ``map``, ``spatial``
        (absent when ``None``: Fourier-CAM), ``attributions`` (absent when
        ``None``: the Sobol' methods), ``estimated`` and ``bounds`` (present
        for screened explanations only) and ``meta`` (a JSON string of the
        scalars and settings). Written atomically (:func:`~spectral_attribution._utils.files.atomic_path`),
        so a partial file never exists under ``path``. A ``path`` without the
        ``.npz`` suffix gets it; returns the path written."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        arrays = {"indices": self.indices, "map": self.map,
                  "meta": np.array(json.dumps(self._meta()))}
        if self.spatial is not None:
            arrays["spatial"] = self.spatial
        if self.attributions is not None:
            arrays["attributions"] = self.attributions
        if self.estimated is not None:
            arrays["estimated"] = np.asarray(self.estimated, bool)
        if self.bounds is not None:
            arrays["bounds"] = np.asarray(self.bounds, np.float32)
        return write_npz(path, **arrays)

    def _meta(self) -> dict:
        return {"method": self.method, "target": int(self.target),
                "predicted": int(self.predicted), "score": float(self.score),
                "predicted_score": float(self.predicted_score),
                "settings": self.settings}

    @classmethod
    def load(cls, path: str | Path) -> "Explanation":
        """Read an explanation written by :meth:`save`.

        Files written before ``attributions`` existed load with
        ``attributions=None``; so do files without that array.

        Raises
        ------
        ValueError
            The file is not an explanation (missing arrays), naming the file.
        """
        with np.load(path, allow_pickle=False) as data:
            try:
                meta = json.loads(str(data["meta"]))
                return cls(indices=data["indices"], map=data["map"],
                           spatial=data["spatial"] if "spatial" in data else None,
                           attributions=data["attributions"] if "attributions" in data else None,
                           estimated=data["estimated"] if "estimated" in data else None,
                           bounds=data["bounds"] if "bounds" in data else None,
                           **meta)
            except KeyError as err:
                raise ValueError(f"{path}: not an explanation file (missing {err})") from None

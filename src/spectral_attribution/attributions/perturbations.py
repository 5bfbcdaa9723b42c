"""Perturbations: how a mask of ``d`` values in ``[0, 1]`` changes an image.

(Just over 400 lines: the three perturbations (wavelet, Fourier, spatial) follow one protocol and are read side by side.)

A *perturbation* (the :class:`Perturbation` protocol) prepares one image once
(:class:`PerturbationContext`: its transform) and then turns batches of masks
into perturbed images. The engine (:mod:`spectral_attribution.attributions.sobol.engine`) only
sees this interface, so a new domain needs only a new perturbation.

=============================  ==========================================  ===========================
perturbation                   mask acts on                                reference
=============================  ==========================================  ===========================
:class:`WaveletPerturbation`   ``g x g`` grid over the dyadic layout of    Kasmi et al. (2023), WCAM
                               the ``J``-level wavelet coefficients
:class:`FourierPerturbation`   grid / square rings / circular rings over   Kasmi et al. (2023),
                               the centred Fourier spectrum                Fourier-CAM
:class:`SpatialPerturbation`   ``g x g`` grid over the pixels, towards 0   Fel et al. (NeurIPS 2021)
                               or a blurred copy
=============================  ==========================================  ===========================

Images are perturbed in pixel space: ``[0, 1]`` floats before the model's
normalisation, no 8-bit round trip. :func:`perturbation_for` rebuilds the
perturbation an :class:`~spectral_attribution.attributions.explanation.Explanation` was
made with, from its settings (the metrics of the studies use it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from spectral_attribution._utils import parameters
from spectral_attribution._utils.checks import check_images
from spectral_attribution.attributions.transforms import (
    WaveletTransform,
    centred_spectrum,
    inverse_centred_spectrum,
    ring_index,
    upsample_masks,
)

__all__ = [
    "PerturbationContext",
    "Perturbation",
    "WaveletPerturbation",
    "FourierPerturbation",
    "SpatialPerturbation",
    "WAVELET_METHODS",
    "cell_ranges",
    "check_grid",
    "perturbation_for",
    "wavelet_perturbation_for",
    "spatial_perturbation_for",
]


@dataclass
class PerturbationContext:
    """What a perturbation precomputes for one image (:meth:`Perturbation.prepare`).

    Attributes
    ----------
    size:
        ``(H, W)``: the image's height and width in pixels.
    tensors:
        Named tensors on the image's device, e.g. ``"layout"`` (the dyadic
        wavelet layout ``(1, C, Hl, Wl)``), ``"spectrum"`` (the centred
        spectrum, complex ``(1, C, H, W)``), ``"image"`` ``(1, C, H, W)``.
        Each perturbation documents its own keys.
    """

    size: tuple[int, int]
    tensors: dict[str, torch.Tensor]

    @property
    def device(self) -> torch.device:
        """Device of the context's tensors (the CPU when it holds none)."""
        for t in self.tensors.values():
            if isinstance(t, torch.Tensor):
                return t.device
        return torch.device("cpu")


@runtime_checkable
class Perturbation(Protocol):
    """What the engine needs of a perturbation: ``d`` inputs in ``[0, 1]`` → perturbed images.

    Required
    --------
    dim:
        ``d``, the number of inputs (grid cells or rings) a mask has.
    grid_size:
        ``g``: ``d == g * g`` for grids, ``d == g`` for ring families.
    prepare(image) -> PerturbationContext:
        Precompute what is needed for one ``(C, H, W)`` float image in ``[0, 1]``
        (its transform); called once per image.
    __call__(ctx, masks) -> images:
        ``(b, d)`` float masks in ``[0, 1]`` (1 keeps an input, 0 removes it),
        on the context's device → ``(b, C, H, W)`` float32 images.

    Optional (looked up with ``getattr``)
    -------------------------------------
    affine: bool
        ``True`` when the image is affine in the mask,
        ``x(m) = x(0) + sum_i m_i b_i``; the engine then builds the rows
        ``C_i`` of the design by updating cached images
        (:mod:`spectral_attribution.attributions.sobol.row_updates`). Default ``False``.
    supports(ctx) -> (d, 4) int array or None:
        Pixel boxes ``[r0, r1, c0, c1)`` outside which input ``i`` changes
        nothing (only meaningful when ``affine``); ``None`` or absent: found
        numerically.
    settings() -> dict:
        JSON-serialisable parameters, recorded in ``Explanation.settings``.

    A new perturbation needs no base class: any object with these attributes
    works with :class:`~spectral_attribution.attributions.sobol.engine.SobolAttribution`.
    """

    dim: int
    grid_size: int

    def prepare(self, image: torch.Tensor) -> PerturbationContext:
        """Precompute what the perturbation needs for one ``(C, H, W)`` image in ``[0, 1]``."""
        ...

    def __call__(self, ctx: PerturbationContext, masks: torch.Tensor) -> torch.Tensor:
        """``(b, d)`` masks in ``[0, 1]`` → ``(b, C, H, W)`` float32 perturbed images."""
        ...


class WaveletPerturbation:
    """Masks on a ``g x g`` grid over the dyadic wavelet layout.

    The mask is upsampled (nearest) to the layout, multiplied with the
    coefficients of every channel, and the image is the inverse transform.

    Parameters
    ----------
    wavelet, levels:
        See :class:`~spectral_attribution.attributions.transforms.WaveletTransform`.
    grid_size:
        ``g``: the design has ``d = g^2`` inputs.
    drop_approximation:
        Set the approximation coefficients to 0 in every perturbation (the
        cells over them then get zero indices).

    Notes
    -----
    Context keys: ``"layout"`` (``(1, C, Hl, Wl)`` coefficients in the dyadic
    layout of :meth:`~spectral_attribution.attributions.transforms.WaveletTransform.forward`)
    and, with ``drop_approximation``, ``"keep"`` (``(1, 1, Hl, Wl)``, 0 on the
    approximation block).

    Raises
    ------
    ValueError
        ``grid_size`` not a positive integer, or an unknown wavelet.
    """

    affine = True  # x(m) = x(0) + sum_i m_i b_i: enables the row-update path of the engine

    def __init__(self, wavelet: str = "haar", levels: int = 3, grid_size: int = 28,
                 drop_approximation: bool = False):
        check_grid(grid_size, "cells")
        self.transform = WaveletTransform(wavelet, levels)
        self.grid_size = int(grid_size)
        self.drop_approximation = bool(drop_approximation)

    @property
    def dim(self) -> int:
        """``d = g^2`` cells."""
        return self.grid_size ** 2

    def prepare(self, image: torch.Tensor) -> PerturbationContext:
        """Precompute the coefficient layout of one ``(C, H, W)`` float image in ``[0, 1]``."""
        image = check_images(image, "image", single="only")  # (C, H, W), channels first
        size = tuple(image.shape[-2:])
        layout = self.transform.forward(image.unsqueeze(0))
        tensors = {"layout": layout}
        if self.drop_approximation:
            keep = torch.ones_like(layout[:, :1])
            approx = self.transform.subbands(*size)[0]
            keep[..., approx.slices[0], approx.slices[1]] = 0
            tensors["keep"] = keep
        return PerturbationContext(size, tensors)

    def __call__(self, ctx: PerturbationContext, masks: torch.Tensor) -> torch.Tensor:
        """``(b, d)`` masks in ``[0, 1]`` (row-major cells) → ``(b, C, H, W)`` perturbed images.

        The mask is upsampled (nearest) onto the layout, multiplies the
        coefficients of every channel, and the image is the inverse transform
        cropped to ``ctx.size``; values may leave ``[0, 1]`` slightly.
        """
        layout = ctx.tensors["layout"]
        g = self.grid_size
        m = upsample_masks(masks.view(-1, g, g).to(layout.dtype), layout.shape[-2:])
        if "keep" in ctx.tensors:
            m = m * ctx.tensors["keep"]
        return self.transform.inverse(layout * m, ctx.size)

    def supports(self, ctx: PerturbationContext) -> np.ndarray | None:
        """``(d, 4)`` image boxes ``[r0, r1, c0, c1)`` outside which cell ``i`` changes nothing.

        Known for Haar: a coefficient at level ``j`` touches a ``2^j x 2^j``
        block of pixels. ``None`` for other wavelets (the engine then finds
        the boxes numerically).
        """
        if not self.transform._haar:
            return None
        height, width = ctx.size
        layout_h, layout_w = ctx.tensors["layout"].shape[-2:]
        g = self.grid_size
        rows, cols = cell_ranges(g, layout_h), cell_ranges(g, layout_w)
        bands = self.transform.subbands(height, width)
        if self.drop_approximation:
            bands = bands[1:]
        boxes = np.zeros((g * g, 4), dtype=np.int64)
        for cell in range(g * g):
            (y0, y1), (x0, x1) = rows[cell // g], cols[cell % g]
            box = None
            for band in bands:
                by0, by1 = max(y0, band.rows[0]), min(y1, band.rows[1])
                bx0, bx1 = max(x0, band.cols[0]), min(x1, band.cols[1])
                if by0 >= by1 or bx0 >= bx1:
                    continue
                s = 2 ** band.level
                piece = ((by0 - band.rows[0]) * s, (by1 - band.rows[0]) * s,
                         (bx0 - band.cols[0]) * s, (bx1 - band.cols[0]) * s)
                box = piece if box is None else (min(box[0], piece[0]), max(box[1], piece[1]),
                                                 min(box[2], piece[2]), max(box[3], piece[3]))
            if box is not None:
                boxes[cell] = (box[0], min(box[1], height), box[2], min(box[3], width))
        return boxes

    def settings(self) -> dict:
        """``wavelet``, ``levels``, ``grid_size``, ``drop_approximation``."""
        return {"wavelet": self.transform.wavelet, "levels": self.transform.levels,
                "grid_size": self.grid_size, "drop_approximation": self.drop_approximation}


class FourierPerturbation:
    """Masks on the centred Fourier spectrum of every channel.

    Families: ``"grid"`` (``g x g`` cells, ``d = g^2``), ``"square"`` and
    ``"circle"`` (``g`` concentric rings around the zero frequency, ``d = g``;
    see :func:`~spectral_attribution.attributions.transforms.ring_index`). The perturbed
    image is the real part of the inverse transform (a non-symmetric mask
    makes the inverse complex; its imaginary part is dropped).

    Context keys: ``"spectrum"`` (complex ``(1, C, H, W)``, zero frequency at
    the centre) and, for rings, ``"rings"`` (``(H, W)`` int64 ring of each
    frequency).

    Raises
    ------
    ValueError
        ``grid_size`` not a positive integer, or an unknown family.
    """

    affine = True  # x(m) = x(0) + sum_i m_i b_i: enables the row-update path of the engine

    FAMILIES = ("grid", "square", "circle")

    def __init__(self, grid_size: int = 28, family: str = "circle"):
        if family not in self.FAMILIES:
            raise ValueError(f"unknown Fourier mask family {family!r}; choose one of {self.FAMILIES}")
        check_grid(grid_size, "cells" if family == "grid" else "rings")
        self.grid_size = int(grid_size)
        self.family = family

    @property
    def dim(self) -> int:
        """``g^2`` cells for the grid, ``g`` rings otherwise."""
        return self.grid_size ** 2 if self.family == "grid" else self.grid_size

    def prepare(self, image: torch.Tensor) -> PerturbationContext:
        """Precompute the centred spectrum (and the ring of each frequency) of one ``(C, H, W)`` image."""
        image = check_images(image, "image", single="only")  # (C, H, W), channels first
        size = tuple(image.shape[-2:])
        tensors = {"spectrum": centred_spectrum(image.unsqueeze(0))}
        if self.family != "grid":
            tensors["rings"] = ring_index(*size, self.grid_size, self.family, device=image.device)
        return PerturbationContext(size, tensors)

    def __call__(self, ctx: PerturbationContext, masks: torch.Tensor) -> torch.Tensor:
        """``(b, d)`` masks in ``[0, 1]`` → ``(b, C, H, W)`` real images (masked spectrum, inverted)."""
        spectrum = ctx.tensors["spectrum"]
        masks = masks.to(spectrum.real.dtype)
        if self.family == "grid":
            g = self.grid_size
            m = upsample_masks(masks.view(-1, g, g), ctx.size)
        else:
            m = masks[:, ctx.tensors["rings"]].unsqueeze(1)
        return inverse_centred_spectrum(spectrum * m)

    def settings(self) -> dict:
        """``grid_size``, ``family``."""
        return {"grid_size": self.grid_size, "family": self.family}


class SpatialPerturbation:
    """Fel et al. (2021): a ``g x g`` grid over the image, ``x m + (1 - m) x0``.

    ``baseline="zero"`` inpaints towards black (``x0 = 0``, i.e. ``x m``);
    ``"blur"`` towards a Gaussian-blurred copy (``blur_sigma`` in pixels).

    Context keys: ``"image"`` (``(1, C, H, W)``) and, for ``"blur"``,
    ``"baseline"`` (the blurred copy, same shape).

    Raises
    ------
    ValueError
        ``grid_size`` not a positive integer, or an unknown baseline.
    """

    affine = True  # x(m) = x(0) + sum_i m_i b_i: enables the row-update path of the engine

    def __init__(self, grid_size: int = 28, baseline: str = "zero", blur_sigma: float = 10.0):
        check_grid(grid_size, "cells")
        if baseline not in ("zero", "blur"):
            raise ValueError(f"unknown baseline {baseline!r}; choose 'zero' or 'blur'")
        self.grid_size = int(grid_size)
        self.baseline = baseline
        self.blur_sigma = float(blur_sigma)

    @property
    def dim(self) -> int:
        """``d = g^2`` cells."""
        return self.grid_size ** 2

    def prepare(self, image: torch.Tensor) -> PerturbationContext:
        """Keep the ``(C, H, W)`` image (and its blurred copy for ``baseline="blur"``)."""
        image = check_images(image, "image", single="only")  # (C, H, W), channels first
        from torchvision.transforms.v2.functional import gaussian_blur

        x = image.unsqueeze(0)
        tensors = {"image": x}
        if self.baseline == "blur":
            k = 2 * math.ceil(3 * self.blur_sigma) + 1
            tensors["baseline"] = gaussian_blur(x, [k, k], [self.blur_sigma, self.blur_sigma])
        return PerturbationContext(tuple(image.shape[-2:]), tensors)

    def __call__(self, ctx: PerturbationContext, masks: torch.Tensor) -> torch.Tensor:
        """``(b, d)`` masks in ``[0, 1]`` → ``(b, C, H, W)``: ``x0 + (x - x0) m``, ``m`` upsampled (nearest)."""
        x = ctx.tensors["image"]
        g = self.grid_size
        m = upsample_masks(masks.view(-1, g, g).to(x.dtype), ctx.size)
        if "baseline" in ctx.tensors:
            return ctx.tensors["baseline"] + (x - ctx.tensors["baseline"]) * m
        return x * m

    def supports(self, ctx: PerturbationContext) -> np.ndarray:
        """``(d, 4)`` image boxes ``[r0, r1, c0, c1)``: each cell's own pixels."""
        g = self.grid_size
        rows, cols = cell_ranges(g, ctx.size[0]), cell_ranges(g, ctx.size[1])
        return np.array([[*rows[c // g], *cols[c % g]] for c in range(g * g)], dtype=np.int64)

    def settings(self) -> dict:
        """``grid_size``, ``baseline``, ``blur_sigma``."""
        return {"grid_size": self.grid_size, "baseline": self.baseline, "blur_sigma": self.blur_sigma}


def cell_ranges(cells: int, length: int) -> np.ndarray:
    """``(cells, 2)`` ``int64`` ranges ``[start, stop)`` of each cell along one axis.

    Cell ``c`` of ``cells`` covers the ``length`` positions that the
    nearest upsampling of :func:`~spectral_attribution.attributions.transforms.upsample_masks`
    maps to it: position ``p`` belongs to cell ``floor((p + 0.5) cells / length)``.
    Cells are contiguous and cover ``0..length``; one may be empty when
    ``cells > length``.
    """
    src = np.minimum(np.floor((np.arange(length) + 0.5) * cells / length).astype(int), cells - 1)
    starts = np.searchsorted(src, np.arange(cells), side="left")
    stops = np.searchsorted(src, np.arange(cells), side="right")
    return np.stack([starts, stops], axis=1)


def check_grid(grid_size, family: str = "cells") -> int:
    """``grid_size`` as an int; ``ValueError`` unless it is a positive integer whose design fits
    SciPy's Sobol' dimensions for ``family`` (``"cells"``: ``g^2`` inputs, ``"rings"``: ``g``);
    see :func:`spectral_attribution._utils.parameters.check_grid_size`."""
    return parameters.check_grid_size(grid_size, family)


#: Methods whose ``indices`` live on a ``g x g`` grid over the dyadic wavelet
#: layout: the WCAM's Sobol' indices, the WAM's pooled gradients.
WAVELET_METHODS = ("wcam", "wam")


def wavelet_perturbation_for(explanation) -> WaveletPerturbation:
    """The :class:`WaveletPerturbation` of a WCAM's (or a WAM's) grid.

    Rebuilt from ``explanation.settings`` (``wavelet`` (default ``"haar"``),
    ``levels``, ``grid_size``, ``drop_approximation`` (default false)). For a
    WAM it is the perturbation whose cells its pooled ``indices`` sum over,
    so the faithfulness metrics remove the same coefficients for both.

    Raises
    ------
    ValueError
        Not a WCAM or WAM explanation, or settings without ``levels`` /
        ``grid_size``.
    """
    if getattr(explanation, "method", "wcam") not in WAVELET_METHODS:
        raise ValueError(f"expected a WCAM or WAM explanation, got method {explanation.method!r}")
    s = explanation.settings
    try:
        return WaveletPerturbation(s.get("wavelet", "haar"), int(s["levels"]), int(s["grid_size"]),
                                   bool(s.get("drop_approximation", False)))
    except KeyError as err:
        raise ValueError(f"explanation settings lack {err}; cannot rebuild its perturbation") from None


def spatial_perturbation_for(explanation) -> SpatialPerturbation:
    """The :class:`SpatialPerturbation` a spatial Sobol' explanation was made with.

    Rebuilt from ``explanation.settings`` (``grid_size``; ``baseline``,
    default ``"zero"``; ``blur_sigma``, default 10).

    Raises
    ------
    ValueError
        Not a spatial Sobol' explanation.
    """
    if getattr(explanation, "method", "spatial-sobol") != "spatial-sobol":
        raise ValueError(f"expected a spatial Sobol' explanation, got method {explanation.method!r}")
    s = explanation.settings
    return SpatialPerturbation(int(s["grid_size"]), s.get("baseline", "zero"),
                               float(s.get("blur_sigma", 10.0)))


def perturbation_for(explanation):
    """The perturbation an explanation was made with, by its ``method``.

    ``"wcam"``, ``"wam"``: :func:`wavelet_perturbation_for`; ``"spatial-sobol"``:
    :func:`spatial_perturbation_for`; ``"fourier-cam"``: a
    :class:`FourierPerturbation` of the recorded ``grid_size`` and ``family``.

    Raises
    ------
    ValueError
        Unknown method.
    """
    method = getattr(explanation, "method", None)
    if method in WAVELET_METHODS:
        return wavelet_perturbation_for(explanation)
    if method == "spatial-sobol":
        return spatial_perturbation_for(explanation)
    if method == "fourier-cam":
        s = explanation.settings
        return FourierPerturbation(int(s["grid_size"]), s.get("family", "circle"))
    raise ValueError(f"no perturbation known for method {method!r}")

"""WCAM, Fourier-CAM and spatial Sobol' attribution: the batched engine.

All three explainers share one loop (:class:`SobolAttribution`): a Sobol'
design from :mod:`spectral_attribution.sobol` is generated one batch of rows
at a time, each row (a mask of ``d`` values in ``[0, 1]``) is applied to the
image by a *perturbation*, the model scores the perturbed batch, and the
outputs go to a total-index estimator. Only the perturbation differs:

===================  =============================================  =========================
explainer            perturbation                                   paper
===================  =============================================  =========================
:class:`WCAM`        ``g x g`` grid over the dyadic wavelet layout   Kasmi et al. (2023)
:class:`FourierCAM`  grid / square rings / circular rings over the   Kasmi et al. (2023)
                     centred Fourier spectrum
:class:`SpatialSobol`  ``g x g`` grid over the image, towards 0 or   Fel et al. (NeurIPS 2021)
                     a blurred copy
===================  =============================================  =========================

Images are perturbed in pixel space (``[0, 1]`` floats, before the model's
normalisation, no 8-bit round trip), on the model's device, a batch at a
time: peak memory is that of one batch whatever the number of designs.

The same design (one ``seed``) is used for every image of a call, so maps of
different images are directly comparable; the seed is recorded in
``Explanation.settings``.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import __version__
from .models import as_wrapper
from .sobol import ESTIMATORS, SobolDesign, total_indices
from .transforms import (
    SubBand,
    WaveletTransform,
    centred_spectrum,
    inverse_centred_spectrum,
    ring_index,
    upsample_masks,
)

__all__ = [
    "Explanation",
    "WaveletPerturbation",
    "FourierPerturbation",
    "SpatialPerturbation",
    "SobolAttribution",
    "WCAM",
    "WaveletSobol",
    "FourierCAM",
    "SpatialSobol",
]


# --------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------
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
        settings). Written to a temporary file then renamed, so a partial file
        never exists under ``path``."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"indices": self.indices, "map": self.map,
                  "meta": np.array(json.dumps(self._meta()))}
        if self.spatial is not None:
            arrays["spatial"] = self.spatial
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        tmp.replace(path)
        return path

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


# --------------------------------------------------------------------------
# Perturbations
# --------------------------------------------------------------------------
@dataclass
class _Context:
    size: tuple[int, int]
    tensors: dict[str, torch.Tensor]


class WaveletPerturbation:
    """Masks on a ``g x g`` grid over the dyadic wavelet layout.

    The mask is upsampled (nearest) to the layout, multiplied with the
    coefficients of every channel, and the image is the inverse transform.

    Parameters
    ----------
    wavelet, levels:
        See :class:`~spectral_attribution.transforms.WaveletTransform`.
    grid_size:
        ``g``: the design has ``d = g^2`` inputs.
    drop_approximation:
        Set the approximation coefficients to 0 in every perturbation (the
        cells over them then get zero indices).
    """

    affine = True  # x(m) = x(0) + sum_i m_i b_i: enables the row-update path of the engine

    def __init__(self, wavelet: str = "haar", levels: int = 3, grid_size: int = 28,
                 drop_approximation: bool = False):
        _check_grid(grid_size)
        self.transform = WaveletTransform(wavelet, levels)
        self.grid_size = int(grid_size)
        self.drop_approximation = bool(drop_approximation)

    @property
    def dim(self) -> int:
        return self.grid_size ** 2

    def prepare(self, image: torch.Tensor) -> _Context:
        """Precompute the coefficient layout of one ``(C, H, W)`` image."""
        size = tuple(image.shape[-2:])
        layout = self.transform.forward(image.unsqueeze(0))
        tensors = {"layout": layout}
        if self.drop_approximation:
            keep = torch.ones_like(layout[:, :1])
            approx = self.transform.subbands(*size)[0]
            keep[..., approx.slices[0], approx.slices[1]] = 0
            tensors["keep"] = keep
        return _Context(size, tensors)

    def __call__(self, ctx: _Context, masks: torch.Tensor) -> torch.Tensor:
        """``(b, d)`` masks in ``[0, 1]`` → ``(b, C, H, W)`` perturbed images."""
        layout = ctx.tensors["layout"]
        g = self.grid_size
        m = upsample_masks(masks.view(-1, g, g).to(layout.dtype), layout.shape[-2:])
        if "keep" in ctx.tensors:
            m = m * ctx.tensors["keep"]
        return self.transform.inverse(layout * m, ctx.size)

    def supports(self, ctx: _Context) -> np.ndarray | None:
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
        rows, cols = _cell_ranges(g, layout_h), _cell_ranges(g, layout_w)
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
        return {"wavelet": self.transform.wavelet, "levels": self.transform.levels,
                "grid_size": self.grid_size, "drop_approximation": self.drop_approximation}


class FourierPerturbation:
    """Masks on the centred Fourier spectrum of every channel.

    Families: ``"grid"`` (``g x g`` cells, ``d = g^2``), ``"square"`` and
    ``"circle"`` (``g`` concentric rings around the zero frequency, ``d = g``;
    see :func:`~spectral_attribution.transforms.ring_index`). The perturbed
    image is the real part of the inverse transform (a non-symmetric mask
    makes the inverse complex; its imaginary part is dropped).
    """

    affine = True  # x(m) = x(0) + sum_i m_i b_i: enables the row-update path of the engine

    FAMILIES = ("grid", "square", "circle")

    def __init__(self, grid_size: int = 28, family: str = "circle"):
        _check_grid(grid_size)
        if family not in self.FAMILIES:
            raise ValueError(f"unknown Fourier mask family {family!r}; choose one of {self.FAMILIES}")
        self.grid_size = int(grid_size)
        self.family = family

    @property
    def dim(self) -> int:
        return self.grid_size ** 2 if self.family == "grid" else self.grid_size

    def prepare(self, image: torch.Tensor) -> _Context:
        size = tuple(image.shape[-2:])
        tensors = {"spectrum": centred_spectrum(image.unsqueeze(0))}
        if self.family != "grid":
            tensors["rings"] = ring_index(*size, self.grid_size, self.family, device=image.device)
        return _Context(size, tensors)

    def __call__(self, ctx: _Context, masks: torch.Tensor) -> torch.Tensor:
        spectrum = ctx.tensors["spectrum"]
        masks = masks.to(spectrum.real.dtype)
        if self.family == "grid":
            g = self.grid_size
            m = upsample_masks(masks.view(-1, g, g), ctx.size)
        else:
            m = masks[:, ctx.tensors["rings"]].unsqueeze(1)
        return inverse_centred_spectrum(spectrum * m)

    def settings(self) -> dict:
        return {"grid_size": self.grid_size, "family": self.family}


class SpatialPerturbation:
    """Fel et al. (2021): a ``g x g`` grid over the image, ``x m + (1 - m) x0``.

    ``baseline="zero"`` inpaints towards black (``x0 = 0``, i.e. ``x m``);
    ``"blur"`` towards a Gaussian-blurred copy (``blur_sigma`` in pixels).
    """

    affine = True  # x(m) = x(0) + sum_i m_i b_i: enables the row-update path of the engine

    def __init__(self, grid_size: int = 28, baseline: str = "zero", blur_sigma: float = 10.0):
        _check_grid(grid_size)
        if baseline not in ("zero", "blur"):
            raise ValueError(f"unknown baseline {baseline!r}; choose 'zero' or 'blur'")
        self.grid_size = int(grid_size)
        self.baseline = baseline
        self.blur_sigma = float(blur_sigma)

    @property
    def dim(self) -> int:
        return self.grid_size ** 2

    def prepare(self, image: torch.Tensor) -> _Context:
        from torchvision.transforms.v2.functional import gaussian_blur

        x = image.unsqueeze(0)
        tensors = {"image": x}
        if self.baseline == "blur":
            k = 2 * math.ceil(3 * self.blur_sigma) + 1
            tensors["baseline"] = gaussian_blur(x, [k, k], [self.blur_sigma, self.blur_sigma])
        return _Context(tuple(image.shape[-2:]), tensors)

    def __call__(self, ctx: _Context, masks: torch.Tensor) -> torch.Tensor:
        x = ctx.tensors["image"]
        g = self.grid_size
        m = upsample_masks(masks.view(-1, g, g).to(x.dtype), ctx.size)
        if "baseline" in ctx.tensors:
            return ctx.tensors["baseline"] + (x - ctx.tensors["baseline"]) * m
        return x * m

    def supports(self, ctx: _Context) -> np.ndarray:
        """``(d, 4)`` image boxes ``[r0, r1, c0, c1)``: each cell's own pixels."""
        g = self.grid_size
        rows, cols = _cell_ranges(g, ctx.size[0]), _cell_ranges(g, ctx.size[1])
        return np.array([[*rows[c // g], *cols[c % g]] for c in range(g * g)], dtype=np.int64)

    def settings(self) -> dict:
        return {"grid_size": self.grid_size, "baseline": self.baseline, "blur_sigma": self.blur_sigma}


def _cell_ranges(cells: int, length: int) -> np.ndarray:
    """``(cells, 2)`` pixel ranges of each cell of a nearest-exact upsampling to ``length``."""
    src = np.minimum(np.floor((np.arange(length) + 0.5) * cells / length).astype(int), cells - 1)
    starts = np.searchsorted(src, np.arange(cells), side="left")
    stops = np.searchsorted(src, np.arange(cells), side="right")
    return np.stack([starts, stops], axis=1)


def _disjoint_groups(supports: np.ndarray) -> list[list[int]]:
    """Greedy colouring of cells so that the boxes in a group never overlap.

    ``supports`` is ``(d, 4)`` ``[r0, r1, c0, c1)`` boxes; empty boxes are left out.
    """
    groups: list[list[int]] = []
    occupied: list[np.ndarray] = []
    height = int(supports[:, 1].max(initial=0))
    width = int(supports[:, 3].max(initial=0))
    for cell, (r0, r1, c0, c1) in enumerate(supports):
        if r1 <= r0 or c1 <= c0:
            continue
        for g, occ in enumerate(occupied):
            if not occ[r0:r1, c0:c1].any():
                groups[g].append(cell)
                occ[r0:r1, c0:c1] = True
                break
        else:
            occ = np.zeros((height, width), bool)
            occ[r0:r1, c0:c1] = True
            occupied.append(occ)
            groups.append([cell])
    return groups


def _check_grid(grid_size) -> None:
    if int(grid_size) != grid_size or grid_size < 1:
        raise ValueError(f"grid_size must be a positive integer, got {grid_size!r}")


# --------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------
_AUTOCAST = {None: None, "none": None, "float32": None, "bfloat16": torch.bfloat16,
             "float16": torch.float16}


class SobolAttribution:
    """Sobol' total indices of a perturbation's inputs, batched on the model's device.

    Parameters
    ----------
    model:
        A :class:`~spectral_attribution.models.ModelWrapper`, or a bare
        ``nn.Module`` that already takes ``[0, 1]`` images. Put in eval mode;
        gradients are never computed and the weights are never changed.
    perturbation:
        One of :class:`WaveletPerturbation`, :class:`FourierPerturbation`,
        :class:`SpatialPerturbation` (anything with ``dim``, ``prepare`` and
        ``__call__``).
    nb_design:
        ``n``, a power of two (8 in the paper). Cost: ``n (d + 2)`` forward
        passes per image.
    seed:
        Seed of the scrambled Sobol' sequence (recorded in the settings).
    estimator:
        ``"jansen"`` (default), ``"homma"``, ``"janon"``, ``"glen"``, ``"saltelli"``.
    batch_size:
        Perturbed images per forward pass. Does not change the result
        beyond float rounding.
    device:
        Where to run; defaults to the model's device.
    autocast:
        ``None`` (float32), ``"bfloat16"`` or ``"float16"``: autocast of the
        forward passes only (perturbations and estimation stay in float32 /
        float64).
    channels_last:
        Run the network and its inputs in ``torch.channels_last`` memory
        format (converts the model's parameters in place).
    progress:
        Show a tqdm bar; ``None`` shows it only when stderr is a terminal.

    Raises
    ------
    ValueError
        ``nb_design`` not a power of two, unknown estimator or autocast dtype,
        ``batch_size < 1``.
    """

    method = "sobol"

    def __init__(self, model: nn.Module, perturbation, nb_design: int = 8, seed: int = 0,
                 estimator: str = "jansen", batch_size: int = 64, device=None,
                 autocast: str | None = None, channels_last: bool = False,
                 progress: bool | None = None):
        if estimator not in ESTIMATORS:
            raise ValueError(f"unknown estimator {estimator!r}; choose one of {sorted(ESTIMATORS)}")
        if autocast not in _AUTOCAST:
            raise ValueError(f"autocast must be one of {[k for k in _AUTOCAST if k]}, or None; got {autocast!r}")
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.model = as_wrapper(model)
        self.model.eval()
        self.device = torch.device(device) if device is not None else self.model.device
        self.model.to(self.device)
        self.channels_last = bool(channels_last)
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.perturbation = perturbation
        self.design = SobolDesign.create(perturbation.dim, nb_design, seed)
        self.estimator = estimator
        self.batch_size = int(batch_size)
        self.autocast = autocast if _AUTOCAST[autocast] is not None else None
        self.progress = progress

    @property
    def nb_forward(self) -> int:
        """Forward passes per image: ``n (d + 2)``."""
        return self.design.size

    # -- model calls ------------------------------------------------------
    def _autocast_ctx(self):
        dtype = _AUTOCAST[self.autocast]
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=dtype)

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), self._autocast_ctx():
            return self.model(x).float()

    # -- public call ------------------------------------------------------
    def __call__(self, images: torch.Tensor, targets=None) -> list[Explanation]:
        """Explain a batch of images.

        Parameters
        ----------
        images:
            ``(B, C, H, W)`` (or one ``(C, H, W)``) float tensor in ``[0, 1]``;
            any size, non-square included.
        targets:
            ``None`` (explain the predicted class), one ``int`` for all images,
            or a sequence of ``B`` ints in ``[0, K)``.

        Returns
        -------
        list[Explanation]
            One per image, in order.

        Raises
        ------
        ValueError
            Wrong image shape, values far outside ``[0, 1]``, or a target
            outside the model's ``K`` classes (the value is named).
        """
        images = torch.as_tensor(images)
        if images.ndim == 3:
            images = images.unsqueeze(0)
        if images.ndim != 4 or not images.is_floating_point():
            raise ValueError(f"images must be a float (B, C, H, W) tensor, got {images.dtype} {tuple(images.shape)}")
        lo, hi = float(images.min()), float(images.max())
        if lo < -1e-3 or hi > 1 + 1e-3:
            raise ValueError(f"images must be pixel values in [0, 1] (before normalisation); got range [{lo:.3g}, {hi:.3g}]")
        targets = self._targets(targets, len(images))
        return [self.explain_one(img, t) for img, t in zip(images, targets)]

    attribute = __call__  # captum-style name

    def _targets(self, targets, count: int) -> list[int | None]:
        if targets is None:
            return [None] * count
        if isinstance(targets, (int, np.integer)):
            return [int(targets)] * count
        targets = [int(t) for t in torch.as_tensor(targets).reshape(-1).tolist()]
        if len(targets) != count:
            raise ValueError(f"got {len(targets)} targets for {count} images")
        return targets

    def explain_one(self, image: torch.Tensor, target: int | None = None) -> Explanation:
        """Explain one ``(C, H, W)`` image; see :meth:`__call__`."""
        image = image.to(self.device, torch.float32)
        clean = self._logits(image.unsqueeze(0))[0]
        nb_classes = clean.shape[-1]
        predicted = int(clean.argmax())
        if target is None:
            target = predicted
        if not 0 <= target < nb_classes:
            raise ValueError(f"target {target} is outside the model's {nb_classes} classes [0, {nb_classes})")
        ctx = self.perturbation.prepare(image)
        y = self._design_scores(ctx, target)
        st = total_indices(y, self.design.nb_design, self.design.dim, self.estimator)
        g = self.perturbation.grid_size
        st = st.float().cpu().numpy()
        if st.size == g * g:
            st = st.reshape(g, g)
        return self._finish(st, ctx, image, target, predicted, clean)

    def _design_scores(self, ctx, target: int) -> torch.Tensor:
        from tqdm.auto import tqdm

        size = self.design.size
        show = self.progress if self.progress is not None else sys.stderr.isatty()
        y = torch.empty(size, dtype=torch.float64)
        cache = self._start_image(ctx)
        with tqdm(total=size, disable=not show, unit="img", desc=self.method, leave=False) as bar:
            for start in range(0, size, self.batch_size):
                stop = min(start + self.batch_size, size)
                batch = self._perturbed_rows(ctx, cache, start, stop)
                y[start:stop] = self._logits(batch)[:, target].double().cpu()
                bar.update(stop - start)
        return y

    # -- perturbed images of the design rows --------------------------------
    # Every perturbation here is affine in its mask: x(m) = x(0) + sum_i m_i b_i,
    # with b_i the image of cell i alone. Row C_i[k] differs from row A[k] in
    # cell i only, so x(C_i[k]) = x(A[k]) + (B[k, i] - A[k, i]) b_i: a copy of
    # a cached image plus an update restricted to the support of b_i (a small
    # patch for Haar wavelets and the spatial grid), instead of a full inverse
    # transform per row. Per image, the n images x(A[k]) are computed once, and
    # so are the b_i: cells whose supports do not overlap share one inverse
    # transform (their b_i are cut out of it), so a 28 x 28 Haar WCAM needs a
    # few dozen inverse transforms for its 784 cells.
    def _start_image(self, ctx) -> dict | None:
        if not getattr(self.perturbation, "affine", False):
            return None
        x_a = self._perturb_chunked(ctx, torch.from_numpy(self.design.a))
        x_0 = self.perturbation(ctx, torch.zeros(1, self.design.dim, device=self.device))
        cache = {"x_a": x_a, "x_0": x_0, "patches": {}}
        supports = self.perturbation.supports(ctx) if hasattr(self.perturbation, "supports") else None
        if supports is not None:
            cache["patches"] = self._cell_patches(ctx, x_0, supports)
        return cache

    def _perturb_chunked(self, ctx, masks: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.perturbation(ctx, masks[i:i + self.batch_size].to(self.device))
                          for i in range(0, len(masks), self.batch_size)])

    def _cell_patches(self, ctx, x_0, supports: np.ndarray) -> dict:
        """``{cell: (patch (C, h, w), (r0, r1, c0, c1))}`` for cells with a non-empty support."""
        groups = _disjoint_groups(supports)
        masks = torch.zeros(len(groups), self.design.dim)
        for g, cells in enumerate(groups):
            masks[g, cells] = 1
        patches = {}
        for start in range(0, len(groups), self.batch_size):
            images = self._perturb_chunked(ctx, masks[start:start + self.batch_size]) - x_0
            for g, cells in enumerate(groups[start:start + self.batch_size]):
                for cell in cells:
                    r0, r1, c0, c1 = (int(v) for v in supports[cell])
                    patches[cell] = (images[g, :, r0:r1, c0:c1].clone(), (r0, r1, c0, c1))
        return patches

    def _patches_for(self, ctx, cache, cells: np.ndarray) -> dict:
        """Patches of ``cells``: cached, or (no known supports) cut out of b_i by its non-zero box."""
        missing = [int(c) for c in cells if int(c) not in cache["patches"]]
        if missing:
            onehot = torch.zeros(len(missing), self.design.dim)
            onehot[torch.arange(len(missing)), torch.tensor(missing)] = 1
            basis = self._perturb_chunked(ctx, onehot) - cache["x_0"]
            support = (basis.abs().amax(dim=1) > 0).cpu()          # (u, H, W)
            rows_any, cols_any = support.any(dim=2), support.any(dim=1)
            found = {}
            for u, cell in enumerate(missing):
                r = torch.nonzero(rows_any[u]).flatten()
                c = torch.nonzero(cols_any[u]).flatten()
                if len(r) == 0:  # the cell changes nothing (e.g. a dropped approximation)
                    found[cell] = None
                    continue
                box = (int(r[0]), int(r[-1]) + 1, int(c[0]), int(c[-1]) + 1)
                found[cell] = (basis[u, :, box[0]:box[1], box[2]:box[3]], box)
            # Only perturbations without known supports land here, and their
            # patches are usually whole images: keep them for this batch only.
            return {**cache["patches"], **found}
        return cache["patches"]

    def _perturbed_rows(self, ctx, cache, start: int, stop: int) -> torch.Tensor:
        """Perturbed images ``(stop - start, C, H, W)`` of design rows ``start:stop``.

        With a cache the result is a view into a buffer that the next call
        overwrites: consume it (or copy it) first.
        """
        if cache is None:
            return self.perturbation(ctx, torch.from_numpy(self.design.rows(start, stop)).to(self.device))
        n = self.design.nb_design
        block, k = np.divmod(np.arange(start, stop), n)
        # Every row starts as a copy of x(A[k]), written into one buffer reused
        # across batches (fresh 40 MB allocations cost page faults on the CPU).
        buffer = cache.get("buffer")
        if buffer is None or buffer.shape[0] < stop - start:
            buffer = cache["buffer"] = torch.empty(
                (self.batch_size, *cache["x_a"].shape[1:]), dtype=cache["x_a"].dtype, device=self.device)
        out = buffer[: stop - start]
        torch.index_select(cache["x_a"], 0, torch.from_numpy(k).to(self.device), out=out)
        is_b = block == 1
        if is_b.any():
            # B rows share nothing with A rows: perturbed directly (n rows per image).
            pos = np.flatnonzero(is_b)
            out[pos] = self.perturbation(ctx, torch.from_numpy(self.design.b[k[pos]]).to(self.device))
        cells = np.unique(block[block >= 2] - 2)
        patches = self._patches_for(ctx, cache, cells)
        a, b = self.design.a, self.design.b
        for cell in cells:
            entry = patches.get(int(cell))
            if entry is None:
                continue
            patch, (r0, r1, c0, c1) = entry
            pos = np.flatnonzero(block == cell + 2)
            delta = torch.from_numpy(b[k[pos], cell] - a[k[pos], cell]).to(self.device, out.dtype)
            rows = out[pos[0]:pos[-1] + 1]  # a C_i block is contiguous: a view, updated in place
            rows[:, :, r0:r1, c0:c1] += delta.view(-1, 1, 1, 1) * patch
        return out

    def settings(self) -> dict:
        return {"method": self.method, **self.perturbation.settings(),
                "nb_design": self.design.nb_design, "seed": self.design.seed,
                "estimator": self.estimator, "batch_size": self.batch_size,
                "autocast": self.autocast, "channels_last": self.channels_last,
                "device": str(self.device), "model": self.model.name,
                "nb_forward": self.nb_forward, "version": __version__}

    def _finish(self, st, ctx, image, target, predicted, clean) -> Explanation:
        size = tuple(image.shape[-2:])
        grid_map = self._map(st, ctx)
        return Explanation(
            method=self.method, indices=st, map=grid_map,
            spatial=self._spatial(grid_map, size), target=int(target),
            predicted=predicted, score=float(clean[target]),
            predicted_score=float(clean[predicted]),
            settings={**self.settings(), "image_size": list(size),
                      "map_size": list(grid_map.shape)},
        )

    def _map(self, st: np.ndarray, ctx) -> np.ndarray:
        g = self.perturbation.grid_size
        domain = self._domain_shape(ctx)
        grid = torch.from_numpy(np.ascontiguousarray(st).reshape(1, g, g))
        return upsample_masks(grid, domain)[0, 0].numpy()

    def _domain_shape(self, ctx) -> tuple[int, int]:
        return ctx.size

    def _spatial(self, grid_map: np.ndarray, size) -> np.ndarray | None:
        return None


class WCAM(SobolAttribution):
    """Wavelet class activation map (Kasmi et al., 2023).

    Sobol' total indices of a ``g x g`` grid of masks over the dyadic layout
    of the ``J``-level wavelet transform of the image.

    Parameters
    ----------
    model:
        Classifier taking ``[0, 1]`` images (see :class:`SobolAttribution`).
    grid_size:
        ``g`` (28 in the paper; 32 aligns cells with the sub-bands of a 224-px
        image at ``J <= 3``).
    nb_design:
        ``n``, a power of two (8 in the paper): ``n (g^2 + 2)`` forward passes.
    levels:
        ``J`` (3; 4 in the zoom study).
    wavelet:
        Any discrete PyWavelets wavelet (``"haar"`` default).
    drop_approximation:
        Mask the approximation coefficients to 0 in every design.
    **kwargs:
        ``seed``, ``estimator``, ``batch_size``, ``device``, ``autocast``,
        ``channels_last``, ``progress``: see :class:`SobolAttribution`.

    Examples
    --------
    >>> wcam = WCAM(load_model("efficientnet-lite0"), grid_size=28, nb_design=8)
    >>> [explanation] = wcam(image[None])          # image: (3, 224, 224) in [0, 1]
    >>> explanation.indices.shape, explanation.map.shape, explanation.spatial.shape
    ((28, 28), (224, 224), (224, 224))
    """

    method = "wcam"

    def __init__(self, model: nn.Module, grid_size: int = 28, nb_design: int = 8,
                 levels: int = 3, wavelet: str = "haar", drop_approximation: bool = False,
                 **kwargs: Any):
        super().__init__(model, WaveletPerturbation(wavelet, levels, grid_size, drop_approximation),
                         nb_design=nb_design, **kwargs)

    def _domain_shape(self, ctx) -> tuple[int, int]:
        return tuple(ctx.tensors["layout"].shape[-2:])

    def _spatial(self, grid_map: np.ndarray, size) -> np.ndarray:
        transform = self.perturbation.transform
        padded = transform.padded_shape(*size)
        wcam = torch.from_numpy(grid_map)
        total = torch.zeros(padded, dtype=torch.float32)
        for band in transform.subbands(*size):
            block = wcam[band.slices[0], band.slices[1]][None, None]
            total += F.interpolate(block, size=padded, mode="bilinear", align_corners=False)[0, 0]
        return total[: size[0], : size[1]].numpy()


#: The name used in the paper's code.
WaveletSobol = WCAM


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

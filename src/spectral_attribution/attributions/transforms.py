"""Batched wavelet and Fourier transforms, the dyadic layout, mask upsampling.

Everything here works on ``(B, C, H, W)`` float tensors on any device and keeps
the batch on that device: no NumPy, PIL or per-image loop in the hot path.

Wavelets
--------
:class:`WaveletTransform` computes a ``J``-level 2-D discrete wavelet
transform of every channel and lays the coefficients out as one array per
channel in PyWavelets' dyadic layout (``pywt.coeffs_to_array``): the
approximation block top left; at each level the horizontal detail bottom
left, the vertical detail top right and the diagonal detail bottom right.

* Haar (the default) uses an exact fast path written here (strided slices,
  sums and differences); it matches ``pywt.wavedec2(..., "haar")`` to float
  rounding (see the tests).
* Any other discrete wavelet known to PyWavelets goes through ``ptwt``
  (``ptwt.wavedec2`` / ``ptwt.waverec2``, boundary mode ``"symmetric"``, the
  PyWavelets default), so coefficient blocks are a little larger than
  ``H / 2^j`` and the layout is larger than the image, exactly like
  ``pywt.coeffs_to_array``.

Sizes: before the transform the image is padded at the bottom and on the
right, by edge replication, to the next multiple of ``2^J`` in each
direction; after the inverse transform the padding is cropped away. For Haar
the layout therefore has the padded size, e.g. ``224 x 224`` for a 224-px
image at ``J = 3`` and ``232 x 304`` for a ``225 x 300`` image.

Fourier
-------
:func:`centred_spectrum` / :func:`inverse_centred_spectrum` wrap
``torch.fft.fft2`` with ``fftshift``; the inverse keeps the real part (the
original code took the modulus, which loses the sign).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F

from spectral_attribution._utils.checks import check_images
from spectral_attribution._utils.parameters import check_levels, check_wavelet

__all__ = [
    "SubBand",
    "WaveletTransform",
    "upsample_masks",
    "pool_on_grid",
    "spatial_projection",
    "centred_spectrum",
    "inverse_centred_spectrum",
    "ring_index",
]


@dataclass(frozen=True)
class SubBand:
    """One block of the dyadic layout.

    Attributes
    ----------
    name:
        ``"approximation"`` or ``"horizontal"``, ``"vertical"``, ``"diagonal"``.
    level:
        Decomposition level: ``J`` for the approximation and the coarsest
        details, ``1`` for the finest details.
    rows, cols:
        ``(start, stop)`` pixel ranges of the block in the layout.
    """

    name: str
    level: int
    rows: tuple[int, int]
    cols: tuple[int, int]

    @property
    def size(self) -> int:
        """Number of coefficients in the block (per channel)."""
        return (self.rows[1] - self.rows[0]) * (self.cols[1] - self.cols[0])

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(*self.rows), slice(*self.cols)


def _haar_step(x: torch.Tensor):
    a = x[..., 0::2, 0::2]
    b = x[..., 0::2, 1::2]
    c = x[..., 1::2, 0::2]
    d = x[..., 1::2, 1::2]
    return ((a + b + c + d) * 0.5, (a + b - c - d) * 0.5,
            (a - b + c - d) * 0.5, (a - b - c + d) * 0.5)


def _haar_step_inverse(ca, ch, cv, cd):
    # The four pixels of each 2 x 2 block, in pixel_shuffle's channel order
    # (top-left, top-right, bottom-left, bottom-right): one fused interleave
    # instead of four strided writes.
    s1, s2 = ca + ch, ca - ch
    t1, t2 = cv + cd, cv - cd
    quad = torch.stack((s1 + t1, s1 - t1, s2 + t2, s2 - t2), dim=-3).mul_(0.5)
    lead = ca.shape[:-2]
    quad = quad.reshape(-1, 4, *ca.shape[-2:])
    return F.pixel_shuffle(quad, 2).reshape(*lead, 2 * ca.shape[-2], 2 * ca.shape[-1])


class WaveletTransform:
    """``J``-level 2-D DWT of ``(B, C, H, W)`` batches, in the dyadic layout.

    Parameters
    ----------
    wavelet:
        Name of a discrete wavelet known to PyWavelets (``pywt.wavelist(kind=
        "discrete")``), ``"haar"`` by default.
    levels:
        Number of levels ``J >= 1``.
    check_depth:
        Refuse, in :meth:`forward`, more levels than the image allows for the
        wavelet (default). ``False`` computes them anyway, as
        ``pywt.wavedec2`` does with its "level too high" warning: the
        transform stays exactly invertible, but the coarsest coefficients are
        mostly boundary extension (only for studying the transform itself).

    Raises
    ------
    ValueError
        Unknown or continuous wavelet, or ``levels < 1``
        (:mod:`spectral_attribution._utils.parameters`); :meth:`forward` also refuses
        more levels than ``pywt.dwt_max_level`` allows for the image's smaller
        side and the wavelet's filter length (Haar: ``J <= 7`` at 224 px;
        ``db4``: ``J <= 3`` at 64 px), and a channels-last batch.
    """

    def __init__(self, wavelet: str = "haar", levels: int = 3, check_depth: bool = True):
        self.wavelet = check_wavelet(wavelet)
        self.levels = check_levels(levels)
        self.check_depth = bool(check_depth)
        self._haar = wavelet in ("haar", "db1")

    # -- geometry ---------------------------------------------------------
    def padded_shape(self, height: int, width: int) -> tuple[int, int]:
        """Image size after padding to multiples of ``2^J`` (bottom/right)."""
        m = 2 ** self.levels
        return (-(-height // m) * m, -(-width // m) * m)

    def _coeff_shapes(self, height: int, width: int) -> list[tuple[int, int]]:
        """Per-level block shapes, coarsest first: ``[approx, level J, ..., level 1]``."""
        return _coeff_shapes_cached(self.wavelet, self.levels, *self.padded_shape(height, width))

    def layout_shape(self, height: int, width: int) -> tuple[int, int]:
        """Shape ``(Hl, Wl)`` of the dyadic layout of an ``height x width`` image."""
        bands = self.subbands(height, width)
        return (max(b.rows[1] for b in bands), max(b.cols[1] for b in bands))

    def subbands(self, height: int, width: int) -> list[SubBand]:
        """The blocks of the layout, approximation first, then levels ``J .. 1``.

        Within a level the order is horizontal, vertical, diagonal (PyWavelets'
        ``(cH, cV, cD)``).
        """
        shapes = self._coeff_shapes(height, width)
        ha, wa = shapes[0]
        bands = [SubBand("approximation", self.levels, (0, ha), (0, wa))]
        h0, w0 = ha, wa
        for j, (hd, wd) in zip(range(self.levels, 0, -1), shapes[1:]):
            bands += [
                SubBand("horizontal", j, (h0, h0 + hd), (0, wd)),
                SubBand("vertical", j, (0, hd), (w0, w0 + wd)),
                SubBand("diagonal", j, (h0, h0 + hd), (w0, w0 + wd)),
            ]
            h0, w0 = h0 + hd, w0 + wd
        return bands

    # -- transforms -------------------------------------------------------
    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        ph, pw = self.padded_shape(x.shape[-2], x.shape[-1])
        if (ph, pw) == tuple(x.shape[-2:]):
            return x
        return F.pad(x, (0, pw - x.shape[-1], 0, ph - x.shape[-2]), mode="replicate")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Wavelet coefficients of ``x`` in the dyadic layout.

        Parameters
        ----------
        x:
            Float tensor ``(B, C, H, W)`` (any value range; images are
            ``[0, 1]`` pixel values in this package).

        Returns
        -------
        torch.Tensor
            ``(B, C, Hl, Wl)`` with ``(Hl, Wl) = layout_shape(H, W)``, same
            dtype and device as ``x``. Pixels of the layout that belong to no
            block (only with non-Haar wavelets) are 0.
        """
        if x.ndim != 4:
            raise ValueError(f"x has shape {tuple(x.shape)}; expected (B, C, H, W)")
        check_images(x, "x")  # channels first (a channels-last batch is refused, its shape named)
        height, width = x.shape[-2:]
        if self.check_depth:
            check_levels(self.levels, (height, width), wavelet=self.wavelet)
        x = self._pad(x)
        if self._haar:
            coeffs, current = [], x
            for _ in range(self.levels):
                current, ch, cv, cd = _haar_step(current)
                coeffs.append((ch, cv, cd))
            coeffs = [current] + coeffs[::-1]
        else:
            import ptwt

            coeffs = ptwt.wavedec2(x, self.wavelet, level=self.levels, mode="symmetric")
        bands = self.subbands(height, width)
        out = x.new_zeros(*x.shape[:-2], *self.layout_shape(height, width))
        flat = [coeffs[0]] + [c for level in coeffs[1:] for c in level]
        for band, block in zip(bands, flat):
            out[..., band.slices[0], band.slices[1]] = block
        return out

    def inverse(self, layout: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Image from coefficients in the dyadic layout (inverse of :meth:`forward`).

        Parameters
        ----------
        layout:
            ``(B, C, Hl, Wl)`` tensor as returned by :meth:`forward`, possibly
            multiplied by masks.
        size:
            ``(H, W)`` of the original image: the padding is cropped away.

        Returns
        -------
        torch.Tensor
            ``(B, C, H, W)``, same dtype and device. ``inverse(forward(x), x.shape[-2:])``
            equals ``x`` to float rounding.
        """
        height, width = size
        bands = self.subbands(height, width)
        blocks = [layout[..., b.slices[0], b.slices[1]] for b in bands]
        if self._haar:
            current = blocks[0]
            for k in range(self.levels):
                ch, cv, cd = blocks[1 + 3 * k: 4 + 3 * k]
                current = _haar_step_inverse(current, ch, cv, cd)
        else:
            import ptwt

            coeffs = [blocks[0]] + [
                ptwt.WaveletDetailTuple2d(*blocks[1 + 3 * k: 4 + 3 * k])
                if hasattr(ptwt, "WaveletDetailTuple2d") else tuple(blocks[1 + 3 * k: 4 + 3 * k])
                for k in range(self.levels)
            ]
            current = ptwt.waverec2(coeffs, self.wavelet)
        return current[..., :height, :width]

    __call__ = forward


@lru_cache(maxsize=64)
def _coeff_shapes_cached(wavelet: str, levels: int, height: int, width: int):
    import pywt

    if wavelet in ("haar", "db1"):
        shapes = [(height >> levels, width >> levels)]
        shapes += [(height >> j, width >> j) for j in range(levels, 0, -1)]
        return shapes
    # PyWavelets' own size rule for the symmetric mode, level by level.
    filt = pywt.Wavelet(wavelet).dec_len
    sizes, h, w = [], height, width
    for _ in range(levels):
        h = pywt.dwt_coeff_len(h, filt, "symmetric")
        w = pywt.dwt_coeff_len(w, filt, "symmetric")
        sizes.append((h, w))
    return [sizes[-1]] + sizes[::-1]


def upsample_masks(masks: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Nearest-neighbour upsampling of ``(b, g, g)`` (or ``(b, gh, gw)``) masks.

    Returns a ``(b, 1, H, W)`` tensor, ready to broadcast over channels. Uses
    ``"nearest-exact"`` so that, when ``H`` is not a multiple of ``g``, the
    cells' sizes differ by at most one pixel and are placed symmetrically.
    """
    return F.interpolate(masks.unsqueeze(1), size=size, mode="nearest-exact")


def pool_on_grid(layout_map: torch.Tensor, grid_size: int) -> torch.Tensor:
    """Sum a ``(..., Hl, Wl)`` map over the cells of a ``g x g`` grid.

    The adjoint of :func:`upsample_masks`: each position of the layout
    belongs to the cell that ``upsample_masks`` (nearest-exact) copies onto
    it, so ``pool_on_grid(m, g)[i, j]`` sums ``m`` over exactly the
    coefficients that a WCAM's mask cell ``(i, j)`` scales. This is how a
    coefficient-level map (e.g. a WAM's) is compared with a WCAM cell by cell.

    Parameters
    ----------
    layout_map:
        ``(..., Hl, Wl)`` float tensor (any leading dimensions).
    grid_size:
        ``g >= 1``.

    Returns
    -------
    torch.Tensor
        ``(..., g, g)``, same dtype and device; its total equals the map's
        (a cell may be empty, hence 0, when ``g`` exceeds the layout's side).
    """
    g = int(grid_size)
    height, width = layout_map.shape[-2:]
    ids = torch.arange(g * g, dtype=torch.float64, device=layout_map.device).view(1, g, g)
    cell = upsample_masks(ids, (height, width))[0, 0].long().flatten()   # (Hl * Wl,)
    lead = layout_map.shape[:-2]
    flat = layout_map.reshape(-1, height * width)
    out = flat.new_zeros(flat.shape[0], g * g)
    out.index_add_(1, cell, flat)
    return out.reshape(*lead, g, g)


def spatial_projection(layout_map: torch.Tensor, transform: WaveletTransform,
                       size: tuple[int, int]) -> torch.Tensor:
    """Where in the image a map over the dyadic layout lies, across scales.

    The sum, over the sub-bands of ``transform`` at image size ``size``, of
    each band's block of ``layout_map`` resized bilinearly
    (``align_corners=False``) to the padded image, then cropped to ``size``.
    The WCAM's ``spatial`` (Kasmi et al. 2023) and the WAM's are both this
    projection of their ``map``.

    Parameters
    ----------
    layout_map:
        ``(Hl, Wl)`` float tensor with the layout's shape
        (:meth:`WaveletTransform.layout_shape` of ``size``).
    transform:
        The :class:`WaveletTransform` that defines the layout.
    size:
        ``(H, W)`` of the image, in pixels.

    Returns
    -------
    torch.Tensor
        ``(H, W)``, dtype and device of ``layout_map``.
    """
    padded = transform.padded_shape(*size)
    total = layout_map.new_zeros(padded)
    for band in transform.subbands(*size):
        block = layout_map[band.slices[0], band.slices[1]][None, None]
        total += F.interpolate(block, size=padded, mode="bilinear", align_corners=False)[0, 0]
    return total[: size[0], : size[1]]


def centred_spectrum(x: torch.Tensor) -> torch.Tensor:
    """2-D FFT of the last two axes, zero frequency moved to the centre (complex)."""
    return torch.fft.fftshift(torch.fft.fft2(x), dim=(-2, -1))


def inverse_centred_spectrum(spectrum: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`centred_spectrum`, keeping the real part (not the modulus)."""
    return torch.fft.ifft2(torch.fft.ifftshift(spectrum, dim=(-2, -1))).real


def ring_index(height: int, width: int, nb_rings: int, family: str,
               device=None) -> torch.Tensor:
    """Ring number of each frequency of a centred ``height x width`` spectrum.

    Parameters
    ----------
    family:
        ``"square"``: rings of equal width in the Chebyshev distance
        ``max(|u| / (H/2), |v| / (W/2))``; ``"circle"``: rings of equal radial
        width in the Euclidean distance normalised by the distance to the
        corner, so the outer ring reaches the corner.
    nb_rings:
        Number of rings ``g``.

    Returns
    -------
    torch.Tensor
        ``int64`` tensor ``(height, width)`` with values in ``[0, g)``; 0 at
        the zero frequency.
    """
    cu, cv = height // 2, width // 2  # fftshift puts the zero frequency here
    u = (torch.arange(height, device=device, dtype=torch.float64) - cu) / max(height / 2, 1)
    v = (torch.arange(width, device=device, dtype=torch.float64) - cv) / max(width / 2, 1)
    uu, vv = torch.meshgrid(u, v, indexing="ij")
    if family == "square":
        r = torch.maximum(uu.abs(), vv.abs())
        r_max = 1.0
    elif family == "circle":
        r = torch.sqrt(uu ** 2 + vv ** 2)
        r_max = float(r.max())
    else:
        raise ValueError(f"unknown ring family {family!r}; choose 'square' or 'circle'")
    return torch.clamp((r / max(r_max, 1e-12) * nb_rings).long(), 0, nb_rings - 1)

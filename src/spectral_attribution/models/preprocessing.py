"""How a model wants its images: resize, centre crop, mean/std normalisation, interpolation."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from spectral_attribution.models.errors import InputSizeError

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "Preprocessing", "check_input_size", "MAX_PIXELS",
           "MAX_ASPECT", "MIN_SIDE"]

#: Largest ``width * height`` of an image handed to :meth:`Preprocessing.to_tensor`
#: (PIL's decompression-bomb threshold, as for image files).
MAX_PIXELS = 89_478_485
#: Largest ``longer side / shorter side``: resizing the shorter side to the
#: model's input makes the longer one this many times longer.
MAX_ASPECT = 50.0
#: Smallest side, in pixels.
MIN_SIDE = 2


def _size_of(image) -> tuple[int, int] | None:
    """``(width, height)`` of a PIL image, an ``(H, W[, C])`` array or a ``(..., C, H, W)`` tensor."""
    if hasattr(image, "size") and isinstance(getattr(image, "size"), tuple) and len(image.size) == 2:
        return int(image.size[0]), int(image.size[1])  # PIL
    if isinstance(image, torch.Tensor) and image.ndim >= 2:
        return int(image.shape[-1]), int(image.shape[-2])
    shape = getattr(image, "shape", None)  # NumPy: (H, W) or (H, W, C)
    if shape is not None and len(shape) >= 2:
        return int(shape[1]), int(shape[0])
    return None


def check_input_size(image, resize: int | None = None) -> None:
    """Refuse an in-memory image whose preprocessing would allocate without bound.

    The same bounds as image files (:mod:`spectral_attribution.data.decoding`):
    at most :data:`MAX_PIXELS` pixels, an aspect ratio of at most
    :data:`MAX_ASPECT`, sides of at least :data:`MIN_SIDE` pixels.

    Raises
    ------
    InputSizeError
        One line naming the image's size, the limit broken and, for the
        aspect ratio, the size the resize would allocate.
    """
    size = _size_of(image)
    if size is None:
        return
    width, height = size
    what = f"the image is {width} x {height} pixels"
    if width * height > MAX_PIXELS:
        raise InputSizeError(f"{what} ({width * height:,} pixels): more than the limit of "
                             f"{MAX_PIXELS:,} pixels; resize it first")
    if min(width, height) < MIN_SIDE:
        raise InputSizeError(f"{what}: a side is shorter than the minimum of {MIN_SIDE} pixels")
    aspect = max(width, height) / min(width, height)
    if aspect > MAX_ASPECT:
        grown = f" ({resize} x {int(resize * aspect):,} after resizing)" if resize else ""
        raise InputSizeError(f"{what}: aspect ratio {aspect:,.0f}:1 exceeds the limit of "
                             f"{MAX_ASPECT:g}:1{grown}; crop it first")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Preprocessing:
    """How a model wants its images.

    Attributes
    ----------
    resize:
        Length in pixels of the shorter side after resizing, or ``None`` for
        no resize (torchvision ``Resize(int)`` semantics).
    crop:
        Side of the centre crop in pixels, or ``None`` for no crop.
    mean, std:
        Per-channel normalisation applied *inside* the wrapper after the
        perturbation, or ``None`` when the network normalises itself
        (RobustBench models take ``[0, 1]`` inputs).
    interpolation:
        ``"bilinear"`` or ``"bicubic"`` (antialiased, as torchvision's
        ``Resize`` on PIL images).
    """

    resize: int | None = 256
    crop: int | None = 224
    mean: tuple[float, float, float] | None = IMAGENET_MEAN
    std: tuple[float, float, float] | None = IMAGENET_STD
    interpolation: str = "bilinear"

    def to_tensor(self, image) -> torch.Tensor:
        """A PIL RGB image → ``float32`` tensor ``(3, crop, crop)`` in ``[0, 1]``.

        Images smaller than the crop are resized up by the same ``Resize``.
        ``image`` may also be an ``(H, W, 3)`` uint8 array or a ``(3, H, W)``
        tensor. Its size is checked first (:func:`check_input_size`), so an
        image that would need a huge allocation is refused before any.

        Raises
        ------
        InputSizeError
            The image breaks :data:`MAX_PIXELS`, :data:`MAX_ASPECT` or
            :data:`MIN_SIDE` (size and limit named).
        """
        check_input_size(image, self.resize)
        from torchvision.transforms import v2 as T
        from torchvision.transforms.functional import InterpolationMode

        mode = {"bilinear": InterpolationMode.BILINEAR,
                "bicubic": InterpolationMode.BICUBIC}[self.interpolation]
        steps = [T.ToImage()]
        if self.resize is not None:
            steps.append(T.Resize(self.resize, interpolation=mode, antialias=True))
        if self.crop is not None:
            steps.append(T.CenterCrop(self.crop))
        steps.append(T.ToDtype(torch.float32, scale=True))
        return T.Compose(steps)(image)

    def as_dict(self) -> dict:
        return asdict(self)

"""How a model wants its images: resize, centre crop, mean/std normalisation, interpolation."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "Preprocessing"]

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
        """
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

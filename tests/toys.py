"""Tiny classifiers whose attributions are known in advance."""

import torch
import torch.nn.functional as F
from torch import nn


class LowPassModel(nn.Module):
    """Logits depend only on the 8 x 8 block means: the 3-level Haar approximation."""

    def __init__(self, nb_classes: int = 3):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.register_buffer("weight", torch.randn(nb_classes, 3, generator=g))

    def forward(self, x):
        pooled = F.avg_pool2d(x, 8)                      # (B, C, H/8, W/8)
        feats = torch.tanh(pooled * 3).mean(dim=(-2, -1))  # nonlinear, (B, C)
        return feats @ self.weight.T


class RegionModel(nn.Module):
    """Logit ``target`` depends only on the pixels of ``rows x cols``; others are constant."""

    def __init__(self, rows: slice, cols: slice, nb_classes: int = 1000, target: int = 300):
        super().__init__()
        self.rows, self.cols, self.nb_classes, self.target = rows, cols, nb_classes, target

    def forward(self, x):
        out = torch.zeros(x.shape[0], self.nb_classes, dtype=x.dtype, device=x.device)
        region = x[..., self.rows, self.cols]
        out[:, self.target] = (region ** 2).mean(dim=(1, 2, 3)) * 10
        return out


class DCModel(nn.Module):
    """Logits depend only on the mean of the image: its zero frequency."""

    def forward(self, x):
        m = x.mean(dim=(1, 2, 3))
        return torch.stack([m ** 2, -m], dim=1)


class ConstantModel(nn.Module):
    def forward(self, x):
        return torch.ones(x.shape[0], 5, dtype=x.dtype, device=x.device)


def small_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 10),
    )


class DetailRegionModel(nn.Module):
    """Logit 0 is the energy of the finest Haar details inside ``rows x cols``.

    ``x - (2 x 2 block mean)`` is a function of the level-1 detail coefficients
    of each 2 x 2 block only, so the WCAM must sit on the level-1 cells over the
    region.
    """

    def __init__(self, rows: slice, cols: slice):
        super().__init__()
        self.rows, self.cols = rows, cols

    def forward(self, x):
        low = F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest")
        energy = ((x - low)[..., self.rows, self.cols] ** 2).mean(dim=(1, 2, 3))
        return torch.stack([energy * 10, -energy], dim=1)

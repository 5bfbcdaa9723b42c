"""Tiny models and perturbations with known behaviour, for the studies' tests."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from spectral_attribution.attributions.perturbations import PerturbationContext


class ToyPerturbation:
    """``d`` cells with values ``v``; the image of mask ``m`` is ``(m * v)`` laid out as ``(b, 1, 1, d)``."""

    def __init__(self, dim: int):
        self.dim = dim

    def prepare(self, values) -> PerturbationContext:
        v = torch.as_tensor(values, dtype=torch.float32).reshape(-1)
        assert v.numel() == self.dim
        return PerturbationContext((1, self.dim), {"values": v})

    def __call__(self, ctx, masks):
        return (masks * ctx.tensors["values"]).reshape(len(masks), 1, 1, self.dim)


class LinearLogits(nn.Module):
    """``logits = x.flatten(1) @ weight + bias``: known drops, known curves."""

    def __init__(self, weight, bias=None):
        super().__init__()
        self.weight = nn.Parameter(torch.as_tensor(weight, dtype=torch.float32), requires_grad=False)
        k = self.weight.shape[1]
        self.bias = nn.Parameter(torch.zeros(k) if bias is None else torch.as_tensor(bias, dtype=torch.float32),
                                 requires_grad=False)

    def forward(self, x):
        return x.flatten(1) @ self.weight + self.bias


class ConstantModel(nn.Module):
    """Ignores its input: always the same logits (robustness 1 by construction)."""

    def __init__(self, nb_classes: int = 10, predicted: int = 3):
        super().__init__()
        logits = torch.zeros(nb_classes)
        logits[predicted] = 5.0
        self.register_buffer("logits", logits)

    def forward(self, x):
        return self.logits.expand(x.shape[0], -1).clone()


class TinyNet(nn.Module):
    """A seeded random conv net on ``(B, 3, H, W)`` images, ``nb_classes`` logits."""

    def __init__(self, nb_classes: int = 10, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(4),
                                 nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                                 nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(32, nb_classes))

    def forward(self, x):
        return self.net(x)


def wrap(network):
    """A ModelWrapper without normalisation, named like a registry model."""
    from spectral_attribution.models import ModelWrapper, Preprocessing

    return ModelWrapper(network, Preprocessing(resize=None, crop=None, mean=None, std=None),
                        name=type(network).__name__.lower(), class_names=[f"c{i}" for i in range(10)])


def tiny_images(count: int = 2, size: int = 32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    # smooth-ish images: a low-res random image upsampled, plus a little noise
    low = torch.rand(count, 3, size // 8, size // 8, generator=g)
    x = torch.nn.functional.interpolate(low, size=(size, size), mode="bilinear", align_corners=False)
    return (0.85 * x + 0.15 * torch.rand(count, 3, size, size, generator=g)).clamp(0, 1)


def one_hot_depth_setup(dim: int = 9, cell: int = 4):
    """A model predicting class 1 iff cell ``cell`` is kept (values all 1), class 0 otherwise."""
    weight = np.zeros((dim, 2), dtype=np.float32)
    weight[cell, 1] = 1.0
    model = LinearLogits(weight, bias=[0.5, 0.0])
    pert = ToyPerturbation(dim)
    ctx = pert.prepare(np.ones(dim))
    return model, pert, ctx

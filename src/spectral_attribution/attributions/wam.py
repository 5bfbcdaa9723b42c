"""WAM: gradients of the class score with respect to the wavelet coefficients.

(Just over 400 lines: one method, its three variants share the gradient loop.)

The Wavelet Attribution Method (Kasmi, Brunetto, Fel, Parekh, "One Wave to
Explain Them All: A Unifying Perspective on Feature Attribution", ICML 2025,
arXiv 2410.01482) differentiates the target logit with respect to the wavelet
coefficients ``z`` of the image, through the inverse wavelet transform and the
model's own normalisation:

    a(z) = d f_c(normalise(W^-1 z)) / d z,

averaged the way SmoothGrad (Smilkov et al. 2017) or Integrated Gradients
(Sundararajan et al. 2017) average pixel gradients. It costs tens of forward
*and backward* passes per image where a WCAM costs ``n (g^2 + 2)`` forward
passes.

It uses the WCAM's transform, dyadic layout and padding rule
(:class:`~spectral_attribution.attributions.transforms.WaveletTransform`: pad bottom/right
by edge replication to multiples of ``2^J``, crop after the inverse), so the
two methods are compared on the same coefficients and the same ``g x g`` grid.

Variants
--------
``"gradient"``
    The gradient at the image's coefficients (1 forward + 1 backward pass).
``"smoothgrad"``
    The mean gradient at ``z + eps_k``, ``k = 1..nb_samples``, with
    ``eps_k ~ N(0, sigma^2)`` i.i.d. on every coefficient and
    ``sigma = noise_level * (max(x) - min(x))`` (the image's pixel range, as in
    the authors' code, whose default is 0.25). The authors add the noise to
    the pixels; we add it to the coefficients, which is the same distribution
    for an orthonormal wavelet (Haar, Daubechies, Symlets, Coiflets: ``W`` maps
    white noise to white noise of the same ``sigma``) and keeps the sampled
    points in the space that is attributed.
``"integratedgrad"``
    Integrated Gradients on the straight path from the baseline ``z0 = 0``
    (all coefficients zero: a black image) to ``z``:
    ``a = (z - z0) * sum_k w_k grad f(z0 + alpha_k (z - z0))``, with the
    trapezoid rule (``alpha_k = k / (m - 1)``, the authors' choice) or the
    midpoint rule (``alpha_k = (k + 1/2) / m``). Completeness:
    ``sum(a) = f(x) - f(black)`` up to the quadrature error.

Gradient or gradient x input: like the authors' code, ``"gradient"`` and
``"smoothgrad"`` return the gradient itself (units: logit per unit of
coefficient); ``"integratedgrad"`` returns ``(z - z0)`` times the averaged
gradient (units: logit), by the definition of Integrated Gradients.

From signed attributions to maps (our choice; the authors average the signed
gradient over channels, take its modulus and rescale each sub-band to a
maximum of 1, which makes sub-bands incomparable):

* ``map`` = ``sum_c |a_c|``: the absolute attribution summed over the colour
  channels, per coefficient, in the dyadic layout ``(Hl, Wl)``. Absolute
  values first, so that opposite channels do not cancel.
* ``indices`` = the map **summed** over each cell of the WCAM's ``g x g`` grid
  (the cells that ``upsample_masks`` draws over the layout). A sum, not a
  mean, so a cell's value is the attribution mass of its coefficients and the
  cells add up to the whole map, like the WCAM's total indices are read.
  Non-negative; not normalised.
* ``spatial``: as the WCAM's, the sum over sub-bands of each band's part of
  the map, resized bilinearly to the padded image, then cropped.

The signed coefficient attributions ``(C, Hl, Wl)`` are kept in
:attr:`Explanation.attributions <spectral_attribution.attributions.explanation.Explanation>`
(logit per unit of coefficient for ``"gradient"`` / ``"smoothgrad"``, logits
for ``"integratedgrad"``) and saved with the explanation. ``indices`` and
``spatial`` come from the helpers the WCAM uses too
(:func:`~spectral_attribution.attributions.transforms.pool_on_grid`,
:func:`~spectral_attribution.attributions.transforms.spatial_projection`).

Model state: the network is run in eval mode with ``requires_grad`` off on
every parameter, and gradients are taken with ``torch.autograd.grad`` on the
coefficients only, so no parameter ever gets a ``.grad``; training flags and
``requires_grad`` flags are restored after every call (a network handed over
in training mode stays in training mode), and weights and batch-norm
statistics are never written.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np
import torch
from torch import nn

from spectral_attribution import catalog
from spectral_attribution._utils import parameters
from spectral_attribution._utils.checks import check_images, progress_bar
from spectral_attribution._utils.parameters import check_target, check_targets
from spectral_attribution._version import __version__
from spectral_attribution.attributions.explanation import Explanation
from spectral_attribution.models import ModelWrapper, as_wrapper
from spectral_attribution.attributions.transforms import WaveletTransform, pool_on_grid, spatial_projection

__all__ = ["WAM", "VARIANTS", "RULES"]

VARIANTS = catalog.WAM_VARIANTS  # the one list of names: spectral_attribution.catalog
RULES = ("trapezoid", "midpoint")
_OUTPUTS = ("indices", "map", "spatial", "attributions")


# --------------------------------------------------------------------------
# Model state
# --------------------------------------------------------------------------
@contextlib.contextmanager
def _frozen(network: nn.Module) -> Iterator[None]:
    """Eval mode and ``requires_grad=False`` inside; every flag restored after."""
    modes = [(m, m.training) for m in network.modules()]
    flags = [(p, p.requires_grad) for p in network.parameters()]
    try:
        for m, _ in modes:
            m.training = False
        for p, _ in flags:
            p.requires_grad_(False)
        yield
    finally:
        for m, mode in modes:
            m.training = mode
        for p, flag in flags:
            p.requires_grad_(flag)


def _check_positive_int(name: str, value, minimum: int = 1) -> int:
    return parameters.check_positive_int(value, name, minimum)  # the package's integer rule


# --------------------------------------------------------------------------
# The explainer
# --------------------------------------------------------------------------
class WAM:
    """Wavelet Attribution Method (Kasmi et al., ICML 2025).

    Parameters
    ----------
    model:
        A :class:`~spectral_attribution.models.ModelWrapper` (takes ``[0, 1]``
        images and normalises them itself), or a bare ``nn.Module`` that
        already takes ``[0, 1]`` images. Run in eval mode; its flags, weights
        and buffers are the same after every call as before.
    variant:
        ``"gradient"``, ``"smoothgrad"`` (default, the authors' default) or
        ``"integratedgrad"``.
    grid_size:
        ``g`` of the WCAM grid the map is pooled onto (28 as the WCAM).
    levels, wavelet:
        ``J`` and any discrete PyWavelets wavelet, as the WCAM (3, ``"haar"``).
    nb_samples:
        SmoothGrad: number of noisy samples (25, the authors' default).
    noise_level:
        SmoothGrad: ``sigma / (max(x) - min(x))``, the noise standard
        deviation relative to the image's pixel range (0.25, the authors'
        default). ``>= 0``.
    nb_steps:
        Integrated Gradients: number of points on the path (25; ``>= 2`` for
        the trapezoid rule).
    rule:
        Integrated Gradients quadrature: ``"trapezoid"`` (default; the
        authors') or ``"midpoint"``.
    seed:
        Seed of the SmoothGrad noise (a CPU ``torch.Generator``, re-seeded for
        every image, so every image of a call gets the same noise draws and
        results do not depend on the batch size, on the other images of the
        call, or on the device the noise is used on).
    batch_size:
        Images per forward/backward pass: memory follows ``batch_size``, not
        ``nb_samples`` / ``nb_steps``. Changes results by float rounding only.
    device:
        Where to run; defaults to the model's device.
    progress:
        Report the images of a call (:mod:`spectral_attribution._utils.progress`):
        ``None`` a bar on a terminal only, ``True`` also log lines elsewhere,
        ``False`` nothing.

    Raises
    ------
    ValueError
        Unknown variant or rule, ``nb_samples``, ``nb_steps``, ``batch_size``
        or ``grid_size`` out of range, negative ``noise_level``, or an unknown
        wavelet / ``levels < 1``.

    Examples
    --------
    >>> wam = WAM(load_model("efficientnet-lite0"), variant="integratedgrad", grid_size=28)
    >>> [e] = wam(image[None])                 # image: (3, 224, 224) in [0, 1]
    >>> e.indices.shape, e.map.shape, e.spatial.shape, e.attributions.shape
    ((28, 28), (224, 224), (224, 224), (3, 224, 224))
    """

    method = "wam"

    def __init__(self, model: nn.Module, variant: str = "smoothgrad", grid_size: int = 28,
                 levels: int = 3, wavelet: str = "haar", nb_samples: int = 25,
                 noise_level: float = 0.25, nb_steps: int = 25, rule: str = "trapezoid",
                 seed: int = 0, batch_size: int = 16, device=None,
                 progress: bool | None = None):
        if variant not in VARIANTS:
            raise ValueError(f"unknown WAM variant {variant!r}; choose one of {VARIANTS}")
        if rule not in RULES:
            raise ValueError(f"unknown integration rule {rule!r}; choose one of {RULES}")
        self.variant = variant
        self.rule = rule
        self.grid_size = parameters.check_grid_size(grid_size)
        self.nb_samples = _check_positive_int("nb_samples", nb_samples)
        trapezoid = variant == "integratedgrad" and rule == "trapezoid"
        self.nb_steps = _check_positive_int("nb_steps", nb_steps, 2 if trapezoid else 1)
        self.batch_size = parameters.check_batch_size(batch_size)
        if (isinstance(noise_level, (bool, str)) or not isinstance(noise_level, (int, float, np.floating))
                or not float(noise_level) >= 0):
            raise ValueError(f"noise_level must be >= 0, got {noise_level!r}")
        self.noise_level = float(noise_level)
        self.seed = parameters.check_seed(seed)
        self.progress = progress
        if isinstance(device, str):
            parameters.check_device(device)
        self.transform = WaveletTransform(wavelet, levels)
        # Wrapping a bare network switches it to eval mode and freezes its
        # parameters; undo that here, the freezing is done per call instead.
        network = model.network if isinstance(model, ModelWrapper) else model
        with _frozen(network):
            self.model = as_wrapper(model)
        self.device = torch.device(device) if device is not None else self.model.device
        self.model.to(self.device)

    # -- cost -------------------------------------------------------------
    @property
    def nb_forward(self) -> int:
        """Forward passes per image, besides the one on the clean image that
        every explainer makes (the WCAM's ``nb_forward`` counts the same way):
        1, ``nb_samples``, or ``nb_steps`` (+1 for the baseline with the
        midpoint rule)."""
        if self.variant == "gradient":
            return 1
        if self.variant == "smoothgrad":
            return self.nb_samples
        return self.nb_steps + (self.rule == "midpoint")

    @property
    def nb_backward(self) -> int:
        """Backward passes per image: 1, ``nb_samples`` or ``nb_steps``."""
        return {"gradient": 1, "smoothgrad": self.nb_samples,
                "integratedgrad": self.nb_steps}[self.variant]

    def settings(self) -> dict:
        return {"method": self.method, "variant": self.variant,
                "wavelet": self.transform.wavelet, "levels": self.transform.levels,
                "grid_size": self.grid_size,
                "nb_samples": self.nb_samples if self.variant == "smoothgrad" else None,
                "noise_level": self.noise_level if self.variant == "smoothgrad" else None,
                "nb_steps": self.nb_steps if self.variant == "integratedgrad" else None,
                "rule": self.rule if self.variant == "integratedgrad" else None,
                "baseline": "zero" if self.variant == "integratedgrad" else None,
                "seed": self.seed, "batch_size": self.batch_size,
                "device": str(self.device), "model": self.model.name,
                "nb_forward": self.nb_forward, "nb_backward": self.nb_backward,
                "version": __version__}

    # -- public calls -----------------------------------------------------
    def __call__(self, images: torch.Tensor, targets=None) -> list[Explanation]:
        """Explain a batch of images.

        Parameters
        ----------
        images:
            ``(B, C, H, W)`` (or one ``(C, H, W)``) float tensor of pixel
            values in ``[0, 1]``; any size, non-square included.
        targets:
            ``None`` (the predicted class), one ``int`` for all images, or a
            sequence of ``B`` ints in ``[0, K)``.

        Returns
        -------
        list[Explanation]
            One per image: ``indices`` ``(g, g)``, ``map`` ``(Hl, Wl)``,
            ``spatial`` ``(H, W)``, ``attributions`` ``(C, Hl, Wl)``, all
            ``float32``.

        Raises
        ------
        ValueError
            Wrong image shape or dtype, values outside ``[0, 1]``, a wrong
            number of targets, or a target outside the model's classes.
        """
        images = check_images(images, pixel_range=True)  # the package's one rule for image tensors
        targets = self._targets(targets, len(images))
        pairs = progress_bar(zip(images, targets), self.progress, self.method, total=len(images))
        return [self.explain_one(img, t) for img, t in pairs]

    def attribute(self, inputs: torch.Tensor, target=None, output: str = "indices") -> torch.Tensor:
        """Captum-style call: a tensor of attributions for a batch.

        Parameters
        ----------
        inputs, target:
            As ``images`` and ``targets`` of :meth:`__call__`.
        output:
            ``"indices"`` (default): ``(B, g, g)``; ``"map"``: ``(B, Hl, Wl)``;
            ``"spatial"``: ``(B, H, W)``; ``"attributions"``: the signed
            ``(B, C, Hl, Wl)``. ``float32``, on the CPU.
        """
        if output not in _OUTPUTS:
            raise ValueError(f"unknown output {output!r}; choose one of {_OUTPUTS}")
        return torch.stack([torch.from_numpy(getattr(e, output)) for e in self(inputs, target)])

    def _targets(self, targets, count: int) -> list[int | None]:
        return check_targets(targets, count)  # integers only (parameters' rule, as --target)

    def explain_one(self, image: torch.Tensor, target: int | None = None) -> Explanation:
        """Explain one ``(C, H, W)`` image; see :meth:`__call__`."""
        image = check_images(image, "image", single="only")
        if target is not None:
            target = check_target(target)
        # Under an outer inference_mode/no_grad the graph must still be built;
        # clone so that no inference tensor enters it.
        with torch.inference_mode(False), torch.enable_grad(), _frozen(self.model.network):
            image = image.to(self.device, torch.float32).clone()
            size = tuple(image.shape[-2:])
            with torch.no_grad():
                clean = self._forward(image.unsqueeze(0))[0].float()
                coeffs = self.transform.forward(image.unsqueeze(0))[0]        # (C, Hl, Wl)
            nb_classes = clean.shape[-1]
            predicted = int(clean.argmax())
            if target is None:
                target = predicted
            if not 0 <= target < nb_classes:
                raise ValueError(f"target {target} is outside the model's {nb_classes} classes [0, {nb_classes})")
            extra = {}
            if self.variant == "gradient":
                signed, _ = self._mean_gradient(coeffs, [coeffs], [1.0], size, target)
            elif self.variant == "smoothgrad":
                sigma = self.noise_level * float(image.max() - image.min())
                signed, _ = self._mean_gradient(coeffs, self._noisy(coeffs, sigma),
                                                [1.0 / self.nb_samples] * self.nb_samples, size, target)
                extra["sigma"] = sigma
            else:
                alphas, weights = self._quadrature()
                points = (coeffs * a for a in alphas)  # baseline 0: z0 + a (z - z0) = a z
                mean_grad, scores = self._mean_gradient(coeffs, points, weights, size, target)
                signed = coeffs.double() * mean_grad
                # f at the baseline, for the completeness check sum(a) = score - baseline_score:
                # the trapezoid's first point is the baseline; the midpoint rule needs one pass.
                extra["baseline_score"] = (scores[0] if self.rule == "trapezoid"
                                           else self._baseline_score(coeffs, size, target))
        signed = signed.float().cpu()
        layout_map = signed.abs().sum(dim=0)
        return Explanation(
            method=self.method,
            indices=pool_on_grid(layout_map.double(), self.grid_size).float().numpy(),
            map=layout_map.numpy(),
            spatial=spatial_projection(layout_map, self.transform, size).numpy(),
            target=int(target), predicted=predicted, score=float(clean[target]),
            predicted_score=float(clean[predicted]),
            settings={**self.settings(), **extra, "image_size": list(size),
                      "map_size": list(layout_map.shape)},
            attributions=signed.numpy(),
        )

    # -- the passes -------------------------------------------------------
    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        # ModelWrapper.forward runs under inference_mode (no graph): call the
        # network on the normalised images directly.
        return self.model.network(self.model.normalise(x))

    def _noisy(self, coeffs: torch.Tensor, sigma: float) -> Iterator[torch.Tensor]:
        """The ``nb_samples`` noisy coefficient layouts, drawn one by one on the
        CPU from one generator (identical draws whatever the batch size)."""
        gen = torch.Generator().manual_seed(self.seed)
        for _ in range(self.nb_samples):
            noise = torch.randn(coeffs.shape, generator=gen, dtype=torch.float32)
            yield coeffs + sigma * noise.to(coeffs.device)

    def _quadrature(self) -> tuple[list[float], list[float]]:
        m = self.nb_steps
        if self.rule == "trapezoid":
            alphas = [k / (m - 1) for k in range(m)]
            weights = [(0.5 if k in (0, m - 1) else 1.0) / (m - 1) for k in range(m)]
        else:
            alphas = [(k + 0.5) / m for k in range(m)]
            weights = [1.0 / m] * m
        return alphas, weights

    def _mean_gradient(self, coeffs, points, weights, size, target):
        """``sum_k weights[k] * grad_z f_target(points[k])`` and the scores ``f_target(points[k])``.

        ``points`` is an iterable of ``(C, Hl, Wl)`` layouts, consumed
        ``batch_size`` at a time: at most one batch and its graph are alive.
        Returns a float64 ``(C, Hl, Wl)`` tensor and a list of floats.
        """
        total = torch.zeros(coeffs.shape, dtype=torch.float64, device=coeffs.device)
        scores: list[float] = []
        points = iter(points)
        while True:
            batch = [p for _, p in zip(range(self.batch_size), points)]
            if not batch:
                return total, scores
            z = torch.stack(batch).detach().requires_grad_(True)
            w = torch.tensor(weights[len(scores):len(scores) + len(batch)],
                             dtype=torch.float64, device=z.device)
            score = self._forward(self.transform.inverse(z, size))[:, target]
            scores += score.detach().double().cpu().tolist()
            if score.requires_grad:  # a constant output has no graph: zero gradient
                (grad,) = torch.autograd.grad(score.sum(), z)
                total += torch.einsum("b,bchw->chw", w, grad.double())

    def _baseline_score(self, coeffs, size, target) -> float:
        """``f_target`` at the baseline (zero coefficients: a black image)."""
        with torch.no_grad():
            zero = torch.zeros_like(coeffs).unsqueeze(0)
            return float(self._forward(self.transform.inverse(zero, size))[0, target])

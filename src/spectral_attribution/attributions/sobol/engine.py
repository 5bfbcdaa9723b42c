"""The engine shared by every explainer: Sobol' total indices of a perturbation's inputs.

(Over 400 lines: one job, the batched estimate of one image; the full design and its screened variant share the rows, the batching and the memory check, and must stay in step for screened cells to equal full ones.)

:class:`SobolAttribution` explains one image in four steps
(:meth:`SobolAttribution.explain_one`):

1. **design** -- a Saltelli design ``[A; B; C_1; ...; C_d]`` of ``N = n (d + 2)``
   masks with values in ``[0, 1]`` (:class:`~spectral_attribution.attributions.sobol.design.SobolDesign`),
   produced a batch of rows at a time;
2. **perturb** -- each mask is applied to the image by a perturbation
   (:mod:`spectral_attribution.attributions.perturbations`);
3. **forward** -- the model scores each perturbed batch through the package's
   single forward loop (:class:`~spectral_attribution.models.forward.ForwardPass`);
4. **estimate** -- the ``N`` logits of the target go to a total-index
   estimator (:func:`~spectral_attribution.attributions.sobol.estimators.total_indices`).

Step 2 is written plainly in :meth:`SobolAttribution.perturbed_batches`; for
perturbations that are affine in their mask (all of the package's) the same
images are built much faster by :class:`~spectral_attribution.attributions.sobol.row_updates.RowUpdater`.

With ``screening=tau`` the design is not run in full: the total indices of
groups of inputs (sub-bands, then quadtree blocks) decide which single inputs
are estimated (:mod:`spectral_attribution.attributions.sobol.screening`); the
rows that are run are rows of the same design, so every estimated index is the
full estimate's.

Images are perturbed in pixel space (``[0, 1]`` floats, before the model's
normalisation), on the model's device, a batch at a time: peak memory is that
of one batch whatever the number of designs. The same design (one ``seed``)
serves every image of a call, so maps of different images are comparable;
the seed is recorded in ``Explanation.settings``.

Reference: Fel, Cadène, Chalvidal, Cord, Vigouroux & Serre, "Look at the
variance! Efficient black-box explanations with Sobol-based sensitivity
analysis", NeurIPS 2021; Kasmi et al. (2023) for the wavelet domain.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from spectral_attribution.models.forward import ForwardPass, forward_options
from spectral_attribution._utils.checks import check_images, format_bytes
from spectral_attribution._version import __version__
from spectral_attribution.attributions.sobol.estimators import (
    Estimator,
    estimator_name,
    get_estimator,
    total_indices,
)
from spectral_attribution.attributions.explanation import Explanation
from spectral_attribution.models import as_wrapper
from spectral_attribution._utils.parameters import check_batch_size, check_device, check_target, check_targets
from spectral_attribution.attributions.perturbations import PerturbationContext
from spectral_attribution._utils.progress import Progress, task
from spectral_attribution.attributions.sobol.row_updates import RowUpdater, is_affine
from spectral_attribution.attributions.sobol.design import SobolDesign
from spectral_attribution.attributions.sobol.screening import (
    GUARD,
    Group,
    check_screening,
    grid_roots,
    quadtree_children,
)
from spectral_attribution.attributions.transforms import upsample_masks

__all__ = ["SobolAttribution", "MAX_BATCH_BYTES", "AUTO_MIN_PARAMETERS"]

#: The default backend (``backend=None``) is ``"auto"`` for networks with at least
#: this many parameters (EfficientNet-Lite0 has 4.7 million), ``"eager"`` below.
AUTO_MIN_PARAMETERS = 100_000

#: Largest memory of the images the engine holds at once for one input image:
#: the reused batch of ``batch_size`` perturbed images plus the ``n`` cached
#: images ``x(A[k])`` (float32, on the padded wavelet layout). 8 GiB.
MAX_BATCH_BYTES = 8 * 1024 ** 3


class SobolAttribution:
    """Sobol' total indices of a perturbation's inputs, batched on the model's device.

    Parameters
    ----------
    model:
        A :class:`~spectral_attribution.models.ModelWrapper`, or a bare
        ``nn.Module`` that already takes ``[0, 1]`` images. Put in eval mode;
        gradients are never computed and the weights are never changed.
    perturbation:
        One of :class:`~spectral_attribution.attributions.perturbations.WaveletPerturbation`,
        :class:`~spectral_attribution.attributions.perturbations.FourierPerturbation`,
        :class:`~spectral_attribution.attributions.perturbations.SpatialPerturbation`, or
        anything following the
        :class:`~spectral_attribution.attributions.perturbations.Perturbation` protocol.
    nb_design:
        ``n``, a power of two ``>= 2`` (8 in the paper). Cost: ``n (d + 2)``
        forward passes per image.
    seed:
        Seed of the scrambled Sobol' sequence, an integer ``>= 0`` (recorded
        in the settings).
    estimator:
        A name of :data:`~spectral_attribution.attributions.sobol.estimators.ESTIMATORS`
        (``"jansen"`` default, ``"homma"``, ``"janon"``, ``"glen"``,
        ``"saltelli"``) or a callable ``(y_a, y_b, y_c) -> indices`` (see
        :mod:`spectral_attribution.attributions.sobol.estimators` for how to write one).
    batch_size:
        Perturbed images per forward pass. Does not change the result
        beyond float rounding.
    device:
        Where to run (a ``torch.device``, or ``"cpu"``, ``"cuda"``,
        ``"cuda:K"``, ``"mps"``); defaults to the model's device.
    precision:
        ``"float32"`` (default), ``"bfloat16"`` or ``"float16"`` (autocast of
        the forward passes only: perturbations and estimation stay in float32
        / float64; changes the numbers), or ``"auto"`` (reduced precision only
        where the hardware runs it natively: CUDA, CPUs with AVX512-BF16 or
        AMX). See :func:`spectral_attribution.models.backends.resolve_precision`.
    backend:
        What runs the network. ``None`` (default): ``"auto"``, as the CLI and
        the workflow, for networks of at least :data:`AUTO_MIN_PARAMETERS`
        parameters (every registry model), ``"eager"`` for smaller ones (toy
        modules: an export costs more than it saves, and ``auto``'s own
        timing rule would make the choice depend on the machine's load).
        ``"auto"``: the first candidate for the device that agrees with eager
        (ONNX Runtime on a CPU in float32, eager on CUDA),
        ``"eager"`` (PyTorch, as written), ``"channels_last"``, ``"compile"``,
        ``"onnxruntime"``, ``"openvino"`` or ``"cuda_graphs"``. ONNX Runtime
        and OpenVINO read an ONNX export of the model, cached on disk under
        ``$SPECTRAL_ATTRIBUTION_CACHE/backends`` (default
        ``~/.cache/spectral-attribution/backends``; safe to delete);
        ``backend="eager"`` exports and caches nothing. A backend other than eager is used only when
        its logits agree with eager float32 within 1e-3 on the first batch;
        otherwise the engine falls back to eager with a
        :class:`~spectral_attribution.models.backends.BackendFallbackWarning`. See
        :mod:`spectral_attribution.models.backends`.
    autocast, channels_last:
        Deprecated spellings of ``precision`` and ``backend="channels_last"``
        (a :class:`DeprecationWarning`).
    progress:
        Report the forward passes of each image (:mod:`spectral_attribution._utils.progress`):
        ``None`` (default) a bar with the time left when stderr is a terminal,
        nothing otherwise; ``True`` the bar on a terminal and log lines
        elsewhere (every 10 % or 30 s, an estimate after the first batch, a
        final line per image); ``False`` nothing.
    screening:
        ``None`` (default here; the WCAM's default is 0.01): the full design.
        A share ``tau`` in ``(0, 1)``: screen with group total indices
        (:mod:`spectral_attribution.attributions.sobol.screening`): groups
        whose total index is below ``tau`` times the sum of the roots' total
        indices are not split further; their cells get index 0, ``False`` in
        ``Explanation.estimated`` and the group's index in
        ``Explanation.bounds``. ``0`` is the full design.

    Attributes
    ----------
    forward:
        The :class:`~spectral_attribution.models.forward.ForwardPass` every model call
        goes through.
    design:
        The :class:`~spectral_attribution.attributions.sobol.design.SobolDesign` (one per explainer).

    Raises
    ------
    ValueError
        ``nb_design`` not a power of two ``>= 2``, a negative seed, unknown
        estimator, precision, backend, autocast or device value, a backend the
        device cannot run, ``batch_size < 1``, a grid too large for SciPy's
        Sobol' dimensions; the rules of :mod:`spectral_attribution._utils.parameters`;
        ``screening`` outside ``[0, 1)``.
    """

    method = "sobol"

    def __init__(self, model: nn.Module, perturbation, nb_design: int = 8, seed: int = 0,
                 estimator: Estimator = "jansen", batch_size: int = 64, device=None,
                 precision: str = "float32", backend: str | None = None,
                 progress: bool | None = None, *, screening: float | None = None,
                 autocast: str | None = None, channels_last: bool | None = None):
        self.screening = check_screening(screening)
        self._estimator = get_estimator(estimator)
        self.estimator = estimator_name(estimator)
        if backend is None:
            count = sum(p.numel() for p in model.parameters()) if isinstance(model, nn.Module) else 0
            backend = "auto" if count >= AUTO_MIN_PARAMETERS else "eager"
        precision, backend = forward_options(precision, backend, autocast, channels_last)
        batch_size = check_batch_size(batch_size)
        self.model = as_wrapper(model)
        self.model.eval()
        if isinstance(device, str):
            check_device(device)
        self.device = torch.device(device) if device is not None else self.model.device
        self.model.to(self.device)
        self.batch_size = int(batch_size)
        self.forward = ForwardPass(self.model, self.batch_size, precision, backend, self.device)
        self.perturbation = perturbation
        self.design = SobolDesign.create(perturbation.dim, nb_design, seed)
        self.progress = progress

    @property
    def precision(self) -> str:
        """The precision of the forward passes, resolved (never ``"auto"``)."""
        return self.forward.precision

    @property
    def backend(self) -> str:
        """The backend that runs the network, resolved (never ``"auto"``; built on a
        random example if no image has been explained yet)."""
        return self.forward.backend

    @property
    def autocast(self) -> str | None:
        """Deprecated: :attr:`precision` as the old ``autocast`` value (``None`` for float32)."""
        return self.forward.autocast

    @property
    def nb_forward(self) -> int:
        """Forward passes per image of the full design, ``n (d + 2)`` (with screening, at
        most this plus the group rows; ``Explanation.settings["nb_forward"]`` has the count
        actually used)."""
        return self.design.size

    # -- public calls -------------------------------------------------------
    def __call__(self, images: torch.Tensor, targets=None) -> list[Explanation]:
        """Explain a batch of images.

        Parameters
        ----------
        images:
            ``(B, C, H, W)`` (or one ``(C, H, W)``) float tensor in ``[0, 1]``;
            any size, non-square included.
        targets:
            ``None`` (explain the predicted class), one ``int`` for all images,
            or a sequence (or tensor) of ``B`` ints in ``[0, K)``.

        Returns
        -------
        list[Explanation]
            One per image, in order.

        Raises
        ------
        ValueError
            Wrong image shape, values far outside ``[0, 1]``, a number of
            targets other than ``B``, or a target outside the model's ``K``
            classes (the value is named).
        """
        return self.explain(images, targets)

    def explain(self, images: torch.Tensor, targets=None) -> list[Explanation]:
        """One :class:`~spectral_attribution.attributions.explanation.Explanation` per image; see :meth:`__call__`.

        (:meth:`__call__` is this method for every explainer but
        :class:`~spectral_attribution.attributions.wcam.WaveletSobol`, whose call
        returns the original code's arrays.)
        """
        images = self._check_images(images)
        targets = self._targets(targets, len(images))
        if len(images) == 1:
            return [self.explain_one(images[0], targets[0])]
        out = []
        for k, (img, t) in enumerate(zip(images, targets), start=1):
            with task(f"image {k} of {len(images)}"):  # names the image in progress lines
                out.append(self.explain_one(img, t))
        return out

    def attribute(self, inputs: torch.Tensor, target=None, *, output: str = "indices") -> torch.Tensor:
        """Attributions as one tensor, with captum's keyword ``target``.

        Parameters
        ----------
        inputs:
            ``(B, C, H, W)`` (or ``(C, H, W)``) float tensor in ``[0, 1]``.
        target:
            ``None`` (the predicted class), one ``int``, or ``B`` ints / a
            tensor of ``B`` class indices.
        output:
            ``"indices"`` (default): the Sobol' total indices, ``(B, g, g)``
            for grids (WCAM, spatial Sobol', Fourier grid; row-major cells)
            and ``(B, g)`` for Fourier ring families (ring 0 at the zero
            frequency). ``"map"``: the indices upsampled (nearest) onto the
            perturbed domain, ``(B, Hl, Wl)`` (the dyadic wavelet layout for
            the WCAM, ``(B, H, W)`` for a Haar WCAM of a side multiple of
            ``2^J``; the centred spectrum for Fourier-CAM; the image for
            spatial Sobol'). ``"spatial"``: ``(B, H, W)`` maps over the image
            (the WCAM's spatial projection, the spatial Sobol' map; not
            defined for Fourier-CAM).

        Returns
        -------
        torch.Tensor
            ``float32``, on the device of ``inputs``. Use :meth:`__call__` for
            the richer :class:`~spectral_attribution.attributions.explanation.Explanation`
            objects (scores, predicted class, settings).

        Raises
        ------
        ValueError
            As :meth:`__call__`; an unknown ``output``, or ``"spatial"`` for a
            Fourier-CAM.
        """
        if output not in ("indices", "map", "spatial"):
            raise ValueError(f"output must be 'indices', 'map' or 'spatial', got {output!r}")
        device = torch.as_tensor(inputs).device
        explanations = self.explain(inputs, target)
        arrays = [getattr(e, output) for e in explanations]
        if any(a is None for a in arrays):
            raise ValueError(f"{self.method} explanations have no {output!r} output")
        return torch.from_numpy(np.stack(arrays).astype(np.float32, copy=False)).to(device)

    def explain_one(self, image: torch.Tensor, target: int | None = None) -> Explanation:
        """Explain one ``(C, H, W)`` image: design → perturb → forward → estimate.

        See :meth:`__call__` for the parameters and errors.
        """
        image = check_images(image, "image", single="only").to(self.device, torch.float32)
        if target is not None:
            target = check_target(target)
        clean = self.forward(image.unsqueeze(0))[0]          # logits of the unperturbed image
        nb_classes = clean.shape[-1]
        predicted = int(clean.argmax())
        if target is None:
            target = predicted
        if not 0 <= target < nb_classes:
            raise ValueError(f"target {target} is outside the model's {nb_classes} classes [0, {nb_classes})")
        ctx = self.perturbation.prepare(image)
        if self.screening is not None:
            return self._explain_screened(ctx, image, target, predicted, clean)
        return self._explain_full(ctx, image, target, predicted, clean)

    def _explain_full(self, ctx, image, target, predicted, clean) -> Explanation:
        """The full design: every row ``A``, ``B``, ``C_i``."""
        # design → perturb: the perturbed images of all N design rows, a batch at a time;
        # forward: the target's logit on each of them.
        y = self.forward(self._with_progress(self.perturbed_batches(ctx)), classes=target)[:, 0].double()
        # estimate: one total index per input of the perturbation.
        st = total_indices(y, self.design.nb_design, self.design.dim, self._estimator)
        st = st.float().cpu().numpy()
        g = self.perturbation.grid_size
        if st.size == g * g:
            st = st.reshape(g, g)
        return self._finish(st, ctx, image, target, predicted, clean)

    def perturbed_batches(self, ctx: PerturbationContext) -> Iterator[torch.Tensor]:
        """Perturbed images of the design rows, ``batch_size`` rows at a time, in row order.

        Each batch is ``(b, C, H, W)`` float32 on the model's device. Plainly,
        a batch is ``perturbation(ctx, design.rows(start, stop))``; for an affine
        perturbation it is built by :class:`~spectral_attribution.attributions.sobol.row_updates.RowUpdater`
        instead (same images to float rounding, a few inverse transforms per
        image instead of one per row), and is a view into a buffer that the
        next batch overwrites.
        """
        size = self.design.size
        updater = RowUpdater(self.perturbation, self.design, ctx, self.batch_size, self.device) \
            if is_affine(self.perturbation) else None
        for start in range(0, size, self.batch_size):
            stop = min(start + self.batch_size, size)
            if updater is None:
                masks = torch.from_numpy(self.design.rows(start, stop)).to(self.device)
                yield self.perturbation(ctx, masks)
            else:
                yield updater.rows(start, stop)

    def settings(self) -> dict:
        """The explainer's parameters, recorded in every ``Explanation.settings`` (JSON-serialisable).

        ``nb_forward`` is the full design's count here; a screened explanation's
        settings hold the count it used, with ``nb_forward_full``,
        ``screening_fallback``, ``screening_total`` and ``nb_estimated``.
        """
        return {"method": self.method, **self.perturbation.settings(),
                "nb_design": self.design.nb_design, "seed": self.design.seed,
                "estimator": self.estimator, "batch_size": self.batch_size,
                "precision": self.precision, "backend": self.backend,
                "device": str(self.device), "model": self.model.name,
                "nb_forward": self.nb_forward, "screening": self.screening,
                "version": __version__}

    # -- screening ------------------------------------------------------------
    def _grid_shape(self) -> tuple[int, int]:
        """``(rows, columns)`` of the inputs: ``(g, g)``, or ``(1, d)`` when ``d != g^2`` (rings)."""
        g, d = self.perturbation.grid_size, self.design.dim
        return (g, g) if d == g * g else (1, d)

    def screening_roots(self, ctx: PerturbationContext) -> list[Group]:
        """The coarsest groups of inputs screening starts from: a partition of the ``d`` inputs.

        Here: the grid cut into at most 4 x 4 rectangles of cells
        (:func:`~spectral_attribution.attributions.sobol.screening.grid_roots`); the WCAM
        overrides it with its sub-bands.
        """
        return grid_roots(*self._grid_shape())

    def _explain_screened(self, ctx, image, target, predicted, clean) -> Explanation:
        """Screened estimate (see :mod:`spectral_attribution.attributions.sobol.screening`)."""
        design, n, dim = self.design, self.design.nb_design, self.design.dim
        full = design.size
        updater = RowUpdater(self.perturbation, design, ctx, self.batch_size, self.device) \
            if is_affine(self.perturbation) else None

        def run(jobs, label):
            """Target logits ``(len(jobs), n)`` float64 of the rows of each job."""
            desc = self.method if label == "groups" else f"{self.method} ({label})"
            with Progress(len(jobs) * n, desc, "forward passes", show=self.progress) as bar:
                def batches():
                    for batch in self._job_batches(ctx, jobs, updater):
                        yield batch
                        bar.update(len(batch))
                y = self.forward(batches(), classes=target)[:, 0].double()
            return y.view(len(jobs), n)

        def estimate(y_a, y_b, y_c):
            if len(y_c) == 0:
                return np.zeros(0)
            return total_indices(torch.cat([y_a[None], y_b[None], y_c]).reshape(-1), n,
                                 len(y_c), self._estimator).cpu().numpy()

        roots = self.screening_roots(ctx)
        if (2 + len(roots)) * n > GUARD * full:
            # Small grids: the first round alone would cost most of the full design
            # (e.g. grid 4: 12 groups for 16 cells), so run the full design at once.
            explanation = self._explain_full(ctx, image, target, predicted, clean)
            explanation.settings.update({
                "nb_forward": int(full), "nb_forward_full": int(full), "screening_fallback": True,
                "screening_total": None, "screening_groups": len(roots), "nb_estimated": int(dim)})
            return explanation
        y = run([("a",), ("b",)] + [("group", g.cells) for g in roots], "groups")
        y_a, y_b = y[0], y[1]
        spent = len(y) * n
        st = np.zeros(dim, np.float64)
        bounds = np.zeros(dim, np.float64)
        estimated = np.zeros(dim, bool)
        index = estimate(y_a, y_b, y[2:])
        total = float(np.sum(index))
        threshold = self.screening * total
        fallback = False
        level, rounds = list(zip(roots, index)), 0
        while level:
            children = []
            for group, value in level:
                if group.is_cell:              # its rows are C_i's: an estimate, kept whatever its value
                    st[group.cells] = value
                    bounds[group.cells] = value
                    estimated[group.cells] = True
                elif value < threshold:        # screened out: bounded by the group's index
                    bounds[group.cells] = value
                else:
                    children.extend(quadtree_children(group))
            if not children:
                break
            rounds += 1
            if spent + len(children) * n > GUARD * full:
                fallback = True                # estimate every cell not yet estimated
                break
            jobs = [("cell", int(c.cells[0])) if c.is_cell else ("group", c.cells) for c in children]
            y_c = run(jobs, f"round {rounds}")
            spent += len(jobs) * n
            level = list(zip(children, estimate(y_a, y_b, y_c)))
        if fallback:
            # Splitting further would cost more than estimating the cells of the kept
            # groups directly: estimate those cells (their rows are C_i's of the full
            # design); the groups already screened out keep their bounds.
            rest = np.unique(np.concatenate([c.cells for c in children]))
            rest = rest[~estimated[rest]]
            y_c = run([("cell", int(c)) for c in rest], "cells, fallback")
            spent += len(rest) * n
            st[rest] = estimate(y_a, y_b, y_c)
            bounds[rest] = st[rest]
            estimated[rest] = True
        shape = self._grid_shape() if dim == self.perturbation.grid_size ** 2 else (dim,)
        st32 = st.astype(np.float32).reshape(shape)
        explanation = self._finish(st32, ctx, image, target, predicted, clean)
        explanation.estimated = estimated.reshape(shape)
        explanation.bounds = bounds.astype(np.float32).reshape(shape)
        explanation.settings.update({
            "nb_forward": int(spent), "nb_forward_full": int(full),
            "screening_fallback": fallback, "screening_total": total,
            "screening_groups": len(roots), "nb_estimated": int(estimated.sum())})
        return explanation

    def _job_batches(self, ctx, jobs, updater) -> Iterator[torch.Tensor]:
        """Perturbed images of the rows of ``jobs``, ``batch_size`` at a time, in order.

        A job is ``("a",)`` or ``("b",)`` (the rows of ``A`` or ``B``), ``("cell", i)``
        (the rows of ``C_i``, built as in the full design) or ``("group", cells)``
        (``A`` with the columns of ``cells`` taken from ``B``); each has ``n`` rows.
        """
        design, n = self.design, self.design.nb_design
        pending, count = [], 0
        for job in jobs:
            if job[0] == "group":
                masks = design.a.copy()
                masks[:, job[1]] = design.b[:, job[1]]
                images = torch.cat([self.perturbation(ctx, torch.from_numpy(masks[i:i + self.batch_size])
                                                      .to(self.device))
                                    for i in range(0, n, self.batch_size)])
            else:
                block = {"a": 0, "b": 1}[job[0]] if job[0] != "cell" else 2 + job[1]
                start, stop = block * n, (block + 1) * n
                if updater is not None:
                    images = updater.rows(start, stop).clone()
                else:
                    images = self.perturbation(ctx, torch.from_numpy(design.rows(start, stop)).to(self.device))
            pending.append(images)
            count += len(images)
            while count >= self.batch_size:
                merged = torch.cat(pending) if len(pending) > 1 else pending[0]
                yield merged[:self.batch_size]
                rest = merged[self.batch_size:]
                pending, count = ([rest] if len(rest) else []), len(rest)
        if count:
            yield torch.cat(pending) if len(pending) > 1 else pending[0]

    # -- helpers ------------------------------------------------------------
    def _check_images(self, images) -> torch.Tensor:
        # the package's one rule for image tensors (layout, channels, [0, 1]), then the memory
        images = check_images(images, pixel_range=True)
        self._check_batch_memory(tuple(images.shape[1:]))
        return images

    def _check_batch_memory(self, shape: tuple[int, int, int]) -> None:
        """Refuse, before any work, an image whose batches would exceed :data:`MAX_BATCH_BYTES`."""
        c, h, w = (int(v) for v in shape)
        levels = getattr(getattr(self.perturbation, "transform", None), "levels", 0) or 0
        step = 2 ** int(levels)  # the wavelet layout is padded to multiples of 2^J
        h, w = -(-h // step) * step, -(-w // step) * step
        # the batch actually used: never more rows than the image's forward passes
        batch = min(self.batch_size, self.nb_forward)
        count = batch + self.design.nb_design
        nbytes = count * c * h * w * 4
        if nbytes > MAX_BATCH_BYTES:
            raise ValueError(
                f"images of {c} x {shape[1]} x {shape[2]} need {format_bytes(nbytes)} of "
                f"perturbed images at once ({batch} per batch + {self.design.nb_design} "
                f"cached, float32, layout {h} x {w}); the limit is "
                f"{format_bytes(MAX_BATCH_BYTES)} (engine.MAX_BATCH_BYTES): lower batch_size "
                f"or resize the images")

    def _targets(self, targets, count: int) -> list[int | None]:
        return check_targets(targets, count)  # integers only (parameters' rule, as --target)

    def _with_progress(self, batches: Iterator[torch.Tensor]) -> Iterator[torch.Tensor]:
        """``batches`` unchanged, reported by :class:`~spectral_attribution._utils.progress.Progress`
        (forward passes of the design; see ``progress`` in the class docstring)."""
        with Progress(self.design.size, self.method, "forward passes", show=self.progress) as bar:
            for batch in batches:
                yield batch
                bar.update(len(batch))

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
        """The indices upsampled (nearest) onto the perturbed domain (:meth:`_domain_shape`)."""
        g = self.perturbation.grid_size
        domain = self._domain_shape(ctx)
        grid = torch.from_numpy(np.ascontiguousarray(st).reshape(1, g, g))
        return upsample_masks(grid, domain)[0, 0].numpy()

    def _domain_shape(self, ctx) -> tuple[int, int]:
        return ctx.size

    def _spatial(self, grid_map: np.ndarray, size) -> np.ndarray | None:
        return None

    def __repr__(self) -> str:
        params: dict[str, Any] = {**self.perturbation.settings(), "nb_design": self.design.nb_design,
                                  "seed": self.design.seed, "estimator": self.estimator}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in params.items())})"

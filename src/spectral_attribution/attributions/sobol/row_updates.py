"""The row-update optimisation of the engine: design rows as cheap updates of cached images.

The plain way to get the perturbed images of design rows ``start:stop`` is
``perturbation(ctx, design.rows(start, stop))``: one inverse transform per
row. :class:`RowUpdater` gives the same images (to float rounding) much
faster, for the perturbations that declare themselves *affine* in their mask
(``perturbation.affine``), i.e. ``x(m) = x(0) + sum_i m_i b_i`` with ``b_i``
the image of cell ``i`` alone. All three perturbations of
:mod:`spectral_attribution.attributions.perturbations` are.

Why it is exact. Row ``k`` of block ``C_i`` differs from row ``k`` of ``A`` in
cell ``i`` only, so::

    x(C_i[k]) = x(A[k]) + (B[k, i] - A[k, i]) * b_i

a copy of a cached image plus an update restricted to the *support* of
``b_i`` (the pixels it changes: a ``2^j x 2^j`` block per coefficient of level
``j`` for Haar wavelets, the cell's own pixels for the spatial grid).

What is cached, per image:

* the ``n`` images ``x(A[k])`` and the image ``x(0)``;
* ``b_i`` cut to its support box, for every cell. Cells whose boxes do not
  overlap are put in one group (:func:`disjoint_groups`) and share one
  inverse transform, their ``b_i`` cut out of it: a 28 x 28 Haar WCAM needs a
  few dozen inverse transforms for its 784 cells. Perturbations that do not
  know their supports (``supports`` absent or ``None``, e.g. non-Haar
  wavelets) get their boxes found numerically, batch by batch.

Rows of ``B`` share nothing with the rows of ``A``: they are perturbed
directly (``n`` rows per image). Every batch is written into one buffer that
is reused across batches (fresh allocations of tens of MB cost page faults on
the CPU): consume a batch before asking for the next.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["RowUpdater", "disjoint_groups", "is_affine"]


def is_affine(perturbation) -> bool:
    """Whether ``perturbation`` declares ``affine = True`` (the row-update path applies)."""
    return bool(getattr(perturbation, "affine", False))


def disjoint_groups(supports: np.ndarray) -> list[list[int]]:
    """Greedy colouring of cells so that the boxes in a group never overlap.

    Parameters
    ----------
    supports:
        ``(d, 4)`` integer boxes ``[r0, r1, c0, c1)`` in pixels; empty boxes
        are left out.

    Returns
    -------
    list of lists of cell indices
        Each cell with a non-empty box is in exactly one group; cells are
        visited in order and go to the first group whose occupied pixels
        they do not touch.
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


class RowUpdater:
    """Perturbed images of the rows of a Saltelli design, for one image.

    Parameters
    ----------
    perturbation:
        An affine perturbation (:func:`is_affine`) with ``dim``, ``__call__``
        and optionally ``supports``.
    design:
        The :class:`~spectral_attribution.attributions.sobol.design.SobolDesign` (``dim`` must be
        ``perturbation.dim``).
    ctx:
        ``perturbation.prepare(image)``.
    batch_size:
        Largest number of rows asked at once (the size of the reused buffer,
        and of the chunks of the cached perturbations).
    device:
        Where masks and images live (the context's device).

    Raises
    ------
    ValueError
        The perturbation is not affine.
    """

    def __init__(self, perturbation, design, ctx, batch_size: int, device):
        if not is_affine(perturbation):
            raise ValueError(f"{type(perturbation).__name__} is not affine in its mask; "
                             "use perturbation(ctx, design.rows(start, stop)) instead")
        self.perturbation = perturbation
        self.design = design
        self.ctx = ctx
        self.batch_size = int(batch_size)
        self.device = torch.device(device)
        self.x_a = self._perturb_chunked(torch.from_numpy(design.a))
        self.x_0 = perturbation(ctx, torch.zeros(1, design.dim, device=self.device))
        supports = perturbation.supports(ctx) if hasattr(perturbation, "supports") else None
        self.patches: dict = self._cell_patches(supports) if supports is not None else {}
        self._buffer: torch.Tensor | None = None

    def _perturb_chunked(self, masks: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.perturbation(self.ctx, masks[i:i + self.batch_size].to(self.device))
                          for i in range(0, len(masks), self.batch_size)])

    def _cell_patches(self, supports: np.ndarray) -> dict:
        """``{cell: (patch (C, h, w), (r0, r1, c0, c1))}`` for cells with a non-empty support."""
        groups = disjoint_groups(supports)
        masks = torch.zeros(len(groups), self.design.dim)
        for g, cells in enumerate(groups):
            masks[g, cells] = 1
        patches = {}
        for start in range(0, len(groups), self.batch_size):
            images = self._perturb_chunked(masks[start:start + self.batch_size]) - self.x_0
            for g, cells in enumerate(groups[start:start + self.batch_size]):
                for cell in cells:
                    r0, r1, c0, c1 = (int(v) for v in supports[cell])
                    patches[cell] = (images[g, :, r0:r1, c0:c1].clone(), (r0, r1, c0, c1))
        return patches

    def _patches_for(self, cells: np.ndarray) -> dict:
        """Patches of ``cells``: cached, or (no known supports) cut out of ``b_i`` by its non-zero box."""
        missing = [int(c) for c in cells if int(c) not in self.patches]
        if not missing:
            return self.patches
        onehot = torch.zeros(len(missing), self.design.dim)
        onehot[torch.arange(len(missing)), torch.tensor(missing)] = 1
        basis = self._perturb_chunked(onehot) - self.x_0
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
        return {**self.patches, **found}

    def rows(self, start: int, stop: int) -> torch.Tensor:
        """Perturbed images ``(stop - start, C, H, W)`` of design rows ``start:stop``.

        Equal (to float rounding) to ``perturbation(ctx, design.rows(start, stop))``.
        The result is a view into a buffer that the next call overwrites:
        consume it (or copy it) first. ``stop - start`` may exceed
        ``batch_size`` (the buffer then grows).
        """
        n = self.design.nb_design
        block, k = np.divmod(np.arange(start, stop), n)
        # Every row starts as a copy of x(A[k]), written into the reused buffer.
        if self._buffer is None or self._buffer.shape[0] < stop - start:
            self._buffer = torch.empty((max(self.batch_size, stop - start), *self.x_a.shape[1:]),
                                       dtype=self.x_a.dtype, device=self.device)
        out = self._buffer[: stop - start]
        torch.index_select(self.x_a, 0, torch.from_numpy(k).to(self.device), out=out)
        is_b = block == 1
        if is_b.any():
            # B rows share nothing with A rows: perturbed directly (n rows per image).
            pos = np.flatnonzero(is_b)
            out[pos] = self.perturbation(self.ctx, torch.from_numpy(self.design.b[k[pos]]).to(self.device))
        cells = np.unique(block[block >= 2] - 2)
        patches = self._patches_for(cells)
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

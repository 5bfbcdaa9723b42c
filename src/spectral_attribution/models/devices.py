"""One GPU per job: which device a workflow job runs on.

Snakemake's ``resources: gpu=1`` and ``--resources gpu=N`` limit *how many*
GPU jobs run at once on a machine; they do not say *which* GPU each job
uses, so with ``device: cuda`` every job would run on ``cuda:0``.
:func:`lease` closes that gap with a small device pool:

* ``"cuda"`` (no index): the job takes the first free visible GPU and holds
  it for its lifetime. A GPU is held through an exclusive lock
  (:func:`fcntl.flock`) on the file ``cuda-<id>.lock`` in :func:`lock_dir`,
  where ``<id>`` is the GPU's entry in ``CUDA_VISIBLE_DEVICES`` (its index
  when the variable is unset). The operating system drops the lock when the
  job's process ends in any way (normal end, exception, ``SIGKILL``, lost
  node), so a GPU is never left taken by a dead job. When every GPU is held
  (more GPU jobs than GPUs, e.g. ``--resources gpu=4`` on a 2-GPU machine, or
  a second run on the same machine), the job waits for one, up to
  ``timeout_s``.
* Under SLURM the scheduler's allocation is used as is: SLURM sets
  ``CUDA_VISIBLE_DEVICES`` to the job's GPUs, the pool is those GPUs, and the
  locks live in a folder of their own per SLURM job (``slurm-<SLURM_JOB_ID>``),
  so jobs of different allocations on one node never wait for each other, and
  the jobs of one allocation (a local run inside ``salloc``) share its GPUs
  one each.
* ``"cuda:K"`` (an explicit index), ``"cpu"``, ``"mps"``: used as given, no lock.

The resolved device (``"cuda:1"``) is what the job passes to the model and
the explainers, and what its results record (:attr:`Lease.as_dict`).

Only the standard library is imported at module level; torch is imported
when a CUDA device is requested (to count the visible GPUs).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

__all__ = ["Lease", "lease", "lock_dir", "visible_gpu_ids", "LOCK_DIR_ENV"]

log = logging.getLogger("spectral_attribution.models.devices")

#: Environment variable overriding the folder of the GPU lock files
#: (default ``<tmp>/spectral-attribution-gpus-<uid>``).
LOCK_DIR_ENV = "SPECTRAL_ATTRIBUTION_GPU_LOCKS"


@dataclass
class Lease:
    """The device a job runs on.

    Attributes
    ----------
    requested:
        The device asked for (``"cuda"``, ``"cpu"``, ``"cuda:1"``...).
    device:
        The device to use (``"cuda:1"``; equal to ``requested`` unless it was
        picked from the pool).
    gpu_id:
        The GPU's identifier in ``CUDA_VISIBLE_DEVICES`` (or its index), for
        a device picked from the pool; else ``None``.
    how:
        ``"pool"`` (picked and locked), ``"explicit"`` (used as given).
    lock_file:
        The lock file held, or ``None``.
    """

    requested: str
    device: str
    gpu_id: str | None = None
    how: str = "explicit"
    lock_file: str | None = None
    _handle: object = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict:
        """JSON-serialisable record for provenance: requested, device, gpu_id, how,
        ``CUDA_VISIBLE_DEVICES`` and ``SLURM_JOB_ID`` as seen by the job."""
        return {"requested": self.requested, "device": self.device, "gpu_id": self.gpu_id,
                "how": self.how, "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
                "slurm_job_id": os.environ.get("SLURM_JOB_ID")}


def visible_gpu_ids(count: int) -> list[str]:
    """Identifiers of the ``count`` visible GPUs: the entries of ``CUDA_VISIBLE_DEVICES``
    (indices or UUIDs, in order) when it lists at least ``count``, else ``"0" .. "count-1"``."""
    listed = [s.strip() for s in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if s.strip()]
    if len(listed) >= count:
        return listed[:count]
    return [str(k) for k in range(count)]


def lock_dir() -> Path:
    """Folder of the GPU lock files of this machine (and, under SLURM, of this allocation).

    ``$SPECTRAL_ATTRIBUTION_GPU_LOCKS`` if set, else
    ``<tempfile.gettempdir()>/spectral-attribution-gpus-<uid>``; under SLURM a
    subfolder ``slurm-<SLURM_JOB_ID>``.
    """
    base = os.environ.get(LOCK_DIR_ENV)
    path = Path(base) if base else Path(tempfile.gettempdir()) / f"spectral-attribution-gpus-{os.getuid()}"
    job = os.environ.get("SLURM_JOB_ID")
    if job:
        path = path / f"slurm-{job}"
    return path


def _cuda_count() -> int:
    import torch

    return int(torch.cuda.device_count())


def _try_lock(path: Path):
    """Open and lock ``path`` without blocking; the open file, or ``None`` when it is held."""
    fh = open(path, "a+")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        fh.close()
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return None
        raise
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()}\n")  # who holds it, for a person looking at the folder
    fh.flush()
    return fh


def acquire(device: str | None, *, timeout_s: float = 3600.0, poll_s: float = 1.0,
            count: Callable[[], int] = _cuda_count) -> Lease:
    """Resolve ``device`` and, for a bare ``"cuda"``, take a free GPU (see the module docstring).

    Release it with :func:`release` (or use :func:`lease`, which does).

    Parameters
    ----------
    device:
        ``"cuda"`` (pick from the pool), ``"cuda:K"``, ``"cpu"``, ``"mps"``,
        or ``None`` (``"cpu"``).
    timeout_s:
        How long to wait for a GPU when all are held.
    poll_s:
        Seconds between two attempts while waiting.
    count:
        Returns the number of visible GPUs (``torch.cuda.device_count`` by
        default; tests pass their own).

    Raises
    ------
    RuntimeError
        ``"cuda"`` was requested but no GPU is visible, or none became free
        within ``timeout_s`` (the message names the lock folder and the holders).
    """
    requested = "cpu" if device is None else str(device)
    if requested != "cuda":
        return Lease(requested, requested)
    n = count()
    if n < 1:
        raise RuntimeError(
            f"device 'cuda' was requested but no CUDA device is visible "
            f"(CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r}); set config key "
            f"'device' to 'cpu' or run on a machine with a GPU")
    ids = visible_gpu_ids(n)
    folder = lock_dir()
    folder.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    waiting = False
    while True:
        for index, gpu in enumerate(ids):
            name = re.sub(r"[^A-Za-z0-9_.-]", "_", gpu)
            path = folder / f"cuda-{name}.lock"
            fh = _try_lock(path)
            if fh is not None:
                lease_ = Lease(requested, f"cuda:{index}", gpu, "pool", str(path), fh)
                log.info("device: %s (GPU %s of %d visible; lock %s)", lease_.device, gpu, n, path)
                return lease_
        if time.monotonic() >= deadline:
            raise RuntimeError(
                f"all {n} visible GPU(s) {ids} stayed held by other jobs for {timeout_s:.0f} s "
                f"(lock files in {folder}); run Snakemake with --resources gpu=N, N at most "
                f"the number of GPUs of the machine")
        if not waiting:
            log.info("all %d GPU(s) are held by other jobs; waiting for one (locks in %s)", n, folder)
            waiting = True
        time.sleep(poll_s)


def release(lease_: Lease) -> None:
    """Give the GPU of ``lease_`` back (no-op for a device that was not picked from the pool)."""
    fh = lease_._handle
    if fh is not None:
        lease_._handle = None
        with contextlib.suppress(OSError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()


@contextlib.contextmanager
def lease(device: str | None, **kwargs) -> Iterator[Lease]:
    """``with lease("cuda") as d: ...`` runs the block on ``d.device`` and frees the GPU after it,
    also when the block raises. Keyword arguments go to :func:`acquire`.

    For a CUDA device, :func:`torch.cuda.set_device` is called too, so that
    code that says ``"cuda"`` without an index lands on the same GPU.
    """
    held = acquire(device, **kwargs)
    try:
        if held.how == "pool":
            import torch

            if torch.cuda.is_available():  # false where the GPU count is mocked (tests)
                torch.cuda.set_device(held.device)
        yield held
    finally:
        release(held)

"""What every step of the workflow does around its own work: the job preamble and its log.

* :func:`job`: the one context manager of a step that runs a model: torch's
  threads, the device checked (one clear line when e.g. ``cuda`` is
  configured on a machine without it), a device leased
  (:func:`spectral_attribution.models.devices.lease`: with ``device: cuda``
  each running job holds a GPU of its own) and the model loaded on it.
  Everything a step reads before it needs a model (samples, shards) is read
  before the ``with``, so a bad input fails before a GPU is taken.
* :class:`logged`: the context manager of a workflow script
  (``workflow/scripts/*.py``): ``logging``, ``sys.stdout`` and
  ``sys.stderr`` go to the rule's log file, and SIGTERM stops the job with
  cleanup.
* The readers the steps share: :func:`read_samples`, :func:`shard_rows`,
  :func:`prepared`, :func:`pil_images`, :func:`shard_images`.

Heavy modules (torch, the models) are imported inside the functions, so that
Snakemake imports the pipeline cheaply while it builds the DAG.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from spectral_attribution import results
from spectral_attribution._utils.tables import read_table

log = logging.getLogger("spectral_attribution.pipeline")

__all__ = [
    "Job",
    "job",
    "logged",
    "load_model",
    "read_samples",
    "shard_rows",
    "prepared",
    "pil_images",
    "shard_images",
    "wall_times",
]


# --------------------------------------------------------------------------
# The job preamble
# --------------------------------------------------------------------------
def load_model(model: dict, device):
    """The wrapped model of ``model`` (:func:`~spectral_attribution.pipeline.params.model_params`:
    ``{"name", "options"}``) on ``device`` (:func:`spectral_attribution.models.load_model`)."""
    from spectral_attribution import models

    return models.load_model(model["name"], device=device, **dict(model.get("options") or {}))


@dataclass
class Job:
    """The device a step holds and the model it loaded (see :func:`job`).

    Attributes
    ----------
    lease:
        The :class:`~spectral_attribution.models.devices.Lease` held for the
        step (``lease.device``: the device to run on, e.g. ``"cuda:1"``).
    model:
        The wrapped model loaded on ``lease.device``, or ``None`` when the
        step asked for none (it loads its models with :meth:`load`).
    """

    lease: Any
    model: Any = None
    _loaded: list = field(default_factory=list, repr=False)

    @property
    def device(self) -> str:
        """The device the step runs on (``"cpu"``, ``"cuda:1"``...)."""
        return self.lease.device

    def load(self, model: dict):
        """Load ``model`` (:func:`~spectral_attribution.pipeline.params.model_params`) on
        :attr:`device`."""
        wrapper = load_model(model, self.device)
        log.info("model %s loaded on %s", model["name"], self.device)
        return wrapper

    def provenance(self, params: dict, step: str, **extra) -> dict:
        """Shard provenance (:func:`spectral_attribution.results.provenance`): the step's
        ``params``, its seed, the model's weights, the resolved device and its lease."""
        return results.provenance(config=params, seed=params.get("seed"), model=self.model,
                                  device=self.device, step=step, device_lease=self.lease.as_dict(),
                                  **extra)


@contextlib.contextmanager
def job(*, device: str | None, threads: int | None = None, model: dict | None = None) -> Iterator[Job]:
    """``with job(device=..., threads=..., model=...) as j:`` runs a step's model work.

    In order: ``torch.set_num_threads(threads)`` (when ``threads`` > 0), the
    device checked to exist (:func:`spectral_attribution.models.forward.available_device`),
    a lease of ``device`` taken (a free GPU for ``"cuda"``) and freed after
    the block (also when it raises), ``model`` loaded on the leased device
    (``j.model``; ``None`` when no ``model`` is given).

    Raises
    ------
    ValueError
        ``device`` does not exist on this machine (named, with what to use instead).
    RuntimeError
        No GPU became free (from :func:`~spectral_attribution.models.devices.acquire`).
    KeyError, FileNotFoundError
        From :func:`spectral_attribution.models.load_model` (unknown model, missing weights).
    """
    import torch

    from spectral_attribution.models import devices
    from spectral_attribution.models.forward import available_device

    if threads and int(threads) > 0:
        torch.set_num_threads(int(threads))
    if device is not None:
        available_device(device)
    with devices.lease(device) as held:
        log.info("job on %s (%s)", held.device, held.how)
        current = Job(held)
        if model is not None:
            current.model = current.load(model)
        yield current


def _stop_on_sigterm(signum, frame):
    logging.getLogger(__name__).error("stopped by SIGTERM (scancel, time limit or Snakemake)")
    raise SystemExit(128 + signum)


class logged:
    """Context manager sending ``logging``, ``sys.stdout`` and ``sys.stderr`` to a log file.

    Used by the workflow's scripts: ``with logged(snakemake.log[0]): ...``.
    Exceptions are logged with their traceback and re-raised. Inside it,
    SIGTERM (how SLURM's ``scancel``, a job's time limit and Snakemake stop
    a job) raises ``SystemExit(143)`` instead of ending the process on the
    spot, so that cleanup runs: an interrupted atomic write removes its
    temporary file (:func:`spectral_attribution._utils.files.atomic_path`).
    """

    def __init__(self, path):
        self.path = Path(path)

    def __enter__(self):
        import sys

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a", encoding="utf-8", buffering=1)
        self._saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = self._fh
        self._handler = logging.StreamHandler(self._fh)
        self._handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(self._handler)
        root.setLevel(logging.INFO)
        self._sigterm = None
        if threading.current_thread() is threading.main_thread():  # signals go to the main thread
            self._sigterm = signal.signal(signal.SIGTERM, _stop_on_sigterm)
        return self

    def __exit__(self, exc_type, exc, tb):
        import sys
        import traceback

        if self._sigterm is not None:
            signal.signal(signal.SIGTERM, self._sigterm)
        if exc is not None:
            traceback.print_exception(exc_type, exc, tb, file=self._fh)
        logging.getLogger().removeHandler(self._handler)
        sys.stdout, sys.stderr = self._saved
        self._fh.close()
        return False


# --------------------------------------------------------------------------
# Inputs the steps share
# --------------------------------------------------------------------------
def read_samples(path) -> pd.DataFrame:
    """``results/data/samples.csv`` as a DataFrame (ids as written, ``label`` an int, -1 unknown).

    Read with :func:`~spectral_attribution._utils.tables.read_table`: an image
    named ``NA.jpg`` keeps the id ``"NA"``.

    Raises
    ------
    ValueError
        A column ``image_id``, ``path`` or ``label`` is missing (named).
    """
    df = read_table(path)
    for col in ("image_id", "path", "label"):
        if col not in df.columns:
            raise ValueError(f"{path}: column {col!r} is missing (columns: {list(df.columns)})")
    df["label"] = df["label"].fillna(-1).astype(int)
    return df


def shard_rows(samples: pd.DataFrame, shard: int | str, shard_size: int) -> pd.DataFrame:
    """Rows ``k * shard_size`` to ``(k + 1) * shard_size - 1`` of ``samples`` (shard ``k``).

    Raises
    ------
    IndexError
        The shard is empty (``data.n_images`` exceeds the images of the source).
    """
    k = int(shard)
    rows = samples.iloc[k * shard_size:(k + 1) * shard_size]
    if rows.empty:
        raise IndexError(
            f"shard {k} is empty: samples.csv has {len(samples)} images, shard size {shard_size}; "
            f"config key 'data.n_images' must not exceed the images the source provides")
    return rows


def prepared(rows: pd.DataFrame, wrapper, preprocessing=None):
    """``(B, 3, H, W)`` float32 tensor of the rows' images (column ``path``), prepared for
    ``wrapper`` (its preprocessing, or ``preprocessing``)."""
    import torch

    from spectral_attribution import data

    pre = preprocessing or wrapper.preprocessing
    return torch.stack([pre.to_tensor(data.load_image(p)) for p in rows["path"]])


def pil_images(rows: pd.DataFrame) -> list:
    """The rows' images (column ``path``) as RGB PIL images."""
    from spectral_attribution import data

    return [data.load_image(p) for p in rows["path"]]


def shard_images(wrapper, manifest: pd.DataFrame, samples_csv, variant: str):
    """The images of a shard's manifest, prepared for ``wrapper``.

    Clean images, or (``variant == "corrupted"``) the corrupted copies rebuilt
    from their clean image (manifest columns ``source_image_id, corruption,
    severity, copy_seed``). Returns ``(images, extra)``: a ``(B, 3, H, W)``
    float32 tensor or a list of ``(3, H, W)`` ones, and ``extra`` the corrupted
    copies' columns ``source_image_id, corruption, severity`` (``None`` for
    clean images).
    """
    from spectral_attribution import studies

    samples = read_samples(samples_csv).set_index("image_id")
    if variant != "corrupted":
        return prepared(samples.loc[[str(i) for i in manifest["image_id"]]].reset_index(), wrapper), None
    clean = prepared(samples.loc[[str(i) for i in manifest["source_image_id"]]].reset_index(), wrapper)
    images = [studies.corrupted_copy(img, c, int(s), int(cs)) for img, c, s, cs in
              zip(clean, manifest["corruption"], manifest["severity"], manifest["copy_seed"])]
    return images, manifest[["source_image_id", "corruption", "severity"]].reset_index(drop=True)


def wall_times(shard) -> list[float]:
    """The shard manifest's ``wall_time_s`` (seconds per image; NaN for shards without it)."""
    column = shard.manifest.get("wall_time_s")
    return [float("nan")] * len(shard) if column is None else [float(v) for v in column]

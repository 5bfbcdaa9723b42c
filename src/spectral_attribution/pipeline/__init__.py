"""The steps of the Snakemake workflow, one function per rule.

The workflow (``Snakefile``, ``workflow/rules/*.smk``) only decides which step
runs where and when; its scripts (``workflow/scripts/*.py``) pass
``snakemake.input`` / ``params`` / ``output`` to one function here. Every
function reads files, calls the studies / explainers / plots of the
package, and writes its outputs atomically (:mod:`spectral_attribution.results`).
No study logic lives here: tables and figures are made through the registries
:data:`spectral_attribution.studies.TABLES` and
:data:`spectral_attribution.plots.FIGURES`. Heavy modules (torch, the
studies, the plots) are imported inside the functions, so that Snakemake can
import this module cheaply while it builds the DAG.

Parameters of the rules
-----------------------
Snakemake reruns a job whose ``params`` changed (it compares their ``repr``),
so each rule's ``params`` hold exactly the values its job reads, no more, with
dictionary keys in sorted order (reordering a configuration file changes nothing): changing a figure setting,
a corruption or a faithfulness setting never recomputes a WCAM. The small
functions of the section "Parameters" (:func:`model_params`,
:func:`source_params`, :func:`explainer_params`, ...) cut them out of the
validated configuration (``workflow/schemas/config.schema.yaml``, defaults
filled in); ``workflow/rules/common.smk`` calls them, and each rule function
below takes them as keyword arguments of the same names. The job's shard
provenance records them (``provenance["config"]``).

The class every explanation explains, and so every metric of it scores,
follows the top-level ``target_policy`` (``prediction`` or ``label``;
:mod:`spectral_attribution.attributions.targets`), a parameter of every rule that
explains or scores an image.

The ``methods`` list (:func:`method_entries`) names the attribution methods
compared with the WCAM (``wcam`` and ``wam`` entries).

Forward passes run at ``wcam.precision`` through ``wcam.backend``
(:func:`forward_settings`). The studies' functions take ``forward``
(:func:`study_forward_params`: float32 through the configured backend).

Shards
------
Images are processed in shards of ``wcam.shard_size`` images of
``results/data/samples.csv`` (in its order): shard ``k`` holds rows
``k * shard_size`` to ``(k + 1) * shard_size - 1``. The number of shards is
``ceil(data.n_images / shard_size)`` and depends on the configuration only,
so that the workflow's DAG can be built before any data exists.

Variants of a shard (:func:`spectral_attribution.results.shard_folder`):

* ``clean``: WCAM of each image (``results/wcam/{model}/clean/``);
* ``corrupted``: WCAM of the corrupted copies chosen by
  :func:`select_corrupted` (image id ``"{image_id}@{corruption}-{severity}"``;
  ``results/wcam/{model}/corrupted/``);
* ``spatial``: spatial Sobol' map of each image, for faithfulness
  (``results/spatial/{model}/``, rule ``spatial_sobol``).

Devices
-------
Jobs that run a model take their device through
:func:`spectral_attribution.models.devices.lease`: with ``device: cuda`` each
running job holds a GPU of its own (see :mod:`spectral_attribution.models.devices`);
the shard provenance records the resolved device.

WAM maps (:class:`~spectral_attribution.attributions.wam.WAM`, one folder per configured
variant) are shards of their own: ``results/wam/{model}/{variant}/shard-NNN.npz``
(:func:`wam_shard`); the methods comparison (:func:`methods_shard`) reads them
beside the clean WCAM shard of the same images. Every explanation shard's
manifest has a column ``wall_time_s``: the seconds spent explaining each image.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Sequence

import pandas as pd

from spectral_attribution._utils import parameters
from spectral_attribution import results
from spectral_attribution.models.forward import check_device, forward_logits
from spectral_attribution._utils.checks import progress_bar
from spectral_attribution._utils.tables import read_table

log = logging.getLogger("spectral_attribution.pipeline")

__all__ = [
    "VARIANTS",
    "TABLES",
    "FIGURES",
    "FIGURE_OPTIONS",
    "model_entries",
    "model_entry",
    "nicknames",
    "n_shards",
    "shard_ids",
    "shard_rows",
    "use_gpu",
    "target_policy",
    "check_config",
    "model_params",
    "source_params",
    "data_source_config",
    "explainer_params",
    "corruption_params",
    "selection_params",
    "reconstruction_params",
    "zoom_views",
    "faithfulness_params",
    "figure_params",
    "prepare_samples",
    "read_samples",
    "check_model",
    "explain_shard",
    "corruption_baseline_shard",
    "concat_tables",
    "robustness_tables",
    "select_corrupted",
    "reconstruction_shard",
    "zoom_shard",
    "faithfulness_shard",
    "depth_baselines_shard",
    "wcam_noise",
    "method_entries",
    "wam_variants",
    "wam_params",
    "wam_shard",
    "methods_shard",
    "make_table",
    "make_figure",
    "logged",
]

VARIANTS = ("clean", "corrupted", "spatial")
#: Names of :data:`spectral_attribution.studies.TABLES` (kept here so that
#: building the DAG imports neither torch nor matplotlib; a test checks them).
TABLES = ("robustness", "reconstruction", "zoom", "faithfulness", "claims", "wcam_noise",
          "depth_robustness", "methods")
#: Names of :data:`spectral_attribution.plots.FIGURES` (same reason).
FIGURES = ("robustness", "wcam_gallery", "reconstructions", "depth_vs_robustness",
           "depth_orders", "zoom", "faithfulness", "claims", "methods")
#: Figure name → the options its maker reads (``FigureMaker.options`` of
#: :data:`spectral_attribution.plots.FIGURES`; a test checks them).
FIGURE_OPTIONS: dict[str, tuple[str, ...]] = {
    "robustness": (),
    "wcam_gallery": ("results_dir", "models", "nb_images"),
    "reconstructions": ("results_dir", "models", "nb_images"),
    "depth_vs_robustness": (),
    "depth_orders": (),
    "zoom": (),
    "faithfulness": (),
    "claims": (),
    "methods": (),
}
#: Variants of :class:`~spectral_attribution.attributions.wam.WAM` (its ``VARIANTS``, kept
#: here so that building the DAG does not import torch).
WAM_VARIANTS = ("gradient", "smoothgrad", "integratedgrad")
#: Options a ``wam`` entry of ``config["methods"]`` may set (keywords of ``WAM``).
WAM_OPTIONS = ("nb_samples", "noise_level", "nb_steps", "rule", "batch_size")


# --------------------------------------------------------------------------
# Configuration helpers (cheap: no torch import; used while building the DAG)
# --------------------------------------------------------------------------
def model_entries(config: dict) -> list[dict]:
    """``config["models"]`` as a list of ``{"nickname", "name", "options"}`` dicts.

    Raises
    ------
    ValueError
        Two models share a nickname.
    """
    entries = []
    for item in config["models"]:
        entries.append({"nickname": item["nickname"], "name": item.get("name", item["nickname"]),
                        "options": dict(item.get("options") or {})})
    names = [e["nickname"] for e in entries]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"config key 'models': nicknames must be unique, repeated: {dupes}")
    return entries


def nicknames(config: dict) -> list[str]:
    """Nicknames of the configured models, in configuration order."""
    return [e["nickname"] for e in model_entries(config)]


def model_entry(config: dict, nickname: str) -> dict:
    """The entry of model ``nickname``; ``KeyError`` naming the configured ones otherwise."""
    for e in model_entries(config):
        if e["nickname"] == nickname:
            return e
    raise KeyError(f"model {nickname!r} is not in config key 'models' (configured: {nicknames(config)})")


def n_shards(config: dict) -> int:
    """``ceil(data.n_images / wcam.shard_size)`` (:func:`spectral_attribution.results.shard_count`)."""
    return results.shard_count(config)


def shard_ids(config: dict) -> list[str]:
    """Shard identifiers ``"000"``, ``"001"``, ... (zero-padded to 3 digits)."""
    return [f"{k:03d}" for k in range(n_shards(config))]


def use_gpu(config: dict) -> int:
    """1 when ``config["device"]`` is a CUDA device (the ``gpu`` resource of heavy rules), else 0."""
    return int(str(config.get("device", "cpu")).startswith("cuda"))


def method_entries(config: dict) -> list[dict]:
    """``config["methods"]`` (default ``["wcam"]``) as normalised entries.

    An item is ``"wcam"``, ``"wam"`` (the WAM's default variant,
    ``smoothgrad``) or a mapping ``{method, variant, nb_samples,
    noise_level, nb_steps, rule, batch_size}`` (the WAM's keywords; omitted
    ones take :class:`~spectral_attribution.attributions.wam.WAM`'s defaults). The WCAM
    is always the reference of the comparison and comes first, listed or not.

    Returns
    -------
    list[dict]
        ``{"label", "method", "variant", "options"}``: label ``"wcam"`` or
        ``"wam-<variant>"`` (the method's name in tables and figures),
        ``variant`` ``None`` for the WCAM, ``options`` the WAM keywords given.

    Raises
    ------
    ValueError
        Naming the entry: an unknown method or variant, options on a
        ``wcam`` entry, two entries of the same WAM variant, or
        ``nb_steps < 2`` with the trapezoid rule.
    """
    entries = [{"label": "wcam", "method": "wcam", "variant": None, "options": {}}]
    for k, item in enumerate(config.get("methods") or ["wcam"]):
        where = f"config key 'methods[{k}]'"
        item = {"method": item} if isinstance(item, str) else dict(item)
        method = item.pop("method", None)
        if method == "wcam":
            if item:
                raise ValueError(f"{where}: the WCAM takes its settings from 'wcam', not {sorted(item)}")
            continue
        if method != "wam":
            raise ValueError(f"{where}: unknown method {method!r}; expected 'wcam' or 'wam'")
        variant = item.pop("variant", "smoothgrad")
        if variant not in WAM_VARIANTS:
            raise ValueError(f"{where}: unknown WAM variant {variant!r}; expected one of {WAM_VARIANTS}")
        unknown = sorted(set(item) - set(WAM_OPTIONS))
        if unknown:
            raise ValueError(f"{where}: unknown WAM option(s) {unknown}; expected some of {WAM_OPTIONS}")
        if (variant == "integratedgrad" and item.get("rule", "trapezoid") == "trapezoid"
                and item.get("nb_steps", 2) < 2):
            raise ValueError(f"{where}: nb_steps must be >= 2 with the trapezoid rule, got {item['nb_steps']}")
        label = f"wam-{variant}"
        if any(e["label"] == label for e in entries):
            raise ValueError(f"{where}: WAM variant {variant!r} is listed twice")
        entries.append({"label": label, "method": "wam", "variant": variant, "options": item})
    return entries


def wam_variants(config: dict) -> list[str]:
    """The WAM variants of ``config["methods"]``, in configuration order (empty: no comparison)."""
    return [e["variant"] for e in method_entries(config) if e["method"] == "wam"]


def shard_rows(samples: pd.DataFrame, shard: int | str, shard_size: int) -> pd.DataFrame:
    """Rows of shard ``shard`` of ``samples`` (``IndexError`` when it is empty)."""
    k = int(shard)
    rows = samples.iloc[k * shard_size:(k + 1) * shard_size]
    if rows.empty:
        raise IndexError(
            f"shard {k} is empty: samples.csv has {len(samples)} images, shard size {shard_size}; "
            f"config key 'data.n_images' must not exceed the images the source provides")
    return rows


def check_config(config: dict) -> None:
    """The rules of :mod:`spectral_attribution._utils.parameters` that JSON Schema cannot state,
    on a configuration the schema validated (the Snakefile calls it before any job).

    * model nicknames are unique;
    * every zoom view's ``levels`` fits its ``crop`` (``2^levels <= crop``).

    Raises
    ------
    ValueError
        Naming the configuration key.
    """
    model_entries(config)
    target_policy(config)
    if config["zoom"].get("enabled", True):
        for view, (_resize, crop, levels) in config["zoom"]["views"].items():
            try:
                parameters.check_levels(levels, int(crop))
            except ValueError as exc:
                raise ValueError(f"config key 'zoom.views.{view}': {exc}") from None


# --------------------------------------------------------------------------
# Parameters: what each rule's job reads (its Snakemake ``params``)
# --------------------------------------------------------------------------
def _canonical(value):
    """``value`` with every dict's keys sorted, recursively.

    Snakemake compares params by their ``repr``: a dict built in the order of
    the configuration file's keys would look changed when someone merely
    reorders the file (or when a tool rewrites it sorted).
    """
    if isinstance(value, dict):
        return {k: _canonical(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def model_params(config: dict, nickname: str) -> dict:
    """How to load model ``nickname``: ``{"name": registry name, "options": load_model kwargs}``.

    ``options`` holds the entry's options, plus the top-level ``model_dir``
    for RobustBench models (the only loader that reads it), unless the entry
    sets its own. Not the nickname: renaming a model is a new output path.
    """
    entry = model_entry(config, nickname)
    options = dict(entry["options"])
    if config.get("model_dir") and entry["name"].startswith("robustbench:"):
        options.setdefault("model_dir", str(config["model_dir"]))
    return _canonical({"name": entry["name"], "options": options})


_SOURCE_ONLY = {"folder": ("root",),
                "imagenet": ("root", "download", "base_url", "credentials_env", "cookie_file")}


def source_params(config: dict) -> dict:
    """The ``data`` section as :func:`spectral_attribution.data.prepare_source` takes it.

    Adds the top-level ``seed``, drops ``cache_dir`` (the output folder, a
    parameter of its own), the keys of other sources, and ``null`` values
    (the package's defaults apply).
    """
    d = dict(config["data"])
    source = d["source"]
    keep = {"source", "n_images", "stratify", "skip_bad_images", *_SOURCE_ONLY.get(source, ())}
    out = {k: v for k, v in d.items() if k in keep and v is not None}
    out["seed"] = int(config.get("seed", 0))
    return _canonical(out)


#: Former name of :func:`source_params`.
data_source_config = source_params



def explainer_params(config: dict, kind: str) -> dict:
    """Keyword arguments of the explainer of ``kind``, resolved from the configuration.

    ``kind``:

    * ``"wcam"``: :class:`~spectral_attribution.attributions.wcam.WCAM` of the
      ``clean`` and ``corrupted`` shards: ``method``, ``grid_size``,
      ``nb_design``, ``levels``, ``wavelet`` and the common keys;
    * ``"spatial"``: :class:`~spectral_attribution.attributions.spatial_sobol.SpatialSobol`
      of the ``spatial`` shards: ``faithfulness.spatial.grid_size`` and
      ``nb_design`` (``null``: the ``wcam`` value) and the common keys;
    * ``"zoom"``: the WCAMs of the zoom study: ``zoom.grid_size`` and
      ``nb_design`` (``null``: the ``wcam`` value) and the common keys (the
      levels come from the views).

    Common keys, from ``wcam``: ``estimator``, ``batch_size``, ``screening``
    (default 0.01; ``null`` the full design), and ``precision``
    and ``backend`` (:func:`forward_settings`; as asked, ``auto`` unresolved: the
    shard records what it resolved to). Values are plain ints, strings, booleans or ``None``.
    """
    w = config["wcam"]
    common = {"estimator": w.get("estimator"), "batch_size": int(w["batch_size"]),
              "screening": _screening(w), **forward_settings(config)}
    if kind == "wcam":
        return _canonical({"method": "wcam", "grid_size": int(w["grid_size"]),
                           "nb_design": int(w["nb_design"]), "levels": int(w["levels"]),
                           "wavelet": str(w["wavelet"]), **common})
    section = {"spatial": lambda: config["faithfulness"]["spatial"], "zoom": lambda: config["zoom"]}
    if kind not in section:
        raise ValueError(f"unknown explainer kind {kind!r}; expected 'wcam', 'spatial' or 'zoom'")
    s = section[kind]()
    out = {"grid_size": int(s.get("grid_size") or w["grid_size"]),
           "nb_design": int(s.get("nb_design") or w["nb_design"]), **common}
    return _canonical({"method": "spatial-sobol", **out} if kind == "spatial" else out)


def _screening(w: dict):
    """``wcam.screening`` (default 0.01) checked: a float in ``(0, 1)`` or ``None`` (full design)."""
    from spectral_attribution.attributions.sobol.screening import DEFAULT_SCREENING, check_screening

    try:
        return check_screening(w.get("screening", DEFAULT_SCREENING))
    except ValueError as err:
        raise ValueError(f"config key wcam.screening: {err}") from None


def corruption_params(config: dict) -> dict:
    """``{"names", "severities"}`` of the corruption baseline (``corruptions`` section);
    ``names`` a set name (``"standard-15"``, ``"extra-4"``, ``"all-19"``) or a list."""
    c = config["corruptions"]
    names = c["names"]  # a set name ("standard-15") stays a name: the study resolves it
    return _canonical({"names": names if isinstance(names, str) else list(names),
                       "severities": [int(s) for s in c["severities"]]})


def selection_params(config: dict) -> dict:
    """``corruptions.explain`` (``per_image``, ``severities``, ``prefer_changed``) and the
    ``reference_model`` (the first configured model) of :func:`select_corrupted`."""
    e = config["corruptions"]["explain"]
    severities = e.get("severities")
    return _canonical({"per_image": int(e["per_image"]),
                       "severities": None if severities is None else [int(s) for s in severities],
                       "prefer_changed": bool(e.get("prefer_changed", True)),
                       "reference_model": nicknames(config)[0]})


def reconstruction_params(config: dict) -> dict:
    """``{"nb_random_draws", "max_k"}`` of the reconstruction study."""
    r = config["reconstruction"]
    return _canonical({"nb_random_draws": int(r["nb_random_draws"]),
                       "max_k": None if r.get("max_k") is None else int(r["max_k"])})


def zoom_views(config: dict) -> dict:
    """``zoom.views``: view name → ``[resize, crop, levels]`` (in name order)."""
    return _canonical({name: [int(v) for v in spec] for name, spec in config["zoom"]["views"].items()})


def faithfulness_params(config: dict) -> dict:
    """``{"nb_subsets", "subset_fraction", "steps", "score"}`` of the faithfulness study."""
    f = config["faithfulness"]
    return _canonical({"nb_subsets": int(f["nb_subsets"]), "subset_fraction": float(f["subset_fraction"]),
                       "steps": int(f["steps"]), "score": str(f["score"])})


def figure_params(config: dict, name: str, results_dir: str = "results") -> dict:
    """The options figure ``name``'s maker reads (:data:`FIGURE_OPTIONS`): ``results_dir``,
    ``models`` (the configured nicknames) and ``nb_images`` (``figures.gallery_images``
    for ``wcam_gallery``, ``figures.reconstruction_images`` for ``reconstructions``)."""
    if name not in FIGURE_OPTIONS:
        raise ValueError(f"unknown figure {name!r}; expected one of {FIGURES}")
    values = {"results_dir": str(results_dir), "models": nicknames(config)}
    key = {"wcam_gallery": "gallery_images", "reconstructions": "reconstruction_images"}.get(name)
    if key is not None:
        values["nb_images"] = int(config["figures"][key])
    return _canonical({k: values[k] for k in FIGURE_OPTIONS[name]})


# --------------------------------------------------------------------------
# Shared pieces of the steps
# --------------------------------------------------------------------------
def _start(threads: int | None, device: str | None = None) -> None:
    """Torch threads of the job, and the device checked (one clear line when e.g.
    ``cuda`` is configured on a machine without it)."""
    import torch

    if threads and int(threads) > 0:
        torch.set_num_threads(int(threads))
    if device is not None:
        check_device(device)


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


def _load_model(model: dict, device):
    from spectral_attribution import models

    return models.load_model(model["name"], device=device, **dict(model.get("options") or {}))


def _prepared(rows: pd.DataFrame, wrapper, preprocessing=None):
    """``(B, 3, H, W)`` float32 tensor of the rows' images, prepared for ``wrapper``."""
    import torch

    from spectral_attribution import data

    pre = preprocessing or wrapper.preprocessing
    return torch.stack([pre.to_tensor(data.load_image(p)) for p in rows["path"]])


def _pil(rows: pd.DataFrame):
    from spectral_attribution import data

    return [data.load_image(p) for p in rows["path"]]


def forward_settings(config: dict) -> dict:
    """``{"precision", "backend"}`` of the forward passes, from ``config["wcam"]``.

    ``wcam.precision`` (``float32`` default, ``bfloat16``, ``float16``,
    ``auto``) and ``wcam.backend`` (``auto`` default, ``eager``,
    ``channels_last``, ``compile``, ``onnxruntime``, ``openvino``,
    ``cuda_graphs``). The deprecated keys still work, with a warning:
    ``wcam.autocast: bfloat16`` means ``precision: bfloat16`` (``null``:
    float32) and ``wcam.channels_last: true`` means ``backend:
    channels_last`` when ``backend`` is ``eager`` (``auto`` already picks the
    fastest backend that agrees with eager).

    Raises
    ------
    ValueError
        ``wcam.autocast`` and ``wcam.precision`` both set, to different values.
    """
    import warnings

    from spectral_attribution.models.forward import forward_options

    w = config.get("wcam", {})
    precision, backend = w.get("precision") or "float32", w.get("backend") or "auto"
    autocast, channels_last = w.get("autocast"), w.get("channels_last")
    if autocast is not None or channels_last:
        if autocast is not None and precision not in ("float32", autocast):
            raise ValueError(f"config: wcam.autocast ({autocast!r}) and wcam.precision "
                             f"({precision!r}) disagree; delete wcam.autocast (deprecated)")
        warnings.warn("config: wcam.autocast / wcam.channels_last are deprecated; use "
                      "wcam.precision (float32, bfloat16, float16, auto) and wcam.backend "
                      "(auto, eager, channels_last, ...)", FutureWarning, stacklevel=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            precision, backend = forward_options(precision, backend, autocast, channels_last)
    return {"precision": precision, "backend": backend}


def study_forward_params(config: dict) -> dict:
    """``{"precision", "backend"}`` of the studies' forward passes (their rules' ``forward``
    param): the configured backend (it agrees with eager within 1e-3 logits), always in
    float32, so that depths, drops and predictions compare across machines and with the
    paper."""
    return {"precision": "float32", "backend": forward_settings(config)["backend"]}


def target_policy(config: dict) -> str:
    """``config["target_policy"]`` (default ``"prediction"``), checked.

    Raises
    ------
    ValueError
        An unknown value (named); also when the configuration still has the
        removed key ``wcam.target``.
    """
    from spectral_attribution.attributions.targets import check_target_policy

    if "target" in (config.get("wcam") or {}):
        raise ValueError("config key 'wcam.target' was replaced by the top-level key "
                         "'target_policy' (prediction | label)")
    return check_target_policy(config.get("target_policy", "prediction"))


def make_explainer(wrapper, explainer: dict, seed: int, device):
    """The explainer described by ``explainer`` (see :func:`explainer_params`; ``method``
    ``"wcam"`` or ``"spatial-sobol"``) on ``wrapper``, seeded, on ``device``."""
    from spectral_attribution.attributions.spatial_sobol import SpatialSobol
    from spectral_attribution.attributions.wcam import WCAM

    kwargs = dict(explainer)
    method = kwargs.pop("method", "wcam")
    classes = {"wcam": WCAM, "spatial-sobol": SpatialSobol}
    if method not in classes:
        raise ValueError(f"unknown explainer method {method!r}; expected one of {sorted(classes)}")
    # progress=True: log lines in the job's log, so that a long job shows it is alive
    return classes[method](wrapper, seed=int(seed), device=device, progress=True, **kwargs)


# --------------------------------------------------------------------------
# Data and models
# --------------------------------------------------------------------------
def prepare_samples(*, source: dict, cache_dir, out_csv) -> pd.DataFrame:
    """Resolve the image source and draw ``source["n_images"]`` images, seeded.

    Calls :func:`spectral_attribution.data.prepare_source` with ``source``
    (:func:`source_params`: download, verify, extract, list, sample without
    replacement with seed ``source["seed"]``, decode; embedded photographs are
    written under ``cache_dir``) and writes the sample to ``out_csv``
    (columns ``image_id, path, label, class_name``; paths absolute;
    ``label`` ``-1`` when unknown) in the order the shards use. Images left
    out by ``skip_bad_images`` go to ``skipped_images.csv`` beside it.
    Returns the sample.

    Raises
    ------
    ValueError, TypeError
        From ``prepare_source``: bad data keys (named), or fewer images than
        ``n_images``.
    """
    from spectral_attribution import data

    sample = data.prepare_source(dict(source), Path(cache_dir or "resources/data"))
    skipped = sample.attrs.get("skipped_images")
    sample = sample.reset_index(drop=True)
    sample["path"] = [str(Path(p).resolve()) for p in sample["path"]]
    sample["label"] = sample["label"].fillna(-1).astype(int)
    results.write_csv(sample, out_csv)
    # Images left out by ``skip_bad_images`` are listed beside the sample (an empty
    # table when there were none), so a run's inputs stay accountable.
    if skipped is None:
        skipped = pd.DataFrame(columns=["image_id", "path", "label", "class_name", "error"])
    results.write_csv(skipped, Path(out_csv).with_name("skipped_images.csv"))
    return sample


def check_model(*, model: dict, nickname: str, out_json) -> dict:
    """Load a model once, on the CPU, and record what it is (``results/models/{nickname}.json``).

    ``model``: :func:`model_params`. The JSON holds ``nickname``,
    ``registry_name``, ``options``, ``source``, ``weights_sha256``,
    ``preprocessing`` and ``nb_classes`` (from one forward pass of a
    zero image of the preprocessing's crop). The CPU is enough for that, and
    this job holds no GPU.

    Raises
    ------
    KeyError, FileNotFoundError, ValueError
        From :func:`models.load_model`: unknown registry name, weights
        missing (the message names the expected path), or not a checkpoint.
    """
    import torch

    wrapper = _load_model(model, "cpu")
    size = wrapper.preprocessing.crop or 224
    nb_classes = int(forward_logits(wrapper, torch.zeros(1, 3, size, size)).shape[-1])
    info = {"nickname": nickname, "registry_name": model["name"], "options": model["options"],
            "source": getattr(wrapper, "source", ""), "weights_sha256": results.weights_hash(wrapper),
            "preprocessing": wrapper.preprocessing.as_dict(), "nb_classes": nb_classes}
    results.write_json(info, out_json)
    return info


def _provenance(params: dict, wrapper, held, step: str, **extra) -> dict:
    """Shard/table provenance: the job's parameters, the resolved device and its lease."""
    return results.provenance(config=params, seed=params.get("seed"), model=wrapper,
                              device=held.device, step=step, device_lease=held.as_dict(), **extra)


# --------------------------------------------------------------------------
# Explanations
# --------------------------------------------------------------------------
def explain_shard(*, model: dict, explainer: dict, shard_size: int, target_policy: str, seed: int,
                  device: str, nickname: str, variant: str, shard: str, samples_csv, out_npz,
                  selection_csv=None, threads: int | None = None):
    """Explain the images of one shard and write ``out_npz`` + its manifest.

    Parameters (the rule's ``params``)
    ----------------------------------
    model:
        :func:`model_params`.
    explainer:
        :func:`explainer_params` (``"wcam"`` for the ``clean`` and
        ``corrupted`` variants, ``"spatial"`` for ``spatial``).
    shard_size:
        Images per shard (which rows of ``samples_csv`` are shard ``shard``).
    target_policy:
        ``"prediction"`` or ``"label"`` (:mod:`spectral_attribution.attributions.targets`).
    seed:
        Seed of the Sobol' design.
    device:
        Requested device; the job runs on the device it leases
        (:func:`spectral_attribution.models.devices.lease`), recorded in the provenance.

    ``variant`` is ``"clean"``, ``"corrupted"`` (the copies in
    ``selection_csv`` whose ``image_id`` is in the shard) or ``"spatial"``
    (clean images, spatial Sobol' explainer).

    The class explained follows ``target_policy`` (:mod:`spectral_attribution.attributions.targets`):
    the model's prediction on the image explained (a corrupted copy: on the
    copy), or the label (a corrupted copy: its clean image's label; the
    prediction where the label is unknown). The manifest records
    ``target_policy`` and each image's ``target_source``, and so does each
    explanation's ``settings``.

    Returns the ``(npz, manifest)`` paths.
    """
    from spectral_attribution.models import devices
    from spectral_attribution import studies
    from spectral_attribution.attributions.targets import check_target_policy

    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
    policy = check_target_policy(target_policy)
    params = {"model": model, "explainer": explainer, "shard_size": shard_size,
              "target_policy": policy, "seed": seed, "device": device}
    _start(threads, device)
    samples = read_samples(samples_csv)
    rows = shard_rows(samples, shard, int(shard_size))
    with devices.lease(device) as held:
        wrapper = _load_model(model, held.device)
        images = _prepared(rows, wrapper)
        ids, labels = list(rows["image_id"]), list(rows["label"])
        extra = {}
        if variant == "corrupted":
            if selection_csv is None:
                raise ValueError("variant 'corrupted' needs the selection of corrupted copies")
            images, ids, labels, extra = studies.corrupted_copies(images, ids, labels,
                                                                  read_table(selection_csv))
        explain = make_explainer(wrapper, explainer, seed, held.device)
        explanations, seconds = _explain_timed(explain, images, policy, labels)
        for e in explanations:
            e.settings = {**e.settings, "variant": variant, "model": nickname}
        extra = {**extra, "target_policy": [policy] * len(explanations),
                 "target_source": [e.settings["target_source"] for e in explanations],
                 "wall_time_s": seconds}
        prov = _provenance(params, wrapper, held, "explain_shard", nickname=nickname,
                           variant=variant, shard=str(shard), nb_forward=explain.nb_forward,
                           precision=explain.precision, backend=explain.backend)
    return results.write_shard(out_npz, explanations, ids, labels=labels, seed=int(seed),
                               provenance=prov, extra_columns=extra)


def _explain_timed(explainer, images, policy: str, labels) -> tuple[list, list[float]]:
    """Explain ``images`` one at a time under the target ``policy``; the explanations and the
    seconds each took.

    One call per image gives the same explanations as one call for all
    (every explainer explains image by image with one design or one noise
    draw for all), and a wall time per image for the methods comparison.
    """
    import time

    from spectral_attribution.attributions.targets import explain_with_policy

    explanations, seconds = [], []
    for i in range(len(images)):
        start = time.perf_counter()
        explanations += explain_with_policy(explainer, images[i:i + 1], policy, labels[i:i + 1])
        seconds.append(time.perf_counter() - start)
    return explanations, seconds


def wam_params(config: dict, variant: str) -> dict:
    """Keyword arguments of the :class:`~spectral_attribution.attributions.wam.WAM` of ``variant``: the
    entry of ``config["methods"]`` (:func:`method_entries`) on the WCAM's wavelet, levels
    and grid (``wcam.wavelet``, ``wcam.levels``, ``wcam.grid_size``).

    Raises
    ------
    ValueError
        ``variant`` is not one of the configured WAM variants.
    """
    entries = {e["variant"]: e for e in method_entries(config) if e["method"] == "wam"}
    if variant not in entries:
        raise ValueError(f"WAM variant {variant!r} is not in config key 'methods' "
                         f"(configured: {sorted(entries)})")
    w = config["wcam"]
    return _canonical({"variant": variant, "grid_size": int(w["grid_size"]),
                       "levels": int(w["levels"]), "wavelet": str(w["wavelet"]),
                       **entries[variant]["options"]})


def wam_shard(*, model: dict, wam: dict, shard_size: int, target_policy: str, seed: int,
              device: str, nickname: str, variant: str, shard: str, samples_csv, out_npz,
              threads: int | None = None):
    """WAM maps of the images of one shard: ``results/wam/{model}/{variant}/shard-NNN.npz``.

    ``wam``: :func:`wam_params` (its ``variant`` must be ``variant``); the
    class explained follows ``target_policy``, as the WCAM shard of the same
    images; ``seed`` seeds SmoothGrad's noise. The manifest records each
    image's ``wall_time_s``. Returns the ``(npz, manifest)`` paths.
    """
    from spectral_attribution.models import devices
    from spectral_attribution.attributions.targets import check_target_policy
    from spectral_attribution.attributions.wam import WAM

    if wam.get("variant") != variant:
        raise ValueError(f"the WAM settings are for variant {wam.get('variant')!r}, not {variant!r}")
    policy = check_target_policy(target_policy)
    params = {"model": model, "wam": wam, "shard_size": shard_size, "target_policy": policy,
              "seed": seed, "device": device}
    _start(threads, device)
    rows = shard_rows(read_samples(samples_csv), shard, int(shard_size))
    with devices.lease(device) as held:
        wrapper = _load_model(model, held.device)
        images = _prepared(rows, wrapper)
        ids, labels = list(rows["image_id"]), list(rows["label"])
        explainer = WAM(wrapper, seed=int(seed), device=held.device, **wam)
        explanations, seconds = _explain_timed(explainer, images, policy, labels)
        for e in explanations:
            e.settings = {**e.settings, "model": nickname}
        prov = _provenance(params, wrapper, held, "wam_shard", nickname=nickname, variant=variant,
                           shard=str(shard), nb_forward=explainer.nb_forward,
                           nb_backward=explainer.nb_backward)
    return results.write_shard(out_npz, explanations, ids, labels=labels, seed=int(seed),
                               provenance=prov,
                               extra_columns={"target_policy": [policy] * len(explanations),
                                              "target_source": [e.settings["target_source"]
                                                                for e in explanations],
                                              "wall_time_s": seconds})

# --------------------------------------------------------------------------
# Studies
# --------------------------------------------------------------------------
def corruption_baseline_shard(*, model: dict, corruptions: dict, shard_size: int, batch_size: int,
                              seed: int, device: str, nickname: str, shard: str, samples_csv,
                              out_csv, forward: dict | None = None,
                              threads: int | None = None) -> pd.DataFrame:
    """:func:`studies.corruption_baseline` on the images of one shard; writes ``out_csv``.

    ``corruptions``: :func:`corruption_params`. Copy seeds depend on the
    image's position in ``samples.csv`` (global, not within the shard), so
    results do not depend on the shard size.
    """
    from spectral_attribution.models import devices
    from spectral_attribution import studies

    _start(threads, device)
    samples = read_samples(samples_csv)
    size = int(shard_size)
    rows = shard_rows(samples, shard, size)
    with devices.lease(device) as held:
        wrapper = _load_model(model, held.device)
        images = _prepared(rows, wrapper)
        frames = []
        # one call per image so that copy seeds use the global image index
        pairs = progress_bar(zip(images, rows["image_id"], rows["label"]), True, "corruption baseline",
                             total=len(rows))
        for offset, (img, image_id, label) in enumerate(pairs):
            index = int(shard) * size + offset
            df = studies.corruption_baseline(wrapper, img[None], [image_id],
                                             corruptions=corruptions["names"],
                                             severities=corruptions["severities"],
                                             seed=int(seed) + 1_000_003 * index,
                                             batch_size=int(batch_size), labels=[int(label)],
                                             progress=False, **(forward or {}))
            frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    df["model"] = nickname
    results.write_csv(df, out_csv)
    return df


def concat_tables(inputs: Sequence, out_csv) -> pd.DataFrame:
    """Concatenate CSV tables (same columns) into ``out_csv``."""
    frames = [read_table(p) for p in inputs]
    frames = [f for f in frames if not f.empty] or frames[:1]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    results.write_csv(df, out_csv)
    return df


def robustness_tables(baseline_csv, per_image_csv, per_corruption_csv):
    """:func:`studies.robustness_per_image` and :func:`~studies.robustness_per_corruption` of the baseline."""
    from spectral_attribution import studies

    baseline = read_table(baseline_csv)
    per_image = studies.robustness_per_image(baseline)
    per_corruption = studies.robustness_per_corruption(baseline)
    results.write_csv(per_image, per_image_csv)
    results.write_csv(per_corruption, per_corruption_csv)
    return per_image, per_corruption


def select_corrupted(*, selection: dict, seed: int, baseline_csvs: Sequence, out_csv) -> pd.DataFrame:
    """Choose the corrupted copies to explain, the same for every model.

    The choice (:func:`studies.select_corrupted_copies`; ``selection``:
    :func:`selection_params`) is made on the baseline of the reference model
    (the first configured one; ``baseline_csvs``: its baseline shards), so
    that every model explains the same copies (the gallery compares them side
    by side). Writes columns ``image_id, corruption, severity, copy_seed,
    reference_model``.
    """
    from spectral_attribution import studies

    baseline = pd.concat([read_table(p) for p in baseline_csvs], ignore_index=True)
    first = selection["reference_model"]
    chosen = studies.select_corrupted_copies(baseline[baseline["model"] == first],
                                             per_image=int(selection["per_image"]),
                                             severities=selection.get("severities"),
                                             prefer_changed=bool(selection["prefer_changed"]),
                                             seed=int(seed))
    out = chosen[["image_id", "corruption", "severity", "copy_seed"]].copy()
    out["reference_model"] = first
    results.write_csv(out, out_csv)
    return out


def reconstruction_shard(*, model: dict, reconstruction: dict, batch_size: int, seed: int,
                         device: str, nickname: str, variant: str, shard_npz, samples_csv,
                         out_csv, forward: dict | None = None,
                         threads: int | None = None) -> pd.DataFrame:
    """:func:`studies.sufficient_reconstruction` of the WCAMs of one shard; writes ``out_csv``.

    ``reconstruction``: :func:`reconstruction_params`. Each depth is scored
    against the class its WCAM explains (the shard's ``target``, chosen by
    ``target_policy`` when the shard was made). ``variant`` ``"clean"`` or
    ``"corrupted"``; corrupted rows carry
    ``source_image_id, corruption, severity``.
    """
    from spectral_attribution.models import devices
    from spectral_attribution import studies

    _start(threads, device)
    shard = results.load_shard(shard_npz)
    manifest = shard.manifest
    if not len(shard):
        df = pd.DataFrame(columns=["model", "image_id", "condition"])
        results.write_csv(df, out_csv)
        return df
    with devices.lease(device) as held:
        wrapper = _load_model(model, held.device)
        images, extra = _shard_images(wrapper, manifest, samples_csv, variant)
        condition = "corrupted" if variant == "corrupted" else "clean"
        df = studies.sufficient_reconstruction(
            wrapper, images, shard.explanations, list(manifest["image_id"]), conditions=condition,
            nb_random_draws=int(reconstruction["nb_random_draws"]), seed=int(seed),
            batch_size=int(batch_size), max_k=reconstruction.get("max_k"),
            extra_columns=extra, progress=True, **(forward or {}))
    df["model"] = nickname
    if "source_image_id" not in df.columns:
        df["source_image_id"] = df["image_id"]
    results.write_csv(df, out_csv)
    return df


def zoom_shard(*, model: dict, explainer: dict, views: dict, shard_size: int, seed: int,
               device: str, nickname: str, shard: str, samples_csv, out_csv,
               target_policy: str = "prediction", allow_straddling: bool = False,
               threads: int | None = None) -> pd.DataFrame:
    """:func:`studies.zoom_study` on the images of one shard; writes ``out_csv``.

    ``explainer``: :func:`explainer_params` of kind ``"zoom"``; ``views``:
    :func:`zoom_views`. The class explained in every view follows
    ``target_policy`` (the labels of ``samples.csv``, or the regular view's
    prediction); the grid must align with the sub-bands of every view unless
    ``allow_straddling`` (``zoom.allow_straddling``).
    """
    from spectral_attribution.models import devices
    from spectral_attribution import studies
    from spectral_attribution.attributions.targets import check_target_policy

    _start(threads, device)
    samples = read_samples(samples_csv)
    rows = shard_rows(samples, shard, int(shard_size))
    kw = dict(explainer)
    with devices.lease(device) as held:
        wrapper = _load_model(model, held.device)
        df = studies.zoom_study(wrapper, _pil(rows), list(rows["image_id"]),
                                grid_size=int(kw.pop("grid_size")), nb_design=int(kw.pop("nb_design")),
                                seed=int(seed), batch_size=int(kw.pop("batch_size")),
                                views={name: tuple(int(v) for v in spec) for name, spec in views.items()},
                                explainer_kwargs={**kw, "device": held.device}, progress=True,
                                labels=[int(v) for v in rows["label"]],
                                target_policy=check_target_policy(target_policy),
                                allow_straddling=bool(allow_straddling))
    df["model"] = nickname
    results.write_csv(df, out_csv)
    return df


def faithfulness_shard(*, model: dict, faithfulness: dict, batch_size: int, seed: int, device: str,
                       nickname: str, wcam_npz, spatial_npz, samples_csv, out_csv,
                       forward: dict | None = None, threads: int | None = None) -> pd.DataFrame:
    """:func:`studies.faithfulness` of the clean WCAMs and spatial Sobol' maps of one shard.

    ``faithfulness``: :func:`faithfulness_params`.
    """
    from spectral_attribution.models import devices
    from spectral_attribution import studies

    _start(threads, device)
    wcam, spatial = results.load_shard(wcam_npz), results.load_shard(spatial_npz)
    ids = list(wcam.manifest["image_id"])
    if list(spatial.manifest["image_id"]) != ids:
        raise ValueError(f"{wcam_npz} and {spatial_npz} hold different images")
    samples = read_samples(samples_csv).set_index("image_id")
    f = faithfulness
    with devices.lease(device) as held:
        wrapper = _load_model(model, held.device)
        images = _prepared(samples.loc[ids].reset_index(), wrapper)
        df = studies.faithfulness(wrapper, images, ids, wcam.explanations, spatial.explanations,
                                  nb_subsets=int(f["nb_subsets"]),
                                  subset_fraction=float(f["subset_fraction"]), steps=int(f["steps"]),
                                  seed=int(seed), batch_size=int(batch_size), score=f["score"],
                                  progress=True, **(forward or {}))
    df["model"] = nickname
    results.write_csv(df, out_csv)
    return df


def methods_shard(*, model: dict, faithfulness: dict, batch_size: int, seed: int, device: str,
                  nickname: str, wcam_npz, wam_npzs: dict, samples_csv, out_csv,
                  forward: dict | None = None, threads: int | None = None) -> pd.DataFrame:
    """:func:`studies.compare_methods` of one shard: its clean WCAMs against its WAM maps.

    Parameters
    ----------
    faithfulness:
        :func:`faithfulness_params` (``nb_subsets``, ``subset_fraction``,
        ``steps``, ``score``), in float32 as the faithfulness study.
    wcam_npz:
        The clean WCAM shard.
    wam_npzs:
        WAM variant → the WAM shard of the same images.

    Wall times are the manifests' ``wall_time_s`` (NaN for shards written
    without it). Writes ``out_csv``.

    Raises
    ------
    ValueError
        A WAM shard holds other images than the WCAM shard (both named).
    """
    from spectral_attribution.models import devices
    from spectral_attribution import studies

    _start(threads, device)
    wcam = results.load_shard(wcam_npz)
    ids = [str(i) for i in wcam.manifest["image_id"]]
    others, times = {}, {"wcam": _wall_times(wcam)}
    for variant, path in wam_npzs.items():
        shard = results.load_shard(path)
        if [str(i) for i in shard.manifest["image_id"]] != ids:
            raise ValueError(f"{path} and {wcam_npz} hold different images")
        others[f"wam-{variant}"] = shard.explanations
        times[f"wam-{variant}"] = _wall_times(shard)
    samples = read_samples(samples_csv).set_index("image_id")
    f = faithfulness
    with devices.lease(device) as held:
        wrapper = _load_model(model, held.device)
        images = _prepared(samples.loc[ids].reset_index(), wrapper)
        df = studies.compare_methods(wrapper, images, ids, wcam.explanations, others, times,
                                     nb_subsets=int(f["nb_subsets"]),
                                     subset_fraction=float(f["subset_fraction"]),
                                     steps=int(f["steps"]), seed=int(seed),
                                     batch_size=int(batch_size), score=f["score"], progress=True,
                                     **(forward or {}))
    df["model"] = nickname
    results.write_csv(df, out_csv)
    return df


def _shard_images(wrapper, manifest: pd.DataFrame, samples_csv, variant: str):
    """The images of a shard's manifest, prepared for ``wrapper``: clean, or the corrupted
    copies rebuilt from their clean image (``source_image_id, corruption, severity,
    copy_seed``). Returns ``(images, extra)``, ``extra`` the corrupted copies' columns
    ``source_image_id, corruption, severity`` (``None`` for clean images)."""
    from spectral_attribution import studies

    samples = read_samples(samples_csv).set_index("image_id")
    if variant != "corrupted":
        return _prepared(samples.loc[[str(i) for i in manifest["image_id"]]].reset_index(), wrapper), None
    clean = _prepared(samples.loc[[str(i) for i in manifest["source_image_id"]]].reset_index(), wrapper)
    images = [studies.corrupted_copy(img, c, int(s), int(cs)) for img, c, s, cs in
              zip(clean, manifest["corruption"], manifest["severity"], manifest["copy_seed"])]
    return images, manifest[["source_image_id", "corruption", "severity"]].reset_index(drop=True)


def depth_baselines_shard(*, model: dict, reconstruction: dict, nb_draws: int, batch_size: int,
                          seed: int, device: str, nickname: str, variant: str, shard_npz,
                          samples_csv, out_csv, forward: dict | None = None,
                          threads: int | None = None) -> pd.DataFrame:
    """:func:`studies.baseline_depths` of the WCAMs of one shard (model-free orders); writes ``out_csv``.

    Orders ``wcam``, ``coarse_to_fine``, ``wcam_approximation_first`` and
    ``within_level`` (``nb_draws`` draws of the random ones, ``baselines.nb_draws``),
    up to ``reconstruction["max_k"]`` cells; the reference label is each WCAM's
    target. Forward passes in float32, as :func:`reconstruction_shard`'s, so
    that the depths of the two tables compare.
    """
    from spectral_attribution.models import devices
    from spectral_attribution import studies

    _start(threads, device)
    shard = results.load_shard(shard_npz)
    manifest = shard.manifest
    if not len(shard):
        df = pd.DataFrame(columns=["model", "image_id", "condition", "order"])
        results.write_csv(df, out_csv)
        return df
    with devices.lease(device) as held:
        wrapper = _load_model(model, held.device)
        images, extra = _shard_images(wrapper, manifest, samples_csv, variant)
        df = studies.baseline_depths(
            wrapper, images, shard.explanations, [str(i) for i in manifest["image_id"]],
            conditions="corrupted" if variant == "corrupted" else "clean",
            nb_draws=int(nb_draws), seed=int(seed), batch_size=int(batch_size),
            max_k=reconstruction.get("max_k"), extra_columns=extra, progress=False,
            **(forward or {}))
    df["model"] = nickname
    results.write_csv(df, out_csv)
    return df


def wcam_noise(*, models: dict, noise_images: int, batch_size: int, device: str, shard_npzs: dict,
               samples_csv, out_csv, threads: int | None = None) -> pd.DataFrame:
    """:func:`studies.wcam_noise` on the first ``noise_images`` images of each model's
    first clean shard (``shard_npzs``: nickname -> shard path; ``models``: nickname ->
    :func:`model_params`): a second WCAM with seed ``seed + 1`` at the shard's grid,
    levels and designs. Writes ``out_csv``."""
    from spectral_attribution.models import devices
    from spectral_attribution import studies

    _start(threads, device)
    count = int(noise_images)
    frames = []
    with devices.lease(device) as held:
        for nickname, npz in shard_npzs.items():
            shard = results.load_shard(npz)
            manifest = shard.manifest.head(count)
            if manifest.empty:
                continue
            wrapper = _load_model(models[nickname], held.device)
            images, _ = _shard_images(wrapper, manifest, samples_csv, "clean")
            df = studies.wcam_noise(wrapper, images, [str(i) for i in manifest["image_id"]],
                                    shard.explanations[:len(manifest)],
                                    explainer_kwargs={"batch_size": int(batch_size),
                                                      "device": held.device})
            df["model"] = nickname
            frames.append(df)
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["model", "image_id", "grid_size", "nb_design", "levels", "spearman",
                 "same_top_cell", "top_overlap"])
    results.write_csv(df, out_csv)
    return df


def _wall_times(shard) -> list[float]:
    column = shard.manifest.get("wall_time_s")
    return [float("nan")] * len(shard) if column is None else [float(v) for v in column]


# --------------------------------------------------------------------------
# Tables and figures (from study tables and shards only: no model)
# --------------------------------------------------------------------------
def make_table(*, name: str, inputs: dict, stem) -> dict:
    """Write table ``name`` (one of :data:`TABLES`) as ``stem.csv/.md/.tex`` from study tables.

    ``inputs`` maps study-table names to CSV paths, as the table's maker in
    :data:`spectral_attribution.studies.TABLES` lists them: ``robustness``
    needs ``per_image`` and ``per_corruption``; ``reconstruction`` needs
    ``reconstruction`` and ``per_image``; ``zoom`` needs ``zoom``;
    ``faithfulness`` needs ``faithfulness``; ``methods`` needs ``methods``.
    Returns the written paths.
    """
    from spectral_attribution import studies

    return studies.make_table(name, inputs, stem)


def make_figure(*, name: str, inputs: dict, stem, **options) -> dict:
    """Draw figure ``name`` (one of :data:`FIGURES`) into ``stem.pdf`` and ``stem.png``.

    Figures read study tables (``inputs``: name -> CSV path, as the figure's
    maker in :data:`spectral_attribution.plots.FIGURES` lists them) and, for
    the gallery and the reconstructions, shards under ``results_dir`` (no
    model is loaded). ``options``: :func:`figure_params` (``results_dir``,
    ``models``, ``nb_images``, as the maker reads them). Returns
    :func:`plots.save_figure`'s dict.
    """
    from spectral_attribution import plots

    if "results_dir" in options:
        options["results_dir"] = Path(options["results_dir"])
    return plots.make_figure(name, inputs, stem, **options)


def _stop_on_sigterm(signum, frame):
    logging.getLogger(__name__).error("stopped by SIGTERM (scancel, time limit or Snakemake)")
    raise SystemExit(128 + signum)


class logged:
    """Context manager sending ``logging``, ``sys.stdout`` and ``sys.stderr`` to a log file.

    Used by the workflow's scripts: ``with pipeline.logged(snakemake.log[0]): ...``.
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

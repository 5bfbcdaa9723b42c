"""The steps of the Snakemake workflow, one function per rule.

The workflow (``Snakefile``, ``workflow/rules/*.smk``) only decides which step
runs where and when; its scripts (``workflow/scripts/*.py``) parse
``snakemake.input`` / ``params`` / ``output`` and call one function here.
Every function reads files, calls the studies / explainers / plots of the
package, and writes its outputs atomically (:mod:`spectral_attribution.results`).
No study logic lives here: tables and figures are made through the registries
:data:`spectral_attribution.studies.TABLES` and
:data:`spectral_attribution.plots.FIGURES`. Heavy modules (torch, the
studies, the plots) are imported inside the functions, so that Snakemake can
import this module cheaply while it builds the DAG.

Configuration
-------------
Every function takes the validated workflow configuration ``config`` (see
``workflow/schemas/config.schema.yaml``; defaults are filled in by the
schema). The pieces used here:

* ``seed``, ``device``, ``threads``;
* ``target_policy`` (``prediction`` or ``label``): the class every
  explanation explains, and so every metric of it scores
  (:mod:`spectral_attribution.targets`);
* ``data`` (``n_images``, ...), passed to :func:`spectral_attribution.data.prepare_source`;
* ``models``: a list of ``{nickname, name, options}``; the *nickname* names
  result folders, ``name`` is the registry name of :func:`models.load_model`;
* ``wcam`` (``grid_size``, ``nb_design``, ``levels``, ``wavelet``,
  ``estimator``, ``batch_size``, ``precision``, ``backend``,
  ``shard_size``; the deprecated ``autocast`` / ``channels_last`` are read by
  :func:`forward_settings`);
* ``corruptions``, ``reconstruction``, ``zoom``, ``faithfulness``, ``figures``.

Shards
------
Images are processed in shards of ``wcam.shard_size`` images of
``results/data/samples.csv`` (in its order): shard ``k`` holds rows
``k * shard_size`` to ``(k + 1) * shard_size - 1``. The number of shards is
``ceil(data.n_images / shard_size)`` and depends on the configuration only,
so that the workflow's DAG can be built before any data exists.

Variants of a shard (``results/wcam/{model}/{variant}/shard-NNN.npz``):

* ``clean``: WCAM of each image;
* ``corrupted``: WCAM of the corrupted copies chosen by
  :func:`select_corrupted` (image id ``"{image_id}@{corruption}-{severity}"``);
* ``spatial``: spatial Sobol' map of each image (for faithfulness).
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Sequence

import pandas as pd

from . import results
from ._common import check_device, forward_logits, progress_bar, read_table

log = logging.getLogger("spectral_attribution.pipeline")

__all__ = [
    "VARIANTS",
    "model_entries",
    "model_entry",
    "nicknames",
    "n_shards",
    "shard_ids",
    "shard_rows",
    "use_gpu",
    "target_policy",
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
    "make_table",
    "make_figure",
    "figure_options",
    "TABLES",
    "FIGURES",
]

VARIANTS = ("clean", "corrupted", "spatial")
#: Names of :data:`spectral_attribution.studies.TABLES` (kept here so that
#: building the DAG imports neither torch nor matplotlib; a test checks them).
TABLES = ("robustness", "reconstruction", "zoom", "faithfulness", "claims", "wcam_noise",
          "depth_robustness")
#: Names of :data:`spectral_attribution.plots.FIGURES` (same reason).
FIGURES = ("robustness", "wcam_gallery", "reconstructions", "depth_vs_robustness",
           "depth_orders", "zoom", "faithfulness", "claims")


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


def shard_rows(samples: pd.DataFrame, shard: int | str, shard_size: int) -> pd.DataFrame:
    """Rows of shard ``shard`` of ``samples`` (``IndexError`` when it is empty)."""
    k = int(shard)
    rows = samples.iloc[k * shard_size:(k + 1) * shard_size]
    if rows.empty:
        raise IndexError(
            f"shard {k} is empty: samples.csv has {len(samples)} images, shard size {shard_size}; "
            f"config key 'data.n_images' must not exceed the images the source provides")
    return rows


def _setup(config: dict, threads: int | None = None):
    """Torch threads and logging for one step; returns the device string."""
    import torch

    threads = int(threads or config.get("threads") or 0)
    if threads > 0:
        torch.set_num_threads(threads)
    device = str(config.get("device", "cpu"))
    check_device(device)  # one clear line when e.g. cuda is configured on a machine without it
    return device


def read_samples(path) -> pd.DataFrame:
    """``results/data/samples.csv`` as a DataFrame (ids as written, ``label`` an int, -1 unknown).

    Read with :func:`~spectral_attribution._common.read_table`: an image
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


def _load_model(config: dict, nickname: str):
    from . import models

    entry = model_entry(config, nickname)
    options = dict(entry["options"])
    if config.get("model_dir") and entry["name"].startswith("robustbench:"):
        options.setdefault("model_dir", config["model_dir"])
    return models.load_model(entry["name"], device=_setup(config), **options)


def _prepared(rows: pd.DataFrame, wrapper, preprocessing=None):
    """``(B, 3, H, W)`` float32 tensor of the rows' images, prepared for ``wrapper``."""
    import torch

    from . import data

    pre = preprocessing or wrapper.preprocessing
    return torch.stack([pre.to_tensor(data.load_image(p)) for p in rows["path"]])


def _pil(rows: pd.DataFrame):
    from . import data

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

    from ._common import forward_options

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


def _explainer_kwargs(config: dict, section: dict | None = None) -> dict:
    w = dict(config["wcam"])
    if section:
        w.update({k: v for k, v in section.items() if v is not None})
    return {"nb_design": int(w["nb_design"]), "seed": int(config["seed"]),
            "estimator": w["estimator"], "batch_size": int(w["batch_size"]),
            **forward_settings(config),
            "progress": True}  # log lines in the job's log: a long job shows it is alive


def _study_forward(config: dict) -> dict:
    """Forward passes of the studies: the configured backend (it agrees with eager
    within 1e-3 logits), always in float32, so that depths, drops and predictions
    compare across machines and with the paper."""
    return {"precision": "float32", "backend": forward_settings(config)["backend"]}


def target_policy(config: dict) -> str:
    """``config["target_policy"]`` (default ``"prediction"``), checked.

    Raises
    ------
    ValueError
        An unknown value (named); also when the configuration still has the
        removed key ``wcam.target``.
    """
    from .targets import check_target_policy

    if "target" in (config.get("wcam") or {}):
        raise ValueError("config key 'wcam.target' was replaced by the top-level key "
                         "'target_policy' (prediction | label)")
    return check_target_policy(config.get("target_policy", "prediction"))


# --------------------------------------------------------------------------
# Data and models
# --------------------------------------------------------------------------
_SOURCE_ONLY = {"folder": ("root",),
                "imagenet": ("root", "download", "base_url", "credentials_env", "cookie_file")}


def data_source_config(config: dict) -> dict:
    """The ``data`` section as :func:`spectral_attribution.data.prepare_source` takes it.

    Adds the top-level ``seed``, drops ``cache_dir`` (the output folder), the
    keys of other sources, and ``null`` values (the package's defaults apply).
    """
    d = dict(config["data"])
    source = d["source"]
    keep = {"source", "n_images", "stratify", "skip_bad_images", *_SOURCE_ONLY.get(source, ())}
    out = {k: v for k, v in d.items() if k in keep and v is not None}
    out["seed"] = int(config.get("seed", 0))
    return out


def prepare_samples(config: dict, out_csv, cache_dir=None) -> pd.DataFrame:
    """Resolve the image source and draw ``data.n_images`` images, seeded.

    Calls :func:`spectral_attribution.data.prepare_source` (download, verify,
    extract, list, sample without replacement with seed ``config["seed"]``,
    decode) and writes the sample to ``out_csv`` (columns ``image_id, path,
    label, class_name``; paths absolute; ``label`` ``-1`` when unknown) in
    the order the shards use. Returns the sample.

    Raises
    ------
    ValueError, TypeError
        From ``prepare_source``: bad data keys (named), or fewer images than
        ``data.n_images``.
    """
    from . import data

    cache_dir = Path(cache_dir or config["data"].get("cache_dir") or "resources/data")
    sample = data.prepare_source(data_source_config(config), cache_dir)
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


def check_model(config: dict, nickname: str, out_json) -> dict:
    """Load model ``nickname`` once and record what it is (``results/models/{nickname}.json``).

    The JSON holds ``nickname``, ``registry_name``, ``options``, ``source``,
    ``weights_sha256``, ``preprocessing`` and ``nb_classes``.

    Raises
    ------
    KeyError, FileNotFoundError
        From :func:`models.load_model`: unknown registry name, or weights
        missing (the message names the expected path).
    """
    import torch

    wrapper = _load_model(config, nickname)
    entry = model_entry(config, nickname)
    size = wrapper.preprocessing.crop or 224
    nb_classes = int(forward_logits(wrapper, torch.zeros(1, 3, size, size)).shape[-1])
    info = {"nickname": nickname, "registry_name": entry["name"], "options": entry["options"],
            "source": getattr(wrapper, "source", ""), "weights_sha256": results.weights_hash(wrapper),
            "preprocessing": wrapper.preprocessing.as_dict(), "nb_classes": nb_classes}
    results.write_json(info, out_json)
    return info


# --------------------------------------------------------------------------
# Explanations
# --------------------------------------------------------------------------
def explain_shard(config: dict, nickname: str, variant: str, shard: str, samples_csv, out_npz,
                  selection_csv=None, threads: int | None = None):
    """Explain the images of one shard and write ``out_npz`` + its manifest.

    ``variant`` is ``"clean"`` (WCAM), ``"corrupted"`` (WCAM of the copies in
    ``selection_csv`` whose ``image_id`` is in the shard) or ``"spatial"``
    (spatial Sobol', settings from ``faithfulness.spatial``).

    The class explained follows ``target_policy`` (:func:`target_policy`):
    the model's prediction on the image explained (a corrupted copy: on the
    copy), or the label (a corrupted copy: its clean image's label; the
    prediction where the label is unknown). The manifest records
    ``target_policy`` and each image's ``target_source``, and so does each
    explanation's ``settings``.

    Returns the ``(npz, manifest)`` paths.
    """
    from . import studies
    from .explainers import WCAM, SpatialSobol
    from .targets import explain_with_policy

    policy = target_policy(config)
    device = _setup(config, threads)
    samples = read_samples(samples_csv)
    rows = shard_rows(samples, shard, int(config["wcam"]["shard_size"]))
    wrapper = _load_model(config, nickname)
    images = _prepared(rows, wrapper)
    ids, labels = list(rows["image_id"]), list(rows["label"])
    extra = {}
    if variant == "corrupted":
        if selection_csv is None:
            raise ValueError("variant 'corrupted' needs the selection of corrupted copies")
        images, ids, labels, extra = studies.corrupted_copies(images, ids, labels,
                                                              read_table(selection_csv))
    w = config["wcam"]
    if variant in ("clean", "corrupted"):
        explainer = WCAM(wrapper, grid_size=int(w["grid_size"]), levels=int(w["levels"]),
                         wavelet=w["wavelet"], device=device, **_explainer_kwargs(config))
    elif variant == "spatial":
        s = dict(config["faithfulness"]["spatial"])
        explainer = SpatialSobol(wrapper, grid_size=int(s.get("grid_size") or w["grid_size"]),
                                 device=device, **_explainer_kwargs(config, s))
    else:
        raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
    explanations = explain_with_policy(explainer, images, policy, labels)
    for e in explanations:
        e.settings = {**e.settings, "variant": variant, "model": nickname}
    extra = {**extra, "target_policy": [policy] * len(explanations),
             "target_source": [e.settings["target_source"] for e in explanations]}
    prov = results.provenance(config=config, seed=int(config["seed"]), model=wrapper, device=device,
                              step="explain_shard", nickname=nickname, variant=variant,
                              shard=str(shard), nb_forward=explainer.nb_forward,
                              precision=explainer.precision, backend=explainer.backend)
    return results.write_shard(out_npz, explanations, ids, labels=labels, seed=int(config["seed"]),
                               provenance=prov, extra_columns=extra)


# --------------------------------------------------------------------------
# Studies
# --------------------------------------------------------------------------
def corruption_baseline_shard(config: dict, nickname: str, shard: str, samples_csv, out_csv,
                              threads: int | None = None) -> pd.DataFrame:
    """:func:`studies.corruption_baseline` on the images of one shard; writes ``out_csv``.

    Copy seeds depend on the image's position in ``samples.csv`` (global, not
    within the shard), so results do not depend on the shard size.
    """
    from . import studies

    _setup(config, threads)
    samples = read_samples(samples_csv)
    size = int(config["wcam"]["shard_size"])
    rows = shard_rows(samples, shard, size)
    wrapper = _load_model(config, nickname)
    images = _prepared(rows, wrapper)
    c = config["corruptions"]
    frames = []
    # one call per image so that copy seeds use the global image index
    pairs = progress_bar(zip(images, rows["image_id"], rows["label"]), True, "corruption baseline",
                         total=len(rows))
    for offset, (img, image_id, label) in enumerate(pairs):
        index = int(shard) * size + offset
        df = studies.corruption_baseline(wrapper, img[None], [image_id], corruptions=c["names"],
                                         severities=c["severities"],
                                         seed=int(config["seed"]) + 1_000_003 * index,
                                         batch_size=int(config["wcam"]["batch_size"]),
                                         labels=[int(label)], progress=False,
                                         **_study_forward(config))
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
    from . import studies

    baseline = read_table(baseline_csv)
    per_image = studies.robustness_per_image(baseline)
    per_corruption = studies.robustness_per_corruption(baseline)
    results.write_csv(per_image, per_image_csv)
    results.write_csv(per_corruption, per_corruption_csv)
    return per_image, per_corruption


def select_corrupted(config: dict, baseline_csvs: Sequence, out_csv) -> pd.DataFrame:
    """Choose the corrupted copies to explain, the same for every model.

    The choice (:func:`studies.select_corrupted_copies`, settings
    ``corruptions.explain``) is made on the baseline of the *first*
    configured model (``baseline_csvs``: its baseline shards), so that every
    model explains the same copies (the gallery compares them side by side). Writes columns ``image_id,
    corruption, severity, copy_seed, reference_model``.
    """
    from . import studies

    baseline = pd.concat([read_table(p) for p in baseline_csvs], ignore_index=True)
    first = nicknames(config)[0]
    e = config["corruptions"]["explain"]
    chosen = studies.select_corrupted_copies(baseline[baseline["model"] == first],
                                             per_image=int(e["per_image"]),
                                             severities=e.get("severities"),
                                             prefer_changed=bool(e.get("prefer_changed", True)),
                                             seed=int(config["seed"]))
    out = chosen[["image_id", "corruption", "severity", "copy_seed"]].copy()
    out["reference_model"] = first
    results.write_csv(out, out_csv)
    return out


def reconstruction_shard(config: dict, nickname: str, variant: str, shard_npz, samples_csv,
                         out_csv, threads: int | None = None) -> pd.DataFrame:
    """:func:`studies.sufficient_reconstruction` of the WCAMs of one shard; writes ``out_csv``.

    Each depth is scored against the class its WCAM explains (the shard's
    ``target``, chosen by ``target_policy`` when the shard was made).
    ``variant`` ``"clean"`` or ``"corrupted"``; corrupted rows carry
    ``source_image_id, corruption, severity``.
    """
    from . import studies

    _setup(config, threads)
    shard = results.load_shard(shard_npz)
    manifest = shard.manifest
    r = config["reconstruction"]
    if not len(shard):
        df = pd.DataFrame(columns=["model", "image_id", "condition"])
        results.write_csv(df, out_csv)
        return df
    wrapper = _load_model(config, nickname)
    images, extra = _shard_images(wrapper, manifest, samples_csv, variant)
    condition = "corrupted" if variant == "corrupted" else "clean"
    df = studies.sufficient_reconstruction(
        wrapper, images, shard.explanations, list(manifest["image_id"]), conditions=condition,
        nb_random_draws=int(r["nb_random_draws"]), seed=int(config["seed"]),
        batch_size=int(config["wcam"]["batch_size"]), max_k=r.get("max_k"),
        extra_columns=extra, progress=True, **_study_forward(config))
    df["model"] = nickname
    if "source_image_id" not in df.columns:
        df["source_image_id"] = df["image_id"]
    results.write_csv(df, out_csv)
    return df


def zoom_shard(config: dict, nickname: str, shard: str, samples_csv, out_csv,
               threads: int | None = None) -> pd.DataFrame:
    """:func:`studies.zoom_study` on the images of one shard; writes ``out_csv``.

    The class explained in every view follows ``target_policy`` (the labels
    of ``samples.csv``, or the regular view's prediction); ``zoom.grid_size``
    must align with the sub-bands of every view unless
    ``zoom.allow_straddling``.
    """
    from . import studies

    _setup(config, threads)
    samples = read_samples(samples_csv)
    rows = shard_rows(samples, shard, int(config["wcam"]["shard_size"]))
    wrapper = _load_model(config, nickname)
    z = config["zoom"]
    kw = _explainer_kwargs(config, z)
    views = {name: tuple(int(v) for v in spec) for name, spec in z["views"].items()}
    df = studies.zoom_study(wrapper, _pil(rows), list(rows["image_id"]),
                            grid_size=int(z.get("grid_size") or config["wcam"]["grid_size"]),
                            nb_design=kw.pop("nb_design"), seed=kw.pop("seed"),
                            batch_size=kw.pop("batch_size"), views=views,
                            explainer_kwargs={"estimator": kw["estimator"],
                                              "precision": kw["precision"],
                                              "backend": kw["backend"]},
                            progress=True, labels=[int(v) for v in rows["label"]],
                            target_policy=target_policy(config),
                            allow_straddling=bool(z.get("allow_straddling", False)))
    df["model"] = nickname
    results.write_csv(df, out_csv)
    return df


def faithfulness_shard(config: dict, nickname: str, wcam_npz, spatial_npz, samples_csv, out_csv,
                       threads: int | None = None) -> pd.DataFrame:
    """:func:`studies.faithfulness` of the clean WCAMs and spatial Sobol' maps of one shard."""
    from . import studies

    _setup(config, threads)
    wcam, spatial = results.load_shard(wcam_npz), results.load_shard(spatial_npz)
    ids = list(wcam.manifest["image_id"])
    if list(spatial.manifest["image_id"]) != ids:
        raise ValueError(f"{wcam_npz} and {spatial_npz} hold different images")
    wrapper = _load_model(config, nickname)
    samples = read_samples(samples_csv).set_index("image_id")
    images = _prepared(samples.loc[ids].reset_index(), wrapper)
    f = config["faithfulness"]
    df = studies.faithfulness(wrapper, images, ids, wcam.explanations, spatial.explanations,
                              nb_subsets=int(f["nb_subsets"]),
                              subset_fraction=float(f["subset_fraction"]), steps=int(f["steps"]),
                              seed=int(config["seed"]), batch_size=int(config["wcam"]["batch_size"]),
                              score=f["score"], progress=True, **_study_forward(config))
    df["model"] = nickname
    results.write_csv(df, out_csv)
    return df


def _shard_images(wrapper, manifest: pd.DataFrame, samples_csv, variant: str):
    """The images of a shard's manifest, prepared for ``wrapper``: clean, or the corrupted
    copies rebuilt from their clean image (``source_image_id, corruption, severity,
    copy_seed``). Returns ``(images, extra)``, ``extra`` the corrupted copies' columns
    ``source_image_id, corruption, severity`` (``None`` for clean images)."""
    from . import studies

    samples = read_samples(samples_csv).set_index("image_id")
    if variant != "corrupted":
        return _prepared(samples.loc[[str(i) for i in manifest["image_id"]]].reset_index(), wrapper), None
    clean = _prepared(samples.loc[[str(i) for i in manifest["source_image_id"]]].reset_index(), wrapper)
    images = [studies.corrupted_copy(img, c, int(s), int(cs)) for img, c, s, cs in
              zip(clean, manifest["corruption"], manifest["severity"], manifest["copy_seed"])]
    return images, manifest[["source_image_id", "corruption", "severity"]].reset_index(drop=True)


def depth_baselines_shard(config: dict, nickname: str, variant: str, shard_npz, samples_csv,
                          out_csv, threads: int | None = None) -> pd.DataFrame:
    """:func:`studies.baseline_depths` of the WCAMs of one shard (model-free orders); writes ``out_csv``.

    Orders ``wcam``, ``coarse_to_fine``, ``wcam_approximation_first`` and
    ``within_level`` (``baselines.nb_draws`` draws of the random ones), up to
    ``reconstruction.max_k`` cells; the reference label is each WCAM's target.
    Forward passes in float32, as :func:`reconstruction_shard`'s, so that the
    depths of the two tables compare.
    """
    from . import studies

    _setup(config, threads)
    shard = results.load_shard(shard_npz)
    manifest = shard.manifest
    if not len(shard):
        df = pd.DataFrame(columns=["model", "image_id", "condition", "order"])
        results.write_csv(df, out_csv)
        return df
    wrapper = _load_model(config, nickname)
    images, extra = _shard_images(wrapper, manifest, samples_csv, variant)
    df = studies.baseline_depths(
        wrapper, images, shard.explanations, [str(i) for i in manifest["image_id"]],
        conditions="corrupted" if variant == "corrupted" else "clean",
        nb_draws=int(config["baselines"]["nb_draws"]), seed=int(config["seed"]),
        batch_size=int(config["wcam"]["batch_size"]), max_k=config["reconstruction"].get("max_k"),
        extra_columns=extra, progress=False,  # float32, as reconstruction_shard: depths comparable
        **_study_forward(config))
    df["model"] = nickname
    results.write_csv(df, out_csv)
    return df


def wcam_noise(config: dict, shard_npzs: dict, samples_csv, out_csv,
               threads: int | None = None) -> pd.DataFrame:
    """:func:`studies.wcam_noise` on the first ``baselines.noise_images`` images of each model's
    first clean shard (``shard_npzs``: nickname -> shard path): a second WCAM with seed
    ``seed + 1`` at the configured grid, levels and designs. Writes ``out_csv``."""
    from . import studies

    device = _setup(config, threads)
    count = int(config["baselines"]["noise_images"])
    frames = []
    for nickname, npz in shard_npzs.items():
        shard = results.load_shard(npz)
        manifest = shard.manifest.head(count)
        if manifest.empty:
            continue
        wrapper = _load_model(config, nickname)
        images, _ = _shard_images(wrapper, manifest, samples_csv, "clean")
        df = studies.wcam_noise(wrapper, images, [str(i) for i in manifest["image_id"]],
                                shard.explanations[:len(manifest)],
                                explainer_kwargs={"batch_size": int(config["wcam"]["batch_size"]),
                                                  "device": device})
        df["model"] = nickname
        frames.append(df)
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["model", "image_id", "grid_size", "nb_design", "levels", "spearman",
                 "same_top_cell", "top_overlap"])
    results.write_csv(df, out_csv)
    return df


# --------------------------------------------------------------------------
# Tables and figures (from study tables and shards only: no model)
# --------------------------------------------------------------------------
def make_table(name: str, inputs: dict, stem) -> dict:
    """Write table ``name`` (one of :data:`TABLES`) as ``stem.csv/.md/.tex`` from study tables.

    ``inputs`` maps study-table names to CSV paths, as the table's maker in
    :data:`spectral_attribution.studies.TABLES` lists them: ``robustness``
    needs ``per_image`` and ``per_corruption``; ``reconstruction`` needs
    ``reconstruction`` and ``per_image``; ``zoom`` needs ``zoom``;
    ``faithfulness`` needs ``faithfulness``. Returns the written paths.
    """
    from . import studies

    return studies.make_table(name, inputs, stem)


def figure_options(config: dict, name: str, results_dir="results") -> dict:
    """Keyword options of figure ``name``'s maker: ``results_dir``, ``models``
    (the configured nicknames) and, for ``wcam_gallery`` / ``reconstructions``,
    ``nb_images`` (``figures.gallery_images`` / ``figures.reconstruction_images``)."""
    options = {"results_dir": Path(results_dir), "models": nicknames(config)}
    key = {"wcam_gallery": "gallery_images", "reconstructions": "reconstruction_images"}.get(name)
    if key is not None:
        options["nb_images"] = int(config["figures"][key])
    return options


def make_figure(name: str, config: dict, inputs: dict, stem, results_dir="results") -> dict:
    """Draw figure ``name`` (one of :data:`FIGURES`) into ``stem.pdf`` and ``stem.png``.

    Figures read study tables (``inputs``: name -> CSV path, as the figure's
    maker in :data:`spectral_attribution.plots.FIGURES` lists them) and, for
    the gallery and the reconstructions, shards under ``results_dir`` (no
    model is loaded). Returns :func:`plots.save_figure`'s dict.
    """
    from . import plots

    return plots.make_figure(name, inputs, stem, **figure_options(config, name, results_dir))


# --------------------------------------------------------------------------
# Workflow plumbing
# --------------------------------------------------------------------------
def step_config(config: dict, sections: Sequence[str], model: str | None = None) -> dict:
    """The part of ``config`` a step depends on (its Snakemake ``params``).

    Snakemake reruns a job when its params change; giving each rule only the
    sections it reads means that, e.g., changing a figure setting never
    recomputes a WCAM. ``seed``, ``device``, ``threads`` and ``model_dir``
    are always included; with ``model``, ``models`` holds that entry only.
    """
    out = {k: config.get(k) for k in ("seed", "device", "threads", "model_dir")}
    for key in sections:
        out[key] = config[key]
    if model is not None:
        out["models"] = [model_entry(config, model)]
    elif "models" not in out:
        out["models"] = config["models"]
    return out


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
    temporary file (:func:`spectral_attribution._common.atomic_path`).
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

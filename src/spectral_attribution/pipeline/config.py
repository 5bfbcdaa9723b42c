"""Readers of the validated configuration: models, shards, methods, what a run makes.

Cheap (no torch import): Snakemake calls them while it builds the DAG
(``workflow/rules/common.smk``). The configuration is a dict validated by
``workflow/schemas/config.schema.yaml`` with its defaults filled in;
:func:`check_config` adds the rules no schema can state. Names of variants,
methods, tables and figures come from :mod:`spectral_attribution.catalog`.
"""

from __future__ import annotations

from spectral_attribution import catalog, results
from spectral_attribution._utils import parameters

__all__ = [
    "model_entries",
    "model_entry",
    "nicknames",
    "n_shards",
    "shard_ids",
    "use_gpu",
    "method_entries",
    "wam_variants",
    "target_policy",
    "forward_settings",
    "check_config",
    "reconstruction_variants",
    "table_names",
    "figure_names",
]


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
    :data:`~spectral_attribution.catalog.WAM_DEFAULT_VARIANT`) or a mapping
    ``{method, variant, nb_samples, noise_level, nb_steps, rule, batch_size}``
    (the WAM's keywords, :data:`~spectral_attribution.catalog.WAM_OPTIONS`;
    omitted ones take :class:`~spectral_attribution.attributions.wam.WAM`'s
    defaults). The WCAM is always the reference of the comparison and comes
    first, listed or not.

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
        if method not in catalog.METHODS:
            raise ValueError(f"{where}: unknown method {method!r}; expected one of {catalog.METHODS}")
        variant = item.pop("variant", catalog.WAM_DEFAULT_VARIANT)
        if variant not in catalog.WAM_VARIANTS:
            raise ValueError(f"{where}: unknown WAM variant {variant!r}; "
                             f"expected one of {catalog.WAM_VARIANTS}")
        unknown = sorted(set(item) - set(catalog.WAM_OPTIONS))
        if unknown:
            raise ValueError(f"{where}: unknown WAM option(s) {unknown}; "
                             f"expected some of {catalog.WAM_OPTIONS}")
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


def check_config(config: dict) -> None:
    """The rules of :mod:`spectral_attribution._utils.parameters` that JSON Schema cannot state,
    on a configuration the schema validated (the Snakefile calls it before any job).

    * model nicknames are unique; ``target_policy`` and ``methods`` are known;
    * every zoom view's ``levels`` fits its ``crop`` (``2^levels <= crop``).

    Raises
    ------
    ValueError
        Naming the configuration key.
    """
    model_entries(config)
    target_policy(config)
    method_entries(config)
    if config["zoom"].get("enabled", True):
        for view, (_resize, crop, levels) in config["zoom"]["views"].items():
            try:
                parameters.check_levels(levels, int(crop))
            except ValueError as exc:
                raise ValueError(f"config key 'zoom.views.{view}': {exc}") from None


# --------------------------------------------------------------------------
# What a run makes (the Snakefile's default target)
# --------------------------------------------------------------------------
def _explains_corrupted(config: dict) -> bool:
    return int(config["corruptions"]["explain"]["per_image"]) > 0


def reconstruction_variants(config: dict) -> list[str]:
    """The WCAM variants the reconstruction study scores: ``clean``, and ``corrupted``
    when corrupted copies are explained and ``reconstruction.corrupted`` is on."""
    corrupted = _explains_corrupted(config) and bool(config["reconstruction"]["corrupted"])
    return list(catalog.EXPLAINED_VARIANTS) if corrupted else ["clean"]


def _enabled(config: dict) -> dict[str, bool]:
    """Which optional study runs: study name → on/off (the others always run)."""
    return {"zoom": bool(config["zoom"]["enabled"]),
            "faithfulness": bool(config["faithfulness"]["enabled"]),
            "wcam_noise": int(config["baselines"]["noise_images"]) > 0,
            "methods": bool(wam_variants(config))}


def table_names(config: dict) -> list[str]:
    """The tables of :data:`~spectral_attribution.catalog.TABLES` the configured studies
    make, in catalog order (``zoom``, ``faithfulness``, ``wcam_noise`` and ``methods``
    only when their study runs)."""
    on = _enabled(config)
    return [name for name in catalog.TABLES if on.get(name, True)]


def figure_names(config: dict) -> list[str]:
    """The figures of :data:`~spectral_attribution.catalog.FIGURES` the configured studies
    make, in catalog order (``zoom``, ``faithfulness`` and ``methods`` only when their
    study runs)."""
    on = _enabled(config)
    return [name for name in catalog.FIGURES if on.get(name, True)]

"""The ``params`` of each rule: exactly the values its job reads, cut out of the configuration.

Snakemake reruns a job whose ``params`` changed (it compares their ``repr``),
so each rule's ``params`` hold exactly the values its job reads, no more,
with dictionary keys in sorted order (reordering a configuration file changes
nothing): changing a figure setting, a corruption or a faithfulness setting
never recomputes a WCAM. ``workflow/rules/*.smk`` call these functions on the
validated configuration (``workflow/schemas/config.schema.yaml``, defaults
filled in); each step of :mod:`spectral_attribution.pipeline.steps` takes them
as keyword arguments of the same names, and its shard provenance records
them (``provenance["config"]``). Cheap: no torch import.
"""

from __future__ import annotations

from spectral_attribution import catalog
from spectral_attribution.pipeline.config import (forward_settings, method_entries,
                                                  model_entry, nicknames)

__all__ = [
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
    "study_forward_params",
    "wam_params",
]


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
    and ``backend`` (:func:`~spectral_attribution.pipeline.config.forward_settings`;
    as asked, ``auto`` unresolved: the shard records what it resolved to).
    Values are plain ints, strings, booleans or ``None``.

    Raises
    ------
    ValueError
        An unknown ``kind``.
    """
    w = config["wcam"]
    common = {"estimator": w.get("estimator"), "batch_size": int(w["batch_size"]),
              "screening": _screening(w),
              **forward_settings(config)}
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
    ``reference_model`` (the first configured model) of the corrupted copies' selection
    (:func:`spectral_attribution.pipeline.steps.corruptions.select_corrupted`)."""
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
    """The options figure ``name``'s maker reads (:data:`spectral_attribution.catalog.FIGURE_OPTIONS`):
    ``results_dir``, ``models`` (the configured nicknames) and ``nb_images``
    (``figures.gallery_images`` for ``wcam_gallery``, ``figures.reconstruction_images``
    for ``reconstructions``).

    Raises
    ------
    ValueError
        An unknown figure name (the known ones are listed).
    """
    if name not in catalog.FIGURE_OPTIONS:
        raise ValueError(f"unknown figure {name!r}; expected one of {catalog.FIGURES}")
    values = {"results_dir": str(results_dir), "models": nicknames(config)}
    key = {"wcam_gallery": "gallery_images", "reconstructions": "reconstruction_images"}.get(name)
    if key is not None:
        values["nb_images"] = int(config["figures"][key])
    return _canonical({k: values[k] for k in catalog.FIGURE_OPTIONS[name]})


def study_forward_params(config: dict) -> dict:
    """``{"precision", "backend"}`` of the studies' forward passes (their rules' ``forward``
    param): the configured backend (it agrees with eager within 1e-3 logits), always in
    float32, so that depths, drops and predictions compare across machines and with the
    paper."""
    return {"precision": "float32", "backend": forward_settings(config)["backend"]}


def wam_params(config: dict, variant: str) -> dict:
    """Keyword arguments of the :class:`~spectral_attribution.attributions.wam.WAM` of ``variant``: the
    entry of ``config["methods"]`` (:func:`~spectral_attribution.pipeline.config.method_entries`)
    on the WCAM's wavelet, levels and grid (``wcam.wavelet``, ``wcam.levels``, ``wcam.grid_size``).

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

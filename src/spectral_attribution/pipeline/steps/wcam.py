"""Step of ``workflow/rules/wcam.smk``: explanation shards (rules ``wcam`` and ``spatial_sobol``).

Images are processed in shards of ``wcam.shard_size`` images of
``results/data/samples.csv`` (in its order): shard ``k`` holds rows
``k * shard_size`` to ``(k + 1) * shard_size - 1``
(:func:`~spectral_attribution.pipeline.job.shard_rows`). Variants
(:data:`spectral_attribution.catalog.SHARD_VARIANTS`):

* ``clean``: WCAM of each image (``results/wcam/{model}/clean/``);
* ``corrupted``: WCAM of the corrupted copies chosen by
  :func:`~spectral_attribution.pipeline.steps.corruptions.select_corrupted`
  (image id ``"{image_id}@{corruption}-{severity}"``; ``results/wcam/{model}/corrupted/``);
* ``spatial``: spatial Sobol' map of each image, for faithfulness
  (``results/spatial/{model}/``).

Every explanation shard's manifest has a column ``wall_time_s``: the seconds
spent explaining each image.
"""

from __future__ import annotations

from spectral_attribution import catalog, results
from spectral_attribution._utils.tables import read_table
from spectral_attribution.pipeline.job import job, prepared, read_samples, shard_rows

__all__ = ["explain_shard", "make_explainer", "explain_timed"]


def make_explainer(wrapper, explainer: dict, seed: int, device):
    """The explainer described by ``explainer`` (see
    :func:`~spectral_attribution.pipeline.params.explainer_params`; ``method``
    ``"wcam"`` or ``"spatial-sobol"``) on ``wrapper``, seeded, on ``device``.

    Raises
    ------
    ValueError
        An unknown ``method`` (the known ones are listed).
    """
    from spectral_attribution.attributions.spatial_sobol import SpatialSobol
    from spectral_attribution.attributions.wcam import WCAM

    kwargs = dict(explainer)
    method = kwargs.pop("method", "wcam")
    classes = {"wcam": WCAM, "spatial-sobol": SpatialSobol}
    if method not in classes:
        raise ValueError(f"unknown explainer method {method!r}; expected one of {sorted(classes)}")
    # progress=True: log lines in the job's log, so that a long job shows it is alive
    return classes[method](wrapper, seed=int(seed), device=device, progress=True, **kwargs)


def explain_timed(explainer, images, policy: str, labels) -> tuple[list, list[float]]:
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


def explain_shard(*, model: dict, explainer: dict, shard_size: int, target_policy: str, seed: int,
                  device: str, nickname: str, variant: str, shard: str, samples_csv, out_npz,
                  selection_csv=None, threads: int | None = None):
    """Explain the images of one shard and write ``out_npz`` + its manifest.

    Parameters (the rule's ``params``)
    ----------------------------------
    model:
        :func:`~spectral_attribution.pipeline.params.model_params`.
    explainer:
        :func:`~spectral_attribution.pipeline.params.explainer_params` (``"wcam"``
        for the ``clean`` and ``corrupted`` variants, ``"spatial"`` for ``spatial``).
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

    The class explained follows ``target_policy``: the model's prediction on
    the image explained (a corrupted copy: on the copy), or the label (a
    corrupted copy: its clean image's label; the prediction where the label is
    unknown). The manifest records ``target_policy`` and each image's
    ``target_source``, and so does each explanation's ``settings``.

    Returns the ``(npz, manifest)`` paths.

    Raises
    ------
    ValueError
        An unknown variant or target policy; ``corrupted`` without ``selection_csv``.
    """
    from spectral_attribution import studies
    from spectral_attribution.attributions.targets import check_target_policy

    if variant not in catalog.SHARD_VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {catalog.SHARD_VARIANTS}")
    if variant == "corrupted" and selection_csv is None:
        raise ValueError("variant 'corrupted' needs the selection of corrupted copies")
    policy = check_target_policy(target_policy)
    params = {"model": model, "explainer": explainer, "shard_size": shard_size,
              "target_policy": policy, "seed": seed, "device": device}
    rows = shard_rows(read_samples(samples_csv), shard, int(shard_size))
    with job(device=device, threads=threads, model=model) as j:
        images = prepared(rows, j.model)
        ids, labels = list(rows["image_id"]), list(rows["label"])
        extra = {}
        if variant == "corrupted":
            images, ids, labels, extra = studies.corrupted_copies(images, ids, labels,
                                                                  read_table(selection_csv))
        explain = make_explainer(j.model, explainer, seed, j.device)
        explanations, seconds = explain_timed(explain, images, policy, labels)
        for e in explanations:
            e.settings = {**e.settings, "variant": variant, "model": nickname}
        extra = {**extra, "target_policy": [policy] * len(explanations),
                 "target_source": [e.settings["target_source"] for e in explanations],
                 "wall_time_s": seconds}
        prov = j.provenance(params, "explain_shard", nickname=nickname, variant=variant,
                            shard=str(shard), nb_forward=explain.nb_forward,
                            precision=explain.precision, backend=explain.backend)
    return results.write_shard(out_npz, explanations, ids, labels=labels, seed=int(seed),
                               provenance=prov, extra_columns=extra)

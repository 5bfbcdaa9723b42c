"""Steps of ``workflow/rules/methods.smk``: WAM shards (rule ``wam``) and the comparison of
the WAM with the WCAM on one shard (rule ``methods``).

WAM maps (:class:`~spectral_attribution.attributions.wam.WAM`, one folder per
configured variant) are shards of their own:
``results/wam/{model}/{variant}/shard-NNN.npz``; the comparison reads them
beside the clean WCAM shard of the same images.
"""

from __future__ import annotations

import pandas as pd

from spectral_attribution import results
from spectral_attribution.pipeline.job import job, prepared, read_samples, shard_rows, wall_times
from spectral_attribution.pipeline.steps.wcam import explain_timed

__all__ = ["wam_shard", "methods_shard"]


def wam_shard(*, model: dict, wam: dict, shard_size: int, target_policy: str, seed: int,
              device: str, nickname: str, variant: str, shard: str, samples_csv, out_npz,
              threads: int | None = None):
    """WAM maps of the images of one shard: ``results/wam/{model}/{variant}/shard-NNN.npz``.

    ``wam``: :func:`~spectral_attribution.pipeline.params.wam_params` (its
    ``variant`` must be ``variant``); the class explained follows
    ``target_policy``, as the WCAM shard of the same images; ``seed`` seeds
    SmoothGrad's noise. The manifest records each image's ``wall_time_s``.
    Returns the ``(npz, manifest)`` paths.

    Raises
    ------
    ValueError
        ``wam`` is for another variant, or an unknown target policy.
    """
    from spectral_attribution.attributions.targets import check_target_policy
    from spectral_attribution.attributions.wam import WAM

    if wam.get("variant") != variant:
        raise ValueError(f"the WAM settings are for variant {wam.get('variant')!r}, not {variant!r}")
    policy = check_target_policy(target_policy)
    params = {"model": model, "wam": wam, "shard_size": shard_size, "target_policy": policy,
              "seed": seed, "device": device}
    rows = shard_rows(read_samples(samples_csv), shard, int(shard_size))
    with job(device=device, threads=threads, model=model) as j:
        images = prepared(rows, j.model)
        ids, labels = list(rows["image_id"]), list(rows["label"])
        explainer = WAM(j.model, seed=int(seed), device=j.device, **wam)
        explanations, seconds = explain_timed(explainer, images, policy, labels)
        for e in explanations:
            e.settings = {**e.settings, "model": nickname}
        prov = j.provenance(params, "wam_shard", nickname=nickname, variant=variant,
                            shard=str(shard), nb_forward=explainer.nb_forward,
                            nb_backward=explainer.nb_backward)
    return results.write_shard(out_npz, explanations, ids, labels=labels, seed=int(seed),
                               provenance=prov,
                               extra_columns={"target_policy": [policy] * len(explanations),
                                              "target_source": [e.settings["target_source"]
                                                                for e in explanations],
                                              "wall_time_s": seconds})


def methods_shard(*, model: dict, faithfulness: dict, batch_size: int, seed: int, device: str,
                  nickname: str, wcam_npz, wam_npzs: dict, samples_csv, out_csv,
                  forward: dict | None = None, threads: int | None = None) -> pd.DataFrame:
    """:func:`spectral_attribution.studies.compare_methods` of one shard: its clean WCAMs
    against its WAM maps.

    Parameters
    ----------
    faithfulness:
        :func:`~spectral_attribution.pipeline.params.faithfulness_params`
        (``nb_subsets``, ``subset_fraction``, ``steps``, ``score``), in float32
        as the faithfulness study.
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
    from spectral_attribution import studies

    wcam = results.load_shard(wcam_npz)
    ids = [str(i) for i in wcam.manifest["image_id"]]
    others, times = {}, {"wcam": wall_times(wcam)}
    for variant, path in wam_npzs.items():
        shard = results.load_shard(path)
        if [str(i) for i in shard.manifest["image_id"]] != ids:
            raise ValueError(f"{path} and {wcam_npz} hold different images")
        others[f"wam-{variant}"] = shard.explanations
        times[f"wam-{variant}"] = wall_times(shard)
    samples = read_samples(samples_csv).set_index("image_id")
    f = faithfulness
    with job(device=device, threads=threads, model=model) as j:
        images = prepared(samples.loc[ids].reset_index(), j.model)
        df = studies.compare_methods(j.model, images, ids, wcam.explanations, others, times,
                                     nb_subsets=int(f["nb_subsets"]),
                                     subset_fraction=float(f["subset_fraction"]),
                                     steps=int(f["steps"]), seed=int(seed),
                                     batch_size=int(batch_size), score=f["score"], progress=True,
                                     **(forward or {}))
    df["model"] = nickname
    results.write_csv(df, out_csv)
    return df

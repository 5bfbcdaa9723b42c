"""Steps of ``workflow/rules/baselines.smk``: reconstruction depths of a WCAM shard with
model-free orders (rule ``depth_baselines``) and the WCAM's seed-to-seed noise (rule
``wcam_noise``)."""

from __future__ import annotations

import pandas as pd

from spectral_attribution import results
from spectral_attribution.pipeline.job import job, shard_images

__all__ = ["depth_baselines_shard", "measure_wcam_noise"]


def depth_baselines_shard(*, model: dict, reconstruction: dict, nb_draws: int, batch_size: int,
                          seed: int, device: str, nickname: str, variant: str, shard_npz,
                          samples_csv, out_csv, forward: dict | None = None,
                          threads: int | None = None) -> pd.DataFrame:
    """:func:`spectral_attribution.studies.baseline_depths` of the WCAMs of one shard
    (model-free orders); writes ``out_csv``.

    Orders ``wcam``, ``coarse_to_fine``, ``wcam_approximation_first`` and
    ``within_level`` (``nb_draws`` draws of the random ones, ``baselines.nb_draws``),
    up to ``reconstruction["max_k"]`` cells; the reference label is each WCAM's
    target. Forward passes in float32, as the reconstruction study's, so that
    the depths of the two tables compare.
    """
    from spectral_attribution import studies

    shard = results.load_shard(shard_npz)
    manifest = shard.manifest
    if not len(shard):
        df = pd.DataFrame(columns=["model", "image_id", "condition", "order"])
        results.write_csv(df, out_csv)
        return df
    with job(device=device, threads=threads, model=model) as j:
        images, extra = shard_images(j.model, manifest, samples_csv, variant)
        df = studies.baseline_depths(
            j.model, images, shard.explanations, [str(i) for i in manifest["image_id"]],
            conditions="corrupted" if variant == "corrupted" else "clean",
            nb_draws=int(nb_draws), seed=int(seed), batch_size=int(batch_size),
            max_k=reconstruction.get("max_k"), extra_columns=extra, progress=False,
            **(forward or {}))
    df["model"] = nickname
    results.write_csv(df, out_csv)
    return df


def measure_wcam_noise(*, models: dict, noise_images: int, batch_size: int, device: str,
                       shard_npzs: dict, samples_csv, out_csv,
                       threads: int | None = None) -> pd.DataFrame:
    """:func:`spectral_attribution.studies.wcam_noise` on the first ``noise_images`` images
    of each model's first clean shard; writes ``out_csv``.

    ``shard_npzs``: nickname → shard path; ``models``: nickname →
    :func:`~spectral_attribution.pipeline.params.model_params`. A second WCAM
    with seed ``seed + 1`` at the shard's grid, levels and designs; all models
    run in one device lease.
    """
    from spectral_attribution import studies

    count = int(noise_images)
    frames = []
    with job(device=device, threads=threads) as j:
        for nickname, npz in shard_npzs.items():
            shard = results.load_shard(npz)
            manifest = shard.manifest.head(count)
            if manifest.empty:
                continue
            wrapper = j.load(models[nickname])
            images, _ = shard_images(wrapper, manifest, samples_csv, "clean")
            df = studies.wcam_noise(wrapper, images, [str(i) for i in manifest["image_id"]],
                                    shard.explanations[:len(manifest)],
                                    explainer_kwargs={"batch_size": int(batch_size),
                                                      "device": j.device})
            df["model"] = nickname
            frames.append(df)
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["model", "image_id", "grid_size", "nb_design", "levels", "spearman",
                 "same_top_cell", "top_overlap"])
    results.write_csv(df, out_csv)
    return df

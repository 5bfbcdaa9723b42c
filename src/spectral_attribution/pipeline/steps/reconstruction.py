"""Step of ``workflow/rules/reconstruction.smk``: reconstruction depths of a WCAM shard
(rule ``reconstruction``)."""

from __future__ import annotations

import pandas as pd

from spectral_attribution import results
from spectral_attribution.pipeline.job import job, shard_images

__all__ = ["reconstruction_shard"]


def reconstruction_shard(*, model: dict, reconstruction: dict, batch_size: int, seed: int,
                         device: str, nickname: str, variant: str, shard_npz, samples_csv,
                         out_csv, forward: dict | None = None,
                         threads: int | None = None) -> pd.DataFrame:
    """:func:`spectral_attribution.studies.sufficient_reconstruction` of the WCAMs of one
    shard; writes ``out_csv``.

    ``reconstruction``: :func:`~spectral_attribution.pipeline.params.reconstruction_params`.
    Each depth is scored against the class its WCAM explains (the shard's
    ``target``, chosen by ``target_policy`` when the shard was made).
    ``variant`` ``"clean"`` or ``"corrupted"``; corrupted rows carry
    ``source_image_id, corruption, severity``. An empty shard gives an empty
    table (columns ``model, image_id, condition``) without loading the model.
    """
    from spectral_attribution import studies

    shard = results.load_shard(shard_npz)
    manifest = shard.manifest
    if not len(shard):
        df = pd.DataFrame(columns=["model", "image_id", "condition"])
        results.write_csv(df, out_csv)
        return df
    with job(device=device, threads=threads, model=model) as j:
        images, extra = shard_images(j.model, manifest, samples_csv, variant)
        condition = "corrupted" if variant == "corrupted" else "clean"
        df = studies.sufficient_reconstruction(
            j.model, images, shard.explanations, list(manifest["image_id"]), conditions=condition,
            nb_random_draws=int(reconstruction["nb_random_draws"]), seed=int(seed),
            batch_size=int(batch_size), max_k=reconstruction.get("max_k"),
            extra_columns=extra, progress=True, **(forward or {}))
    df["model"] = nickname
    if "source_image_id" not in df.columns:
        df["source_image_id"] = df["image_id"]
    results.write_csv(df, out_csv)
    return df

"""Step of ``workflow/rules/faithfulness.smk``: mu-fidelity, insertion and deletion of the
WCAM and of the spatial Sobol' map of one shard (rule ``faithfulness``)."""

from __future__ import annotations

import pandas as pd

from spectral_attribution import results
from spectral_attribution.pipeline.job import job, prepared, read_samples

__all__ = ["faithfulness_shard"]


def faithfulness_shard(*, model: dict, faithfulness: dict, batch_size: int, seed: int, device: str,
                       nickname: str, wcam_npz, spatial_npz, samples_csv, out_csv,
                       forward: dict | None = None, threads: int | None = None) -> pd.DataFrame:
    """:func:`spectral_attribution.studies.faithfulness` of the clean WCAMs and spatial
    Sobol' maps of one shard; writes ``out_csv``.

    ``faithfulness``: :func:`~spectral_attribution.pipeline.params.faithfulness_params`.

    Raises
    ------
    ValueError
        The two shards hold different images (both named).
    """
    from spectral_attribution import studies

    wcam, spatial = results.load_shard(wcam_npz), results.load_shard(spatial_npz)
    ids = list(wcam.manifest["image_id"])
    if list(spatial.manifest["image_id"]) != ids:
        raise ValueError(f"{wcam_npz} and {spatial_npz} hold different images")
    samples = read_samples(samples_csv).set_index("image_id")
    f = faithfulness
    with job(device=device, threads=threads, model=model) as j:
        images = prepared(samples.loc[ids].reset_index(), j.model)
        df = studies.faithfulness(j.model, images, ids, wcam.explanations, spatial.explanations,
                                  nb_subsets=int(f["nb_subsets"]),
                                  subset_fraction=float(f["subset_fraction"]), steps=int(f["steps"]),
                                  seed=int(seed), batch_size=int(batch_size), score=f["score"],
                                  progress=True, **(forward or {}))
    df["model"] = nickname
    results.write_csv(df, out_csv)
    return df

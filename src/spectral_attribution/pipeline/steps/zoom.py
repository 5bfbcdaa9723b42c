"""Step of ``workflow/rules/zoom.smk``: level contributions of the WCAM in the regular and
the zoomed view (rule ``zoom``)."""

from __future__ import annotations

import pandas as pd

from spectral_attribution import results
from spectral_attribution.pipeline.job import job, pil_images, read_samples, shard_rows

__all__ = ["zoom_shard"]


def zoom_shard(*, model: dict, explainer: dict, views: dict, shard_size: int, seed: int,
               device: str, nickname: str, shard: str, samples_csv, out_csv,
               target_policy: str = "prediction", allow_straddling: bool = False,
               threads: int | None = None) -> pd.DataFrame:
    """:func:`spectral_attribution.studies.zoom_study` on the images of one shard; writes ``out_csv``.

    ``explainer``: :func:`~spectral_attribution.pipeline.params.explainer_params`
    of kind ``"zoom"``; ``views``: :func:`~spectral_attribution.pipeline.params.zoom_views`.
    The class explained in every view follows ``target_policy`` (the labels of
    ``samples.csv``, or the regular view's prediction); the grid must align
    with the sub-bands of every view unless ``allow_straddling``
    (``zoom.allow_straddling``).
    """
    from spectral_attribution import studies
    from spectral_attribution.attributions.targets import check_target_policy

    policy = check_target_policy(target_policy)
    rows = shard_rows(read_samples(samples_csv), shard, int(shard_size))
    kw = dict(explainer)
    with job(device=device, threads=threads, model=model) as j:
        df = studies.zoom_study(j.model, pil_images(rows), list(rows["image_id"]),
                                grid_size=int(kw.pop("grid_size")), nb_design=int(kw.pop("nb_design")),
                                seed=int(seed), batch_size=int(kw.pop("batch_size")),
                                views={name: tuple(int(v) for v in spec) for name, spec in views.items()},
                                explainer_kwargs={**kw, "device": j.device}, progress=True,
                                labels=[int(v) for v in rows["label"]],
                                target_policy=policy, allow_straddling=bool(allow_straddling))
    df["model"] = nickname
    results.write_csv(df, out_csv)
    return df

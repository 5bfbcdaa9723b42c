"""Steps of ``workflow/rules/corruptions.smk``: the corruption baseline (rule
``corruption_baseline``), the robustness tables (rule ``robustness``) and the choice of
the corrupted copies that get a WCAM (rule ``select_corrupted``)."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from spectral_attribution import results
from spectral_attribution._utils.checks import progress_bar
from spectral_attribution._utils.tables import read_table
from spectral_attribution.pipeline.job import job, prepared, read_samples, shard_rows

__all__ = ["corruption_baseline_shard", "robustness_tables", "select_corrupted"]


def corruption_baseline_shard(*, model: dict, corruptions: dict, shard_size: int, batch_size: int,
                              seed: int, device: str, nickname: str, shard: str, samples_csv,
                              out_csv, forward: dict | None = None,
                              threads: int | None = None) -> pd.DataFrame:
    """:func:`spectral_attribution.studies.corruption_baseline` on the images of one shard;
    writes ``out_csv``.

    ``corruptions``: :func:`~spectral_attribution.pipeline.params.corruption_params`.
    Copy seeds depend on the image's position in ``samples.csv`` (global, not
    within the shard), so results do not depend on the shard size.
    """
    from spectral_attribution import studies

    size = int(shard_size)
    rows = shard_rows(read_samples(samples_csv), shard, size)
    with job(device=device, threads=threads, model=model) as j:
        images = prepared(rows, j.model)
        frames = []
        # one call per image so that copy seeds use the global image index
        pairs = progress_bar(zip(images, rows["image_id"], rows["label"]), True, "corruption baseline",
                             total=len(rows))
        for offset, (img, image_id, label) in enumerate(pairs):
            index = int(shard) * size + offset
            df = studies.corruption_baseline(j.model, img[None], [image_id],
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


def robustness_tables(baseline_csv, per_image_csv, per_corruption_csv):
    """:func:`~spectral_attribution.studies.robustness_per_image` and
    :func:`~spectral_attribution.studies.robustness_per_corruption` of the baseline;
    writes both CSVs and returns both tables."""
    from spectral_attribution import studies

    baseline = read_table(baseline_csv)
    per_image = studies.robustness_per_image(baseline)
    per_corruption = studies.robustness_per_corruption(baseline)
    results.write_csv(per_image, per_image_csv)
    results.write_csv(per_corruption, per_corruption_csv)
    return per_image, per_corruption


def select_corrupted(*, selection: dict, seed: int, baseline_csvs: Sequence, out_csv) -> pd.DataFrame:
    """Choose the corrupted copies to explain, the same for every model.

    The choice (:func:`spectral_attribution.studies.select_corrupted_copies`;
    ``selection``: :func:`~spectral_attribution.pipeline.params.selection_params`)
    is made on the baseline of the reference model (the first configured one;
    ``baseline_csvs``: its baseline shards), so that every model explains the
    same copies (the gallery compares them side by side). Writes columns
    ``image_id, corruption, severity, copy_seed, reference_model``.
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

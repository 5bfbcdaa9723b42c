"""Step of ``workflow/rules/data.smk``: the seeded sample of images (rule ``samples``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from spectral_attribution import results

__all__ = ["prepare_samples"]


def prepare_samples(*, source: dict, cache_dir, out_csv) -> pd.DataFrame:
    """Resolve the image source and draw ``source["n_images"]`` images, seeded.

    Calls :func:`spectral_attribution.data.prepare_source` with ``source``
    (:func:`~spectral_attribution.pipeline.params.source_params`: download,
    verify, extract, list, sample without replacement with seed
    ``source["seed"]``, decode; embedded photographs are written under
    ``cache_dir``) and writes the sample to ``out_csv`` (columns ``image_id,
    path, label, class_name``; paths absolute; ``label`` ``-1`` when unknown)
    in the order the shards use. Images left out by ``skip_bad_images`` go to
    ``skipped_images.csv`` beside it, and the id scheme that made the ids
    (:data:`spectral_attribution.data.ids.IMAGE_ID_SCHEME`) to
    ``image_ids.json``. Returns the sample.

    Raises
    ------
    ValueError, TypeError
        From ``prepare_source``: bad data keys (named), or fewer images than
        ``n_images``.
    """
    from spectral_attribution import data

    sample = data.prepare_source(dict(source), Path(cache_dir or "resources/data"))
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
    # which id scheme made the ids (spectral_attribution.data.ids: lossless relative paths)
    results.write_json({"image_id_scheme": data.IMAGE_ID_SCHEME, "defined_in": "spectral_attribution.data.ids"},
                       Path(out_csv).with_name("image_ids.json"))
    return sample

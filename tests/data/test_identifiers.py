"""Image ids that pandas would read as missing values (NA, null, nan, None) survive every table.

Issue 9, item 5: every CSV of the project is read with ``_common.read_table``.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from spectral_attribution import pipeline, results
from spectral_attribution._utils.tables import read_table
from spectral_attribution.attributions.explanation import Explanation

IDS = ["NA", "None", "nan", "null"]  # sorted by path, as labelled_folder orders them


def _labelled_folder(root: Path) -> Path:
    # files without an extension, listed in labels.csv: their ids are their names exactly
    # (ids are the relative paths, issue 22 §5), names pandas reads as missing values
    root.mkdir(parents=True)
    for k, name in enumerate(IDS):
        Image.new("RGB", (6, 4), (10 * k, 20, 30)).save(root / name, format="PNG")
    pd.DataFrame({"file": IDS, "class_index": [0] * 4}).to_csv(root / "labels.csv", index=False)
    return root


def _explanation(k: int) -> Explanation:
    return Explanation(method="wcam", indices=np.full((2, 2), k, np.float32),
                       map=np.full((4, 4), k, np.float32), spatial=None, target=k, predicted=k,
                       score=float(k), predicted_score=float(k), settings={"grid_size": 2})


def test_ids_named_like_missing_values_survive_samples_and_shards(tmp_path):
    root = _labelled_folder(tmp_path / "images")
    config = {"seed": 0, "data": {"source": "folder", "root": str(root), "n_images": None}}
    samples_csv = tmp_path / "results" / "data" / "samples.csv"
    sample = pipeline.prepare_samples(source=pipeline.source_params(config),
                                      cache_dir=tmp_path / "cache", out_csv=samples_csv)
    assert sample["image_id"].tolist() == IDS

    # samples.csv read back: by the pipeline's rules and by the generic reader
    back = pipeline.read_samples(samples_csv)
    assert back["image_id"].tolist() == IDS and back["label"].tolist() == [0] * 4
    assert read_table(samples_csv)["image_id"].tolist() == IDS
    assert pipeline.shard_rows(back, 0, 3)["image_id"].tolist() == IDS[:3]
    assert pd.read_csv(samples_csv)["image_id"].isna().all()  # what plain pandas does with them

    # a shard and its manifest read back
    shard_npz = tmp_path / "results" / "wcam" / "m" / "clean" / "shard-000.npz"
    results.write_shard(shard_npz, [_explanation(k) for k in range(4)], IDS, labels=[0] * 4)
    shard = results.load_shard(shard_npz)
    assert shard.manifest["image_id"].tolist() == IDS
    assert shard.get("null").target == 3
    # the run's configuration declares one shard of 4 images, clean and corrupted
    results.write_run_config({**config, "wcam": {"shard_size": 4}, "models": [{"nickname": "m"}],
                              "corruptions": {"explain": {"per_image": 1}},
                              "data": {**config["data"], "n_images": 4}}, tmp_path / "results")
    assert results.load_manifest(tmp_path / "results", "m")["image_id"].tolist() == IDS
    for k, image_id in enumerate(IDS):
        assert results.load_explanation(tmp_path / "results", "m", image_id).target == k

    # corrupted copies name their clean image in source_image_id
    copies = tmp_path / "results" / "wcam" / "m" / "corrupted" / "shard-000.npz"
    copy_ids = [f"{i}@fog-3" for i in IDS]
    results.write_shard(copies, [_explanation(k) for k in range(4)], copy_ids,
                        extra_columns={"source_image_id": IDS, "corruption": ["fog"] * 4,
                                       "severity": [3] * 4, "copy_seed": [1] * 4})
    manifest = results.load_manifest(tmp_path / "results", "m", "corrupted")
    assert manifest["source_image_id"].tolist() == IDS and manifest["image_id"].tolist() == copy_ids

    # study tables concatenated by the workflow
    part = tmp_path / "part.csv"
    pd.DataFrame({"model": ["NA"] * 4, "image_id": IDS, "depth": [1.0, np.nan, 3.0, 4.0]}).to_csv(
        part, index=False)
    joined = pipeline.concat_tables([part, part], tmp_path / "all.csv")
    assert joined["image_id"].tolist() == IDS * 2 and joined["model"].eq("NA").all()
    assert joined["depth"].isna().tolist() == [False, True, False, False] * 2


def test_read_table_keeps_text_columns_and_parses_the_others(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("image_id,class_name,wnid,my_id,corruption,score,label,note\n"
                    "NA,None,null,nan,,NA,3,NA\n"
                    "001,tench,n01440764,7,fog,0.5,,x\n")
    df = read_table(path)
    assert df["image_id"].tolist() == ["NA", "001"]            # strings, leading zeros kept
    assert df["class_name"].tolist() == ["None", "tench"]
    assert df["wnid"].tolist() == ["null", "n01440764"]
    assert df["my_id"].tolist() == ["nan", "7"]                # any *_id column
    assert df["corruption"].isna().tolist() == [True, False]   # empty text: missing
    assert np.isnan(df["score"][0]) and df["score"][1] == 0.5  # numbers: pandas' NA strings
    assert df["label"].isna().tolist() == [False, True]
    assert df["note"].isna().tolist() == [True, False]
    every = read_table(path, all_text=True)
    assert every.loc[0].tolist() == ["NA", "None", "null", "nan", "", "NA", "3", "NA"]
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        read_table(tmp_path / "nope.csv")

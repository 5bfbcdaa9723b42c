"""Atomic writes, provenance and the shard format of ``results.py``."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pandas as pd
import pytest

from spectral_attribution import results
from spectral_attribution.attributions.explanation import Explanation


def _exps(n=3, g=4, size=16, spatial=True):
    rng = np.random.default_rng(0)
    return [Explanation("wcam", rng.random((g, g), dtype=np.float32),
                            rng.random((size, size), dtype=np.float32),
                            rng.random((size, size), dtype=np.float32) if spatial else None,
                            target=300 + i, predicted=7 * i, score=1.5 * i,
                            predicted_score=2.0 + i, settings={"grid_size": g, "seed": i})
            for i in range(n)]


def _config(n_images, shard_size, models=("m",), per_image=0, faithfulness=False):
    """The parts of a workflow configuration that say which shards exist."""
    return {"seed": 0, "data": {"n_images": n_images}, "wcam": {"shard_size": shard_size},
            "models": [{"nickname": m, "name": m} for m in models],
            "corruptions": {"explain": {"per_image": per_image}},
            "faithfulness": {"enabled": faithfulness}}


def test_atomic_path_replaces_only_on_success(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    results.write_text("old", target)
    with pytest.raises(RuntimeError):
        with results.atomic_path(target) as tmp:
            tmp.write_text("half")
            assert tmp.suffix == ".txt" and tmp.name.startswith(".")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert os.listdir(target.parent) == ["a.txt"]  # no temporary left behind
    results.write_text("new", target)
    assert target.read_text() == "new"


def test_atomic_path_requires_a_write(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing was written"):
        with results.atomic_path(tmp_path / "x.csv"):
            pass
    assert not (tmp_path / "x.csv").exists()


def test_write_json_handles_numpy(tmp_path):
    p = results.write_json({"a": np.int64(3), "b": np.float32(0.5), "c": np.arange(2)},
                           tmp_path / "x.json")
    assert json.loads(p.read_text()) == {"a": 3, "b": 0.5, "c": [0, 1]}


def test_provenance_records_versions_device_and_model():
    import torch

    net = torch.nn.Linear(2, 3)
    prov = results.provenance(config={"k": 1}, seed=5, model=net, device="cpu", note="x")
    assert prov["seed"] == 5 and prov["config"] == {"k": 1} and prov["note"] == "x"
    assert prov["versions"]["torch"] == torch.__version__
    assert "numpy" in prov["versions"] and "python" in prov["versions"]
    assert prov["device"]["device"] == "cpu"
    sha = prov["model"]["weights_sha256"]
    assert isinstance(sha, str) and len(sha) == 64
    assert results.weights_hash(net) == sha  # deterministic
    json.dumps(prov)  # serialisable


def test_shard_round_trip(tmp_path):
    exps = _exps()
    npz, csv = results.write_shard(tmp_path / "wcam" / "m" / "clean" / "shard-000.npz", exps,
                                   ["a", "b", "c"], labels=[1, None, 999], seed=11,
                                   provenance={"seed": 11})
    manifest = pd.read_csv(csv)
    assert list(manifest.columns) == results.MANIFEST_COLUMNS + results.INTEGRITY_COLUMNS
    assert (manifest["npz_bytes"] == npz.stat().st_size).all()
    assert (manifest["npz_sha256"] == results.file_sha256(npz)).all()
    assert list(manifest["label"]) == [1, -1, 999]
    assert list(manifest["seed"]) == [11, 11, 11]
    assert json.loads(manifest["settings"][1]) == {"grid_size": 4, "seed": 1}
    shard = results.load_shard(npz)
    assert shard.provenance == {"seed": 11} and len(shard) == 3
    for got, want in zip(shard.explanations, exps):
        np.testing.assert_array_equal(got.indices, want.indices)
        np.testing.assert_array_equal(got.map, want.map)
        np.testing.assert_array_equal(got.spatial, want.spatial)
        assert (got.target, got.predicted, got.score, got.settings) == \
            (want.target, want.predicted, want.score, want.settings)
        assert got.indices.dtype == np.float32
    with np.load(npz, allow_pickle=False) as z:  # no pickled objects inside
        assert z["indices"].shape == (3, 4, 4)


def test_load_explanation_finds_image_across_shards(tmp_path):
    exps = _exps(4, spatial=False)
    base = tmp_path / "wcam" / "m" / "clean"
    results.write_shard(base / "shard-000.npz", exps[:2], ["a", "b"])
    results.write_shard(base / "shard-001.npz", exps[2:], ["c", "d"])
    with pytest.raises(FileNotFoundError, match=r"config\.yaml not found"):
        results.load_explanation(tmp_path, "m", "d")       # which shards? no record: refused
    results.write_run_config(_config(4, 2), tmp_path)
    got = results.load_explanation(tmp_path, "m", "d")
    np.testing.assert_array_equal(got.indices, exps[3].indices)
    assert got.spatial is None
    assert len(results.load_manifest(tmp_path, "m")) == 4
    assert [r["image_id"] for r, _ in results.iter_explanations(tmp_path, "m")] == list("abcd")
    with pytest.raises(KeyError, match="'zz'"):
        results.load_explanation(tmp_path, "m", "zz")
    with pytest.raises(KeyError, match=r"model 'other' is not in the configuration .*\['m'\]"):
        results.load_explanation(tmp_path, "other", "a")
    with pytest.raises(FileNotFoundError, match=r"computes no 'spatial' variant \(variants: \['clean'\]\)"):
        results.load_explanation(tmp_path, "m", "a", "spatial")
    assert results.load_manifest(tmp_path, "m", "corrupted").empty   # e.g. the gallery's copies


def test_wam_shards_keep_their_attributions_in_their_own_folder(tmp_path):
    # the folder's recorded configuration declares one model, one shard, the smoothgrad variant
    results.write_run_config({"models": [{"nickname": "m", "name": "toy"}],
                              "data": {"n_images": 2}, "wcam": {"shard_size": 10},
                              "corruptions": {"explain": {"per_image": 0}},
                              "methods": ["wcam", {"method": "wam", "variant": "smoothgrad"}]},
                             tmp_path)
    exps = _exps(2)
    for k, e in enumerate(exps):
        e.method = "wam"
        e.attributions = np.full((3, 8, 8), k - 0.5, dtype=np.float32)
    results.write_shard(tmp_path / "wam" / "m" / "smoothgrad" / "shard-000.npz", exps, ["a", "b"],
                        extra_columns={"wall_time_s": [1.5, 2.5]})
    got = results.load_explanation(tmp_path, "m", "b", "smoothgrad", method="wam")
    np.testing.assert_array_equal(got.attributions, exps[1].attributions)
    assert got.method == "wam" and got.attributions.dtype == np.float32
    manifest = results.load_manifest(tmp_path, "m", "smoothgrad", method="wam")
    assert manifest["wall_time_s"].tolist() == [1.5, 2.5]
    with pytest.raises(FileNotFoundError, match=r"computes no 'gradient' variant \(variants: \['smoothgrad'\]\)"):
        results.load_explanation(tmp_path, "m", "a", "gradient", method="wam")
    exps[0].attributions = None
    with pytest.raises(ValueError, match="some explanations have 'attributions' and others do not"):
        results.write_shard(tmp_path / "x.npz", exps, ["a", "b"])
    # shards without the array (every Sobol' shard) load with attributions None
    results.write_shard(tmp_path / "wcam" / "m" / "clean" / "shard-000.npz", _exps(1), ["a"])
    assert results.load_explanation(tmp_path, "m", "a").attributions is None


def test_shard_without_manifest_is_incomplete(tmp_path):
    npz, csv = results.write_shard(tmp_path / "wcam" / "m" / "clean" / "shard-000.npz",
                                   _exps(1), ["a"])
    csv.unlink()
    assert results.shard_paths(tmp_path, "m", config=_config(1, 1)) == []
    with pytest.raises(FileNotFoundError, match="incomplete"):
        results.load_shard(npz)


def test_write_shard_refuses_ragged_shapes(tmp_path):
    exps = _exps(2)
    exps[1].map = np.zeros((8, 8), np.float32)
    with pytest.raises(ValueError, match="different shapes"):
        results.write_shard(tmp_path / "s.npz", exps, ["a", "b"])
    assert not (tmp_path / "s.npz").exists()


# --------------------------------------------------------------------------
# Integrity: a shard is checked against its manifest when it is read
# --------------------------------------------------------------------------
def _one_shard(tmp_path, n=2):
    return results.write_shard(tmp_path / "wcam" / "m" / "clean" / "shard-000.npz", _exps(n),
                               [f"i{k}" for k in range(n)])


def test_a_truncated_shard_names_the_file_and_how_to_recompute_it(tmp_path):
    npz, _ = _one_shard(tmp_path)
    size = npz.stat().st_size
    npz.write_bytes(npz.read_bytes()[: size // 2])
    with pytest.raises(results.ShardIntegrityError,
                       match=rf"shard {re.escape(str(npz))} is corrupted: {size // 2:,} bytes, its "
                             rf"manifest records {size:,} .*recompute it: run the workflow again"):
        results.load_shard(npz)
    assert issubclass(results.ShardIntegrityError, ValueError)


def test_a_shard_altered_in_place_fails_its_checksum(tmp_path):
    npz, _ = _one_shard(tmp_path)
    data = bytearray(npz.read_bytes())
    data[len(data) // 2] ^= 0xFF                  # same size, one byte flipped
    npz.write_bytes(bytes(data))
    with pytest.raises(results.ShardIntegrityError, match="its SHA-256 is .* its manifest records"):
        results.load_shard(npz)
    results.write_run_config(_config(2, 2), tmp_path)
    with pytest.raises(results.ShardIntegrityError, match="shard-000.npz is corrupted"):
        results.load_explanation(tmp_path, "m", "i0")


def test_an_empty_shard_is_checked_by_its_zip_crcs(tmp_path):
    npz, _ = results.write_shard(tmp_path / "s" / "shard-000.npz", [], [])
    assert len(results.load_shard(npz)) == 0
    npz.write_bytes(npz.read_bytes()[:40])
    with pytest.raises(results.ShardIntegrityError, match="cannot be read"):
        results.load_shard(npz)


def test_readers_take_the_declared_shards_never_leftovers(tmp_path):
    """A first run with 4 images in 2 shards, then the configuration shrinks to 2 images."""
    exps = _exps(4, spatial=False)
    base = tmp_path / "wcam" / "m" / "clean"
    results.write_shard(base / "shard-000.npz", exps[:2], ["a", "b"])
    results.write_shard(base / "shard-001.npz", exps[2:], ["c", "d"])   # left over
    results.write_run_config(_config(2, 2), tmp_path)
    assert results.shard_paths(tmp_path, "m") == [base / "shard-000.npz"]
    assert list(results.load_manifest(tmp_path, "m")["image_id"]) == ["a", "b"]
    with pytest.raises(KeyError, match="'c' not found"):
        results.load_explanation(tmp_path, "m", "c")
    # an explicit configuration overrides the recorded one
    assert len(results.load_manifest(tmp_path, "m", config=_config(4, 2))) == 4


def test_run_config_round_trip(tmp_path):
    config = {**_config(6, 3, per_image=1, faithfulness=True),
              "zoom": {"views": {"regular": [256, 224, 3]}}, "model_dir": None}
    path = results.write_run_config(config, tmp_path / "results")
    assert path == tmp_path / "results" / "config.yaml"
    assert results.read_run_config(tmp_path / "results") == config
    assert results.run_variants(config) == ["clean", "corrupted", "spatial"]
    assert [p.name for p in results.declared_shards(tmp_path, "m", "spatial", config)] == \
        ["shard-000.npz", "shard-001.npz"]
    (tmp_path / "results" / "config.yaml").write_text("- a list\n")
    with pytest.raises(ValueError, match="not a configuration"):
        results.read_run_config(tmp_path / "results")

"""The checks the workflow runs when it starts (run_checks), without Snakemake.

The same checks inside real Snakemake runs (an orphaned job, a truncated
shard, a second configuration) are in test_workflow.py.
"""

import copy

import numpy as np
import pytest

from spectral_attribution import results
from spectral_attribution.pipeline import run_checks
from spectral_attribution.attributions.explanation import Explanation


def _config(**changes):
    config = {"seed": 0, "device": "cpu",
              "data": {"source": "embedded", "n_images": 4, "stratify": False,
                       "skip_bad_images": False, "cache_dir": "resources/data"},
              "models": [{"nickname": "m", "name": "efficientnet-lite0"}],
              "wcam": {"grid_size": 8, "nb_design": 4, "shard_size": 2},
              "corruptions": {"names": ["fog"], "severities": [1], "explain": {"per_image": 0}},
              "faithfulness": {"enabled": False}, "figures": {"gallery_images": 2}}
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = config
        for p in parents:
            node = node[p]
        node[last] = value
    return config


def _exp(k):
    return Explanation("wcam", np.full((2, 2), k, np.float32), np.full((4, 4), k, np.float32), None,
                       target=k, predicted=k, score=1.0, predicted_score=1.0, settings={})


def _run(tmp_path, config):
    """A results folder as the workflow leaves it (in the current folder, ``tmp_path``)."""
    run_checks.record(config)
    for k in range(results.shard_count(config)):
        results.write_shard(results.shard_path("results", "m", "clean", k), [_exp(2 * k), _exp(2 * k + 1)],
                            [f"i{2 * k}", f"i{2 * k + 1}"])


def test_a_fresh_folder_and_the_same_configuration_pass(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_checks.check_results_folder(_config())            # nothing recorded yet
    _run(tmp_path, _config())
    run_checks.check_results_folder(_config())
    # settings that do not change which images and shard files exist may change (the rules
    # that read them rerun, in the same files)
    run_checks.check_results_folder(_config(wcam__grid_size=16, figures__gallery_images=1,
                                            corruptions__explain={"per_image": 1}))
    # a model entry written without its defaults is the same model
    run_checks.check_results_folder(_config(models=[{"nickname": "m", "name": "efficientnet-lite0",
                                                     "options": {}}]))


@pytest.mark.parametrize("changes, shown", [
    ({"data__n_images": 2}, "data.n_images: 4 there, 2 now"),
    ({"data__stratify": True}, "data.stratify: False there, True now"),
    ({"seed": 1}, "seed: 0 there, 1 now"),
    ({"wcam__shard_size": 4}, "wcam.shard_size: 2 there, 4 now"),
    ({"models": [{"nickname": "m", "name": "resnet50"}]},
     "models: ['m=efficientnet-lite0'] there, ['m=resnet50'] now"),
])
def test_another_configuration_is_refused_naming_the_keys_and_the_ways_out(tmp_path, monkeypatch,
                                                                             changes, shown):
    monkeypatch.chdir(tmp_path)
    _run(tmp_path, _config())
    with pytest.raises(run_checks.ConfigurationMismatch) as info:
        run_checks.check_results_folder(_config(**changes))
    text = str(info.value)
    assert text.startswith("results/ holds the results of another configuration:\n")
    assert f"\n  {shown}\n" in text
    assert "--configfile results/config.yaml" in text and "snakemake --directory NEW_FOLDER" in text


def test_the_snakefile_hook_exits_with_one_message(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _run(tmp_path, _config())
    with pytest.raises(SystemExit) as info:
        run_checks.at_start(_config(data__n_images=2), exit_on_mismatch=True)
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("spectral-attribution: error: results/ holds the results of another")


def test_a_truncated_shard_is_set_aside_so_the_run_recomputes_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    config = _config()
    _run(tmp_path, config)
    bad = results.shard_path("results", "m", "clean", 1)
    bad.write_bytes(bad.read_bytes()[:100])
    done = run_checks.check_shards(config)
    assert done == {"set_aside": [str(bad)], "kept": []}
    assert not bad.exists() and not bad.with_suffix(".csv").exists()
    assert bad.with_name("shard-001.npz.corrupt").exists()
    assert bad.with_name("shard-001.csv.corrupt").exists()
    err = capsys.readouterr().err
    assert f"shard {bad} is corrupted: 100 bytes" in err and "this run recomputes it" in err
    # readers now see the shard as missing, never as good
    assert results.shard_paths("results", "m") == [results.shard_path("results", "m", "clean", 0)]
    # the set-aside shard is an explicit target of the default rule, in this run and later ones,
    # until it is recomputed
    expected = [str(bad), str(bad.with_suffix(".csv"))]
    assert run_checks.set_aside_shards(config) == expected
    assert run_checks.at_start(config) == expected
    bad.write_bytes(b"recomputed")
    bad.with_suffix(".csv").write_text("x")
    assert run_checks.set_aside_shards(config) == []


def test_a_shard_finished_by_an_orphaned_job_is_kept(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    config = _config()
    _run(tmp_path, config)
    npz = results.shard_path("results", "m", "clean", 0)
    marks = [run_checks.incomplete_marker(str(p)) for p in (npz, npz.with_suffix(".csv"))]
    for m in marks:                     # what Snakemake leaves when it dies during the job
        m.parent.mkdir(parents=True, exist_ok=True)
        m.write_text('{"external_jobid": null}')
    assert marks[0].name == "cmVzdWx0cy93Y2FtL20vY2xlYW4vc2hhcmQtMDAwLm5weg=="  # base64 of the path
    done = run_checks.check_shards(config)
    assert done == {"set_aside": [], "kept": [str(npz)]}
    assert not any(m.exists() for m in marks)
    assert "kept, not recomputed" in capsys.readouterr().err


def test_nothing_is_touched_while_another_snakemake_holds_the_lock(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = _config()
    _run(tmp_path, config)
    bad = results.shard_path("results", "m", "clean", 0)
    bad.write_bytes(b"x")
    (tmp_path / ".snakemake" / "locks").mkdir(parents=True)
    (tmp_path / ".snakemake" / "locks" / "0.input.lock").write_text("x\n")
    run_checks.at_start(config)
    assert bad.exists()                  # a running job may be rewriting it
    run_checks.at_start(config, main_process=False)
    (tmp_path / ".snakemake" / "locks" / "0.input.lock").unlink()
    run_checks.at_start(copy.deepcopy(config))
    assert not bad.exists()

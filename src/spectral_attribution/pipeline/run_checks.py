"""What the workflow checks when it starts, before Snakemake plans any job.

The ``Snakefile`` calls :func:`at_start` while it is read, and :func:`record`
when a run starts (``onstart``). Four faults are handled here:

**A configuration the data cannot satisfy.** Everything about the data that
can be known without decoding or downloading (the source's keys, its listing,
image ids and their collisions with both files named, ``n_images`` against
the number of images) is checked first (:func:`check_data`), in the main
process, before any job and before the configuration is recorded: e.g.
``config key 'data': data source config: key 'n_images' is 50 but the folder
source (photos) has only 7 images``. The configuration is recorded
(:func:`record`, the ``onstart`` hook) only once every check here passed.

**A results folder made by another configuration.** ``results/config.yaml``
records the configuration of the last run that wrote the folder
(:func:`spectral_attribution.results.write_run_config`). A run whose
configuration differs in a key that decides *which* results exist
(:data:`IDENTITY_KEYS`: the seed, the data selection, the models, the shard
size, the corruptions) is refused before any job, naming the keys, with the
two ways out: run with the configuration that made the folder
(``--configfile results/config.yaml``), or give the new configuration its own
folder (``snakemake --directory DIR``, or move ``results/`` and ``figures/``
away). A folder whose recorded run made no results yet (no sample table, no
shard: it stopped before its data were drawn) holds nothing to mix with, so
a corrected configuration is accepted there and recorded in its place. Other settings (grid sizes, designs, figures...) may change: Snakemake
recomputes what depends on them (their rules' ``params`` change). Readers
take the shards the recorded configuration declares, never a glob
(:func:`spectral_attribution.results.declared_shards`).

**A corrupted shard.** Every finished shard (its manifest exists) is checked
against the size and SHA-256 its manifest records
(:func:`spectral_attribution.results.verify_shard`). A shard that fails is
set aside, ``shard-NNN.npz`` → ``shard-NNN.npz.corrupt`` (and its manifest
``.csv.corrupt``), with a message naming it: its outputs are then missing, so
this run (a dry run shows it) recomputes it, and what was built on it.

**A shard finished by an orphan job.** After ``kill -9`` of the Snakemake
process alone, a running job goes on and writes its shard; Snakemake still
marks its outputs incomplete (``.snakemake/incomplete/``) and would compute
it again. A shard whose manifest exists and whose ``.npz`` matches it is
finished: its incomplete marks are removed (what ``snakemake
--cleanup-metadata FILES`` does), so the next run keeps it.

The shard checks change files, so they run only in the main Snakemake process
(not in jobs spawned on a cluster) and only when no other Snakemake process
holds the working directory's lock (``.snakemake/locks``): while a run is in
progress, a dry run next to it leaves its shards alone.
"""

from __future__ import annotations

import os
import sys
from base64 import urlsafe_b64encode
from pathlib import Path
from typing import Any

from spectral_attribution import results

__all__ = ["IDENTITY_KEYS", "ConfigurationMismatch", "identity", "differences",
           "DataCheckError", "check_data", "holds_results", "check_results_folder", "check_shards", "at_start", "set_aside_shards", "record", "incomplete_marker"]

#: Configuration keys that decide which images and shard files exist: a results
#: folder holds the results of one value of each. Dotted paths into the
#: configuration. Other settings (grids, designs, corruptions, study settings)
#: are params of the rules that read them: Snakemake recomputes exactly what
#: depends on them, in the same files, so they may change within a folder.
IDENTITY_KEYS = (
    "seed",
    "data.source",
    "data.root",
    "data.n_images",
    "data.stratify",
    "data.skip_bad_images",
    "models",
    "wcam.shard_size",
)


class ConfigurationMismatch(ValueError):
    """A results folder was made by a configuration with other data, models or seed (keys named)."""


def _get(config: dict, dotted: str) -> Any:
    value: Any = config
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _models(value: Any) -> Any:
    """Model entries as ``{nickname, name, options}`` (name defaults to the nickname, options to {})."""
    if not isinstance(value, list):
        return value
    return [{"nickname": m.get("nickname"), "name": m.get("name") or m.get("nickname"),
             "options": dict(m.get("options") or {})} if isinstance(m, dict) else m for m in value]


def identity(config: dict) -> dict[str, Any]:
    """The values of :data:`IDENTITY_KEYS` in ``config`` (``None`` where absent; model
    entries completed as the workflow reads them)."""
    out = {key: _get(config, key) for key in IDENTITY_KEYS}
    out["models"] = _models(out["models"])
    return out


def differences(recorded: dict, current: dict) -> list[tuple[str, Any, Any]]:
    """``(key, recorded value, current value)`` for each identity key that differs."""
    a, b = identity(recorded), identity(current)
    return [(key, a[key], b[key]) for key in IDENTITY_KEYS if a[key] != b[key]]


def _short(key: str, value: Any, width: int = 70) -> str:
    if key == "models" and isinstance(value, list):  # nickname=registry name, options if any
        value = [f"{m.get('nickname')}={m.get('name', m.get('nickname'))}"
                 + (f" {m['options']}" if m.get("options") else "")
                 if isinstance(m, dict) else m for m in value]
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


class DataCheckError(ValueError):
    """A configuration whose data section cannot run (the key is named)."""


def check_data(config: dict) -> int | None:
    """The start-up checks of the data (:func:`spectral_attribution.data.sources.check_source`).

    Returns the number of images of the source (``None`` when known only
    once it is prepared).

    Raises
    ------
    DataCheckError
        ``config key 'data': ...`` with the source's own message (the key,
        the value, the files).
    """
    from spectral_attribution.data.sources import check_source
    from spectral_attribution.pipeline.params import source_params

    try:
        return check_source(source_params(config))
    except (ValueError, TypeError, OSError) as err:
        raise DataCheckError(f"config key 'data': {err}") from None


def holds_results(recorded: dict, results_dir: str | os.PathLike = "results") -> bool:
    """Whether ``results_dir`` holds results of the recorded configuration: its
    sample table (``data/samples.csv``) or any shard file (``shard-*``, set aside ones included)."""
    results_dir = Path(results_dir)
    if (results_dir / "data" / "samples.csv").exists():
        return True
    return results_dir.is_dir() and any(True for _ in results_dir.rglob("shard-*"))


def check_results_folder(config: dict, results_dir: str | os.PathLike = "results") -> None:
    """Refuse ``config`` if ``results_dir`` was made by a configuration with other identity keys.

    Nothing is checked when the folder records no configuration (a fresh
    folder).

    Raises
    ------
    ConfigurationMismatch
        Naming each differing key with both values (one per line), and the
        two ways out.
    """
    results_dir = Path(results_dir)
    if not (results_dir / results.RUN_CONFIG).is_file():
        return
    recorded = results.read_run_config(results_dir)
    if not holds_results(recorded, results_dir):
        return  # the recorded run stopped before it drew its data: nothing to mix with
    diff = differences(recorded, config)
    if not diff:
        return
    listed = "".join(f"\n  {key}: {_short(key, old)} there, {_short(key, new)} now"
                     for key, old, new in diff)
    raise ConfigurationMismatch(
        f"{results_dir}/ holds the results of another configuration:{listed}\n"
        f"A folder holds the results of one configuration, so that figures never mix two. Either\n"
        f"  - run with the configuration that made it: --configfile "
        f"{results_dir / results.RUN_CONFIG} (its settings), or\n"
        f"  - give this configuration its own folder: snakemake --directory NEW_FOLDER ... "
        f"(or move {results_dir}/ and figures/ away first).")


def _snakemake_dir(workdir: str | os.PathLike) -> Path:
    return Path(workdir) / ".snakemake"


def _locked(workdir: str | os.PathLike) -> bool:
    locks = _snakemake_dir(workdir) / "locks"
    return locks.is_dir() and any(locks.iterdir())


def incomplete_marker(key: str, workdir: str | os.PathLike = ".") -> Path:
    """Where Snakemake (9.x, ``persistence/file.py``) marks output ``key`` incomplete.

    The file name is the URL-safe base64 of the output path as the rule
    writes it, cut into sub-folders of at most ``NAME_MAX - 1`` characters
    (each but the last prefixed with ``@``).
    """
    base = _snakemake_dir(workdir) / "incomplete"
    b64 = urlsafe_b64encode(key.encode()).decode()
    try:
        max_len = os.pathconf(base if base.exists() else Path(workdir), "PC_NAME_MAX") or 255
    except (OSError, ValueError, AttributeError):
        max_len = 255
    parts = [b64[i:i + max_len - 1] for i in range(0, len(b64), max_len - 1)]
    parts = ["@" + p for p in parts[:-1]] + parts[-1:]
    return base.joinpath(*parts)


def _say(message: str) -> None:
    print(f"spectral-attribution: {message}", file=sys.stderr, flush=True)


def check_shards(config: dict, results_dir: str | os.PathLike = "results",
                 workdir: str | os.PathLike = ".") -> dict[str, list[str]]:
    """Check every finished shard that ``config`` declares (see the module docstring).

    Parameters
    ----------
    results_dir:
        The results folder, as the rules name it (relative to ``workdir``):
        its paths are also the keys of Snakemake's incomplete marks.
    workdir:
        Snakemake's working directory (where ``.snakemake/`` is).

    Returns
    -------
    dict
        ``"set_aside"``: shards that failed and were renamed ``*.corrupt``;
        ``"kept"``: shards whose incomplete marks were removed.
    """
    done: dict[str, list[str]] = {"set_aside": [], "kept": []}
    models = [m["nickname"] for m in config.get("models", [])]
    for model in models:
        pairs = [(method, variant) for method in results.SHARD_METHODS
                 for variant in results.run_variants(config, method)]
        for method, variant in pairs:
            for npz in results.declared_shards(results_dir, model, variant, config, method):
                manifest = npz.with_suffix(".csv")
                if not (Path(workdir) / manifest).exists():
                    continue  # not finished: Snakemake schedules it anyway
                try:
                    results.verify_shard(Path(workdir) / npz)
                except (results.ShardIntegrityError, FileNotFoundError) as err:
                    for path in (npz, manifest):
                        full = Path(workdir) / path
                        if full.exists():
                            os.replace(full, full.with_name(full.name + ".corrupt"))
                    done["set_aside"].append(str(npz))
                    _say(f"{err}. Set aside as {npz.name}.corrupt: this run recomputes it.")
                    continue
                marks = [incomplete_marker(str(p), workdir) for p in (npz, manifest)]
                if any(m.exists() for m in marks):
                    for m in marks:
                        if m.exists():
                            m.unlink()
                    done["kept"].append(str(npz))
                    _say(f"{npz} was finished by a job that outlived its Snakemake process (its "
                         f"manifest and checksum are complete): kept, not recomputed.")
    return done


def at_start(config: dict, results_dir: str | os.PathLike = "results",
             main_process: bool = True, workdir: str | os.PathLike = ".",
             exit_on_mismatch: bool = False) -> list[str]:
    """What the ``Snakefile`` runs while it is read: (main process) :func:`check_data`,
    :func:`check_results_folder`, then (main process, no lock held)
    :func:`check_shards`; returns :func:`set_aside_shards` (extra targets of
    the default rule). The configuration is recorded (:func:`record`) only
    after these passed.

    With ``exit_on_mismatch`` (the ``Snakefile``), a refusal prints its
    message on stderr and exits with status 1 (``SystemExit``), so Snakemake
    shows the message alone, without a traceback.

    Raises
    ------
    DataCheckError
        See :func:`check_data` (without ``exit_on_mismatch``).
    ConfigurationMismatch
        See :func:`check_results_folder` (without ``exit_on_mismatch``).
    """
    try:
        if main_process:  # lists the data source: once, not in every cluster job
            check_data(config)
        check_results_folder(config, Path(workdir) / results_dir)
    except (ConfigurationMismatch, DataCheckError) as err:
        if not exit_on_mismatch:
            raise
        _say(f"error: {err}")
        raise SystemExit(1) from None
    if main_process and not _locked(workdir):
        check_shards(config, results_dir, workdir)
    return set_aside_shards(config, results_dir, workdir)


def set_aside_shards(config: dict, results_dir: str | os.PathLike = "results",
                     workdir: str | os.PathLike = ".") -> list[str]:
    """The ``.npz`` and ``.csv`` paths of declared shards that were set aside
    (``*.corrupt`` beside them) and are not recomputed yet.

    The ``Snakefile`` asks for them as targets of its default rule: Snakemake
    does not recompute a missing intermediate file when what was built on it
    is up to date, so a set-aside shard is requested explicitly, and what was
    built on it is then rebuilt from the new shard (its inputs are newer).
    This holds in the run that set it aside and in any later run (a dry run
    may have set it aside).
    """
    pending = []
    models = [m["nickname"] for m in config.get("models", [])]
    for model in models:
        for method in results.SHARD_METHODS:
            for variant in results.run_variants(config, method):
                for npz in results.declared_shards(results_dir, model, variant, config, method):
                    csv = npz.with_suffix(".csv")
                    full = Path(workdir) / npz
                    if (not full.exists() or not full.with_suffix(".csv").exists()) and (
                            full.with_name(full.name + ".corrupt").exists()):
                        pending += [str(npz), str(csv)]
    return pending


def record(config: dict, results_dir: str | os.PathLike = "results") -> Path:
    """Record ``config`` in ``results_dir/config.yaml`` (the ``Snakefile``'s ``onstart``)."""
    return results.write_run_config(config, results_dir)

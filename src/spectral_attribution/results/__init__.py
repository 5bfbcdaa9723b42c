"""Input and output of results: atomic writes, shards, manifests, provenance.

This module only reads and writes files; drawing a stored explanation is
:func:`spectral_attribution.plots.render_from_results`.

Every file this module writes is first written to a hidden temporary file in
the destination folder (``.NAME.tmp-PID-RANDOM.EXT``) and then moved into
place with :func:`os.replace`, which is atomic on POSIX file systems: a run
killed half-way leaves either the previous file, or no file, never a
truncated one that looks complete. The writers (:func:`atomic_path`,
:func:`write_text`, :func:`write_json`, :func:`write_csv`, :func:`write_npz`)
are those of :mod:`spectral_attribution._utils.files`, re-exported here.

One module per job, every public name re-exported here:

* :mod:`~spectral_attribution.results.provenance` -- what made a result
  (versions, commit, weights, device, configuration, seed);
* :mod:`~spectral_attribution.results.shards` -- the shard format, writing,
  integrity checks and loading of one shard;
* :mod:`~spectral_attribution.results.run_config` -- the configuration a
  results folder was made with and the shards it declares;
* :mod:`~spectral_attribution.results.reading` -- manifests, explanations and
  preprocessing read back from a results folder.

Importing this package loads neither torch nor matplotlib (the workflow
imports it while it builds its DAG).
"""

from spectral_attribution.results.provenance import (  # noqa: F401
    provenance,
    package_versions,
    git_commit,
    weights_hash,
)
from spectral_attribution.results.shards import (  # noqa: F401
    FORMAT_VERSION,
    MANIFEST_COLUMNS,
    INTEGRITY_COLUMNS,
    ShardIntegrityError,
    verify_shard,
    file_sha256,
    Shard,
    write_shard,
    load_shard,
    shard_folder,
)
from spectral_attribution.results.run_config import (  # noqa: F401
    RUN_CONFIG,
    write_run_config,
    read_run_config,
    run_variants,
    shard_count,
    shard_path,
    declared_shards,
    shard_paths,
)
from spectral_attribution.results.reading import (  # noqa: F401
    load_manifest,
    load_explanation,
    iter_explanations,
    preprocessing_of,
)
from spectral_attribution.results.shards import SHARD_VARIANTS, WAM_VARIANTS, SHARD_METHODS  # noqa: F401
from spectral_attribution.results.provenance import device_info  # noqa: F401
from spectral_attribution._utils.files import (  # noqa: F401  (the atomic writers, re-exported)
    atomic_path,
    to_json,
    write_csv,
    write_json,
    write_npz,
    write_text,
)

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_COLUMNS",
    "INTEGRITY_COLUMNS",
    "RUN_CONFIG",
    "ShardIntegrityError",
    "verify_shard",
    "file_sha256",
    "write_run_config",
    "read_run_config",
    "run_variants",
    "shard_count",
    "shard_path",
    "declared_shards",
    "atomic_path",
    "write_text",
    "to_json",
    "write_json",
    "write_csv",
    "write_npz",
    "provenance",
    "package_versions",
    "git_commit",
    "weights_hash",
    "Shard",
    "write_shard",
    "load_shard",
    "shard_folder",
    "shard_paths",
    "load_manifest",
    "load_explanation",
    "iter_explanations",
    "preprocessing_of",
]

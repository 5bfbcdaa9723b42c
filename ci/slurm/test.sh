#!/usr/bin/env bash
# `make test-slurm`: start the one-node SLURM cluster (setup.sh), run
# tests/workflow/test_slurm.py on it, and stop the cluster whatever happens (teardown.sh).
# Usage: ci/slurm/test.sh [PYTHON [PYTEST ARGS...]]   (default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${1:-.venv/bin/python}
shift || true
start=$(date +%s)
finish() {
    rc=$?
    ci/slurm/teardown.sh || true
    echo "[ci/slurm] SLURM test: exit $rc after $(( $(date +%s) - start )) s (set-up, runs, tear-down)" >&2
    exit $rc
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ci/slurm/setup.sh
. "${SPECTRAL_SLURM_DIR:-/tmp/spectral-attribution-slurm}/env.sh"
export SPECTRAL_ATTRIBUTION_TEST_SLURM=1
export PATH="$(cd "$(dirname "$PYTHON")" && pwd):$PATH"
# -s: the test prints the durations and the per-shard timings
"$PYTHON" -m pytest tests/workflow/test_slurm.py -s -q -p no:cacheprovider "$@"

#!/usr/bin/env bash
# The first run on a CUDA machine (issue 19, section 4): in under 8 minutes, with nothing
# installed beyond the README's set-up,
#   1. the test suite's CUDA tests (those whose name says cuda; they skip without a GPU),
#   2. benchmarks/gpu_check.py: 4 embedded photographs, ResNet-50 with random weights,
#      grid 28, 8 designs, full and screened, float32 and bfloat16, eager / compile /
#      cuda_graphs: images/s, seconds per image, overhead ratio, max |delta| against
#      eager float32 on the CPU.
# Usage, from the repository root, with the project's environment active:
#   bash benchmarks/gpu_check.sh                  # on the GPU machine
#   bash benchmarks/gpu_check.sh --cpu-dry-run    # the same steps on the CPU, tiny setting
# Each step has its own time limit (timeout), so one stuck step cannot eat the budget.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
DRY=""
if [[ "${1:-}" == "--cpu-dry-run" ]]; then DRY="--cpu-dry-run"; fi

echo "== machine"
if [[ -z "$DRY" ]]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
else
  echo "CPU dry run: $(lscpu | sed -n 's/^Model name: *//p')"
fi
"$PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda available:", torch.cuda.is_available())'

echo "== CUDA tests (pytest -k cuda)"
if [[ -z "$DRY" ]]; then
  timeout 150 "$PYTHON" -m pytest -q -x -p no:cacheprovider -k "cuda" tests || echo "CUDA tests: failed or timed out (status $?)"
else
  echo "(skipped in the dry run: the suite's CUDA tests skip on a CPU)"
fi

echo "== WCAM on CUDA"
timeout 330 "$PYTHON" benchmarks/gpu_check.py $DRY || echo "gpu_check.py: failed or timed out (status $?)"

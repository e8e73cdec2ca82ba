#!/usr/bin/env bash
# The GPU check (see benchmarks/gpu_check.py): every recipe 50 steps in bf16, the decoder's MFU, and 3 minutes of
# Tiny Shakespeare at nanoGPT's GPU shape; at most 10 minutes, one summary table (also in $OUT or
# benchmarks/results/gpu). On a machine without CUDA it says so and exits 2.
#   PYTHON=python3 NLPSEQ_WHEELS=wheels/ NLPSEQ_DATA=data/ bash benchmarks/gpu_check.sh
# PYTHON: the interpreter that holds a CUDA torch (default: .venv/bin/python if present, else python3).
# NLPSEQ_WHEELS: a folder of wheels for packages that interpreter lacks (datasets, evaluate ...), installed offline
# with --no-deps into /tmp/nlpseq-wheels, which goes first on PYTHONPATH: bring each missing dependency too.
# Arguments go to benchmarks/gpu_check.py (e.g. --stages nanogpt --nanogpt_dir ../nanoGPT).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
if ! "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  echo "benchmarks/gpu_check.sh needs a CUDA GPU: $PYTHON sees none (torch.cuda.is_available() is False)." >&2
  echo "Run it where a GPU is lent (the device tool's run), e.g. 'bash benchmarks/gpu_check.sh'." >&2
  exit 2
fi
if [ -n "${NLPSEQ_WHEELS:-}" ]; then  # offline, as given (no resolver), ahead of the image's own packages
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/nlpseq-wheels \
    "$NLPSEQ_WHEELS"/*.whl
  export PYTHONPATH="/tmp/nlpseq-wheels${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
exec timeout 600 "$PYTHON" -m benchmarks.gpu_check "$@"

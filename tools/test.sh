#!/usr/bin/env bash
# README command 2: the whole test suite (every notebook through nbdev's runner inside pytest + the plain tests).
# NB_FLAGS=slow also runs the `#| slow` cells.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. tools/venv.sh
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
python -m pytest -q tests/ "$@"

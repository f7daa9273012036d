#!/usr/bin/env bash
# README command 1: the main job on the embedded default (size tiny, CPU, minutes):
# GSIM-distil the shipped tiny MNIST teacher into a one-step student (a short CPU run), then compare teacher, this
# student and the shipped GPU-trained student (grids, MNIST-FID, judge accuracy, batch-1/64 sampling time) in results/tiny/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. tools/venv.sh
mkdir -p results/tiny
papermill nbs/05_distill.ipynb results/tiny/05_distill.ipynb -p size tiny -p headline True -k python3 --cwd nbs --log-level WARNING "$@"
echo "wrote results/tiny/ (distill_report.json, distill_*_grid.png, distill_loss.png, metrics.json)"

#!/usr/bin/env bash
# README command 1: the main job on the embedded default (size tiny, CPU, minutes).
# Now: sample from the shipped tiny MNIST teacher; write a per-class grid and its MNIST-FID / judge accuracy to results/tiny/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. tools/venv.sh
mkdir -p results/tiny
papermill nbs/04e_sample_teacher.ipynb results/tiny/04e_sample_teacher.ipynb -p size tiny -p num_samples 1000 -p batch_size 250 -k python3 --cwd nbs --log-level WARNING "$@"
echo "wrote results/tiny/ (see results/tiny/teacher_sample.json and results/tiny/teacher_sample_grid.png)"

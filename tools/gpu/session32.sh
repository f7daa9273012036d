#!/usr/bin/env bash
# 32nd session's device call (issue 6): on an H200, fast=True's MAR-H teacher at batch 256 (job 52, the one run that can
# settle its 2x) and then, in the time left, the MARVAL-H student (job 44); on an H100, what remembered kernel picks
# (`FastSampler(kernel_picks=...)`, `marval.kernels.remembered_pick`) save of a fresh machine's setup: job 44 twice, in
# two processes sharing one picks file ($OUT/x/kernel_picks.json): the first with cold caches tunes every tile and
# writes the file; the second, with Triton's and Inductor's caches emptied again (a fresh machine with only the file),
# recalls its tiles.
# Run from the repository root on the device: [LIMIT=seconds] [H100_LIMIT=seconds] bash tools/gpu/session32.sh  (writes $OUT/out.tgz)
set -u
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/gpu.txt; date -u >> $OUT/gpu.txt
mkdir -p $OUT/x
LIMIT=${LIMIT:-575}                                  # seconds this call may take in all
left() { echo $(( LIMIT - SECONDS )); }
export MARVAL_KERNEL_PICKS=$OUT/x/kernel_picks.json
fresh() { export TRITON_CACHE_DIR=$(mktemp -d) TORCHINDUCTOR_CACHE_DIR=$(mktemp -d); }   # compiler caches: empty
if grep -q H200 $OUT/gpu.txt; then
  fresh
  PYTHONPATH=$PWD timeout 420 python3 tools/gpu/bench_levers.py --out $OUT/x --jobs 52 --repeats 1 --budget-s 100 --name te > $OUT/x/te_stdout.txt 2>&1
  tail -25 $OUT/x/te_stdout.txt
  [ $(left) -gt 150 ] && PYTHONPATH=$PWD timeout $(left) python3 tools/gpu/bench_levers.py --out $OUT/x --jobs 44 --repeats 2 --budget-s 30 --name st > $OUT/x/st_stdout.txt 2>&1
  tail -12 $OUT/x/st_stdout.txt
else
  LIMIT=${H100_LIMIT:-$LIMIT}
  fresh
  PYTHONPATH=$PWD timeout 240 python3 tools/gpu/bench_levers.py --out $OUT/x --jobs 44 --repeats 1 --budget-s 30 --name cold > $OUT/x/cold_stdout.txt 2>&1
  tail -14 $OUT/x/cold_stdout.txt
  fresh                                                # a fresh machine again, but for the picks file
  [ $(left) -gt 120 ] && PYTHONPATH=$PWD timeout $(left) python3 tools/gpu/bench_levers.py --out $OUT/x --jobs 44 --repeats 1 --budget-s 30 --name picks > $OUT/x/picks_stdout.txt 2>&1
  tail -14 $OUT/x/picks_stdout.txt
  cat $MARVAL_KERNEL_PICKS
fi
cd $OUT && tar czf out.tgz x gpu.txt && rm -rf x

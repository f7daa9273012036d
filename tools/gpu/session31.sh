#!/usr/bin/env bash
# 31st session's device call (issue 6): on an H200, fast=True's MAR-H teacher at batch 256 (job 52, the one run that can
# settle its 2x) and then, in the time left, the MARVAL-H student (job 44); on an H100, job 44 (its setup now splits off
# the kernel tuners' seconds, `tune_s`) and the kernel profile of fast=True's MARVAL-H student at batch 256.
# Run from the repository root on the device: [LIMIT=seconds] [H100_LIMIT=seconds] bash tools/gpu/session31.sh  (writes $OUT/out.tgz)
set -u
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/gpu.txt; date -u >> $OUT/gpu.txt
mkdir -p $OUT/x
LIMIT=${LIMIT:-575}                                  # seconds this call may take in all
left() { echo $(( LIMIT - SECONDS )); }
if grep -q H200 $OUT/gpu.txt; then
  PYTHONPATH=$PWD timeout 420 python3 tools/gpu/bench_levers.py --out $OUT/x --jobs 52 --repeats 1 --budget-s 100 --name te > $OUT/x/te_stdout.txt 2>&1
  tail -25 $OUT/x/te_stdout.txt
  [ $(left) -gt 150 ] && PYTHONPATH=$PWD timeout $(left) python3 tools/gpu/bench_levers.py --out $OUT/x --jobs 44 --repeats 2 --budget-s 30 --name st > $OUT/x/st_stdout.txt 2>&1
  tail -12 $OUT/x/st_stdout.txt
else
  LIMIT=${H100_LIMIT:-$LIMIT}                        # on an H100: less, to keep device time for an H200
  PYTHONPATH=$PWD timeout 220 python3 tools/gpu/bench_levers.py --out $OUT/x --jobs 44 --repeats 1 --budget-s 30 --name st > $OUT/x/st_stdout.txt 2>&1
  tail -12 $OUT/x/st_stdout.txt
  [ $(left) -gt 150 ] && PYTHONPATH=$PWD timeout $(left) python3 tools/gpu/profile_step.py --out $OUT/x --size huge --batch 256 --variants compile-head+triton+gelu+res+head16 --repeats 1 > $OUT/x/profile_stdout.txt 2>&1
  tail -45 $OUT/x/profile_stdout.txt
fi
cd $OUT && tar czf out.tgz x gpu.txt && rm -rf x

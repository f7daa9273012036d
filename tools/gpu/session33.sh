#!/usr/bin/env bash
# 33rd session's device call (issue 6). On an H200: fast=True's MAR-H teacher at batch 256 (job 52, the one run that
# can settle its 2x), then the MARVAL-H student (job 44) in the time left. On an H100: what a fresh machine's
# `fast=True` setup costs now, job 44 in up to three processes, each with Triton's and Inductor's caches emptied:
#   cold   - tiles compiled at once on threads (`marval.kernels.precompile_attention`), picks written to $OUT/x/kernel_picks.json;
#   picks  - the same file read back (`FastSampler(kernel_picks=...)`): one tile compiled per shape;
#   serial - no picks file and MARVAL_PRECOMPILE_WORKERS=0: every tile compiled one by one, as in run 29 (the baseline).
# Run from the repository root on the device: [LIMIT=seconds] [H100_LIMIT=seconds] bash tools/gpu/session33.sh  (writes $OUT/out.tgz)
set -u
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/gpu.txt; date -u >> $OUT/gpu.txt
nproc >> $OUT/gpu.txt
mkdir -p $OUT/x
LIMIT=${LIMIT:-575}                                  # seconds this call may take in all
left() { echo $(( LIMIT - SECONDS )); }
export MARVAL_KERNEL_PICKS=$OUT/x/kernel_picks.json
fresh() { export TRITON_CACHE_DIR=$(mktemp -d) TORCHINDUCTOR_CACHE_DIR=$(mktemp -d); }   # compiler caches: empty
job() {  # job(name, jobs, repeats, budget_s, timeout_s): one bench_levers.py process, its stdout kept
  PYTHONPATH=$PWD timeout $5 python3 tools/gpu/bench_levers.py --out $OUT/x --jobs $2 --repeats $3 --budget-s $4 --name $1 > $OUT/x/$1_stdout.txt 2>&1
  tail -14 $OUT/x/$1_stdout.txt
}
if grep -q H200 $OUT/gpu.txt; then
  fresh; job te 52 1 100 420
  [ $(left) -gt 150 ] && job st 44 2 30 $(left)
else
  LIMIT=${H100_LIMIT:-$LIMIT}
  fresh; job cold 44 1 30 240
  fresh; [ $(left) -gt 120 ] && job picks 44 1 30 $(( $(left) < 200 ? $(left) : 200 ))
  fresh; [ $(left) -gt 200 ] && MARVAL_KERNEL_PICKS=off MARVAL_PRECOMPILE_WORKERS=0 job serial 44 1 30 $(left)
  cat $MARVAL_KERNEL_PICKS
fi
cd $OUT && tar czf out.tgz x gpu.txt && rm -rf x

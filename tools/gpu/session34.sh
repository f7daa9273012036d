#!/usr/bin/env bash
# 34th session's device calls (issue 6), one part per call: the head's fused adaLN product split per g residual blocks
# (`FastSampler(ada_group=g)`), and, on an H200, job 52 (fast=True's MAR-H teacher at batch 256: the run that can settle
# its 2x). Run from the repository root on the device (writes $OUT/out.tgz):
#   bash tools/gpu/session34.sh head        # head_bench.py: the compiled MAR-H head step, adaLN whole and per 1, 2, 3, 4, 6 blocks
#   bash tools/gpu/session34.sh ab 52,58    # bench_levers.py jobs in one process (job 52, then job 52 with ada_group, 57-59)
#   bash tools/gpu/session34.sh te          # job 52 alone; on an H200 as it is, on an H100 (where job 52 is measured) with
#                                           # Triton's and Inductor's caches emptied and every tile compiled one by one (the
#                                           # old setup: the baseline for the 33rd session's cold setup with threads)
#   bash tools/gpu/session34.sh tuners      # each tuner alone at the MAR-H teacher's shapes, one fresh process (Triton's cache
#                                           # emptied, no picks file) per way: candidates compiled one by one, then on 16 threads
#   bash tools/gpu/session34.sh all         # on an H200: te, then tuners; on an H100: the LayerNorm's tuner both ways, job 52
#                                           # with every cache emptied and both tuners compiling on threads (its whole cold
#                                           # setup, `cold`), then the attention tuner both ways in the time left
# [LIMIT=seconds] caps the call's seconds (default 575).
set -u
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/gpu.txt; date -u >> $OUT/gpu.txt
mkdir -p $OUT/x
LIMIT=${LIMIT:-575}
left() { echo $(( LIMIT - SECONDS )); }
export PYTHONPATH=$PWD
tuners() {  # one fresh process per (tuner, threads): wall seconds of the tuning, what was compiled on threads, the pick
  for t in ${@:-ln:0 ln:16 attn:16 attn:0}; do
    [ $(left) -lt 60 ] && break
    TRITON_CACHE_DIR=$(mktemp -d) MARVAL_KERNEL_PICKS=off timeout $(( $(left) - 20 )) python3 -c "
import json, time, torch
from marval.kernels import tune_offset_ln, tune_attention
which, w = '${t%%:*}', int('${t##*:}')
t0 = time.perf_counter()
if which == 'ln': r = tune_offset_ln(1280, torch.bfloat16, rows=65536, keep=False, precompile=w)
else: r = tune_attention(80, torch.bfloat16, B=512, H=16, N=320, keep=False, precompile=w)
wall = time.perf_counter() - t0
best = next(x for x in r if x.get('best'))
print(json.dumps(dict(tuner=which, workers=w, wall_s=round(wall, 2), precompiled=r[0]['precompiled'],
                      precompile_s=round(r[0]['precompile_s'], 2), candidates=len(r) - (1 if which == 'attn' else 2),
                      best={k: best.get(k) for k in ('rows_per_program', 'num_warps', 'config', 'us')})))
" 2>&1 | tail -3 | tee -a $OUT/x/tuners_stdout.txt
  done
}
cold() {  # job 52 with Triton's and Inductor's caches emptied and no picks file: both tuners compile on threads
  TRITON_CACHE_DIR=$(mktemp -d) TORCHINDUCTOR_CACHE_DIR=$(mktemp -d) MARVAL_KERNEL_PICKS=off timeout $(left) \
    python3 tools/gpu/bench_levers.py --out $OUT/x --jobs 52 --repeats 1 --budget-s 60 --name cold > $OUT/x/cold_stdout.txt 2>&1
  tail -25 $OUT/x/cold_stdout.txt
}
case "${1:-}" in
  tuners) tuners ;;
  all) if grep -q H200 $OUT/gpu.txt; then
         timeout $(( $(left) - 150 )) python3 tools/gpu/bench_levers.py --out $OUT/x --jobs 52 --repeats 1 --budget-s 100 --name te \
           > $OUT/x/te_stdout.txt 2>&1; tail -25 $OUT/x/te_stdout.txt; tuners
       else tuners ln:0 ln:16; [ $(left) -gt 280 ] && cold; tuners attn:16 attn:0; fi ;;
  head) timeout $(left) python3 tools/gpu/head_bench.py --out $OUT/x --size huge --batch 256 --order sampler --options none \
          --ada-groups all,1,2,3,4,6 > $OUT/x/head_stdout.txt 2>&1; tail -12 $OUT/x/head_stdout.txt ;;
  ab) timeout $(left) python3 tools/gpu/bench_levers.py --out $OUT/x --jobs ${2:?jobs} --repeats 1 --budget-s 300 --name ab \
          > $OUT/x/ab_stdout.txt 2>&1; tail -30 $OUT/x/ab_stdout.txt ;;
  te) if grep -q H200 $OUT/gpu.txt; then
        timeout $(left) python3 tools/gpu/bench_levers.py --out $OUT/x --jobs 52 --repeats 1 --budget-s 100 --name te \
          > $OUT/x/te_stdout.txt 2>&1; tail -25 $OUT/x/te_stdout.txt
      else
        export TRITON_CACHE_DIR=$(mktemp -d) TORCHINDUCTOR_CACHE_DIR=$(mktemp -d) MARVAL_KERNEL_PICKS=off MARVAL_PRECOMPILE_WORKERS=0
        timeout $(left) python3 tools/gpu/bench_levers.py --out $OUT/x --jobs 52 --repeats 1 --budget-s 100 --name serial \
          > $OUT/x/serial_stdout.txt 2>&1; tail -25 $OUT/x/serial_stdout.txt
      fi ;;
  *) echo "usage: bash tools/gpu/session34.sh head | ab JOBS | te | tuners | all"; exit 2 ;;
esac
cd $OUT && tar czf out.tgz x gpu.txt && rm -rf x

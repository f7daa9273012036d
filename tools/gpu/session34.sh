#!/usr/bin/env bash
# 34th session's device calls (issue 6), one part per call: the head's fused adaLN product split per g residual blocks
# (`FastSampler(ada_group=g)`), and, on an H200, job 52 (fast=True's MAR-H teacher at batch 256: the run that can settle
# its 2x). Run from the repository root on the device (writes $OUT/out.tgz):
#   bash tools/gpu/session34.sh head        # head_bench.py: the compiled MAR-H head step, adaLN whole and per 1, 2, 3, 4, 6 blocks
#   bash tools/gpu/session34.sh ab 52,58    # bench_levers.py jobs in one process (job 52, then job 52 with ada_group, 57-59)
#   bash tools/gpu/session34.sh te          # job 52 alone, only on an H200 (an H100 runs nothing: its job 52 is measured)
# [LIMIT=seconds] caps the part's seconds (default 575).
set -u
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee $OUT/gpu.txt; date -u >> $OUT/gpu.txt
mkdir -p $OUT/x
LIMIT=${LIMIT:-575}
left() { echo $(( LIMIT - SECONDS )); }
export PYTHONPATH=$PWD
case "${1:-}" in
  head) timeout $(left) python3 tools/gpu/head_bench.py --out $OUT/x --size huge --batch 256 --order sampler --options none \
          --ada-groups all,1,2,3,4,6 > $OUT/x/head_stdout.txt 2>&1; tail -12 $OUT/x/head_stdout.txt ;;
  ab) timeout $(left) python3 tools/gpu/bench_levers.py --out $OUT/x --jobs ${2:?jobs} --repeats 1 --budget-s 300 --name ab \
          > $OUT/x/ab_stdout.txt 2>&1; tail -30 $OUT/x/ab_stdout.txt ;;
  te) if grep -q H200 $OUT/gpu.txt; then
        timeout $(left) python3 tools/gpu/bench_levers.py --out $OUT/x --jobs 52 --repeats 1 --budget-s 100 --name te \
          > $OUT/x/te_stdout.txt 2>&1; tail -25 $OUT/x/te_stdout.txt
      else echo 'not an H200: job 52 not run'; fi ;;
  *) echo "usage: bash tools/gpu/session34.sh head | ab JOBS | te"; exit 2 ;;
esac
cd $OUT && tar czf out.tgz x gpu.txt && rm -rf x

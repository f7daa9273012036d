"""GPU job: the speed benchmark of issue 6 on one GPU (about 6-8 minutes on one H100; stops starting new jobs after
--budget-s seconds, default 420).

    PYTHONPATH=$PWD python3 tools/gpu/bench.py --out $OUT

Everything goes through the library (marval.bench.default_plan / run_plan, the same run as `marval bench` and
nbs/07_bench.ipynb); this file only picks the GPU plan. Jobs, most important first:
  1. equality check on MAR-B (random weights, K=8, 100 head steps, batch 2): the fast sampler with CUDA graphs vs
     without, vs itself, and vs the eager loop (`sample_tokens`), fp32 and bf16, teacher and student;
  2. MAR-B fast path (bf16 + CUDA graphs): student and teacher, batch 1 and 256, K=64;
  3. KL-16 VAE decode, batch 1 and 256, bf16 and fp32;
  4. GSIM distillation iteration throughput and MFU at MAR-B (--distill-batch images per GPU);
  5. MAR-L and MAR-H batch-1 latency (fast path);
  6. MAR-B eager paths (batch 1, then 256), MAR-L/H eager student batch 1;
  7. fast path + VAE decode; 8. ablations at batch 1: fast without graphs, fast in fp32 with graphs.
Outputs in --out: <device>.md, <device>.csv, <device>.json (all rows) and metrics.json (headline keys); copy them to
results/bench/. `--ddp-json <ddp_check.json>` folds the 2-GPU result (tools/gpu/ddp_check.py) into metrics.json.
`--compile` adds the torch.compile variants (student sampler at each batch, GSIM step) right after job 4.
(The 2026-12-01 H200 figures come from tools/gpu/bench_levers.py, the same run_plan with a lever-first job list.)
CPU smoke test: python3 tools/gpu/bench.py --out /tmp/b --smoke [--compile]
"""
import argparse, json, sys, time
from pathlib import Path
import torch


def main(argv=None):
    from marval import bench
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench.cli_args(ap)
    ap.set_defaults(latency_sizes='large,huge', budget_s=420.0)
    ap.add_argument('--smoke', action='store_true', help='tiny random model on the CPU (a test of this script)')
    a = ap.parse_args(argv)
    if a.out is None: ap.error('--out is required')
    if a.smoke:
        a.sizes, a.latency_sizes, a.batches, a.K, a.steps, a.repeats = 'tiny', '', '1,2', 3, 4, 1
        a.distill_batch, a.distill_steps, a.vae_ch, a.device = 4, 1, 32, 'cpu'
        a.model_overrides = json.dumps({'encoder_depth': 1, 'decoder_depth': 1, 'diffloss_d': 1})
    torch.backends.cudnn.benchmark = True                    # the VAE's convolutions (as the official code)
    print(f'torch {torch.__version__}, cuda {torch.version.cuda}, '
          f'{torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"}', flush=True)
    t0 = time.time()
    sys.argv = [sys.argv[0], 'bench'] + (list(argv) if argv is not None else sys.argv[1:])   # the command in the report
    rc = bench.cli_run(a)
    head = json.loads((Path(a.out) / 'metrics.json').read_text())
    print(f'\n== headline ({time.time() - t0:.0f} s) ==')
    for k in sorted(head): print(f'{k:45s} {head[k]}')
    return rc


if __name__ == '__main__':
    sys.exit(main())

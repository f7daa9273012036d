"""GPU job (issue 6): the speed levers on MAR-B, most important first, through `marval.bench.run_plan` (the same code as
`marval bench` and nbs/07_bench.ipynb); only the job list differs from tools/gpu/bench.py:
  1. MARVAL-B student, batch 1, fast path (bf16 transformer + last-block pruning + CUDA graphs), plain and compiled;
  2. the GSIM distillation step (one transformer call for class + null contexts), plain and with compiled heads;
  3. the student at batch 256, plain and compiled;
  4. the equality check (fast vs eager, graphs vs no graphs; fp32 and bf16);
  5. the teacher (batch 1 and 256) and the MAR-L/H students at batch 1.
Stops starting jobs after --budget-s seconds; writes <device>.md/.csv/.json and metrics.json to --out.

    PYTHONPATH=$PWD python3 tools/gpu/bench_levers.py --out $OUT/bench --budget-s 280
CPU smoke test: python3 tools/gpu/bench_levers.py --out /tmp/bl --smoke
"""
import argparse, json, shlex, sys, time
import torch


def jobs(size='base', K=64, steps=100, distill_batch=64, distill_steps=20, big=(256,), latency_sizes=('large', 'huge')):
    fast = dict(job='sampler', K=K, steps=steps, repeats=None, path='fast', dtype='bf16', graphs=True, decode=False, main=True)
    js = [dict(fast, size=size, kind='student', batch=1), dict(fast, size=size, kind='student', batch=1, compile=True),
          dict(job='distill', size=size, batch=distill_batch, steps=distill_steps),
          dict(job='distill', size=size, batch=distill_batch, steps=distill_steps, compile=True)]
    for b in big: js += [dict(fast, size=size, kind='student', batch=b), dict(fast, size=size, kind='student', batch=b, compile=True)]
    js.append(dict(job='check', size=size, steps=steps))
    js += [dict(fast, size=size, kind='teacher', batch=b) for b in (1,) + tuple(big)]
    js += [dict(fast, size=s, kind='student', batch=1) for s in latency_sizes]
    return js


def main(argv=None):
    from marval import bench
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--budget-s', type=float, default=280.0)
    ap.add_argument('--ddp-json', default=None)
    ap.add_argument('--smoke', action='store_true', help='tiny random model on the CPU (a test of this script)')
    a = ap.parse_args(argv)
    kw = {}
    if a.smoke:
        js = jobs('tiny', K=3, steps=4, distill_batch=4, distill_steps=1, big=(2,), latency_sizes=())
        for j in js:
            if j['job'] == 'sampler': j['repeats'] = 1
        kw = dict(model_overrides={'encoder_depth': 1, 'decoder_depth': 1, 'diffloss_d': 1}, vae_ch=32, device='cpu')
    else:
        js = jobs()
    torch.backends.cudnn.benchmark = True
    print(f'torch {torch.__version__}, {torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"}', flush=True)
    t0 = time.time()
    cmd = 'PYTHONPATH=$PWD python3 tools/gpu/bench_levers.py ' + shlex.join(sys.argv[1:] if argv is None else argv)
    r = bench.run_plan(js, a.out, budget_s=a.budget_s, command=cmd, ddp_json=a.ddp_json, **kw)
    print(f'\n== headline ({time.time() - t0:.0f} s) ==')
    for k in sorted(r['headline']): print(f'{k:45s} {r["headline"][k]}')
    return 0


if __name__ == '__main__':
    sys.exit(main())

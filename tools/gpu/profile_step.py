"""GPU job (issue 6): where the batch-1 student's time goes — the CUDA kernels of one MARVAL-B student call (K = 64).

    PYTHONPATH=$PWD python3 tools/gpu/profile_step.py --out $OUT/profile

The random MAR-B + one-step student of `marval.bench` (`random_mar`, `random_student`), `FastSampler` in bf16 with the
fast path's defaults, run once warm under `torch.profiler` (the kernels of the replayed CUDA graphs, each with its duration; if the stack
does not report graph kernels, the same sampler without graphs), plain and, unless --no-compile, compiled. For each:
the call's wall time with graphs (the benchmark's number), the kernel count and summed kernel time per call and per
AR step, the same split by kind (matrix products, attention, the rest), and the 25 kernels with the largest total.
Writes profile_student_bs1.md and .json to --out.
"""
import argparse, json, sys, time
from collections import defaultdict
from pathlib import Path
import torch


def kind_of(name: str) -> str:
    n = name.lower()
    if any(k in n for k in ('flash', 'fmha', 'attention', 'sdpa')): return 'attention'
    if any(k in n for k in ('gemm', 'cutlass', 'nvjet', 'sm90_x', 'triton_mm', 'cublas', 'matmul')): return 'matmul'
    return 'other'


def profile(fs, labels, seed=0):
    fs(labels, seed); torch.cuda.synchronize()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        fs(labels, seed); torch.cuda.synchronize()
    by = defaultdict(lambda: [0, 0.0])
    for e in prof.events():
        if e.device_type == torch.autograd.DeviceType.CUDA:
            us = e.time_range.elapsed_us()
            by[e.name][0] += 1; by[e.name][1] += us
    return by


def main(argv=None):
    from marval.bench import random_mar, random_student, time_fn
    from marval.fast_sampling import FastSampler
    from marval.core import provenance
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--size', default='base')
    ap.add_argument('--K', type=int, default=64)
    ap.add_argument('--no-compile', action='store_true')
    a = ap.parse_args(argv)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    dev = torch.device('cuda')
    m = random_mar(a.size, dev); s = random_student(m)
    labels = torch.tensor([207], device=dev)
    res, md = {}, []
    prov = provenance()
    for variant in (['plain'] if a.no_compile else ['plain', 'compile']):
        c = variant == 'compile'
        t0 = time.perf_counter()
        g = FastSampler(m, 'student', s, a.K, dtype='bf16', cuda_graphs=True, compile=c)
        w = time_fn(lambda: g(labels, 0), 10, 1, dev)['median_s']
        by, traced = profile(g, labels), 'graph replays'            # CUPTI reports the kernels of a replayed graph
        if not by:                                                  # older stacks: profile the same sampler without graphs
            g.cuda_graphs, g.states = False, {}
            by, traced = profile(g, labels), 'no graphs'
        n_k, t_k = sum(v[0] for v in by.values()), sum(v[1] for v in by.values())
        kinds = defaultdict(lambda: [0, 0.0])
        for name, (cnt, us) in by.items(): kinds[kind_of(name)][0] += cnt; kinds[kind_of(name)][1] += us
        top = sorted(by.items(), key=lambda kv: -kv[1][1])[:25]
        res[variant] = dict(wall_graphs_s=w, kernels_per_call=n_k, kernel_ms_per_call=t_k / 1e3, steps=a.K,
                            kernels_per_step=n_k / a.K, kernel_us_per_step=t_k / a.K, mean_kernel_us=t_k / max(n_k, 1),
                            by_kind={k: dict(count=v[0], ms=v[1] / 1e3) for k, v in kinds.items()},
                            top=[dict(name=nm, count=v[0], total_us=v[1], mean_us=v[1] / v[0]) for nm, v in top],
                            seconds=time.perf_counter() - t0, traced=traced)
        r = res[variant]
        md += [f'## {variant}', '',
               f"wall time with CUDA graphs {w * 1e3:.1f} ms; under the profiler ({traced}): {n_k} kernels per call "
               f"({r['kernels_per_step']:.0f} per AR step), summed kernel time {t_k / 1e3:.1f} ms ({r['kernel_us_per_step']:.0f} µs per "
               f"AR step, mean kernel {r['mean_kernel_us']:.1f} µs)", '',
               '| kind | kernels | ms per call | share |', '|---|---|---|---|']
        md += [f"| {k} | {v[0]} | {v[1] / 1e3:.2f} | {v[1] / t_k:.0%} |" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1][1])]
        md += ['', '| kernel | calls | total µs | mean µs |', '|---|---|---|---|']
        md += [f"| `{nm[:110]}` | {v[0]} | {v[1]:.0f} | {v[1] / v[0]:.1f} |" for nm, v in top]
        md.append('')
        print(variant, json.dumps({k: v for k, v in r.items() if k != 'top'}, indent=1), flush=True)
        del g; torch.cuda.empty_cache()
    cmd = 'PYTHONPATH=$PWD python3 tools/gpu/profile_step.py ' + ' '.join(sys.argv[1:] if argv is None else argv)
    head = [f'# Kernels of one MARVAL-B student call, batch 1, K = {a.K} (random weights, bf16)', '',
            f"{torch.cuda.get_device_name()}, torch {torch.__version__}, {prov['date']}; command: `{cmd}`", '']
    (out / 'profile_student_bs1.md').write_text('\n'.join(head + md) + '\n')
    (out / 'profile_student_bs1.json').write_text(json.dumps(dict(meta=dict(prov, command=cmd, device=torch.cuda.get_device_name()),
                                                                  results=res), indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""GPU job (issue 6): where the time goes — the CUDA kernels of one MARVAL student (or MAR teacher) call (K = 64).

    PYTHONPATH=$PWD python3 tools/gpu/profile_step.py --out $OUT/profile                             # MARVAL-B, batch 1
    PYTHONPATH=$PWD python3 tools/gpu/profile_step.py --out $OUT/profile --size huge --batch 256     # MARVAL-H, batch 256
    # the MAR-H teacher at batch 256 (100 head steps, the preset's CFG), head compiled + GELU epilogue, one timed call:
    PYTHONPATH=$PWD python3 tools/gpu/profile_step.py --out $OUT/profile --size huge --batch 256 --kind teacher \
        --variants compile-head+gelu --repeats 1

A random MAR (`--size`, default base) + one-step student of `marval.bench` (`random_mar`, `random_student`),
`FastSampler` in bf16 with the fast path's defaults, run once warm under `torch.profiler` (the kernels of the replayed
CUDA graphs, each with its duration; if the stack does not report graph kernels, the same sampler without graphs),
for each of `--variants` (default plain and compile; names as the benchmark's, `marval.bench.variant_name`: 'plain',
'compile', 'compile-head', 'compile-transformer', each with '+gelu' for the GELU epilogue and/or '+res' for the residual
adds in the products). For each: the call's wall time with graphs (the benchmark's number), the
kernel count and summed kernel time per call and per AR step, the same split by kind (matrix products, attention,
the rest) with each kind's time per call and TFLOP/s (the time the matrix products alone take is a floor for any
implementation built on the same product kernels), the call's TFLOP/s, and the 25 kernels with the largest total.
Writes profile_student_bs1.md / .json (MARVAL-B, batch 1) or profile_student_<size>_bs<batch>.md / .json to --out,
after each variant.

--from-stdout FILE rebuilds the per-kind tables from the summaries a run printed (a run cut before it wrote its
report), into --out; it needs no GPU. --smoke: a CPU test of this script (tiny model, CPU ops instead of kernels).
"""
import argparse, json, re, sys, time
from collections import defaultdict
from pathlib import Path
import torch


def kind_of(name: str) -> str:
    n = name.lower()
    if any(k in n for k in ('flash', 'fmha', 'attention', 'sdpa')) or n == '_attn_kernel': return 'attention'   # ours: marval.kernels
    if any(k in n for k in ('gemm', 'cutlass', 'nvjet', 'sm90_x', 'triton_mm', 'cublas', 'matmul')): return 'matmul'
    return 'other'


def profile(fs, labels, seed=0, cuda=True):
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    fs(labels, seed); sync()
    act = torch.profiler.ProfilerActivity
    with torch.profiler.profile(activities=[act.CUDA if cuda else act.CPU]) as prof:
        fs(labels, seed); sync()
    by = defaultdict(lambda: [0, 0.0])
    want = torch.autograd.DeviceType.CUDA if cuda else torch.autograd.DeviceType.CPU
    for e in prof.events():
        if e.device_type == want:
            us = e.time_range.elapsed_us()
            by[e.name][0] += 1; by[e.name][1] += us
    return by


VARIANTS = {'plain': {}, 'compile': dict(compile=True), 'compile-head': dict(compile='head'),
            'compile-transformer': dict(compile='transformer')}


FLAGS = {'gelu': ('gelu_epilogue', True), 'res': ('residual_epilogue', True), 'triton': ('attention', 'triton'),
         'head16': ('head_stream', 'autocast')}   # the names `marval.bench.variant_name` gives these options


def variant_options(name: str) -> dict:
    """`FastSampler` options of a variant name ('compile-head+gelu+res' -> compile='head', gelu_epilogue=True,
    residual_epilogue=True; fast=True's options at batch 256 are 'compile-head+triton+gelu+res')."""
    base, *flags = name.split('+')
    if base in FLAGS: base, flags = 'plain', [base, *flags]
    if base not in VARIANTS or any(f not in FLAGS for f in flags):
        raise SystemExit(f'unknown variant {name!r}: use one of {sorted(VARIANTS)}, each optionally with +{" +".join(FLAGS)}')
    return dict(VARIANTS[base], **dict(FLAGS[f] for f in flags))


def summaries(text: str) -> dict:
    "The per-variant summaries ('plain {...}', 'compile {...}', ...) that a run printed."
    return {m.group(1): json.loads(m.group(2)) for m in re.finditer(r'^([a-z+-]+) (\{\n.*?\n\})$', text, re.M | re.S)}


def flops_by_kind(cost: dict) -> dict:
    "FLOPs of a `marval.bench.sampler_cost` call split as the kernel kinds: matmul (linear layers) and attention."
    return dict(matmul=cost['flops'] - cost['attn_flops'], attention=cost['attn_flops'])


def kind_rows(by_kind: dict, kind_flops: dict) -> list[str]:
    "Markdown rows: kernels, ms per call, share and TFLOP/s of each kind (matmul, attention, other)."
    tot = sum(v['ms'] for v in by_kind.values())
    return [f"| {k} | {v['count']} | {v['ms']:.2f} | {v['ms'] / tot:.0%} | "
            + (f"{kind_flops[k] / v['ms'] / 1e9:.0f} |" if k in kind_flops else "|")
            for k, v in sorted(by_kind.items(), key=lambda kv: -kv[1]['ms'])]


def main(argv=None):
    from marval.bench import random_mar, random_student, time_fn, sampler_cost
    from marval.fast_sampling import FastSampler
    from marval.core import provenance
    from marval.config import get_preset
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--size', default='base')
    ap.add_argument('--K', type=int, default=64)
    ap.add_argument('--batch', type=int, default=1)
    ap.add_argument('--repeats', type=int, default=None, help='timed calls for the wall time (default 10 at batch 1, else 2)')
    ap.add_argument('--kind', default='student', choices=('student', 'teacher'),
                    help='teacher: the MAR teacher, 100 head steps, CFG of the preset (as the benchmark)')
    ap.add_argument('--variants', default='plain,compile', help="comma list (default 'plain,compile'), e.g. compile-head+gelu")
    ap.add_argument('--no-compile', action='store_true', help="the plain variant only (= --variants plain)")
    ap.add_argument('--smoke', action='store_true', help='a tiny random model on the CPU (a test of this script)')
    ap.add_argument('--from-stdout', default=None, help="a run's printed output: rebuild its per-kind tables (no GPU)")
    a = ap.parse_args(argv)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    if a.from_stdout: return from_stdout(a, out)
    cuda = not a.smoke
    dev = torch.device('cuda' if cuda else 'cpu')
    if a.smoke: a.size, a.K, a.no_compile = 'tiny', 3, a.no_compile or a.variants == 'plain,compile'   # default: plain only
    variants = ['plain'] if a.no_compile else a.variants.split(',')
    opts = {v: variant_options(v) for v in variants}
    if a.smoke: opts = {v: dict(o, compile=False) for v, o in opts.items()}   # the CPU test: no inductor build
    m = random_mar(a.size, dev, **({'encoder_depth': 1, 'decoder_depth': 1, 'diffloss_d': 1} if a.smoke else {})); s = random_student(m)
    dname = torch.cuda.get_device_name() if cuda else 'cpu'
    labels = (207 + torch.arange(a.batch, device=dev)) % m.cfg.class_num         # (batch,)
    reps = a.repeats or (10 if a.batch == 1 else 2)
    teacher = a.kind == 'teacher'
    cfg = get_preset(a.size).sample.cfg if teacher else 1.0
    prov, cost = provenance(), sampler_cost(m.cfg, a.kind, a.batch, a.K, cfg=cfg != 1.0)
    flops, kind_flops = cost['flops'], flops_by_kind(cost)
    stem = ('profile_student_bs1' if (a.size, a.batch, a.kind) == ('base', 1, 'student')
            else f'profile_{a.kind}_{a.size}_bs{a.batch}')
    cmd = 'PYTHONPATH=$PWD python3 tools/gpu/profile_step.py ' + ' '.join(sys.argv[1:] if argv is None else argv)
    what = f'MAR-{a.size[0].upper()} teacher (100 head steps, CFG {cfg})' if teacher else f'MARVAL-{a.size[0].upper()} student'
    head = [f'# Kernels of one {what} call, batch {a.batch}, K = {a.K} (random weights, bf16)', '',
            f"{dname}, torch {torch.__version__}, {prov['date']}; command: `{cmd}`", '',
            'TFLOP/s of a kind: its FLOPs (`marval.bench.sampler_cost`: linear layers for matmul, QKᵀ and AV for attention) '
            'over its summed kernel time.', '']
    res, md = {}, []
    for variant in variants:
        t0 = time.perf_counter()
        g = FastSampler(m, a.kind, s, a.K, cfg, dtype='bf16', cuda_graphs=cuda, **opts[variant])
        w = time_fn(lambda: g(labels, 0), reps, 1, dev)['median_s']
        by, traced = profile(g, labels, cuda=cuda), 'graph replays' if cuda else 'CPU ops'   # CUPTI reports a replayed graph's kernels
        if not by:                                                  # older stacks: profile the same sampler without graphs
            g.cuda_graphs, g.states = False, {}
            by, traced = profile(g, labels), 'no graphs'
        n_k, t_k = sum(v[0] for v in by.values()), sum(v[1] for v in by.values())
        kinds = defaultdict(lambda: [0, 0.0])
        for name, (cnt, us) in by.items(): kinds[kind_of(name)][0] += cnt; kinds[kind_of(name)][1] += us
        top = sorted(by.items(), key=lambda kv: -kv[1][1])[:25]
        res[variant] = dict(wall_graphs_s=w, kernels_per_call=n_k, kernel_ms_per_call=t_k / 1e3, steps=a.K,
                            kernels_per_step=n_k / a.K, kernel_us_per_step=t_k / a.K, mean_kernel_us=t_k / max(n_k, 1),
                            by_kind={k: dict(count=v[0], ms=v[1] / 1e3, tflops_per_s=kind_flops[k] / v[1] / 1e6 if k in kind_flops else None)
                                     for k, v in kinds.items()}, batch=a.batch,
                            img_per_s=a.batch / w, tflops_per_s=flops / w / 1e12, call_tflop=flops / 1e12,
                            top=[dict(name=nm, count=v[0], total_us=v[1], mean_us=v[1] / v[0]) for nm, v in top],
                            seconds=time.perf_counter() - t0, traced=traced)
        r = res[variant]
        md += [f'## {variant}', '',
               f"wall time{' with CUDA graphs' if cuda else ''} {w * 1e3:.1f} ms; under the profiler ({traced}): {n_k} kernels per call "
               f"({r['kernels_per_step']:.0f} per AR step), summed kernel time {t_k / 1e3:.1f} ms ({r['kernel_us_per_step']:.0f} µs per "
               f"AR step, mean kernel {r['mean_kernel_us']:.1f} µs); {a.batch / w:.1f} img/s, {flops / 1e12:.2f} TFLOP per call "
               f"= {flops / w / 1e12:.0f} TFLOP/s", '',
               '| kind | kernels | ms per call | share | TFLOP/s |', '|---|---|---|---|---|']
        md += kind_rows(r['by_kind'], kind_flops)
        md += ['', '| kernel | calls | total µs | mean µs |', '|---|---|---|---|']
        md += [f"| `{nm[:110]}` | {v[0]} | {v[1]:.0f} | {v[1] / v[0]:.1f} |" for nm, v in top]
        md.append('')
        print(variant, json.dumps({k: v for k, v in r.items() if k != 'top'}, indent=1), flush=True)
        del g
        if cuda: torch.cuda.empty_cache()
        (out / f'{stem}.md').write_text('\n'.join(head + md) + '\n')    # after each variant: a cut run keeps the first
        (out / f'{stem}.json').write_text(json.dumps(dict(meta=dict(prov, command=cmd, device=dname),
                                                          results=res), indent=1))
    return 0


def from_stdout(a, out: Path) -> int:
    "The per-kind tables of the summaries in a run's printed output (`--size`, `--batch`, `--K` as in that run)."
    from marval.bench import sampler_cost
    from marval.config import get_preset
    src = Path(a.from_stdout)
    res = summaries(src.read_text())
    if not res: raise SystemExit(f'no plain/compile summary in {src}')
    p = get_preset(a.size)
    cost = sampler_cost(p.model, a.kind, a.batch, a.K, cfg=a.kind == 'teacher' and p.sample.cfg != 1.0)
    kind_flops = flops_by_kind(cost)
    cmd = 'python3 tools/gpu/profile_step.py ' + ' '.join(sys.argv[1:])
    what = f'MAR-{a.size[0].upper()} teacher' if a.kind == 'teacher' else f'MARVAL-{a.size[0].upper()} student'
    md = [f'# Kernels of one {what} call, batch {a.batch}, K = {a.K}: per kind', '',
          f'Rebuilt by `{cmd}` from the summaries printed in `{src.name}` (the GPU run ended before it wrote its report).', '']
    for v, r in res.items():
        md += [f'## {v}', '', f"wall time {r['wall_graphs_s']:.3f} s; {r['kernels_per_call']} kernels per call, summed kernel "
               f"time {r['kernel_ms_per_call'] / 1e3:.2f} s; {cost['flops'] / 1e15:.2f} PFLOP per call "
               f"(matmul {kind_flops['matmul'] / 1e15:.2f}, attention {kind_flops['attention'] / 1e15:.2f})", '',
               '| kind | kernels | ms per call | share | TFLOP/s |', '|---|---|---|---|---|', *kind_rows(r['by_kind'], kind_flops), '']
    stem = src.name.replace('_stdout.txt', '').replace('.txt', '')
    (out / f'{stem}.md').write_text('\n'.join(md) + '\n')
    print('\n'.join(md))
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""GPU job (issue 6): the MAR teacher's compiled head step under inductor settings.

    PYTHONPATH=$PWD python3 tools/gpu/head_bench.py --out $OUT/head --size huge --batch 256 \
        --options 'none;triton.multi_kernel=2'
    PYTHONPATH=$PWD python3 tools/gpu/head_bench.py --out $OUT/head --size huge --batch 256 --options none --ada-groups all,1,2,4

The head step is what `FastSampler(compile='head')` compiles (`_chain_step`: the head on both CFG halves, guidance,
the ancestral step), built as `fast=True` builds it at batch 256 (bf16, adaLN fused, the head's residual stream in
bf16). For each `--options` set (';' between sets; each 'none', inductor's defaults, or 'key=value,...' passed as
`FastSampler(compile_options=...)`) a fresh sampler compiles it, and each distinct AR-step row count of the batch
(batch × tokens predicted, doubled by CFG) is timed in a CUDA graph (`cuda_time_us(graph=True)`, the sampler's launch
mode). The head's time per sampler call is predicted from those: Σ over the K AR steps of steps × µs at the step's rows.
`--ada-groups` ('all' or whole numbers, ',' between) times each options set with the head's fused adaLN product
whole ('all', one product for every residual block, fast=True's head) and split per g blocks (`FastSampler(ada_group=g)`:
each product right before its blocks, so the modulations they read may still be in L2).
Every set's output is checked against the first set's on the same inputs (rel. L2, at the largest row count).
The row counts are visited largest first (`--order largest`, the default), so inductor's choices made at the first
call (dynamic-shape hints, `triton.multi_kernel=1`'s pick of each reduction's form, kept for every later shape) are
made at the largest; the sampler's first call is at its first AR step's rows (the smallest): `--order sampler`
visits them in the sampler's order instead, so the picks are the sampler's.

Why: at MAR-H the head is 1536 wide, and inductor loops a reduction longer than 1024 (its residual-add + LayerNorm +
modulate kernels) instead of holding the row ("persistent"); `triton.multi_kernel=2` makes it hold the row.
Writes head_bench_<size>_bs<batch>.{md,json} to --out after each set. --smoke: a CPU test of this script (tiny
model, 5 head steps, perf_counter timings).
"""
import argparse, json, sys, time
from pathlib import Path
import torch


def parse_options(text: str) -> list:
    "'none;triton.multi_kernel=2' -> [None, {'triton.multi_kernel': 2}]: values read as int, float, True/False or text."
    def value(v):
        if v in ('True', 'False'): return v == 'True'
        for cast in (int, float):
            try: return cast(v)
            except ValueError: pass
        return v
    sets = []
    for part in text.split(';'):
        part = part.strip()
        if part == 'none': sets.append(None); continue
        kv = [p.split('=', 1) for p in part.split(',') if p.strip()]
        if not kv or any(len(p) != 2 or not p[0].strip() for p in kv):
            raise SystemExit(f"--options wants 'none' or 'key=value,...' sets between ';', got {part!r}")
        sets.append({k.strip(): value(v.strip()) for k, v in kv})
    return sets


def parse_groups(text: str) -> list:
    "'all,1,2' -> [None, 1, 2]: the head's adaLN product whole (None) or per g residual blocks."
    out = []
    for part in text.split(','):
        part = part.strip()
        if part == 'all': out.append(None); continue
        if not part.isdigit() or int(part) < 1: raise SystemExit(f"--ada-groups wants 'all' or whole numbers >= 1 between ',', got {part!r}")
        out.append(int(part))
    return out


def label(opts, group=None) -> str:
    return ('none' if not opts else ','.join(f'{k}={v}' for k, v in opts.items())) + (f'+ada{group}' if group else '')


def time_us(f, reps, cuda):
    "µs per call: replayed in a CUDA graph (the sampler's launch mode), or on the CPU the median of plain calls."
    from marval.bench import time_fn
    from marval.kernels import cuda_time_us
    return cuda_time_us(f, reps, graph=True) if cuda else time_fn(f, reps, 1, 'cpu')['median_s'] * 1e6


def bench_set(model, opts, a, dev, cuda, ref=None, group=None):
    """One options set (and adaLN grouping `group`): a fresh compiled head step, timed at every distinct row count of the
    batch's AR steps."""
    from marval.fast_sampling import FastSampler
    torch._dynamo.reset()
    t0 = time.perf_counter()
    fs = FastSampler(model, 'teacher', num_iter=a.K, cfg=a.cfg, num_sampling_steps=a.steps, dtype='bf16',
                     compile='head', head_stream='autocast', cuda_graphs=False, compile_options=opts, ada_group=group)
    C, D = fs.C, model.decoder_pos_embed_learned.shape[-1]
    ms = sorted({cur - nxt for cur, nxt, _ in fs.plan})
    i = fs.T // 2                                                          # a middle step of the chain (not the last)
    gen = torch.Generator(dev).manual_seed(0)
    rows, out, setup_s = [], None, None
    with torch.no_grad(), fs._amp('token'):
        seen = list(dict.fromkeys(cur - nxt for cur, nxt, _ in fs.plan))     # the sampler's order of first calls
        for m in (reversed(ms) if a.order == 'largest' else seen):          # the first call: the compilation's hints
            N = a.batch * m
            x, noise = (torch.randn(N, C, device=dev, generator=gen) for _ in range(2))   # (N, C) fp32
            z = torch.randn(2 * N, D, device=dev, generator=gen).to(torch.bfloat16)          # (2N, D): [cond; uncond]
            c_emb = fs.head.cond(z)                                                          # (2N, W)
            step = lambda: fs._head_step(x, fs._t_emb(i, 2 * N), c_emb, fs.scales[0], fs.coef_steps[i], noise, False)
            if not rows:                                                   # the first call compiles
                step()
                if cuda: torch.cuda.synchronize()
                setup_s = time.perf_counter() - t0
            if m == ms[-1]: out = step().float().clone()
            rows.append(dict(m=m, rows=2 * N, us=time_us(step, a.reps, cuda)))
            print(f'  {label(opts, group)}: {2 * N} rows {rows[-1]["us"]:.1f} µs', flush=True)
    us = {r['m']: r['us'] for r in rows}
    res = dict(options=opts, ada_group=group, label=label(opts, group), setup_s=setup_s, rows=sorted(rows, key=lambda r: r['m']),
               head_s_per_call=sum(fs.T * us[cur - nxt] for cur, nxt, _ in fs.plan) / 1e6)
    if ref is not None: res['rel_l2_vs_first'] = ((out - ref).norm() / ref.norm()).item()
    return res, out


def report(res, path):
    meta = res['meta']
    lines = [f"# The MAR teacher's compiled head step per inductor setting ({meta['size']}, batch {meta['batch']}, "
             f"{meta['steps']} head steps, K = {meta['K']})", '',
             f"{meta['device']}, torch {meta['torch']}, {meta['date']}; command: `{meta['command']}`", '',
             "µs per head step (`FastSampler._chain_step`, `compile='head'`, bf16, head stream bf16) "
             + ('in a CUDA graph' if meta['device'] != 'cpu' else 'on the CPU (perf_counter)') + ", at each distinct row count of the call's AR steps (CFG doubles the rows); the head's time per call predicted "
             "as Σ steps × µs over the AR steps.", '',
             '| options | head s per call | vs first | rel. L2 vs first | setup s |', '|---|---|---|---|---|']
    first = res['sets'][0]['head_s_per_call']
    for s in res['sets']:
        lines.append(f"| `{s['label']}` | {s['head_s_per_call']:.3f} | {s['head_s_per_call'] - first:+.3f} s | "
                     f"{s.get('rel_l2_vs_first', 0.0):.1e} | {s['setup_s']:.0f} |")
    lines += ['', '| rows | ' + ' | '.join(f"`{s['label']}` µs" for s in res['sets']) + ' |',
              '|---|' + '---|' * len(res['sets'])]
    for j, r in enumerate(res['sets'][0]['rows']):
        lines.append(f"| {r['rows']} | " + ' | '.join(f"{s['rows'][j]['us']:.1f}" for s in res['sets']) + ' |')
    path.with_suffix('.md').write_text('\n'.join(lines) + '\n')
    path.with_suffix('.json').write_text(json.dumps(res, indent=1))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', required=True, type=Path)
    p.add_argument('--size', default='huge')
    p.add_argument('--batch', type=int, default=256)
    p.add_argument('--K', type=int, default=64)
    p.add_argument('--steps', type=int, default=100)
    p.add_argument('--cfg', type=float, default=None, help="default: the preset's")
    p.add_argument('--options', default='none;triton.multi_kernel=2')
    p.add_argument('--ada-groups', default='all', help="'all' (one adaLN product, fast=True's head) and/or g: one per g blocks")
    p.add_argument('--reps', type=int, default=20)
    p.add_argument('--order', choices=['largest', 'sampler'], default='largest',
                   help="row counts' order: largest first, or the sampler's (its first AR step's rows first)")
    p.add_argument('--smoke', action='store_true', help='CPU test: tiny model (2 residual blocks), batch 2, K 4, 5 head steps')
    a = p.parse_args(argv)
    sets = [(o, g) for o in parse_options(a.options) for g in parse_groups(a.ada_groups)]
    from marval.bench import random_mar
    from marval.config import get_preset
    cuda = torch.cuda.is_available() and not a.smoke
    if a.smoke:
        a.size, a.batch, a.K, a.steps, a.reps = 'tiny', 2, 4, 5, 2
        model = random_mar('tiny', 'cpu', encoder_depth=1, decoder_depth=1, diffloss_d=2)
    else:
        if not torch.cuda.is_available(): raise SystemExit('head_bench.py times CUDA kernels: run it on a GPU (or --smoke)')
        model = random_mar(a.size, 'cuda')
    if a.cfg is None: a.cfg = get_preset(a.size).sample.cfg
    dev = model.fake_latent.device
    a.out.mkdir(parents=True, exist_ok=True)
    path = a.out / f'head_bench_{a.size}_bs{a.batch}'
    res = dict(meta=dict(size=a.size, batch=a.batch, K=a.K, steps=a.steps, cfg=a.cfg, order=a.order, torch=torch.__version__,
                         device=torch.cuda.get_device_name() if cuda else 'cpu', date=time.strftime('%Y-%m-%d'),
                         command='PYTHONPATH=$PWD python3 tools/gpu/head_bench.py ' + ' '.join(sys.argv[1:] if argv is None else argv)),
               sets=[])
    ref = None
    for opts, group in sets:
        r, x = bench_set(model, opts, a, dev, cuda, ref, group)
        if ref is None: ref = x
        res['sets'].append(r)
        print(f"{r['label']}: head {r['head_s_per_call']:.3f} s per call" +
              (f", rel L2 vs first {r['rel_l2_vs_first']:.1e}" if 'rel_l2_vs_first' in r else ''), flush=True)
        report(res, path)


if __name__ == '__main__':
    main()

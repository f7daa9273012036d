"""GPU job (issue 6): the speed levers on MAR-B, most important first, through `marval.bench.run_plan` (the same code as
`marval bench` and nbs/07_bench.ipynb); only the job list differs from tools/gpu/bench.py:
  1. MARVAL-B student, batch 1, fast path (bf16 transformer + last-block pruning + CUDA graphs): plain, uniform (one
     shape for every AR step, one graph per piece replayed at every step), uniform + compiled (static shapes);
  2. the MAR-B teacher at batch 1, plain and uniform;
  3. the equality check (fast vs eager, graphs vs no graphs, uniform; fp32 and bf16);
  4. the student at batch 1 compiled (dynamic shapes, ~2 min to compile) and uniform + max-autotune (inductor's
     tuned Triton products, `compile_mode='max-autotune-no-cudagraphs'`; compile time unknown);
  5. the student (plain, compiled) and the teacher at batch 256;
  6. the MAR-L/H students and teachers at batch 1, MAR-H at batch 256 (student plain and compiled, teacher);
  7. the GSIM distillation step, plain and with compiled heads;
  8. the SDPA backend forced (flash, efficient; PyTorch picks cuDNN's kernel on an H200): the MARVAL-B student at
     batch 1 and the MARVAL-H student at batch 256 with each;
  9. the compiled MAR-H teacher at batch 256 (its head's 100 calls are where it loses against 2x);
 10. only the head compiled (`compile='head'`; the compiled transformer was not faster at MAR-H batch 256, job 24): the MAR-H
     teacher and student at batch 256, the MAR-B teacher at batch 256 and at batch 1, the MAR-L/H teachers at batch 1;
     then the MAR-B teacher at batch 1 with everything compiled (dynamic shapes, and uniform = static ones);
 11. the transformer MLPs' GELU in the product's epilogue (`gelu_epilogue=True`): the MAR-H teacher (head compiled)
     and student at batch 256, the MARVAL-B student at batch 1 (compiled), the MAR-B teacher at batch 256;
 12. the same four with the residual adds in the products too (`residual_epilogue=True`, biases carried as a LayerNorm
     offset, `ResidualEpilogueBlock`);
 13. what `fast=True` turns on (`marval.generate.fast_options`: head compiled, both epilogues) at batch 1: the
     MARVAL-B student and the MAR-B teacher;
 14. our attention kernel (`attention='triton'`, `marval.kernels.attention_triton`: MAR-H's 80-wide heads as 64 + 16)
     on the fastest rows so far: the MAR-H teacher and MARVAL-H student at batch 256, the MAR-B teacher at
     batch 256, and fast=True at batch 1 (MARVAL-B student, MAR-B teacher); then the compiled MARVAL-B student at
     batch 1 with the GELU epilogue (job 35) and our kernel (job 48), that with the residual epilogue too (job 49),
     and job 48 at MARVAL-L and -H (jobs 50, 51);
 15. the head's residual stream in bf16 (`head_stream='autocast'`, the official code's autocast arithmetic) on
     fast=True's teachers: the MAR-H teacher at batch 256 (job 43 with it, job 52), the MAR-B teacher at batch 1 and
     256 (jobs 47 and 45 with it: 53, 54);
 16. job 52 with inductor's multi-kernel reductions in the compiled head (`compile_options=HEAD_MULTI_KERNEL`: each
     reduction compiled looped and holding the row, the faster kept; MAR-H's head is 1536 wide, past the 1024 up to
     which inductor holds the row; `tools/gpu/head_bench.py` times the head step alone): job 55;
 17. job 55 with the compiled head's first call at the largest AR step's rows (`compile_rows='largest'`: inductor
     picks each multi-kernel form where the rows are many; picked at the first step's 512 rows they lost): job 56
     (one H100 lease, 2026-12-06: 30.22 s against job 52's 30.19 s, results/bench/nvidia_h100_run15.md);
 18. job 52 with the head's fused adaLN product split per g residual blocks (`ada_group=g`, `HeadRunner`: each product
     right before its blocks, so the modulations they read may still be in L2; `tools/gpu/head_bench.py --ada-groups`
     times the head step alone): g = 1, 2, 4 are jobs 57, 58, 59.
Stops starting jobs after --budget-s seconds; writes <device>.md/.csv/.json and metrics.json to --out (rewritten after
every job: a call cut by its time limit keeps what it measured; rebuild metrics.json with tools/bench_report.py).

    PYTHONPATH=$PWD python3 tools/gpu/bench_levers.py --out $OUT/bench --budget-s 540
    # a second call, after a cut first one that finished N jobs:
    PYTHONPATH=$PWD python3 tools/gpu/bench_levers.py --out $OUT/bench --budget-s 540 --start N --name nvidia_h200_part2
    # one long job with a single timed call (the budget only gates starting a job, never stops one):
    PYTHONPATH=$PWD python3 tools/gpu/bench_levers.py --out $OUT/bench --budget-s 60 --jobs 24 --repeats 1 --name nvidia_h200_part7
    # our attention kernel's tile tuned from eager launches (the tuner before 2026-12-06) against CUDA-graph replays
    # (now), on one lease: two processes, since the tuned tiles stay for the process
    PYTHONPATH=$PWD python3 tools/gpu/bench_levers.py --out $OUT/bench --budget-s 60 --jobs 48 --attention-tuning eager --name eager_tile
    PYTHONPATH=$PWD python3 tools/gpu/bench_levers.py --out $OUT/bench --budget-s 60 --jobs 48 --name graph_tile
    # job 52 with the attention tiles' launch/schedule flags among the tuner's candidates (`--attention-tiles variants`),
    # against job 52, in one process (te_plain.*, then te_variants.*; the tuned tiles printed after each)
    PYTHONPATH=$PWD python3 tools/gpu/bench_levers.py --out $OUT/bench --budget-s 60 --jobs 52 --repeats 1 --attention-tiles ab --name te
    # what the m_fast tiles (in ATTENTION_TILES since 2026-12-07) give fast=True's MARVAL-H student at batch 256 (job 44),
    # in one process: the 48 unflagged tiles (st_unflagged.*), then ATTENTION_TILES (st_plain.*)
    PYTHONPATH=$PWD python3 tools/gpu/bench_levers.py --out $OUT/bench --budget-s 400 --jobs 44 --repeats 1 --attention-tiles ab-unflagged --name st
    # an A/B of two variants of one configuration in one process (the plain reference built once, for the first):
    # job 52 against job 56, fast=True's MAR-H teacher at batch 256 without and with the multi-kernel picks at the most rows
    PYTHONPATH=$PWD timeout 570 python3 tools/gpu/bench_levers.py --out $OUT/bench --budget-s 400 --jobs 52,56 --repeats 1 --name ab
CPU smoke test: python3 tools/gpu/bench_levers.py --out /tmp/bl --smoke
"""
import argparse, json, shlex, sys, time
import torch


def jobs(size='base', K=64, steps=100, distill_batch=64, distill_steps=20, big=(256,), latency_sizes=('large', 'huge'),
         big_sizes=('huge',), autotune=True, attention=('flash', 'efficient'), kernel_attention=('triton',)):
    fast = dict(job='sampler', K=K, steps=steps, repeats=None, path='fast', dtype='bf16', graphs=True, decode=False, main=True)
    st1, te1 = dict(fast, size=size, kind='student', batch=1), dict(fast, size=size, kind='teacher', batch=1)
    js = [st1, dict(st1, uniform=True), dict(st1, uniform=True, compile=True), te1, dict(te1, uniform=True),
          dict(job='check', size=size, steps=steps), dict(st1, compile=True)]
    if autotune: js.append(dict(st1, uniform=True, compile=True, compile_mode='max-autotune-no-cudagraphs'))
    for b in big:
        js += [dict(fast, size=size, kind='student', batch=b), dict(fast, size=size, kind='student', batch=b, compile=True),
               dict(fast, size=size, kind='teacher', batch=b)]
    js += [dict(fast, size=s, kind=k, batch=1) for s in latency_sizes for k in ('student', 'teacher')]
    js += [dict(fast, size=s, kind='student', batch=b, **c) for s in big_sizes for b in big for c in ({}, dict(compile=True))]
    js += [dict(fast, size=s, kind='teacher', batch=b) for s in big_sizes for b in big]
    js += [dict(job='distill', size=size, batch=distill_batch, steps=distill_steps),
           dict(job='distill', size=size, batch=distill_batch, steps=distill_steps, compile=True)]
    for a in attention:
        js += [dict(st1, attention=a)] + [dict(fast, size=s, kind='student', batch=b, attention=a) for s in big_sizes for b in big]
    js += [dict(fast, size=s, kind='teacher', batch=b, compile=True) for s in big_sizes for b in big]
    js += [dict(fast, size=s, kind=k, batch=b, compile='head') for s in big_sizes for k in ('teacher', 'student') for b in big]
    js += [dict(fast, size=size, kind='teacher', batch=b, compile='head') for b in tuple(big) + (1,)]
    js += [dict(fast, size=s, kind='teacher', batch=1, compile='head') for s in latency_sizes]
    js += [dict(te1, compile=True), dict(te1, uniform=True, compile=True)]
    g = dict(gelu_epilogue=True)
    js += [dict(fast, size=s, kind='teacher', batch=b, compile='head', **g) for s in big_sizes for b in big]
    js += [dict(fast, size=s, kind='student', batch=b, **g) for s in big_sizes for b in big]
    js += [dict(st1, compile=True, **g)] + [dict(fast, size=size, kind='teacher', batch=b, compile='head', **g) for b in big]
    r = dict(g, residual_epilogue=True)
    js += [dict(fast, size=s, kind='teacher', batch=b, compile='head', **r) for s in big_sizes for b in big]
    js += [dict(fast, size=s, kind='student', batch=b, **r) for s in big_sizes for b in big]
    js += [dict(st1, compile=True, **r)] + [dict(fast, size=size, kind='teacher', batch=b, compile='head', **r) for b in big]
    js += [dict(st1, compile='head', **r), dict(te1, compile='head', **r)]      # = fast=True (`fast_options`) at batch 1
    for a in kernel_attention:                                                  # jobs 37, 38, 40, 41, 42 with our kernel
        js += [dict(fast, size=s, kind='teacher', batch=b, compile='head', attention=a, **r) for s in big_sizes for b in big]
        js += [dict(fast, size=s, kind='student', batch=b, attention=a, **r) for s in big_sizes for b in big]
        js += [dict(fast, size=size, kind='teacher', batch=b, compile='head', attention=a, **r) for b in big]
        js += [dict(st1, compile='head', attention=a, **r), dict(te1, compile='head', attention=a, **r)]
    for a in kernel_attention:                                                  # job 35 (the fastest batch-1 student) with it
        js += [dict(st1, compile=True, attention=a, **g)]
    for a in kernel_attention:                                                  # job 48 with the residual epilogue too
        js += [dict(st1, compile=True, attention=a, **r)]
    for a in kernel_attention:                                                  # job 48 (the fastest) at MARVAL-L and -H
        js += [dict(fast, size=s, kind='student', batch=1, compile=True, attention=a, **g) for s in latency_sizes]
    h = dict(r, head_stream='autocast')                                          # the head's residual stream in bf16
    for a in kernel_attention:                                                  # jobs 43, 47, 45 (fast=True's teachers) with it
        js += [dict(fast, size=s, kind='teacher', batch=b, compile='head', attention=a, **h) for s in big_sizes for b in big]
        js += [dict(te1, compile='head', attention=a, **h)]
        js += [dict(fast, size=size, kind='teacher', batch=b, compile='head', attention=a, **h) for b in big]
    from marval.fast_sampling import HEAD_MULTI_KERNEL
    mk = dict(h, compile_options=HEAD_MULTI_KERNEL)                              # + inductor's multi-kernel reductions in the head
    for a in kernel_attention:                                                  # job 52 (fast=True's MAR-H teacher) with them
        js += [dict(fast, size=s, kind='teacher', batch=b, compile='head', attention=a, **mk) for s in big_sizes for b in big]
    for a in kernel_attention:                                                  # job 55 with the head's first call at the most rows
        js += [dict(fast, size=s, kind='teacher', batch=b, compile='head', attention=a, compile_rows='largest', **mk)
               for s in big_sizes for b in big]
    for g in (1, 2, 4):                                                         # jobs 57-59: job 52 with the adaLN product per g blocks
        js += [dict(fast, size=s, kind='teacher', batch=b, compile='head', attention=a, ada_group=g, **h)
               for a in kernel_attention for s in big_sizes for b in big]
    return js


TILE_LISTS = ('plain', 'variants', 'unflagged')

def attention_tuning(eager: bool = False, tiles: str = 'plain', flags: str = 'all'):
    """Make every `FastSampler` of this process time our attention kernel's tiles as eager launches (`eager`:
    `tune_attention(graph=False)`, what it did before 2026-12-06) instead of CUDA-graph replays, and/or over another
    list than `ATTENTION_TILES` (`tiles='plain'`, which has the `m_fast` tiles since 2026-12-07): 'variants',
    `tiles_with_variants(flags)` (the launch/schedule flags' tiles too; `flags='m_fast'` adds nothing now), or
    'unflagged', `ATTENTION_TILES` without any flagged tile (the 48 tiles the tuner timed before 2026-12-07):
    for a comparison on one lease (two processes, since the tuned tiles stay for the process)."""
    from marval import fast_sampling, kernels
    if tiles not in TILE_LISTS: raise ValueError(f'tiles: one of {TILE_LISTS}; got {tiles!r}')
    extra = dict(graph=False) if eager else {}
    if tiles == 'variants': extra['tiles'] = kernels.tiles_with_variants(flags)
    if tiles == 'unflagged': extra['tiles'] = [t for t in kernels.ATTENTION_TILES if len(t) == 4]
    base = getattr(fast_sampling.tune_attention, 'base', fast_sampling.tune_attention)   # an earlier pass's override undone
    fast_sampling.tune_attention = base
    if extra:
        def tune(*args, **kw): return kernels.tune_attention(*args, **dict(kw, **extra))
        tune.base = base
        fast_sampling.tune_attention = tune


def main(argv=None):
    from marval import bench, kernels
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--budget-s', type=float, default=540.0)
    ap.add_argument('--ddp-json', default=None)
    ap.add_argument('--smoke', action='store_true', help='tiny random model on the CPU (a test of this script)')
    ap.add_argument('--start', type=int, default=0, help='skip the first START jobs (a second call continues a cut one)')
    ap.add_argument('--jobs', default=None, help='comma list of job indices to run, in that order (instead of --start)')
    ap.add_argument('--name', default=None, help='report file stem (default: the device name); use another for a --start call')
    ap.add_argument('--repeats', type=int, default=None, help='timed calls per sampler job (default: by batch size); '
                    '1 fits a long job, e.g. the compiled MAR-H teacher at batch 256, into one 600 s call')
    ap.add_argument('--attention-tuning', choices=['graph', 'eager'], default='graph',
                    help="how the samplers time our attention kernel's tiles (eager: the tuner before 2026-12-06)")
    ap.add_argument('--attention-tiles', choices=[*TILE_LISTS, 'ab', 'ab-unflagged'], default='plain',
                    help="which tiles the samplers time (plain: ATTENTION_TILES; variants: ATTENTION_VARIANT_TILES too, "
                         "marval.kernels.tiles_with_variants; unflagged: ATTENTION_TILES without the m_fast tiles); ab: the "
                         "jobs twice in this process, with the plain tiles (report NAME_plain), then, the tuned tiles "
                         "forgotten, with the variants too (NAME_variants); ab-unflagged: first with the unflagged tiles "
                         "(NAME_unflagged), then with the plain ones (NAME_plain): what the m_fast tiles give")
    ap.add_argument('--variant-flags', choices=['all', *sorted(kernels.VARIANT_FLAGS)], default='all',
                    help='with --attention-tiles variants / ab: only the variant tiles with these flags')
    a = ap.parse_args(argv)
    kw = {}
    if a.smoke:
        js = jobs('tiny', K=3, steps=4, distill_batch=4, distill_steps=1, big=(2,), latency_sizes=(), big_sizes=(), autotune=False,
                  attention=('math',), kernel_attention=())                   # no Triton device on a CPU
        for j in js:
            if j['job'] == 'sampler': j['repeats'] = 1
        kw = dict(model_overrides={'encoder_depth': 1, 'decoder_depth': 1, 'diffloss_d': 1}, vae_ch=32, device='cpu')
    else:
        js = jobs()
    js = [js[int(i)] for i in a.jobs.split(',')] if a.jobs else js[a.start:]
    if a.repeats is not None:
        if a.repeats < 1: ap.error('--repeats must be at least 1')
        js = [dict(j, repeats=a.repeats) if j['job'] == 'sampler' else j for j in js]
    torch.backends.cudnn.benchmark = True
    print(f'torch {torch.__version__}, {torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"}', flush=True)
    t0 = time.time()
    cmd = 'PYTHONPATH=$PWD python3 tools/gpu/bench_levers.py ' + shlex.join(sys.argv[1:] if argv is None else argv)
    passes = {'ab': ['plain', 'variants'], 'ab-unflagged': ['unflagged', 'plain']}.get(a.attention_tiles)
    passes = [(a.name, a.attention_tiles)] if passes is None else [(f'{a.name or "ab"}_{t}', t) for t in passes]
    for name, tiles in passes:
        kernels.ATTENTION_CONFIGS.clear()                                       # the samplers tune again, over these tiles
        attention_tuning(eager=a.attention_tuning == 'eager', tiles=tiles, flags=a.variant_flags)
        r = bench.run_plan(js, a.out, name=name, budget_s=a.budget_s, command=cmd, ddp_json=a.ddp_json, **kw)
        print(f'\n== headline ({time.time() - t0:.0f} s) ==')
        for k in sorted(r['headline']): print(f'{k:45s} {r["headline"][k]}')
        print('attention tiles tuned:', {f'd {k[0]} {str(k[1]).split(".")[-1]} B·H {k[2]}': v for k, v in kernels.ATTENTION_CONFIGS.items()},
              flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())

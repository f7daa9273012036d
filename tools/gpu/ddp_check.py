"""GPU job: GSIM distillation under torchrun DDP on 2 GPUs, at MAR-B size (random weights).

    PYTHONPATH=$PWD torchrun --standalone --nproc_per_node 2 tools/gpu/ddp_check.py --out $OUT

(a) The 2-GPU update equals the 1-GPU update on the same global batch.
    The trainer (marval.distill.distill) seeds rank r with seed + r and gives each rank its own shard of the data, so a
    2-GPU run draws other masks and noise than a 1-GPU run and cannot be compared with one as it is. Here the world-1
    reference runs inside rank 0 (a copy of the initial modules, no DDP) on the whole global batch, and the ranks run
    the DDP update on their halves of the SAME rows with the SAME noise:
      - the contexts (Zc, Zu) of `--check-images` images are computed once on rank 0 (teacher_contexts) and broadcast;
      - the random inputs of the update (z, t, eps of the auxiliary and of the generator step, marval.bench.gsim_draws)
        come from one seeded CPU generator, identical on every rank;
      - the rows are split into `world` equal contiguous parts (equal counts: the mean of the per-rank mean losses,
        which is what DDP's gradient averaging gives, is the global mean loss).
    fp32 and TF32 off. Compared: the gradients after the all-reduce (first update; relative L2 error), the parameters
    after `--check-steps` updates (relative to the size of the update), and the parameter replicas across ranks.
    The update is marval.distill.gsim_update with explicit draws, shown in nbs/07_bench.ipynb to be bit-identical to the
    trainer's own calls given the same draws.
(b) Scaling efficiency: the full trainer iteration (marval.bench.gsim_step: latents from cached moments, teacher
    contexts, auxiliary + generator steps, EMA) at `--batch` images per GPU in bf16, timed on rank 0 once before and
    `--one-gpu-passes` - 1 times after the DDP pass on all ranks, so that a first timed pass still warming up cannot
    inflate the scaling (the 2026-11-22 H200 run timed the one-GPU pass only first and reported an efficiency of 1.087;
    on one GPU the first pass of a process measured 1.15-1.20x slower than later ones, results/bench/one_gpu_passes_*).
    The pass before DDP's runs on every rank, each on its own GPU (rank 0's time counts; every rank's is in
    `s_per_step_first_pass_by_rank`), so that no rank meets the DDP pass with its first timed distiller; the passes after it run on rank 0 alone (the others wait at a barrier).
    scaling = img/s(world GPUs) / (world x img/s(1 GPU)), with the FASTEST one-GPU pass (the conservative figure);
    every pass is in `s_per_step_1gpu_passes`.
    `--one-gpu` (no torchrun, world size 1): only the one-GPU pass, `--one-gpu-passes` times in a row in one process,
    written to one_gpu_passes.{json,md}: how much the first timed pass differs from later ones on this device.
    Every timed pass (and its warm-up) starts from the same seed, so every pass draws the same masks and noise: the same work.
    Why a first pass is slower, three probes: `--per-step` (every timed step's GPU time from CUDA events, its host time,
    and the clocks/power/temperature nvidia-smi reads after each pass), `--retime-first` (the first pass's distiller
    timed again after the last pass: slow again means the distiller, fast means the process or device had warmed up),
    `--load-s S` (S seconds of matrix products before the first pass: a first pass as fast as the rest then means the
    device's own warm-up, clocks or power), `--gc-freeze` (gc.collect() + gc.freeze() before each timed pass; --per-step
    also counts each pass's garbage collections per generation, host page faults and host CPU seconds: a fast first pass
    then means Python's collector), `--profile [device|host]` (torch.profiler over each timed pass: every kernel's device
    time, or every op's host time; the md compares the first two passes), `--no-cudnn-sdp` (attention without cuDNN).
    The answer (26th session, one H100, results/bench/first_pass_h100/): the kernels and their device time are the same
    in every pass; the first pass spends ~45 ms more host CPU per step, all of it in `aten::_cudnn_attention_forward`
    (2.5 ms per call against 0.05 ms later): cuDNN builds an attention plan for every new sequence length, and the number
    of masked tokens changes every step. The later passes replay the same draws, so their lengths are cached. With
    `--no-cudnn-sdp` the first pass is within 1.4% of the next.
    Does the plan cache keep every length over a long run? `--per-step` also records each step's masked-token count and
    whether the process had met it before; the md splits each pass's steps into new and repeated lengths, the repeats
    by thirds of the pass (a long first pass, e.g. `--one-gpu --steps 300`, whose repeats stay fast to its end: kept).
    Measured (27th session, one H100, results/bench/first_pass_h100/long_run.md): over a 300-step first pass the
    repeats took 231.5 / 235.2 / 230.7 ms by thirds against 231.3 ms replayed, the 74 new-length steps 286.6 ms: kept.
Outputs on rank 0: ddp_check.json (metrics; fold it into results/bench/metrics.json with
`marval bench ... --ddp-json` or marval.bench.merge_ddp) and ddp_check.md.
CPU smoke test (gloo, 2 processes): torchrun --standalone --nproc_per_node 2 tools/gpu/ddp_check.py --out /tmp/d --smoke
"""
import argparse, contextlib, copy, gc, json, os, resource, shlex, sys, time
from dataclasses import replace
from pathlib import Path
import torch
import torch.distributed as dist


PROBE_ENV = ('PYTORCH_CUDA_ALLOC_CONF', 'CUDA_MODULE_LOADING', 'TORCHINDUCTOR_COMPILE_THREADS', 'MALLOC_MMAP_THRESHOLD_',
             'MALLOC_TRIM_THRESHOLD_')                                  # named in the recorded command when set


def flat(ps): return torch.cat([p.detach().flatten().float() for p in ps])
def flat_grad(ps): return torch.cat([p.grad.detach().flatten().float() for p in ps if p.grad is not None])


def gpu_state(dev):
    "SM / memory clock (MHz), power (W) and temperature (C) of `dev` from nvidia-smi now, or None (CPU, no nvidia-smi)."
    if dev.type != 'cuda': return None
    import subprocess
    i = dev.index if dev.index is not None else torch.cuda.current_device()
    visible = os.environ.get('CUDA_VISIBLE_DEVICES')                    # torch's index i is the i-th visible GPU
    gpu = visible.split(',')[i].strip() if visible else str(i)          # an index or a UUID: nvidia-smi -i takes both
    try:
        q = subprocess.run(['nvidia-smi', '-i', gpu, '--query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu',
                            '--format=csv,noheader,nounits'], capture_output=True, text=True, timeout=20).stdout.strip()
        return dict(zip(('sm_mhz', 'mem_mhz', 'power_w', 'temp_c'), (float(v) for v in q.split(','))))
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def segments(dev):
    "How many memory segments the caching allocator has taken from the driver so far (cudaMalloc calls), or None."
    return torch.cuda.memory_stats(dev).get('segment.all.allocated', 0) if dev.type == 'cuda' else None


def load_device(dev, seconds: float) -> dict:
    "bf16 (fp32 on the CPU) 4096² matrix products for `seconds`: the device under load before the passes; what it did."
    n = 4096 if dev.type == 'cuda' else 256
    x = torch.randn(n, n, device=dev, dtype=torch.bfloat16 if dev.type == 'cuda' else torch.float32)
    before, t0, k = gpu_state(dev), time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        for _ in range(20): x = torch.tanh(x @ x)                       # (n, n); tanh keeps the values finite
        k += 20
        if dev.type == 'cuda': torch.cuda.synchronize(dev)
    return dict(seconds=time.perf_counter() - t0, products=k, n=n, gpu_state_before=before, gpu_state_after=gpu_state(dev))


def check_equal(teacher, dev, rank, world, a, preset_size):
    from marval.bench import gsim_draws, shard_draws
    from marval.distill import gsim_update, make_optimizers
    from marval.distill import GSIMDistiller, distill_preset
    from marval.train import wrap_ddp
    cfg = replace(distill_preset(preset_size), batch_size=a.check_images, precision='fp32')
    D = GSIMDistiller(teacher, cfg).to(dev).train()
    Dd = teacher.cfg.decoder_embed_dim
    n = torch.zeros(1, dtype=torch.long, device=dev)
    if rank == 0:
        g = torch.Generator(device=dev).manual_seed(1)
        h = teacher.seq_h * teacher.patch_size
        grids = torch.randn(a.check_images, teacher.vae_embed_dim, h, h, device=dev, generator=g)
        labels = torch.randint(0, teacher.cfg.class_num, (a.check_images,), device=dev, generator=g)
        with torch.no_grad(): Zc, Zu, _, _ = D.teacher_contexts(grids, labels)
        n[0] = Zc.shape[0]
    dist.broadcast(n, 0)
    if rank != 0: Zc, Zu = (torch.empty(int(n), Dd, device=dev) for _ in range(2))
    dist.broadcast(Zc, 0); dist.broadcast(Zu, 0)
    N = int(n) // world * world
    Zc, Zu = Zc[:N].contiguous(), Zu[:N].contiguous()
    ref = copy.deepcopy(D) if rank == 0 else None                       # the world-1 reference (same initial weights)
    gen_m, aux_m = wrap_ddp(D.gen, dev, world), wrap_ddp(D.aux, dev, world)
    opt_gen, opt_aux = make_optimizers(D)
    ropts = make_optimizers(ref) if ref is not None else None
    theta0 = {k: flat(getattr(D, k).parameters()).clone() for k in ('gen', 'aux')}
    cpu_g = torch.Generator().manual_seed(2)
    lo, hi = rank * N // world, (rank + 1) * N // world
    out = dict(check_images=a.check_images, check_rows=N, check_steps=a.check_steps)
    for s in range(a.check_steps):
        draws = gsim_draws(N, D.C, cfg, dev, cpu_g)                     # identical on every rank
        gsim_update(D, opt_gen, opt_aux, Zc[lo:hi], Zu[lo:hi], None, gen_m, aux_m, shard_draws(draws, lo, hi))
        if ref is not None:
            gsim_update(ref, *ropts, Zc, Zu, None, None, None, draws)
            if s == 0:
                for k in ('gen', 'aux'):
                    ga, gb = flat_grad(getattr(D, k).parameters()), flat_grad(getattr(ref, k).parameters())
                    out[f'{k}_grad_rel_err'] = ((ga - gb).norm() / gb.norm()).item()
    sums = torch.stack([flat(D.gen.parameters()).double().sum(), flat(D.aux.parameters()).double().sum()])
    all_sums = [torch.zeros_like(sums) for _ in range(world)]
    dist.all_gather(all_sums, sums)
    if rank == 0:
        out['ranks_identical'] = all(torch.equal(x, all_sums[0]) for x in all_sums)
        for k in ('gen', 'aux'):
            pa, pb = flat(getattr(D, k).parameters()), flat(getattr(ref, k).parameters())
            out[f'{k}_param_max_abs_diff'] = (pa - pb).abs().max().item()
            out[f'{k}_param_diff_rel_to_update'] = ((pa - pb).norm() / (pb - theta0[k]).norm()).item()
        out['update_equal'] = bool(out['ranks_identical'] and all(out[f'{k}_grad_rel_err'] < 1e-4 for k in ('gen', 'aux'))
                                   and all(out[f'{k}_param_diff_rel_to_update'] < 1e-2 for k in ('gen', 'aux')))
    del D, ref
    return out


def scaling(teacher, dev, rank, world, a, preset_size):
    from marval.bench import gsim_step, sync
    from marval.distill import make_optimizers
    from marval.distill import GSIMDistiller, distill_preset
    from marval.train import wrap_ddp, EMA, MomentSampler, autocast_for
    cfg = replace(distill_preset(preset_size), batch_size=a.batch, precision=a.precision)
    E, h = teacher.vae_embed_dim, teacher.seq_h * teacher.patch_size
    g = torch.Generator(device=dev).manual_seed(100 + rank)            # per-rank data, as the trainer shards it
    moments = torch.cat([torch.randn(a.batch, E, h, h, device=dev, generator=g), torch.full((a.batch, E, h, h), -6.0, device=dev)], 1)
    labels = torch.randint(0, teacher.cfg.class_num, (a.batch,), device=dev, generator=g)
    tok, amp = MomentSampler(), autocast_for(dev, a.precision)

    trace = []                                                          # --per-step: one dict per timed pass, in order
    seen = set()                                                        # masked-token counts (encoder lengths) met so far

    def timed(step, ddp: bool, what: str, warmup: int):
        """`warmup` steps, then `a.steps` timed ones; the pass's seconds. The same seed every pass: every pass draws the
        same masks and noise, so its work is the same."""
        torch.manual_seed(10 + rank)
        for _ in range(warmup): seen.add(step())                        # step() -> masked tokens per image
        sync(dev)
        if ddp: dist.barrier()
        if a.gc_freeze: gc.collect(); gc.freeze()                         # --gc-freeze: no old objects for the collector to walk
        gc0 = [st['collections'] for st in gc.get_stats()]                # collections per generation so far
        ru0, cpu0 = resource.getrusage(resource.RUSAGE_SELF), time.process_time()   # host page faults, CPU seconds
        ev = [torch.cuda.Event(enable_timing=True) for _ in range(a.steps + 1)] if a.per_step and dev.type == 'cuda' else None
        seg0 = segments(dev) if a.per_step else None
        host, masked, new = [], [], []
        with kernel_profiler(dev, a.profile == 'host') if a.profile else contextlib.nullcontext() as prof:   # --profile
            t0 = time.perf_counter()
            if ev: ev[0].record()
            for i in range(a.steps):
                n = step(); host.append(time.perf_counter())              # host time per step (no sync: when it queued)
                masked.append(n); new.append(n not in seen); seen.add(n)  # a length this process has not met yet?
                if ev: ev[i + 1].record()
            sync(dev)
        if ddp: dist.barrier()
        t = time.perf_counter() - t0
        if a.per_step:                                                    # GPU time between step boundaries (CUDA events)
            gpu = [ev[i].elapsed_time(ev[i + 1]) for i in range(a.steps)] if ev else None
            trace.append(dict(what=what, s_per_step=t / a.steps, ms_gpu=gpu,
                              ms_host=[1e3 * (b - a_) for a_, b in zip([t0] + host[:-1], host)], gpu_state=gpu_state(dev),
                              new_segments=None if seg0 is None else segments(dev) - seg0,
                              gc_collections=[st['collections'] - c for st, c in zip(gc.get_stats(), gc0)],
                              kernels=kernel_table(prof, dev.type != 'cuda' or a.profile == 'host') if prof else None,
                              minor_faults=resource.getrusage(resource.RUSAGE_SELF).ru_minflt - ru0.ru_minflt,
                              host_cpu_s=time.process_time() - cpu0, masked=masked, new_length=new))
        return t

    def build(ddp: bool):
        torch.manual_seed(10 + rank)
        D = GSIMDistiller(teacher, cfg).to(dev).train()
        gen_m, aux_m = (wrap_ddp(D.gen, dev, world), wrap_ddp(D.aux, dev, world)) if ddp else (None, None)
        opt_gen, opt_aux = make_optimizers(D)
        ema = EMA(D.gen, cfg.ema_rate)
        return lambda: gsim_step(D, opt_gen, opt_aux, ema, moments, labels, tok, amp, gen_m, aux_m)

    kept = []                                                           # --retime-first: the first pass's distiller

    def run(ddp: bool):
        step = build(ddp)
        if a.retime_first and not ddp and not kept: kept.append(step)
        return timed(step, ddp, 'ddp' if ddp else 'one-gpu', a.warmup)

    def one_gpu(n, every_rank=False):                                   # rank 0 alone (the others wait), or every rank
        ts = [run(False) for _ in range(n)] if rank == 0 or every_rank else []
        if world > 1: dist.barrier()
        if dev.type == 'cuda': torch.cuda.empty_cache()
        return ts

    passes = max(a.one_gpu_passes, 1)
    warm = load_device(dev, a.load_s) if a.load_s > 0 else None          # --load-s: the device under load before any pass
    t1s = one_gpu(1 if world > 1 else passes, every_rank=True)           # rank r > 0's times: only in by_rank
    tw = by_rank = None
    if world > 1:
        mine = torch.tensor(t1s, dtype=torch.float64, device=dev)         # (1,) this rank's pass before DDP's
        by_rank = [torch.zeros_like(mine) for _ in range(world)]
        dist.all_gather(by_rank, mine)
        tw = run(True)
        t1s += one_gpu(passes - 1)                                      # the same pass again, after DDP's
    retimed = None
    if kept and rank == 0:                                              # the first pass's distiller, timed again last
        retimed = timed(kept[0], False, 'first distiller again', max(a.warmup, 1)) / a.steps
    if kept and world > 1: dist.barrier()                                  # the other ranks wait for rank 0's retimed pass
    if rank != 0: return {}
    t1 = min(t1s)
    one = a.batch * a.steps / t1
    res = dict(batch_per_gpu=a.batch, steps=a.steps, warmup=a.warmup, precision=a.precision if dev.type == 'cuda' else 'fp32',
               img_per_s_1gpu=one, s_per_step_1gpu=t1 / a.steps, s_per_step_1gpu_passes=[t / a.steps for t in t1s])
    if warm is not None: res['load_before_passes'] = warm
    if retimed is not None: res['s_per_step_first_distiller_retimed'] = retimed   # not among the passes: not counted
    if trace: res['per_step'] = trace
    if tw is None: return res
    res['s_per_step_first_pass_by_rank'] = [t.item() / a.steps for t in by_rank]   # every rank ran it, on its own GPU
    many = world * a.batch * a.steps / tw
    return dict(res, img_per_s_2gpu=many if world == 2 else None, img_per_s_world=many, scaling_2gpu=many / (world * one) if world == 2 else None,
                scaling_world=many / (world * one), s_per_step_world=tw / a.steps)


def kernel_profiler(dev, host: bool = False):
    "A torch.profiler recording device activity only (the host side untraced, to disturb the launch timing least), or host ops only."
    from torch.profiler import profile, ProfilerActivity
    return profile(activities=[ProfilerActivity.CUDA if dev.type == 'cuda' and not host else ProfilerActivity.CPU])


def kernel_table(prof, cpu: bool = False, top: int = 40) -> list[dict]:
    "The `top` kernels by total device time (µs) in one profiled pass, or with `cpu` host ops by self CPU time: name, calls, total µs."
    rows = []
    for e in prof.key_averages():                                       # --profile host, or a CPU run: the ops' own CPU time
        us = e.self_cpu_time_total if cpu else getattr(e, 'device_time_total', getattr(e, 'cuda_time_total', 0))
        if us: rows.append(dict(name=e.key[:120], calls=e.count, us=float(us)))
    return sorted(rows, key=lambda r: -r['us'])[:top]


def kernel_diff_lines(trace, top: int = 15) -> list[str]:
    "Markdown: the kernels (or host ops) whose total time differs most between the first profiled pass and the second."
    if len(trace) < 2 or not trace[0].get('kernels') or not trace[1].get('kernels'): return []
    a, b = ({r['name']: r for r in p['kernels']} for p in trace[:2])
    tot = lambda k: sum(r['us'] for r in k.values())
    d = sorted(set(a) | set(b), key=lambda n: -abs(a.get(n, {}).get('us', 0) - b.get(n, {}).get('us', 0)))[:top]
    md = [f"Profiled kernels (top {len(trace[0]['kernels'])} per pass): pass 1 {tot(a) / 1e3:.1f} ms, pass 2 {tot(b) / 1e3:.1f} ms "
          f"over the timed steps (device time per kernel; with --profile host, self CPU time per op).", '', '| kernel | calls 1 / 2 | pass 1 ms | pass 2 ms | 1 - 2 ms |', '|---|---|---|---|---|']
    for n in d:
        x, y = a.get(n, {}), b.get(n, {})
        md.append(f"| `{n[:90]}` | {x.get('calls', 0)} / {y.get('calls', 0)} | {x.get('us', 0) / 1e3:.1f} | "
                  f"{y.get('us', 0) / 1e3:.1f} | {(x.get('us', 0) - y.get('us', 0)) / 1e3:+.1f} |")
    return md + ['']


def length_lines(trace) -> list[str]:
    """Markdown: each pass's steps split by whether their masked-token count (the encoder's sequence length) was new to
    the process, with the mean time of each group; the repeats also by thirds of the pass. A long first pass whose
    repeats stay at the steady state through its last third means every length's cuDNN attention plan stayed cached."""
    if not any(p.get('masked') for p in trace): return []
    mean = lambda xs: f'{sum(xs) / len(xs):.1f}' if xs else '-'
    md = ['| pass | steps | distinct lengths | steps at a new length: count, mean ms | at a length met before: count, mean ms '
          '| repeats by thirds of the pass, mean ms |', '|---|---|---|---|---|---|']
    for i, p in enumerate(trace):
        ms, src = (p['ms_gpu'], 'GPU') if p.get('ms_gpu') else (p['ms_host'], 'host')
        new = [m for m, f in zip(ms, p['new_length']) if f]
        old = [(j, m) for j, (m, f) in enumerate(zip(ms, p['new_length'])) if not f]
        thirds = [[m for j, m in old if k * len(ms) <= 3 * j < (k + 1) * len(ms)] for k in range(3)]
        md.append(f"| {i + 1} ({p['what']}) | {len(ms)} ({src} ms) | {len(set(p['masked']))} | {len(new)}, {mean(new)} | "
                  f"{len(old)}, {mean([m for _, m in old])} | {' / '.join(mean(t) for t in thirds)} |")
    return md + ['']


def diag_lines(res) -> list[str]:
    "Markdown lines for --load-s, --retime-first and --per-step (none when they were not asked for)."
    md, f = [], lambda v, fmt='.1f': '-' if v is None else format(v, fmt)
    mean = lambda xs: sum(xs) / len(xs) if xs else None
    if 'load_before_passes' in res:
        w = res['load_before_passes']
        md += [f"Before the first pass: {w['products']} products of {w['n']}² in {w['seconds']:.1f} s "
               f"(device before / after: {w['gpu_state_before']} / {w['gpu_state_after']}).", '']
    if 's_per_step_first_distiller_retimed' in res:
        md += [f"The first pass's distiller timed again after the last pass: {res['s_per_step_first_distiller_retimed']:.4f} s/step.", '']
    if 'per_step' in res:
        md += ['| pass | s/step | GPU ms per step, first 5 | GPU ms, last 5 | host ms per step (mean) | new segments (cudaMalloc) '
               '| GC collections (gen 0/1/2) | host page faults (minor) | host CPU s | SM / mem MHz, W, C after |',
               '|---|---|---|---|---|---|---|---|---|---|']
        for i, p in enumerate(res['per_step']):
            g, st = p['ms_gpu'] or [], p['gpu_state'] or {}
            md.append(f"| {i + 1} ({p['what']}) | {p['s_per_step']:.4f} | {f(mean(g[:5]))} | "
                      f"{f(mean(g[-5:]))} | {f(mean(p['ms_host']))} | {p['new_segments'] if p['new_segments'] is not None else '-'} | "
                      f"{'/'.join(map(str, p.get('gc_collections') or [])) or '-'} | {p.get('minor_faults', '-')} | "
                      f"{f(p.get('host_cpu_s'), '.2f')} | {', '.join(f'{v:g}' for v in st.values()) or '-'} |")
        md.append('')
        md += length_lines(res['per_step'])
        md += kernel_diff_lines(res['per_step'])
    return md


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--size', default='base')
    ap.add_argument('--batch', type=int, default=64, help='images per GPU per step (scaling run)')
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--one-gpu-passes', type=int, default=2, help='timed one-GPU passes: one before the DDP pass, the rest after')
    ap.add_argument('--one-gpu', action='store_true', help='world size 1, no torchrun: only the one-GPU passes, in a row')
    ap.add_argument('--per-step', action='store_true', help='record every timed step: GPU ms (CUDA events), host ms, '
                    'its masked-token count and whether the process met that count (the encoder\'s length) before, '
                    'and nvidia-smi clocks/power after each pass (per_step in the json)')
    ap.add_argument('--retime-first', action='store_true', help='time the first pass\'s distiller again after the '
                    'last pass (s_per_step_first_distiller_retimed): is a slow first pass the distiller or the process?')
    ap.add_argument('--profile', nargs='?', const='device', choices=('device', 'host'), help='(implies --per-step) profile '
                    'every timed pass\'s device kernels (or with `host` its host ops by self CPU time; torch.profiler; '
                    'kernels in the json, the first two passes compared in the md)')
    ap.add_argument('--no-cudnn-sdp', action='store_true', help='turn off the cuDNN backend of scaled_dot_product_attention '
                    '(torch.backends.cuda.enable_cudnn_sdp(False)): is a slow first pass cuDNN building a plan per new shape?')
    ap.add_argument('--gc-freeze', action='store_true', help='gc.collect() and gc.freeze() before each timed pass: '
                    'is a slow first pass Python\'s garbage collector walking what compiling left behind?')
    ap.add_argument('--load-s', type=float, default=0.0, help='run matrix products on the device for this many seconds '
                    'before the first pass (load_before_passes): is a slow first pass the device warming up?')
    ap.add_argument('--precision', default='bf16')
    ap.add_argument('--check-images', type=int, default=8, help='global batch of the equality check')
    ap.add_argument('--check-steps', type=int, default=3)
    ap.add_argument('--device', default=None)
    ap.add_argument('--model-overrides', default=None, help='JSON MARConfig overrides')
    ap.add_argument('--smoke', action='store_true', help='tiny random model on the CPU (gloo)')
    a = ap.parse_args()
    if a.profile: a.per_step = True                                     # the profile is kept in the per-step records
    if a.smoke:
        a.size, a.batch, a.steps, a.warmup, a.check_images, a.check_steps, a.device = 'tiny', 4, 2, 1, 4, 2, 'cpu'
        a.model_overrides = json.dumps({'encoder_depth': 1, 'decoder_depth': 1, 'diffloss_d': 1})
    from marval.train import init_distributed, cleanup_distributed
    from marval.bench import random_mar, device_name
    from marval.core import provenance, write_json, atomic_write_text
    rank, world, dev = init_distributed(a.device)
    if world < 2 and not a.one_gpu: raise SystemExit('run under torchrun with --nproc_per_node 2 (or more), or pass --one-gpu')
    if world > 1 and a.one_gpu: raise SystemExit('--one-gpu is for a single process (no torchrun)')
    torch.backends.cuda.matmul.allow_tf32 = False; torch.backends.cudnn.allow_tf32 = False
    if a.no_cudnn_sdp: torch.backends.cuda.enable_cudnn_sdp(False)     # SDPA falls back to flash / memory-efficient
    ov = json.loads(a.model_overrides) if a.model_overrides else {}
    teacher = random_mar(a.size, dev, seed=0, **ov)
    if world > 1:
        for p in teacher.parameters(): dist.broadcast(p.data, 0)        # the same frozen teacher on every rank
    preset_size = a.size if a.size in ('tiny', 'base', 'large', 'huge') else 'base'
    t0 = time.time()
    res = dict(provenance(), world_size=world, size=a.size, model_overrides=ov, device=device_name(dev))
    if world > 1: res.update(check_equal(teacher, dev, rank, world, a, preset_size))
    res.update(scaling(teacher, dev, rank, world, a, preset_size))
    res['seconds'] = time.time() - t0
    res['device'] = device_name(dev)
    args = shlex.join(sys.argv[1:])                                     # the exact arguments, --warmup etc. included
    env = ''.join(                                                      # and the environment settings the probes have used
        f'{k}={shlex.quote(os.environ[k])} ' for k in PROBE_ENV if k in os.environ)
    res['command'] = env + (f'python tools/gpu/ddp_check.py {args}' if world == 1 else
                            f'torchrun --standalone --nproc_per_node {world} tools/gpu/ddp_check.py {args}')
    passes = ', '.join(f'{t:.4f}' for t in res.get('s_per_step_1gpu_passes', []))
    out = Path(a.out)
    if rank == 0: out.mkdir(parents=True, exist_ok=True)
    if world == 1:
        write_json(res, out / 'one_gpu_passes.json')
        md = [f"# One-GPU passes: {res['device']}, torch {res['torch']}, {res['date']}", '',
              f"MAR-{a.size} (random weights), GSIM distillation iteration, {a.batch} images, {res['precision']}, "
              f"{a.steps} timed steps after {a.warmup}, {len(res['s_per_step_1gpu_passes'])} passes in one process "
              f"(each builds its own distiller).", '', f"s/step per pass, in order: {passes}; fastest: "
              f"{res['img_per_s_1gpu']:.1f} img/s", ''] + diag_lines(res) + [f"command: `{res['command']}`"]
        atomic_write_text('\n'.join(md) + '\n', out / 'one_gpu_passes.md')
        print('\n'.join(md), flush=True)
    elif rank == 0:
        write_json(res, out / 'ddp_check.json')
        md = [f"# DDP check: {world} x {res['device']}, torch {res['torch']}, {res['date']}", '',
              f"MAR-{a.size} (random weights{', overrides ' + json.dumps(ov) if ov else ''}), GSIM distillation.", '',
              f"## (a) {world}-GPU update vs 1-GPU update, same global batch ({res['check_images']} images, "
              f"{res['check_rows']} token rows, fp32, {res['check_steps']} updates)", '',
              '| module | grad rel. error (1st update) | param max abs diff | param diff / update size |', '|---|---|---|---|']
        md += [f"| {k} | {res[f'{k}_grad_rel_err']:.2e} | {res[f'{k}_param_max_abs_diff']:.2e} | "
               f"{res[f'{k}_param_diff_rel_to_update']:.2e} |" for k in ('gen', 'aux')]
        md += ['', f"replicas identical across ranks: {res['ranks_identical']}; **update_equal: {res['update_equal']}**", '',
               f"## (b) scaling, {a.batch} images per GPU, {a.precision}, {a.steps} timed steps after {a.warmup}", '',
               f"1 GPU (fastest pass; s/step per pass, in order, the first before DDP's, run on every rank: {passes}): "
               f"{res['img_per_s_1gpu']:.1f} img/s; {world} GPUs: {res['img_per_s_world']:.1f} img/s; "
               f"**scaling efficiency {res['scaling_world']:.3f}** ({res['scaling_world'] * world:.2f}x on {world} GPUs)", '']
        md += diag_lines(res) + [f"command: `{res['command']}`"]
        atomic_write_text('\n'.join(md) + '\n', out / 'ddp_check.md')
        print('\n'.join(md), flush=True)
    cleanup_distributed()


if __name__ == '__main__':
    main()

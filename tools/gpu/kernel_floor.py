"""GPU job (issue 6): the floors under the batch-1 student — what a chain of kernels costs on this device, apart from
what the kernels compute. The batch-1 MARVAL-B student is 78 ms compiled against a 40 ms target and a 6.3 ms roofline;
its profile (profile_step.py) is 289 kernels per AR step, 122 of them matrix products of ~6 µs. Two questions decide
what can close the gap, and this job measures both inside CUDA graphs (the sampler's launch mode):

1. **launch floor**: a graph of N kernels that do next to nothing (`x.add_(1)` on one element) — µs per kernel, i.e.
   the cost of the kernel count alone (289 per step x 64 steps per image);
2. **product floor**: the matrix products of the student's AR steps and nothing else, at their exact shapes
   (`step_products`: encoder on the buffer + known rows, decoder on all rows, its last block at the predicted rows,
   the head's condition embedding and its one call), as `F.linear` in bf16 — µs per product and ms per image, i.e.
   what any implementation made of these cuBLAS products costs before attention, norms and activations.

    PYTHONPATH=$PWD python3 tools/gpu/kernel_floor.py --out $OUT/floor                 # MARVAL-B, batch 1, K = 64

Writes kernel_floor_<size>_bs<batch>.md / .json to --out. CPU smoke test (tiny model, no graphs): --smoke.
"""
import argparse, json, sys, time
from pathlib import Path
import torch
import torch.nn.functional as F


def step_products(mc, B: int, cur: int, m: int, head_calls: int = 1) -> list[tuple[int, int, int]]:
    """(rows, in, out) of every matrix product of one fast-sampler AR step on B image rows (B2 with CFG) with `cur`
    masked tokens before the step and `m` predicted: their FLOPs (2·rows·in·out) add up to `marval.bench.sampler_cost`'s
    linear-layer FLOPs of that step (tested)."""
    De, Dd, C, W, d = mc.encoder_embed_dim, mc.decoder_embed_dim, mc.token_embed_dim, mc.diffloss_w, mc.diffloss_d
    hid_e, hid_d = int(De * mc.mlp_ratio), int(Dd * mc.mlp_ratio)
    Re, Rd, Rm = B * (mc.buffer_size + mc.seq_len - cur), B * (mc.buffer_size + mc.seq_len), B * m
    block = lambda R, D, H: [(R, D, 3 * D), (R, D, D), (R, D, H), (R, H, D)]          # qkv, proj, fc1, fc2
    p = [(B * (mc.seq_len - cur), C, De)]                                            # z_proj of the known tokens
    p += block(Re, De, hid_e) * mc.encoder_depth + [(Re, De, Dd)]                     # encoder, decoder_embed
    p += block(Rd, Dd, hid_d) * (mc.decoder_depth - 1)                                # decoder but its last block
    p += [(Rd, Dd, 2 * Dd), (Rm, Dd, Dd), (Rm, Dd, Dd), (Rm, Dd, hid_d), (Rm, hid_d, Dd)]   # last block: K,V all rows
    p += [(Rm, Dd, W)]                                                                # head cond_embed, once per step
    head = [(Rm, C, W), (Rm, W, (3 * d + 2) * W)] + [(Rm, W, W)] * (2 * d) + [(Rm, W, 2 * C)]   # fused adaLN
    return p + head * head_calls


def graph_time(fn, device, reps: int = 20, cuda: bool = True) -> float:
    "Median seconds of one replay of `fn` captured in a CUDA graph (on the CPU: of a plain call)."
    from marval.bench import time_fn
    if not cuda: return time_fn(fn, reps, 1, device)['median_s']
    side = torch.cuda.Stream(); side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(2): fn()
    torch.cuda.current_stream().wait_stream(side)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g): fn()
    return time_fn(g.replay, reps, 2, device)['median_s']


def main(argv=None):
    from marval.bench import sampler_cost
    from marval.config import get_preset
    from marval.core import provenance
    from marval.fast_sampling import step_plan
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', required=True)
    ap.add_argument('--size', default='base')
    ap.add_argument('--batch', type=int, default=1)
    ap.add_argument('--K', type=int, default=64)
    ap.add_argument('--chain', default='100,300,1000', help='kernel counts of the launch-floor graphs')
    ap.add_argument('--smoke', action='store_true', help='a tiny model on the CPU, no graphs (a test of this script)')
    a = ap.parse_args(argv)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    cuda = not a.smoke
    dev = torch.device('cuda' if cuda else 'cpu')
    if a.smoke: a.size, a.K, a.chain = 'tiny', 3, '10,30'
    mc = get_preset(a.size).model
    dt = torch.bfloat16 if cuda else torch.float32
    dname, prov = (torch.cuda.get_device_name() if cuda else 'cpu'), provenance()
    res = dict(meta=dict(prov, device=dname, size=a.size, batch=a.batch, K=a.K, dtype=str(dt)), launch=[], steps=[])
    # 1. launch floor
    x = torch.zeros(1, device=dev)
    for n in [int(c) for c in a.chain.split(',')]:
        s = graph_time(lambda n=n: [x.add_(1) for _ in range(n)], dev, cuda=cuda)
        res['launch'].append(dict(kernels=n, s=s, us_per_kernel=s / n * 1e6))
        print(f'launch floor: {n} kernels {s * 1e6:.0f} µs = {s / n * 1e6:.2f} µs each', flush=True)
    stem = f'kernel_floor_{a.size}_bs{a.batch}'
    (out / f'{stem}.json').write_text(json.dumps(res, indent=1))              # the launch part, in case the call is cut
    # 2. product floor: every AR step's products, one graph per step
    plan = [(cur, cur - nxt) for cur, nxt, _ in step_plan(mc.seq_len, a.K) if cur > nxt]
    ws = None
    for cur, m in plan:
        prods = step_products(mc, a.batch, cur, m)
        if ws is None:   # one weight per product, the same at every step (as the model's layers): read from HBM, not L2
            ws = [(torch.randn(n, k, device=dev, dtype=dt) * 0.02, torch.zeros(n, device=dev, dtype=dt)) for _, k, n in prods]
        ins = [torch.randn(r, k, device=dev, dtype=dt) for r, k, _ in prods]
        s = graph_time(lambda: [F.linear(i, *wb) for i, wb in zip(ins, ws)], dev, reps=10, cuda=cuda)
        res['steps'].append(dict(cur=cur, m=m, products=len(prods), s=s, us_per_product=s / len(prods) * 1e6,
                                 gflop=sum(2 * r * k * n for r, k, n in prods) / 1e9))
        del ins
    tot = sum(r['s'] for r in res['steps'])
    cost = sampler_cost(mc, 'student', a.batch, a.K)
    res['products_s_per_call'], res['products_per_step'] = tot, res['steps'][0]['products']
    res['tflops_per_s'] = (cost['flops'] - cost['attn_flops']) / tot / 1e12
    print(f"product floor: {tot * 1e3:.2f} ms per call ({len(plan)} steps, {res['products_per_step']} products each, "
          f"{res['tflops_per_s']:.1f} TFLOP/s)", flush=True)
    cmd = 'PYTHONPATH=$PWD python3 tools/gpu/kernel_floor.py ' + ' '.join(sys.argv[1:] if argv is None else argv)
    res['meta']['command'] = cmd
    md = [f'# Kernel floors under the MARVAL-{a.size[0].upper()} student, batch {a.batch}, K = {a.K}', '',
          f"{dname}, torch {torch.__version__}, {prov['date']}; command: `{cmd}`" + ('' if cuda else ' (CPU smoke: no graphs)'), '',
          '## Launch floor (graphs of near-empty kernels)', '', '| kernels | µs per graph | µs per kernel |', '|---|---|---|',
          *[f"| {r['kernels']} | {r['s'] * 1e6:.0f} | {r['us_per_kernel']:.2f} |" for r in res['launch']], '',
          f"## Product floor: the products of every AR step alone, one graph per step", '',
          f"{res['products_per_step']} products per AR step; **{tot * 1e3:.2f} ms per call** "
          f"({res['tflops_per_s']:.1f} TFLOP/s on the linear-layer FLOPs of `sampler_cost`)", '',
          '| masked before | predicted | µs per step | µs per product | GFLOP |', '|---|---|---|---|---|',
          *[f"| {r['cur']} | {r['m']} | {r['s'] * 1e6:.0f} | {r['us_per_product']:.2f} | {r['gflop']:.1f} |" for r in res['steps'][::max(1, len(res['steps']) // 8)]], '']
    (out / f'{stem}.md').write_text('\n'.join(md) + '\n')
    (out / f'{stem}.json').write_text(json.dumps(res, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())

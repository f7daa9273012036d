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

With `--triton` it also asks whether other kernels for the same products do better (`marval.kernels.fused_linear`):

3. a tile sweep (`SWEEP`, 72 tile shapes) on representative product shapes against cuBLAS;
4. every step's products with `pick_config`'s tiles and with the sweep's best tile for the nearest swept shape;
5. one transformer block without attention, as torch ops (LN, 4 products, GELU, 2 adds) and as four fused kernels.

With `--split-k 1,2,4` the sweep of section 3 also tries each tile with K split over that many programs per output
tile (`fused_linear(split_k=)`: the tile's last program sums the partial sums and runs the epilogue), so that the
batch-1 products, whose tile grids cover a fraction of the SMs, read their weights through more of them; sections 4
and 5 then use the best (tile, split) per shape.

With `--pdl` (Hopper+) it asks whether programmatic dependent launch shortens the chain: each kernel may start while
the previous one still runs, then waits on `griddepcontrol.wait` for the previous kernel's writes
(`fused_linear(pdl=True)`), and with `prefetch=True` reads its first weight chunk before that wait. It adds the launch
floor of a near-empty Triton kernel with and without PDL, the check of both variants, and sections 4 and 5 with each.

    PYTHONPATH=$PWD python3 tools/gpu/kernel_floor.py --out $OUT/floor --triton        # MARVAL-B, batch 1, K = 64
    # PDL, with the sweep cut to the best tiles of an earlier report (far fewer compiles):
    PYTHONPATH=$PWD python3 tools/gpu/kernel_floor.py --out $OUT/floor --triton --pdl --tiles-from results/bench/kernel_floor_base_bs1.json
    # split-K, the same cut sweep, each tile with K in 1, 2, 4 or 8 chunks:
    PYTHONPATH=$PWD python3 tools/gpu/kernel_floor.py --out $OUT/floor --triton --split-k 1,2,4,8 --tiles-from results/bench/kernel_floor_base_bs1.json

With `--l2` it asks whether the products are slow because each reads its weight from HBM: the weights of one AR step
(391 MB at MARVAL-B, counted by this section) do not fit in L2 (50 MB on an H100), so every product starts with a cold read, at a few dozen
programs per product. Section 6 times every step's products three more ways, one graph per step as in section 2:

6. *warm*: one weight per (in, out) shape shared by all the blocks, so that every weight but the first of its shape is
   read from L2 (an upper bound on what any L2 scheme can return); *flat*: the step's own weights packed in one buffer in
   product order (the baseline of the next); *prefetch*: the same, with a second stream inside the graph that, when the
   products of group g start, reads the weights of group g + 1 (groups of `--l2-group` products) into L2 with
   `--l2-programs` programs (`_l2_read_kernel`: loads and a sum that is never stored), joined at the end of the step;
   once per (group, programs) pair of the two comma lists.

    PYTHONPATH=$PWD python3 tools/gpu/kernel_floor.py --out $OUT/floor --l2 --l2-group 4,8 --l2-programs 8,32 --chain 100

With `--persistent` it asks whether the products are slow because each is a kernel of its own:

7. every AR step's products as ONE persistent Triton kernel (`marval.kernels.LinearChain` of `step_chain`: one program
   per SM walks every product's tiles in order, each tile waiting on counters for the rows it reads, with the data flow
   of the real step), checked against `F.linear` product by product, then one graph per step as in section 2; once per
   tile of `--chain-tiles`, K split of `--chain-split` ('auto': enough chunks to give every program a unit) and
   `--chain-prefetch` (1: each unit reads its first weight chunk before its waits); with `--chain-trace` the middle
   step is run once more with a timestamp per unit (`LinearChain(trace=True)`), to say where the time goes.

    PYTHONPATH=$PWD python3 tools/gpu/kernel_floor.py --out $OUT/floor --persistent --chain-tiles '64,64,64,4,3;64,128,64,4,3' --chain-split auto,1
    PYTHONPATH=$PWD python3 tools/gpu/kernel_floor.py --out $OUT/floor --persistent --chain-tiles '64,64,128,4,3' --chain-split auto --chain-prefetch 0,1 --chain-trace

With `--mlp` it asks whether fewer dependency levels pay, starting with the MLP (fc1 → GELU → fc2, two of a block's
four products and its longest K loop):

8. every transformer block's MLP as ONE kernel (`marval.kernels.fused_mlp`: program (row block, hidden slice) keeps its
   hidden tile on the SM and adds its share of the output in fp32) against two cuBLAS products (fc1 with its GELU
   epilogue, fc2): a sweep of `--mlp-tiles` (default `MLP_SWEEP`, 24 tiles) at five row counts over every block's
   weights, then every step's MLPs both ways, then every step's products (section 2) with each MLP fused.

    PYTHONPATH=$PWD python3 tools/gpu/kernel_floor.py --out $OUT/floor --mlp

Writes kernel_floor_<size>_bs<batch>.md / .json to --out (the JSON after every section). CPU smoke test (tiny model,
no graphs): --smoke; with --triton, --persistent or --mlp it needs TRITON_INTERPRET=1.
"""
import argparse, contextlib, json, sys, time
from collections import Counter
from pathlib import Path
import torch
import torch.nn.functional as F
try:
    import triton, triton.language as tl
except ImportError:
    triton = None

if triton is not None:
    @triton.jit
    def _touch_kernel(x_ptr, PDL: tl.constexpr):
        # one program adds 1 to one element: a kernel that costs its launch and nothing else
        if PDL:
            tl.extra.cuda.gdc_wait()
            tl.extra.cuda.gdc_launch_dependents()
        tl.store(x_ptr, tl.load(x_ptr) + 1)


if triton is not None:
    @triton.jit
    def _l2_read_kernel(x_ptr, n, iters, out_ptr, magic, BLOCK: tl.constexpr):
        # program p reads chunks p, p + P, p + 2P, ... of x (n elements): the lines land in L2; its sum is stored only if
        # it equals `magic` (NaN when reading ahead: never), so that the loads are kept
        pid, P = tl.program_id(0), tl.num_programs(0)
        acc = tl.zeros([BLOCK], dtype=tl.float32)
        for i in range(0, iters):
            offs = (i * P + pid).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
            acc += tl.load(x_ptr + offs, mask=offs < n, other=0.).to(tl.float32)
        s = tl.sum(acc, axis=0)
        if s == tl.cast(magic, tl.float32):
            tl.store(out_ptr + pid, s)


def l2_read(x, programs: int, sink, block: int = 4096):
    "Read the flat tensor `x` once with `programs` programs (into L2); on the CPU or without Triton a sum does the reading."
    if x.device.type != 'cuda' or triton is None:
        sink[0] = x.float().sum(); return
    n = x.numel()
    _l2_read_kernel[(programs,)](x, n, triton.cdiv(n, programs * block), sink, float('nan'), BLOCK=block, num_warps=8)


def touch(x, pdl: bool):
    _touch_kernel[(1,)](x, PDL=pdl, **(dict(launch_pdl=True) if pdl else {}))


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


def step_chain(mc, B: int, cur: int, m: int) -> list[dict]:
    """`step_products` as `marval.kernels.LinearChain` specs, with the data flow of the AR step: inside a block qkv →
    (attention: all of qkv) → proj → fc1 → fc2 → the next block's qkv each read the previous output row-wise; where the
    rows change (encoder input, decoder input, the last block's query rows) a product waits on all of the previous one
    and reads an input of its own; the head's products read the condition embedding / the previous product row-wise and
    its modulation (the fused adaLN product) as well. Same (rows, in, out) list, same order (tested)."""
    prods = step_products(mc, B, cur, m)
    specs = [dict(M=r, K=k, N=n) for r, k, n in prods]
    rows = lambda j: ('rows', j)
    i = 1                                                                # 0: z_proj, own input, no wait
    def block(first_src, first_deps):
        nonlocal i
        q, pr, f1, f2 = i, i + 1, i + 2, i + 3
        specs[q].update(src=first_src, deps=first_deps)
        specs[pr].update(src=q, deps=[('all', q)])                       # attention reads every row of qkv
        specs[f1].update(src=pr, deps=[rows(pr)]); specs[f2].update(src=f1, deps=[rows(f1)])
        i += 4
        return f2
    last = None
    for b in range(mc.encoder_depth):
        last = block(None, [('all', 0)]) if b == 0 else block(last, [rows(last)])
    specs[i].update(src=last, deps=[rows(last)]); emb = i; i += 1        # decoder_embed
    for b in range(mc.decoder_depth - 1):
        last = block(None, [('all', emb)]) if b == 0 else block(last, [rows(last)])
    kv, q, pr, f1, f2 = range(i, i + 5)                                  # the last block: K, V on all rows, the rest at m
    specs[kv].update(src=last, deps=[rows(last)]); specs[q].update(deps=[('all', last)])
    specs[pr].update(src=q, deps=[('all', q), ('all', kv)])
    specs[f1].update(src=pr, deps=[rows(pr)]); specs[f2].update(src=f1, deps=[rows(f1)])
    cond, inp, mod = i + 5, i + 6, i + 7                                 # cond_embed, the head's input_proj, its adaLN
    specs[cond].update(src=f2, deps=[rows(f2)]); specs[mod].update(src=cond, deps=[rows(cond)])
    last = inp
    for j in range(mod + 1, len(specs)):                                 # resblock fc1, fc2, ..., the final layer
        specs[j].update(src=last, deps=[rows(last), rows(mod)]); last = j
    return specs


def graph_time(fn, device, reps: int = 20, cuda: bool = True) -> float:
    "Median seconds of one replay of `fn` captured in a CUDA graph (on the CPU: of a plain call)."
    from marval.bench import time_fn
    from marval.kernels import capture_graph
    if not cuda: return time_fn(fn, reps, 1, device)['median_s']
    return time_fn(capture_graph(fn, warmup=2)[0].replay, reps, 2, device)['median_s']


SWEEP = [(bm, bn, bk, w, st) for bm in (16, 32, 64) for bn in (32, 64, 128) for bk in (64, 128, 256)
         for w, st in ((4, 3), (4, 4), (8, 3)) if not (bk == 64 and w == 8)]      # 72 tiles; some exceed shared memory


PDL_VARIANTS = dict(pdl=dict(pdl=True), pdl_prefetch=dict(pdl=True, prefetch=True))   # fused_linear's keywords


def split_list(text: str) -> list[int]:
    "`--split-k` / `--l2-group` / `--l2-programs` ('1,2,4') as a list of whole numbers >= 1."
    try: ks = [int(v) for v in text.split(',')]
    except ValueError: ks = []
    if not ks or min(ks) < 1: raise SystemExit(f'wants whole numbers >= 1 separated by commas, got {text!r}')
    return ks


def sweep_tiles(a, cuda) -> list:
    """The tiles section 3 sweeps: `SWEEP`, or (`--tiles-from`) the best tiles (BM, BN, BK, warps, stages) of an earlier
    report's sweep; with `--split-k` other than 1 each tile once per split, as (BM, BN, BK, warps, stages, split)."""
    ks = split_list(a.split_k)
    if not cuda: tiles = SWEEP[:2]
    elif not a.tiles_from: tiles = SWEEP
    else:
        prev = json.loads(Path(a.tiles_from).read_text())
        if 'triton' not in prev or not prev['triton'].get('sweep'):
            raise SystemExit(f'{a.tiles_from} has no Triton sweep (written by a run without --triton?)')
        tiles = sorted({tuple(r['best'][:5]) for r in prev['triton']['sweep']})
    return tiles if ks == [1] else [tuple(c) + (k,) for c in tiles for k in ks]


def fitting(x, wb, c, kw):
    """Tile `c` for `fused_linear(x, *wb, **kw)`, with one pipeline stage fewer at a time while Triton reports that it
    does not fit in shared memory (the weight chunk read before the loop, `prefetch`, needs room of its own)."""
    from marval.kernels import fused_linear
    from triton.runtime.errors import OutOfResources
    c = list(c)
    while True:
        try: fused_linear(x, *wb, config=tuple(c), **kw); return c
        except OutOfResources:
            if c[4] <= 1: raise
            c[4] -= 1


def triton_products(res, mc, a, plan, ws, dev, dt, cuda, path):
    """Sections 3-5: `fused_linear` at the student's products. 3: a tile sweep on representative shapes (per (in, out),
    the smallest, median and largest row count of the call) against cuBLAS; 4: every step's products with
    `pick_config` and with the sweep's best tile of the nearest swept shape; 5: one transformer block without
    attention (LN, qkv, proj + residual, LN, fc1, GELU, fc2 + residual) as torch ops and as four fused kernels."""
    from marval.kernels import check_fused_linear, fused_linear, pick_config
    sweep = sweep_tiles(a, cuda)
    t = res['triton'] = dict(check=check_fused_linear(dev, dt), sweep=[], steps=[], tiles=len(sweep), split_k=split_list(a.split_k))
    print('fused_linear check:', all(r['ok'] for r in t['check']), flush=True)
    for k in t['split_k']:
        if k > 1:
            t[f'check_split{k}'] = check_fused_linear(dev, dt, split_k=k)
            print(f'fused_linear(split_k={k}) check:', all(r['ok'] for r in t[f'check_split{k}']), flush=True)
    for v, kw in (PDL_VARIANTS.items() if a.pdl else ()):
        t[f'check_{v}'] = check_fused_linear(dev, dt, **kw)
        print(f'fused_linear({kw}) check:', all(r['ok'] for r in t[f'check_{v}']), flush=True)
    by_kn = {}
    for cur, m in plan:
        for r, k, n in step_products(mc, a.batch, cur, m):
            if r: by_kn.setdefault((k, n), set()).add(r)
    shapes = sorted({(rs[i], k, n) for (k, n), rs in ((kn, sorted(v)) for kn, v in by_kn.items())
                     for i in (0, len(rs) // 2, len(rs) - 1)})
    copies, reps = (8, 10) if cuda else (1, 1)
    if not cuda: shapes, plan = shapes[:2], plan[:1]                    # the CPU smoke: the interpreter is slow
    for r, k, n in shapes:      # 8 distinct weights per graph (the smaller ones may stay in L2 across replays; section 4 does not)
        W = [torch.randn(n, k, device=dev, dtype=dt) * 0.02 for _ in range(copies)]
        b, x = torch.zeros(n, device=dev, dtype=dt), torch.randn(r, k, device=dev, dtype=dt)
        row = dict(rows=r, k=k, n=n, cublas_us=graph_time(lambda: [F.linear(x, w, b) for w in W], dev, reps, cuda) / copies * 1e6)
        row['pick'], row['pick_us'] = list(pick_config(r, n, k)), None
        best = None
        for c in sweep:
            try: us = graph_time(lambda c=c: [fused_linear(x, w, b, config=c) for w in W], dev, reps, cuda) / copies * 1e6
            except Exception as e: print('config', c, 'failed:', repr(e)[:200], flush=True); continue
            if list(c) == row['pick']: row['pick_us'] = us
            if best is None or us < best[1]: best = (list(c), us)
        if row['pick_us'] is None:
            row['pick_us'] = graph_time(lambda: [fused_linear(x, w, b) for w in W], dev, reps, cuda) / copies * 1e6
        row['best'], row['best_us'] = best
        t['sweep'].append(row)
        print(f"({r}, {k}) x ({k}, {n}): cuBLAS {row['cublas_us']:.2f} µs, pick {row['pick']} {row['pick_us']:.2f} µs, "
              f"best {row['best']} {row['best_us']:.2f} µs", flush=True)
        path.write_text(json.dumps(res, indent=1))

    def nearest(r, k, n):
        cands = [s for s in t['sweep'] if (s['k'], s['n']) == (k, n)]
        return min(cands, key=lambda s: abs(s['rows'] - r))['best'] if cands else None
    for cur, m in plan:
        prods = step_products(mc, a.batch, cur, m)
        ins = [torch.randn(r, k, device=dev, dtype=dt) for r, k, _ in prods]
        live = [(i, wb, nearest(*p)) for i, wb, p in zip(ins, ws, prods) if p[0]]
        row = dict(cur=cur, m=m)
        row['pick_s'] = graph_time(lambda: [fused_linear(i, *wb) for i, wb, _ in live], dev, reps, cuda)
        row['best_s'] = graph_time(lambda: [fused_linear(i, *wb, config=c) for i, wb, c in live], dev, reps, cuda)
        for v, kw in (PDL_VARIANTS.items() if a.pdl else ()):
            cv = [fitting(i, wb, c, kw) for i, wb, c in live]          # the prefetched chunk needs shared memory too
            row[f'{v}_fewer_stages'] = sum(x != c for x, (_, _, c) in zip(cv, live))
            row[f'best_{v}_s'] = graph_time(lambda kw=kw, cv=cv: [fused_linear(i, *wb, config=x, **kw)
                                                                   for (i, wb, _), x in zip(live, cv)], dev, reps, cuda)
        t['steps'].append(row)
    t['pick_s_per_call'] = sum(r['pick_s'] for r in t['steps'])
    t['best_s_per_call'] = sum(r['best_s'] for r in t['steps'])
    for v in (PDL_VARIANTS if a.pdl else ()):
        t[f'best_{v}_s_per_call'] = sum(r[f'best_{v}_s'] for r in t['steps'])
        t[f'{v}_fewer_stages'] = sum(r[f'{v}_fewer_stages'] for r in t['steps'])
    print(f"triton products: pick_config {t['pick_s_per_call'] * 1e3:.2f} ms, best tiles {t['best_s_per_call'] * 1e3:.2f} ms "
          + ''.join(f"({v} {t[f'best_{v}_s_per_call'] * 1e3:.2f} ms) " for v in (PDL_VARIANTS if a.pdl else ()))
          + f"per call (cuBLAS {res['products_s_per_call'] * 1e3:.2f} ms)", flush=True)
    path.write_text(json.dumps(res, indent=1))
    # 5. one block without attention, at the encoder's and the decoder's row counts of the middle step
    D, H = mc.decoder_embed_dim, int(mc.decoder_embed_dim * mc.mlp_ratio)
    cur = plan[len(plan) // 2][0]
    t['block'] = []
    for where, R in (('encoder', a.batch * (mc.buffer_size + mc.seq_len - cur)), ('decoder', a.batch * (mc.buffer_size + mc.seq_len))):
        blocks = []
        for _ in range(copies):
            w = lambda o, i: torch.randn(o, i, device=dev, dtype=dt) * 0.02
            z = lambda o: torch.zeros(o, device=dev, dtype=dt)
            blocks.append(dict(ln1=torch.nn.LayerNorm(D, eps=1e-6).to(dev, dt), ln2=torch.nn.LayerNorm(D, eps=1e-6).to(dev, dt),
                               qkv=(w(3 * D, D), z(3 * D)), proj=(w(D, D), z(D)), fc1=(w(H, D), z(H)), fc2=(w(D, H), z(D))))
        x0 = torch.randn(R, D, device=dev, dtype=dt)
        cfg = [nearest(R, D, 3 * D), nearest(R, D, D), nearest(R, D, H), nearest(R, H, D)]   # the sweep's best tiles

        def torch_chain():
            x = x0
            for p in blocks:
                q = F.linear(p['ln1'](x), *p['qkv'])
                x = x + F.linear(q[:, :D], *p['proj'])                  # attention left out: its output is q's first third
                x = x + F.linear(F.gelu(F.linear(p['ln2'](x), *p['fc1'])), *p['fc2'])
            return x

        def fused_chain(cfg=cfg, **kw):
            x = x0
            for p in blocks:
                q = fused_linear(x, *p['qkv'], ln=p['ln1'], config=cfg[0], **kw)
                x = fused_linear(q[:, :D], *p['proj'], residual=x, config=cfg[1], **kw)
                h = fused_linear(x, *p['fc1'], ln=p['ln2'], gelu=True, config=cfg[2], **kw)
                x = fused_linear(h, *p['fc2'], residual=x, config=cfg[3], **kw)
            return x
        p0 = blocks[0]
        probes = [(x0, p0['qkv']), (x0, p0['proj']), (x0, p0['fc1']), (torch.zeros(R, H, device=dev, dtype=dt), p0['fc2'])]
        with torch.no_grad():
            ref = torch_chain().float()
            rel = ((fused_chain().float() - ref).norm() / ref.norm()).item()
            row = dict(where=where, rows=R, torch_us=graph_time(torch_chain, dev, reps, cuda) / copies * 1e6,
                       fused_us=graph_time(fused_chain, dev, reps, cuda) / copies * 1e6, rel_l2=rel)
            for v, kw in (PDL_VARIANTS.items() if a.pdl else ()):   # each kernel's wait orders it after the previous one
                cv = [tuple(fitting(x, wb, c, kw)) for (x, wb), c in zip(probes, cfg)]
                g = lambda kw=kw, cv=cv: fused_chain(cv, **kw)
                row[f'{v}_rel_l2'] = ((g().float() - ref).norm() / ref.norm()).item()
                row[f'fused_{v}_us'] = graph_time(g, dev, reps, cuda) / copies * 1e6
                row[f'{v}_graph_rel_l2'] = graph_rel(g, ref, dev)
        t['block'].append(row)
        print(f"block without attention, {where} ({R} rows): torch {row['torch_us']:.1f} µs, fused {row['fused_us']:.1f} µs"
              + ''.join(f", fused {v} {row[f'fused_{v}_us']:.1f} µs (rel L2 {row[f'{v}_rel_l2']:.1e}, in a graph "
                        f"{row[f'{v}_graph_rel_l2']:.1e})" for v in (PDL_VARIANTS if a.pdl else ()))
              + f", rel L2 {rel:.1e}", flush=True)
    path.write_text(json.dumps(res, indent=1))


def l2_section(res, mc, a, plan, dev, dt, cuda, path):
    """Section 6 (`--l2`): every step's products with the weights warm in L2 (one weight per shape), from one flat
    buffer (cold, the baseline), and from that buffer with the next group's weights read into L2 on a second stream."""
    pairs = [(G, P) for G in split_list(a.l2_group) for P in split_list(a.l2_programs)]
    prods0 = step_products(mc, a.batch, *plan[0])
    shared = {}                                                      # warm: one weight per (in, out)
    for _, k, n in prods0:
        if (k, n) not in shared: shared[(k, n)] = (torch.randn(n, k, device=dev, dtype=dt) * 0.02, torch.zeros(n, device=dev, dtype=dt))
    sizes = [k * n for _, k, n in prods0]
    offs = [0]
    for z in sizes: offs.append(offs[-1] + z)
    flat = torch.randn(offs[-1], device=dev, dtype=dt) * 0.02        # the step's weights, packed in product order
    fw = [(flat[o:o + z].view(n, k), shared[(k, n)][1]) for o, z, (_, k, n) in zip(offs, sizes, prods0)]
    sink = torch.zeros(max(P for _, P in pairs), device=dev, dtype=torch.float32)
    side = torch.cuda.Stream() if cuda else None
    reps = 10 if cuda else 1

    def prefetched(ins, live, G, P):
        main = torch.cuda.current_stream() if cuda else None
        for j, (i, wb) in enumerate(zip(ins, live)):
            if j % G == 0 and j + G < len(live):                     # group j // G starts: read group j // G + 1
                lo, hi = offs[j + G], offs[min(j + 2 * G, len(live))]
                if cuda: side.wait_stream(main)
                with torch.cuda.stream(side) if cuda else contextlib.nullcontext(): l2_read(flat[lo:hi], P, sink)
            F.linear(i, *wb)
        if cuda: main.wait_stream(side)

    rows = []
    for (cur, m), base in zip(plan, res['steps']):
        prods = step_products(mc, a.batch, cur, m)
        ins = [torch.randn(r, k, device=dev, dtype=dt) for r, k, _ in prods]     # 0 rows (no known token yet): an empty product
        warm = [shared[(k, n)] for _, k, n in prods]
        row = dict(cur=cur, m=m, cold_s=base['s'])
        row['warm_s'] = graph_time(lambda: [F.linear(i, *wb) for i, wb in zip(ins, warm)], dev, reps, cuda)
        row['flat_s'] = graph_time(lambda: [F.linear(i, *wb) for i, wb in zip(ins, fw)], dev, reps, cuda)
        for G, P in pairs:
            row[f'prefetch_g{G}_p{P}_s'] = graph_time(lambda G=G, P=P: prefetched(ins, fw, G, P), dev, reps, cuda)
        rows.append(row)
        del ins
    l2 = res['l2'] = dict(pairs=pairs, steps=rows, weight_mb_per_step=offs[-1] * flat.element_size() / 2**20,
                          warm_mb=sum(w.numel() for w, _ in shared.values()) * flat.element_size() / 2**20)
    vs = ['cold', 'warm', 'flat'] + [f'prefetch_g{G}_p{P}' for G, P in pairs]
    for v in vs: l2[f'{v}_s_per_call'] = sum(r[f'{v}_s'] for r in rows)
    print('L2: products per call ' + ', '.join(f"{v} {l2[f'{v}_s_per_call'] * 1e3:.2f} ms" for v in vs), flush=True)
    path.write_text(json.dumps(res, indent=1))


def l2_md(res):
    l2 = res['l2']
    ms = lambda v: f"{l2[f'{v}_s_per_call'] * 1e3:.2f}"
    return ['## L2: the products with their weights in L2 (section 6, `--l2`)', '',
            f"weights per AR step {l2['weight_mb_per_step']:.0f} MB; shared per shape (warm) {l2['warm_mb']:.0f} MB", '',
            '| products of every step | ms per call |', '|---|---|',
            f"| cold: one weight per product (section 2) | {ms('cold')} |",
            f"| warm: one weight per (in, out) shape, read from L2 after its first use | {ms('warm')} |",
            f"| flat: one weight per product, packed in one buffer | {ms('flat')} |",
            *[f"| flat + the next group's weights read into L2 on a second stream: groups of {G} products, {P} programs | "
              f"{ms(f'prefetch_g{G}_p{P}')} |" for G, P in l2['pairs']], '']


def tile_list(text: str, names: tuple[str, ...]) -> list[tuple]:
    "Tiles ('64,64,64,4,3;32,64,128,4,3') as a list of tuples of whole numbers >= 1, one per name in `names`."
    try: tiles = [tuple(int(v) for v in t.split(',')) for t in text.split(';') if t.strip()]
    except ValueError: tiles = []
    if not tiles or any(len(t) != len(names) or min(t) < 1 for t in tiles):
        raise SystemExit(f"wants tiles {','.join(names)} separated by semicolons, got {text!r}")
    return tiles


def chain_tiles(text: str) -> list[tuple]:
    "`--chain-tiles` as a list of (BM, BN, BK, warps, stages)."
    return tile_list(text, ('BM', 'BN', 'BK', 'warps', 'stages'))


def persistent_section(res, mc, a, plan, dev, dt, cuda, path):
    """Section 7 (`--persistent`): every AR step's products as ONE persistent kernel (`marval.kernels.LinearChain` of
    `step_chain`), for each tile of `--chain-tiles` and each split of `--chain-split`; checked on the check chain and
    on the first and middle steps against `F.linear` product by product, then timed per step in a CUDA graph."""
    from marval.kernels import LinearChain, check_chain
    tiles = chain_tiles(a.chain_tiles)
    splits = [v if v == 'auto' else int(v) for v in a.chain_split.split(',')]
    programs = a.chain_programs or (torch.cuda.get_device_properties(dev).multi_processor_count if cuda else 1)
    if not cuda: tiles, splits, plan = [(32, 64, 32, 4, 2)], splits[:1], plan[:1]   # the interpreter is slow
    reps = 10 if cuda else 1
    prefetches = [bool(int(v)) for v in a.chain_prefetch.split(',')]
    pc = res['persistent'] = dict(programs=programs, tiles=[list(t) for t in tiles], splits=splits, prefetch=prefetches, runs=[])
    w0 = None
    for cfg, split, pf in [(c, k, f) for c in tiles for k in splits for f in prefetches]:
        run = dict(config=list(cfg), split=split, prefetch=pf)
        chain = lambda cur, m, trace=False: LinearChain(step_chain(mc, a.batch, cur, m), dev, dt, config=cfg, programs=programs,
                                                        split=split, weights=w0, prefetch=pf, trace=trace)
        try:
            run['check'] = check_chain(dev, dt, programs=programs, config=cfg, splits=(split,), prefetch=pf)
            steps, worst = [], 0.
            for n, (cur, m) in enumerate(plan):
                ch = chain(cur, m)
                w0 = ch.w                                                # the same weights at every step, every tile
                if n == len(plan) // 2: run['middle_step_splits'] = [s['S'] for s in ch.specs]
                if n in (0, len(plan) // 2):                         # the real step checked once before timing
                    ch()
                    if ch.stalled(): raise RuntimeError(f'stalled at step {n}: a program gave up waiting')
                    for l, r in enumerate(ch.reference()):
                        if r.numel(): worst = max(worst, ((ch.output(l).float() - r.float()).norm() / r.float().norm()).item())
                steps.append(dict(cur=cur, m=m, units=ch.units, s=graph_time(ch, dev, reps, cuda)))
                if ch.stalled(): raise RuntimeError(f'stalled at step {n} while timed')
                del ch
            limit = 3e-2 if dt == torch.bfloat16 else 1e-5                # the real steps, as check_chain's limits
            run.update(ok=all(r['ok'] for r in run['check']) and worst <= limit, step_rel_l2=worst, steps=steps,
                       s_per_call=sum(r['s'] for r in steps))
            if a.chain_trace and cuda:                               # the middle step, timestamped per unit
                cur, m = plan[len(plan) // 2]
                ch = chain(cur, m, trace=True)
                for _ in range(3): ch()
                torch.cuda.synchronize()
                run['trace'] = dict(cur=cur, m=m, **ch.trace_summary())
                del ch
            tr = run.get('trace')
            print(f"persistent chain {cfg} split {split} prefetch {pf}: {run['s_per_call'] * 1e3:.2f} ms per call "
                  f"(cuBLAS {res['products_s_per_call'] * 1e3:.2f} ms), check {run['ok']}, step rel L2 {worst:.1e}"
                  + (f"; traced step {tr['wall_us']:.0f} µs: per program waiting {tr['waiting_us']:.0f}, working "
                     f"{tr['working_us']:.0f}, between units {tr['between_us']:.0f} µs" if tr else ''), flush=True)
        except Exception as e:                                       # one failing tile (shared memory, a stall) is reported
            run['error'] = repr(e)[:300]
            print(f'persistent chain {cfg} split {split} prefetch {pf} failed: {run["error"]}', flush=True)
        pc['runs'].append(run)
        path.write_text(json.dumps(res, indent=1))
    done = [r for r in pc['runs'] if 's_per_call' in r and r['ok']]             # the fastest of those that passed
    if done:
        best = min(done, key=lambda r: r['s_per_call'])
        pc['best'] = dict(config=best['config'], split=best['split'], prefetch=best['prefetch'],
                          s_per_call=best['s_per_call'])
    path.write_text(json.dumps(res, indent=1))


def persistent_md(res):
    pc = res['persistent']
    chk = lambda r: f"{max(c['rel_l2'] for c in r['check']):.1e}" if r.get('check') else '–'
    tr = lambda r: (f"{r['trace']['wall_us']:.0f} / {r['trace']['waiting_us']:.0f} / {r['trace']['working_us']:.0f} / "
                    f"{r['trace']['between_us']:.0f}") if r.get('trace') else '–'
    md = ['## One persistent kernel per AR step (section 7, `--persistent`)', '',
          f"`marval.kernels.LinearChain` of `step_chain`: every product of the step in one launch of {pc['programs']} "
          'program(s), each tile waiting on the counters of what it reads (the step\'s data flow); checked against '
          "`F.linear` product by product on the check chains and on two real steps. cuBLAS, one kernel per product "
          f"(section 2): **{res['products_s_per_call'] * 1e3:.2f} ms per call**"
          + (f"; best chain: **{pc['best']['s_per_call'] * 1e3:.2f} ms** ({tuple(pc['best']['config'])}, split "
             f"{pc['best']['split']}, prefetch {pc['best']['prefetch']})" if 'best' in pc else ''), '',
          'Traced: the middle AR step launched with a timestamp per unit (start, waits over, counted done); wall = first '
          'start to last done, then per program (mean) the µs spent waiting on counters, working (loads, products, stores, '
          'atomics) and between units (the table walk, the idle tail).', '',
          '| tile (BM, BN, BK, warps, stages) | split | prefetch | steps | ms per call | check rel L2 | real steps rel L2 | '
          'traced step µs: wall / waiting / working / between | |', '|---|---|---|---|---|---|---|---|---|',
          *[f"| {tuple(r['config'])} | {r['split']} | {r.get('prefetch', False)} | {len(r.get('steps', []))} | "
            + (f"{r['s_per_call'] * 1e3:.2f} | {chk(r)} | {r['step_rel_l2']:.1e} | {tr(r)} | {'ok' if r['ok'] else 'CHECK FAILED'} |"
               if 's_per_call' in r else f"– | {chk(r)} | – | – | {r['error'][:120]} |") for r in pc['runs']], '']
    traced = [r for r in pc['runs'] if r.get('trace')]
    if traced:                                                          # the fastest traced run, by product shape
        r = min(traced, key=lambda r: r['s_per_call'])
        by = {}
        for p in r['trace']['products']: by.setdefault((p['M'], p['K'], p['N'], p['S']), []).append(p)
        md += [f"Units of the traced step by product shape ({tuple(r['config'])}, split {r['split']}, prefetch "
               f"{r.get('prefetch', False)}; cur {r['trace']['cur']}, m {r['trace']['m']}):", '',
               '| rows | in | out | K chunks | products | units each | mean wait µs | mean work µs |', '|---|---|---|---|---|---|---|---|',
               *[f"| {M} | {K} | {N} | {S} | {len(ps)} | {ps[0]['units']} | {sum(p['wait_us'] for p in ps) / len(ps):.1f} | "
                 f"{sum(p['work_us'] for p in ps) / len(ps):.1f} |" for (M, K, N, S), ps in by.items()], '']
    return md


def step_mlps(mc, B: int, cur: int, m: int) -> list[tuple[int, int, int, int]]:
    """(index of fc1 in `step_products`, rows, D, H) of every transformer block's MLP in one AR step: the fc1 → fc2
    pairs of `step_products` (the decoder's last block at the predicted rows), one per block (tested)."""
    prods = step_products(mc, B, cur, m)
    return [(i, r, k, n) for i, ((r, k, n), nxt) in enumerate(zip(prods, prods[1:]))
            if n == int(k * mc.mlp_ratio) and nxt == (r, n, k)]


MLP_SWEEP = ([(bm, bh, 64, bn, 4, 3) for bm in (16, 32, 64) for bh in (32, 64, 128) for bn in (64, 128)]
             + [(64, bh, 64, bn, 8, 3) for bh in (32, 64, 128) for bn in (64, 128)])      # 24 tiles (BM, BH, BK, BN, warps, stages)


def mlp_tiles(text: str) -> list[tuple]:
    "`--mlp-tiles` as a list of (BM, BH, BK, BN, warps, stages)."
    return tile_list(text, ('BM', 'BH', 'BK', 'BN', 'warps', 'stages'))


def cublas_mlp(x, w1, b1, w2, b2):
    "fc1 with bias and GELU in cuBLASLt's epilogue (`FastSampler(gelu_epilogue=True)`), then fc2: two cuBLAS kernels."
    h = torch._addmm_activation(b1, x, w1.t(), use_gelu=True) if x.is_cuda else F.gelu(F.linear(x, w1, b1))
    return F.linear(h, w2, b2)


def mlp_section(res, mc, a, plan, ws, dev, dt, cuda, path):
    """Section 8 (`--mlp`): every transformer block's MLP as ONE kernel (`marval.kernels.fused_mlp`: the hidden tile
    kept on the SM, the hidden slices' shares summed in fp32) against two cuBLAS products (fc1 with its GELU epilogue,
    fc2). Checked (the check cases, atomic and ordered, and one real MLP per size), then a tile sweep at five row
    counts of the call, each timed over the step's own distinct weights; then every step's MLPs both ways, and every
    step's products (section 2) with each MLP's two products replaced by one `fused_mlp`, one graph per step."""
    from marval.kernels import check_fused_mlp, fused_mlp, mlp_workspace, pick_mlp_config, reference_mlp
    tiles = mlp_tiles(a.mlp_tiles) if a.mlp_tiles else MLP_SWEEP
    reps = 10 if cuda else 1
    if not cuda: tiles, plan = [(16, 64, 64, 64, 4, 2)], plan[:1]         # the interpreter is slow
    mp = res['mlp'] = dict(tiles=[list(t) for t in tiles], check=check_fused_mlp(dev, dt),
                           check_ordered=check_fused_mlp(dev, dt, ordered=True), sweep=[], steps=[])
    print('fused_mlp check:', all(r['ok'] for r in mp['check']), 'ordered:', all(r['ok'] for r in mp['check_ordered']), flush=True)
    mlps = {n: step_mlps(mc, a.batch, cur, m) for n, (cur, m) in enumerate(plan)}
    D = max(d for ms in mlps.values() for _, _, d, _ in ms)
    mlp_workspace(dev, max(r for ms in mlps.values() for _, r, _, _ in ms) * D)   # the largest, before any capture
    w = [(ws[i][0], ws[i][1], ws[i + 1][0], ws[i + 1][1]) for i, *_ in mlps[0]]    # (w1, b1, w2, b2) per block
    rows = sorted({r for ms in mlps.values() for _, r, _, _ in ms})
    picks = sorted({rows[j] for j in ((0, len(rows) // 4, len(rows) // 2, 3 * len(rows) // 4, len(rows) - 1) if cuda else (0, -1))})
    for R in picks:                                  # every block's weights (the call's, read from HBM) at R rows
        xs = [torch.randn(R, wb[0].shape[1], device=dev, dtype=dt) for wb in w]
        row = dict(rows=R, cublas_us=graph_time(lambda: [cublas_mlp(x, *wb) for x, wb in zip(xs, w)], dev, reps, cuda) / len(w) * 1e6,
                   pick=list(pick_mlp_config(R, *w[0][0].shape[::-1])))
        best = None
        for c in tiles:
            try: us = graph_time(lambda c=c: [fused_mlp(x, *wb, residual=x, config=c) for x, wb in zip(xs, w)], dev, reps, cuda) / len(w) * 1e6
            except Exception as e: print('mlp tile', c, 'failed:', repr(e)[:200], flush=True); continue
            if best is None or us < best[1]: best = (list(c), us)
        row['best'], row['best_us'] = best
        ref = reference_mlp(xs[0], *w[0], xs[0])
        row['rel_l2'] = ((fused_mlp(xs[0], *w[0], residual=xs[0], config=best[0]).float() - ref).norm() / ref.norm()).item()
        mp['sweep'].append(row)
        print(f"MLP at {R} rows: cuBLAS pair {row['cublas_us']:.2f} µs, fused best {row['best']} {row['best_us']:.2f} µs "
              f"(rel L2 {row['rel_l2']:.1e})", flush=True)
        path.write_text(json.dumps(res, indent=1))
        del xs
    tile = lambda R: min(mp['sweep'], key=lambda s: abs(s['rows'] - R))['best']
    for n, (cur, m) in enumerate(plan):
        prods = step_products(mc, a.batch, cur, m)
        ins = [torch.randn(r, k, device=dev, dtype=dt) for r, k, _ in prods]
        fc1 = {i: (r, tile(r)) for i, r, _, _ in mlps[n]}
        pairs = [(ins[i], *ws[i], *ws[i + 1], c) for i, (r, c) in fc1.items()]   # (x, w1, b1, w2, b2, tile); x is the residual too
        row = dict(cur=cur, m=m, mlps=len(pairs))
        row['cublas_s'] = graph_time(lambda: [cublas_mlp(*p[:5]) for p in pairs], dev, reps, cuda)
        row['fused_s'] = graph_time(lambda: [fused_mlp(*p[:5], residual=p[0], config=p[5]) for p in pairs], dev, reps, cuda)
        row['ordered_s'] = graph_time(lambda: [fused_mlp(*p[:5], residual=p[0], config=p[5], ordered=True) for p in pairs], dev, reps, cuda)
        row['pick_s'] = graph_time(lambda: [fused_mlp(*p[:5], residual=p[0]) for p in pairs], dev, reps, cuda)

        def products():                                                   # section 2's step, the MLPs fused
            skip = False
            for i, (x, wb) in enumerate(zip(ins, ws)):
                if skip: skip = False; continue
                if i in fc1: fused_mlp(x, *wb, *ws[i + 1], residual=x, config=fc1[i][1]); skip = True
                else: F.linear(x, *wb)
        row['products_fused_mlp_s'] = graph_time(products, dev, reps, cuda)
        if n in (0, len(plan) // 2):                                     # a real MLP of the step, checked once
            x, w1, b1, w2, b2, c = pairs[-1]                              # the last block's, at the predicted rows
            ref = reference_mlp(x, w1, b1, w2, b2, x)
            row['rel_l2'] = ((fused_mlp(x, w1, b1, w2, b2, residual=x, config=c).float() - ref).norm() / ref.norm()).item()
        mp['steps'].append(row)
        del ins, pairs
    for v in ('cublas', 'fused', 'ordered', 'pick', 'products_fused_mlp'):
        mp[f'{v}_s_per_call'] = sum(r[f'{v}_s'] for r in mp['steps'])
    mp['products_s_per_call'] = sum(r['s'] for r in res['steps'][:len(plan)])   # section 2 over the same steps
    limit = 3e-2 if dt == torch.bfloat16 else 1e-5
    mp['ok'] = (all(r['ok'] for r in mp['check'] + mp['check_ordered'])
                and all(r['rel_l2'] <= limit for r in mp['sweep'] + [s for s in mp['steps'] if 'rel_l2' in s]))
    print(f"MLPs per call: cuBLAS pairs {mp['cublas_s_per_call'] * 1e3:.2f} ms, fused {mp['fused_s_per_call'] * 1e3:.2f} ms "
          f"(ordered {mp['ordered_s_per_call'] * 1e3:.2f}, pick_mlp_config {mp['pick_s_per_call'] * 1e3:.2f}); all products "
          f"{mp['products_s_per_call'] * 1e3:.2f} ms, with the MLPs fused {mp['products_fused_mlp_s_per_call'] * 1e3:.2f} ms; "
          f"checks {mp['ok']}", flush=True)
    path.write_text(json.dumps(res, indent=1))


def mlp_md(res):
    mp = res['mlp']
    ms = lambda v: f"{mp[f'{v}_s_per_call'] * 1e3:.2f}"
    chk = lambda rows: f"{max(r['rel_l2'] for r in rows):.1e}"
    return ['## One kernel per MLP (section 8, `--mlp`)', '',
            '`marval.kernels.fused_mlp`: fc1, GELU, fc2, both biases and the residual in one kernel, the hidden tile kept on '
            'the SM, the hidden slices\' shares summed in fp32 (atomic adds; `ordered`: one plane per slice summed in '
            'order). Against two cuBLAS products (fc1 with bias and GELU in cuBLASLt\'s epilogue, fc2 with bias; the '
            f"residual add not counted). Checks: cases {chk(mp['check'])}, ordered {chk(mp['check_ordered'])}, real "
            f"MLPs {max(r['rel_l2'] for r in mp['sweep'] + [s for s in mp['steps'] if 'rel_l2' in s]):.1e} — "
            f"{'all within limit' if mp['ok'] else 'CHECK FAILED'}.", '',
            f"| every AR step ({len(mp['steps'])} steps) | ms per call |", '|---|---|',
            f"| the MLPs as cuBLAS pairs | {ms('cublas')} |",
            f"| the MLPs as `fused_mlp`, best swept tile per row count | **{ms('fused')}** |",
            f"| the same, `ordered=True` | {ms('ordered')} |",
            f"| the same, `pick_mlp_config` | {ms('pick')} |",
            f"| all products, cuBLAS (section 2) | {ms('products')} |",
            f"| all products, each MLP as one `fused_mlp` | **{ms('products_fused_mlp')}** |", '',
            f"Tile sweep ({len(mp['tiles'])} tiles (BM, BH, BK, BN, warps, stages); µs per MLP, every block's weights):", '',
            '| rows | cuBLAS pair µs | pick_mlp_config | best tile | µs | rel L2 |', '|---|---|---|---|---|---|',
            *[f"| {r['rows']} | {r['cublas_us']:.2f} | {tuple(r['pick'])} | {tuple(r['best'])} | {r['best_us']:.2f} | {r['rel_l2']:.1e} |"
              for r in mp['sweep']], '']


def graph_rel(fn, ref, dev) -> float:
    "rel. L2 of `fn()`'s output replayed in a CUDA graph against `ref` (PDL's ordering inside a graph)."
    from marval.kernels import capture_graph
    if dev.type != 'cuda': return ((fn().float() - ref).norm() / ref.norm()).item()
    g, y = capture_graph(fn, warmup=2)
    g.replay(); torch.cuda.synchronize()
    return ((y.float() - ref).norm() / ref.norm()).item()


def triton_md(res):
    t = res['triton']
    chk = lambda rows: ', '.join(f"{r['what']} {r['rel_l2']:.1e}" for r in rows) + f" — all within limit: {all(r['ok'] for r in rows)}"
    vs = [v for v in PDL_VARIANTS if f'best_{v}_s_per_call' in t]
    names = dict(pdl='PDL', pdl_prefetch='PDL + weight prefetch')
    return ['## Triton `fused_linear` at the same products', '',
            f"check against torch ops ({res['meta']['dtype']}): " + chk(t['check']), '',
            *[s for v in vs for s in (f"with {names[v]} (`{PDL_VARIANTS[v]}`): " + chk(t[f'check_{v}']), '')],
            *[s for k in t.get('split_k', [1]) if k > 1 for s in (f"with K split in {k} (`split_k={k}`): " + chk(t[f'check_split{k}']), '')],
            f"every step's products: **pick_config {t['pick_s_per_call'] * 1e3:.2f} ms, best swept tile "
            f"{t['best_s_per_call'] * 1e3:.2f} ms per call**"
            + ''.join(f", **the same tiles with {names[v]} {t[f'best_{v}_s_per_call'] * 1e3:.2f} ms**"
                      + (f" ({t[f'{v}_fewer_stages']} products with one pipeline stage fewer, to fit)" if t.get(f'{v}_fewer_stages') else '')
                      for v in vs)
            + f" (cuBLAS {res['products_s_per_call'] * 1e3:.2f} ms; {t.get('tiles', len(SWEEP))} tiles swept"
            + (f", K split in {', '.join(map(str, t['split_k']))}; best split per shape: "
               + ', '.join(f'{k} at {n}' for k, n in sorted(Counter(r['best'][5] for r in t['sweep']).items())) + ' shapes'
               if t.get('split_k', [1]) != [1] else '')
            + ')', '',
            '| rows | in | out | cuBLAS µs | pick_config | µs | best tile (BM, BN, BK, warps, stages' + (', split' if t.get('split_k', [1]) != [1] else '')
            + ') | µs |', '|---|---|---|---|---|---|---|---|',
            *[f"| {r['rows']} | {r['k']} | {r['n']} | {r['cublas_us']:.2f} | {tuple(r['pick'])} | {r['pick_us']:.2f} | "
              f"{tuple(r['best'])} | {r['best_us']:.2f} |" for r in t['sweep']], '',
            '### One transformer block without attention (µs; 4 fused kernels vs LN, 4 products, GELU, 2 adds)', '',
            '| rows | torch ops | fused | rel L2 |' + ''.join(f' fused, {names[v]} | rel L2 (eager / graph) |' for v in vs),
            '|---|---|---|---|' + '---|---|' * len(vs),
            *[f"| {r['where']} {r['rows']} | {r['torch_us']:.1f} | {r['fused_us']:.1f} | {r['rel_l2']:.1e} |"
              + ''.join(f" {r[f'fused_{v}_us']:.1f} | {r[f'{v}_rel_l2']:.1e} / {r[f'{v}_graph_rel_l2']:.1e} |" for v in vs
                        if f'fused_{v}_us' in r)
              for r in t.get('block', [])], '']


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
    ap.add_argument('--triton', action='store_true', help='also time marval.kernels.fused_linear at the same products '
                    '(a tile sweep, every step, and one block without attention; on the CPU through TRITON_INTERPRET=1)')
    ap.add_argument('--pdl', action='store_true', help='also with programmatic dependent launch (Hopper+; needs --triton): '
                    'the launch floor of a Triton kernel, the check, sections 4 and 5')
    ap.add_argument('--tiles-from', default=None, help="sweep only the best tiles of this earlier kernel_floor JSON's sweep")
    ap.add_argument('--split-k', default='1', help="comma list of K splits to sweep with each tile (needs --triton), e.g. 1,2,4")
    ap.add_argument('--blas', choices=['cublas', 'cublaslt'], default=None,
                    help="torch.backends.cuda.preferred_blas_library for the products (default: torch's choice)")
    ap.add_argument('--l2', action='store_true', help='section 6: the products with warm weights, and with the next '
                    "group's weights read into L2 on a second stream")
    ap.add_argument('--l2-group', default='4', help='--l2: comma list of products per read-ahead group (4 = one block)')
    ap.add_argument('--l2-programs', default='16', help='--l2: comma list of programs of the read-ahead kernel')
    ap.add_argument('--persistent', action='store_true', help='section 7: every AR step\'s products as one persistent '
                    'kernel (marval.kernels.LinearChain), per tile of --chain-tiles and split of --chain-split')
    ap.add_argument('--chain-tiles', default='64,64,64,4,3', help='--persistent: tiles BM,BN,BK,warps,stages separated by ;')
    ap.add_argument('--chain-split', default='auto,1', help="--persistent: comma list of K splits ('auto' or whole numbers)")
    ap.add_argument('--chain-programs', type=int, default=0, help='--persistent: programs (default: one per SM)')
    ap.add_argument('--chain-prefetch', default='0', help="--persistent: comma list of 0 / 1: each unit's first weight "
                    'chunk read before its waits')
    ap.add_argument('--mlp', action='store_true', help='section 8: every MLP as one kernel (marval.kernels.fused_mlp) '
                    'against two cuBLAS products, and every step\'s products with the MLPs fused')
    ap.add_argument('--mlp-tiles', default=None, help='--mlp: tiles BM,BH,BK,BN,warps,stages separated by ; (default: MLP_SWEEP)')
    ap.add_argument('--chain-trace', action='store_true', help='--persistent: also time every unit of the middle step '
                    '(%%globaltimer) and report where the time goes')
    a = ap.parse_args(argv)
    for flag, v in (('--split-k', a.split_k), ('--l2-group', a.l2_group), ('--l2-programs', a.l2_programs)):   # refused by name
        try: split_list(v)
        except SystemExit as e: ap.error(f'{flag} {e}')
    if a.pdl and not a.triton: ap.error('--pdl needs --triton')
    try: chain_tiles(a.chain_tiles)
    except SystemExit as e: ap.error(f'--chain-tiles {e}')
    if a.mlp_tiles:
        try: mlp_tiles(a.mlp_tiles)
        except SystemExit as e: ap.error(f'--mlp-tiles {e}')
    if any(v != 'auto' and not (v.isdigit() and int(v) >= 1) for v in a.chain_split.split(',')):
        ap.error(f"--chain-split wants 'auto' or whole numbers >= 1 separated by commas, got {a.chain_split!r}")
    for flag, v in (('--chain-prefetch', a.chain_prefetch),):
        if any(x not in ('0', '1') for x in v.split(',')): ap.error(f'{flag} wants 0 or 1 separated by commas, got {v!r}')
    split = split_list(a.split_k) != [1]                                     # K split in more than one way
    if split and not a.triton: ap.error('--split-k needs --triton')
    if split and a.pdl: ap.error('--split-k and --pdl: one at a time (prefetch reads the first K chunk)')
    if a.pdl and a.smoke: ap.error('--pdl needs a Hopper GPU (Triton\'s CPU interpreter has no grid-dependency control)')
    if a.blas: torch.backends.cuda.preferred_blas_library(a.blas)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    cuda = not a.smoke
    dev = torch.device('cuda' if cuda else 'cpu')
    if a.smoke: a.size, a.K, a.chain = 'tiny', 3, '10,30'
    mc = get_preset(a.size).model
    dt = torch.bfloat16 if cuda else torch.float32
    dname, prov = (torch.cuda.get_device_name() if cuda else 'cpu'), provenance()
    blas = str(torch.backends.cuda.preferred_blas_library()).split('.')[-1].lower() if cuda else None
    res = dict(meta=dict(prov, device=dname, size=a.size, batch=a.batch, K=a.K, dtype=str(dt), blas=blas), launch=[], steps=[])
    if a.pdl:
        from marval.kernels import pdl_available
        if not pdl_available(dev): raise SystemExit('--pdl: this device or Triton has no programmatic dependent launch')
    # 1. launch floor
    x = torch.zeros(1, device=dev)
    for n in [int(c) for c in a.chain.split(',')]:
        s = graph_time(lambda n=n: [x.add_(1) for _ in range(n)], dev, cuda=cuda)
        res['launch'].append(dict(kernels=n, s=s, us_per_kernel=s / n * 1e6))
        print(f'launch floor: {n} kernels {s * 1e6:.0f} µs = {s / n * 1e6:.2f} µs each', flush=True)
        if a.pdl:   # the same count of a near-empty Triton kernel, without and with PDL
            for pdl in (False, True):
                s = graph_time(lambda n=n, pdl=pdl: [touch(x, pdl) for _ in range(n)], dev, cuda=cuda)
                res['launch'].append(dict(kernels=n, s=s, us_per_kernel=s / n * 1e6, kind='triton' + (' + PDL' if pdl else '')))
                print(f"launch floor, Triton{' + PDL' if pdl else ''}: {n} kernels {s * 1e6:.0f} µs = {s / n * 1e6:.2f} µs each", flush=True)
    stem = f'kernel_floor_{a.size}_bs{a.batch}' + (f'_{a.blas}' if a.blas else '') + ('_splitk' if split else '') + ('_l2' if a.l2 else '') + ('_persistent' if a.persistent else '') + ('_mlp' if a.mlp else '')
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
    (out / f'{stem}.json').write_text(json.dumps(res, indent=1))
    if a.triton: triton_products(res, mc, a, plan, ws, dev, dt, cuda, out / f'{stem}.json')
    if a.l2: l2_section(res, mc, a, plan, dev, dt, cuda, out / f'{stem}.json')
    if a.persistent: persistent_section(res, mc, a, plan, dev, dt, cuda, out / f'{stem}.json')
    if a.mlp: mlp_section(res, mc, a, plan, ws, dev, dt, cuda, out / f'{stem}.json')
    cmd = 'PYTHONPATH=$PWD python3 tools/gpu/kernel_floor.py ' + ' '.join(sys.argv[1:] if argv is None else argv)
    res['meta']['command'] = cmd
    md = [f'# Kernel floors under the MARVAL-{a.size[0].upper()} student, batch {a.batch}, K = {a.K}', '',
          f"{dname}, torch {torch.__version__}, {prov['date']}; command: `{cmd}`" + ('' if cuda else ' (CPU smoke: no graphs)'), '',
          '## Launch floor (graphs of near-empty kernels)', '', '| kernels | kernel | µs per graph | µs per kernel |', '|---|---|---|---|',
          *[f"| {r['kernels']} | {r.get('kind', 'x.add_(1)')} | {r['s'] * 1e6:.0f} | {r['us_per_kernel']:.2f} |" for r in res['launch']], '',
          f"## Product floor: the products of every AR step alone, one graph per step", '',
          f"{res['products_per_step']} products per AR step ({blas}); **{tot * 1e3:.2f} ms per call** "
          f"({res['tflops_per_s']:.1f} TFLOP/s on the linear-layer FLOPs of `sampler_cost`)", '',
          '| masked before | predicted | µs per step | µs per product | GFLOP |', '|---|---|---|---|---|',
          *[f"| {r['cur']} | {r['m']} | {r['s'] * 1e6:.0f} | {r['us_per_product']:.2f} | {r['gflop']:.1f} |" for r in res['steps'][::max(1, len(res['steps']) // 8)]], '']
    if 'triton' in res: md += triton_md(res)
    if 'l2' in res: md += l2_md(res)
    if 'persistent' in res: md += persistent_md(res)
    if 'mlp' in res: md += mlp_md(res)
    (out / f'{stem}.md').write_text('\n'.join(md) + '\n')
    (out / f'{stem}.json').write_text(json.dumps(res, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())

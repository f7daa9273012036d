"""GPU job (issue 6): our attention kernel (`marval.kernels.attention_triton`, `FastSampler(attention='triton')`)
against PyTorch's default `scaled_dot_product_attention` at the fast path's batch-256 shapes (CFG: 512 rows of
images): MAR-B (12 heads of 64) and MAR-H (16 heads of 80) at the decoder's 320 rows and at a short encoder length.
Every tile that `marval.kernels.tune_attention` tries is timed, each replayed in a CUDA graph as the sampler launches it
(`--eager`: launched one by one, as this script timed before 2026-12-06, which at batch 1 times the host's launches);
the kernel's check against SDPA runs first (bf16).

    PYTHONPATH=$PWD python3 tools/gpu/attn_bench.py --out $OUT/attn
    # the MARVAL-B student's shapes at batch 1 (12 heads of 64; the decoder's 320 rows, a short encoder's 128):
    PYTHONPATH=$PWD python3 tools/gpu/attn_bench.py --out $OUT/attn --sizes base --batch 1 --lengths 320,128
    # the launch/schedule flags too (`ATTENTION_VARIANT_TILES`: query blocks of a head launched together, the next key
    # block's scores issued before this one's softmax), each variant checked against SDPA first:
    PYTHONPATH=$PWD python3 tools/gpu/attn_bench.py --out $OUT/attn --sizes huge --lengths 320,128 --variants
    # one group, every kept tile checked at the edge cases, and timed with the tiles left out for wrong results (which
    # the tuner's own check against SDPA records as wrong, without timing them):
    PYTHONPATH=$PWD python3 tools/gpu/attn_bench.py --out $OUT/attn --sizes huge --lengths 320,128 --variants --flags pipe --check-all --with-wrong

Writes attention.md / attention.json to --out. Needs a CUDA device with Triton.
"""
import argparse, datetime, json, sys
from pathlib import Path
import torch
from marval.kernels import (tune_attention, check_attention, ATTENTION_TILES, VARIANT_FLAGS, attention_variant_tiles,
                            tiles_with_variants)

SHAPES = {'base': (12, 64), 'huge': (16, 80)}   # heads, head width
# `pipe`'s 64 × 64 tiles at 4 warps, left out of ATTENTION_VARIANT_TILES: on an H100 under Triton 3.6 they returned
# wrong results with 80-wide heads, and the 3-stage ones faulted the device in the edge-case check (2026-12-07;
# results/bench/attention_variant_checks_h100.txt, attention_flags_{pipe,both}_checkall_h100_stdout.txt), so
# --check-all leaves them out of the edge-case checks (at commit ba29cfb it did not, and the check faulted)
LEFT_OUT_WRONG = [(64, 64, 4, stages, m_fast, True) for m_fast in (False, True) for stages in (2, 3)]


def bench_tiles(variants: bool = False, flags: str | None = None, check_all: bool = False,
                with_wrong: bool = False) -> tuple[list, list]:
    """The tiles to time and the variant tiles to check against SDPA first: `ATTENTION_TILES` (with `variants`: and the
    variant tiles not in it; with `flags` too: only that group's; `with_wrong`: and that group's `LEFT_OUT_WRONG`
    tiles), and each timed group's largest tile (`check_all`: every flagged tile timed but `LEFT_OUT_WRONG`'s, one of
    which faults the device in these checks)."""
    if not variants: return list(ATTENTION_TILES), []
    tiles = attention_variant_tiles(flags) if flags else tiles_with_variants()
    if with_wrong: tiles = tiles + [t for t in LEFT_OUT_WRONG if not flags or t[4:] == VARIANT_FLAGS[flags]]
    if check_all: return tiles, [t for t in tiles if len(t) == 6 and (t[4] or t[5]) and t not in LEFT_OUT_WRONG]
    return tiles, [max(attention_variant_tiles(f), key=lambda t: t[0] * t[1]) for f in ([flags] if flags else VARIANT_FLAGS)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('--sizes', default='huge,base')
    ap.add_argument('--batch', type=int, default=512, help='rows of images per call (batch 256 with CFG: 512)')
    ap.add_argument('--lengths', default='320,128', help='sequence lengths (decoder: 64 buffer + 256 tokens)')
    ap.add_argument('--reps', type=int, default=10)
    ap.add_argument('--eager', action='store_true', help='time eager launches instead of CUDA-graph replays')
    ap.add_argument('--variants', action='store_true', help='also time ATTENTION_VARIANT_TILES (m_fast, pipe; m_fast is in ATTENTION_TILES since 2026-12-07)')
    ap.add_argument('--flags', choices=sorted(VARIANT_FLAGS), default=None,
                    help='with --variants: only the variant tiles with these flags (one group per process: a tile that '
                         'faults the device leaves every later call in the process failing)')
    ap.add_argument('--check-all', action='store_true', help='with --variants: check every flagged tile against SDPA, not one a group')
    ap.add_argument('--with-wrong', action='store_true', help="with --variants: time LEFT_OUT_WRONG's tiles too (the tuner's "
                    'check against SDPA records them as wrong)')
    a = ap.parse_args(argv)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    dev = torch.cuda.get_device_name()
    checks = check_attention('cuda', torch.bfloat16)
    print('check (bf16 vs SDPA in fp32):', ', '.join(f"d {r['d']} M {r['M']} N {r['N']}: {r['rel_l2']:.1e}" for r in checks), flush=True)
    tiles, check_tiles = bench_tiles(a.variants, a.flags, a.check_all, a.with_wrong)
    for cfg in check_tiles:                                              # each group's largest tile (--check-all: every one)
        rs = check_attention('cuda', torch.bfloat16, config=cfg)
        checks += [dict(r, config=list(cfg)) for r in rs]
        print(f'check {cfg}:', 'ok' if all(r['ok'] for r in rs) else 'FAILED', f"max rel. L2 {max(r['rel_l2'] for r in rs):.1e}", flush=True)
    rows = []
    for s in a.sizes.split(','):
        H, d = SHAPES[s]
        for N in map(int, a.lengths.split(',')):
            rs = tune_attention(d, torch.bfloat16, 'cuda', B=a.batch, H=H, N=N, reps=a.reps, keep=False, graph=not a.eager,
                                tiles=tiles)
            rows += [dict(r, size=s) for r in rs]
            bad = [r for r in rs if 'error' in r]
            if bad: print(f"{s} N {N}: {len(bad)} tiles failed, the first {bad[0]['config']} ({bad[0]['error']})", flush=True)
            ref, best = rs[0], next(r for r in rs if r['best'])
            print(f"{s:5s} H {H} d {d} N {N}: sdpa {ref['us']:.0f} us ({ref['tflops']:.0f} TFLOP/s), triton best "
                  f"{best['us']:.0f} us ({best['tflops']:.0f} TFLOP/s) at {best['config']}", flush=True)
    meta = dict(device=dev, torch=torch.__version__, date=str(datetime.date.today()), timing='eager' if a.eager else 'graph', command=
                'PYTHONPATH=$PWD python3 tools/gpu/attn_bench.py ' + ' '.join(argv or sys.argv[1:]), checks=checks)
    (out / 'attention.json').write_text(json.dumps(dict(meta, rows=rows), indent=1))
    md = [f"# Attention, bf16: `attention_triton` against PyTorch's SDPA\n\n{dev}, torch {torch.__version__}, {meta['date']}; "
          f"command: `{meta['command']}`; each call timed as {'an eager launch' if a.eager else 'a CUDA-graph replay'}\n", 'Check against SDPA (fp32 reference), rel. L2: ' +
          ', '.join(f"d {r['d']} (M {r['M']}, N {r['N']}{', tile ' + str(tuple(r['config'])) if 'config' in r else ''}) {r['rel_l2']:.1e}"
                    f"{'' if r['ok'] else ' FAILED'}" for r in checks) + '\n',
          '| size | B | H | N | d | what | BM, BN, warps, stages | m_fast | pipe | µs | TFLOP/s | fastest tile | error |',
          '|---|---|---|---|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        cfg = r.get('config', [])
        flags = ['yes' if f else '' for f in cfg[4:6]] if len(cfg) == 6 else ['', '']
        md.append(f"| {r['size']} | {r['B']} | {r['H']} | {r['N']} | {r['d']} | {r['what']} | {', '.join(map(str, cfg[:4]))} "
                  f"| {flags[0]} | {flags[1]} | {r['us']:.1f} | {r['tflops']:.0f} | {'yes' if r['best'] else ''} | {r.get('error', '')} |")
    (out / 'attention.md').write_text('\n'.join(md) + '\n')


if __name__ == '__main__':
    main()

"""GPU job (issue 6): the offset LayerNorm of `FastSampler(residual_epilogue=True)` at the fast path's batch-256 row
counts. For each width (MAR-B 768, L 1024, H 1280) and row count it times ATen's LayerNorm (no offset), the torch-op
`offset_layer_norm` and `offset_layer_norm_triton` at every (rows per program, num_warps) tile that
`marval.kernels.tune_offset_ln` tries, and reports µs per call and GB/s (x read + y written).

    PYTHONPATH=$PWD python3 tools/gpu/ln_bench.py --out $OUT/ln

Writes offset_ln.md / offset_ln.json to --out. Needs a CUDA device with Triton.
"""
import argparse, datetime, json, sys
from pathlib import Path
import torch
from marval.kernels import tune_offset_ln


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('--widths', default='768,1024,1280')
    ap.add_argument('--rows', default='65536,131072', help='rows of x per call (MAR-H teacher at batch 256: ~98k-164k)')
    ap.add_argument('--reps', type=int, default=50)
    a = ap.parse_args(argv)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    dev = torch.cuda.get_device_name()
    rows = [r for D in map(int, a.widths.split(',')) for R in map(int, a.rows.split(','))
            for r in tune_offset_ln(D, torch.bfloat16, 'cuda', rows=R, reps=a.reps, keep=False)]
    meta = dict(device=dev, torch=torch.__version__, date=str(datetime.date.today()), command=
                'PYTHONPATH=$PWD python3 tools/gpu/ln_bench.py ' + ' '.join(argv or sys.argv[1:]))
    (out / 'offset_ln.json').write_text(json.dumps(dict(meta, rows=rows), indent=1))
    md = [f"# Offset LayerNorm, bf16\n\n{dev}, torch {torch.__version__}, {meta['date']}; command: `{meta['command']}`\n",
          '| D | rows | what | rows/program | warps | µs | GB/s | fastest Triton tile |', '|---|---|---|---|---|---|---|---|']
    for r in rows:
        md.append(f"| {r['D']} | {r['rows']} | {r['what']} | {r.get('rows_per_program', '')} | {r.get('num_warps', '')} "
                  f"| {r['us']:.1f} | {r['gb_s']:.0f} | {'yes' if r['best'] else ''} |")
    (out / 'offset_ln.md').write_text('\n'.join(md) + '\n')
    for r in rows:
        if r['what'] != 'triton' or r['best']:
            print(f"D {r['D']:5d} rows {r['rows']:7d} {r['what']:32s} {r.get('rows_per_program', ''):>3} "
                  f"{r.get('num_warps', ''):>3} {r['us']:8.1f} us {r['gb_s']:6.0f} GB/s")


if __name__ == '__main__':
    main()

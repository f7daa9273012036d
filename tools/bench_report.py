"""Rebuild a benchmark report and results/bench/metrics.json from the JSON files that `marval.bench.run_plan` writes
(rows + meta) — for a GPU run that was stopped by its time limit before its last job (run_plan writes metrics.json
only at the end; the per-job .md/.csv/.json are rewritten after every job), or to join the rows of two runs.

    python tools/bench_report.py --main results/bench/nvidia_h200_run1.json results/bench/nvidia_h200_run2.json \
        results/bench/nvidia_h200_run2b.json --name nvidia_h200 --ddp-json results/bench/ddp_check.json \
        --previous results/bench/nvidia_h100_80gb_hbm3.json --annotate

metrics.json is written afresh: the 2-GPU keys (`--ddp-json`, `marval.bench.merge_ddp`), the kernel floors
(`--floor-json`, `floor_keys`), the headline of the --main
rows (`marval.bench.headline`), and, under `previous.<device>.*`, the headline keys of each --previous report that
the main rows do not measure (with its date), so no key silently mixes two devices. The --main reports are joined
in order, one row per configuration (what, size, kind, path, dtype, graphs, variant, batch, K, steps, decode): where
two reports measured the same configuration, the later one's row is kept. `--annotate` fills the work
columns (GFLOP, GB of weights read, MFU, roofline bound; `marval.bench.add_cost`) into sampler rows of reports
written before the benchmark recorded them, from their preset's architecture (the GPU runs used the presets).
"""
import argparse, json, re, sys
from pathlib import Path


CONFIG = ('what', 'size', 'kind', 'path', 'dtype', 'graphs', 'variant', 'batch', 'K', 'steps', 'decode')   # what a row measures


def floor_keys(path) -> dict:
    """metrics.json keys of a kernel_floor.py report, under floor.<file stem without kernel_floor_>: seconds per call
    of the products alone (cuBLAS; with --triton also the Triton tiles, with --pdl those tiles launched with PDL; with
    --l2 the products with warm weights, from one buffer, and with the fastest read-ahead; with --persistent the fastest
    persistent chain per AR step, its tile and split; with --mlp every MLP as two cuBLAS products and as one `fused_mlp`,
    and all products with the MLPs fused), µs per near-empty kernel
    (`x.add_(1)`; with --pdl also a Triton one with PDL), device, date."""
    r, stem = json.loads(Path(path).read_text()), Path(path).stem.removeprefix('kernel_floor_')
    k = {'products_s': r['products_s_per_call'], 'products_per_step': r['products_per_step'],
         'launch_us_per_kernel': min(x['us_per_kernel'] for x in r['launch'] if 'kind' not in x), 'device': r['meta']['device'],
         'date': r['meta']['date'], 'source': str(path)}
    pdl = [x['us_per_kernel'] for x in r['launch'] if x.get('kind') == 'triton + PDL']
    if pdl: k['launch_pdl_us_per_kernel'] = min(pdl)
    if 'triton' in r:
        t = r['triton']
        k.update(triton_best_s=t['best_s_per_call'], triton_pick_s=t['pick_s_per_call'])
        k.update({f'triton_best_{v}_s': t[f'best_{v}_s_per_call'] for v in ('pdl', 'pdl_prefetch') if f'best_{v}_s_per_call' in t})
    if 'l2' in r:                   # --l2: the same products with warm weights, and with the fastest read-ahead pair
        l2 = r['l2']
        best = min(l2['pairs'], key=lambda gp: l2[f'prefetch_g{gp[0]}_p{gp[1]}_s_per_call'])
        k.update(l2_warm_s=l2['warm_s_per_call'], l2_flat_s=l2['flat_s_per_call'],
                 l2_prefetch_best_s=l2[f'prefetch_g{best[0]}_p{best[1]}_s_per_call'], l2_prefetch_best_pair=list(best))
    pc = r.get('persistent', {})
    if 'best' in pc:                # --persistent: the fastest chain (one kernel per AR step) and what it was
        b = pc['best']
        k.update(persistent_best_s=b['s_per_call'], persistent_programs=pc['programs'],
                 persistent_best_variant=dict(config=b['config'], split=b['split'], prefetch=b.get('prefetch', False)))
    mp = r.get('mlp')
    if mp:                          # --mlp: every MLP as two cuBLAS products and as one fused_mlp; all products with them fused
        k.update(mlp_cublas_s=mp['cublas_s_per_call'], mlp_fused_s=mp['fused_s_per_call'], mlp_ordered_s=mp['ordered_s_per_call'],
                 mlp_pick_s=mp['pick_s_per_call'], mlp_products_fused_s=mp['products_fused_mlp_s_per_call'], mlp_check_ok=mp['ok'])
    return {f'floor.{stem}.{n}': v for n, v in k.items()}


def main(argv=None):
    from marval import bench
    from marval.core import update_json
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--main', nargs='+', required=True, help='run_plan JSON reports of one device, joined in order')
    ap.add_argument('--name', required=True, help='file stem of the joined report in --out')
    ap.add_argument('--out', default='results/bench')
    ap.add_argument('--ddp-json', default=None)
    ap.add_argument('--previous', nargs='*', default=[], help='older reports whose unmeasured keys are kept, prefixed')
    ap.add_argument('--annotate', action='store_true', help='fill the FLOP/byte/MFU/roofline columns of older sampler rows')
    ap.add_argument('--floor-json', nargs='*', default=[], help='tools/gpu/kernel_floor.py reports: floor.<stem>.* keys')
    a = ap.parse_args(argv)
    out = Path(a.out)
    reports = [json.loads(Path(f).read_text()) for f in a.main]
    devices = {r['meta']['device'] for r in reports}
    if len(devices) != 1: sys.exit(f'--main reports come from several devices: {sorted(devices)}')
    note = ' (work columns added by tools/bench_report.py --annotate)'
    parts = [c for r in reports for c in r['meta'].get('command', '').replace(note, '').split('; ') if c]
    meta = dict(reports[0]['meta'], command='; '.join(dict.fromkeys(parts)))    # a joined report joined again: once
    rows, at = [], {}
    def cfg(row):                  # a skipped student job's row written before 2026-12-06 says the job's steps, not the row's
        c = {k: row.get(k) for k in CONFIG}
        if c['what'] == 'sampler': c['steps'] = bench.row_steps(c['kind'], c['steps'])
        return json.dumps(c, sort_keys=True)
    def keep(row, k):                                                           # one row per configuration: the later wins
        if k in at: rows[at[k]] = row
        else: at[k] = len(rows); rows.append(row)
    for row in (row for r in reports for row in r['rows'] if not row.get('status')): keep(row, cfg(row))
    for row in (row for r in reports for row in r['rows'] if row.get('status')):    # jobs not run: only if no report ran them
        if (k := cfg(row)) not in at: keep(row, k)
    if a.annotate:
        bench.add_cost(rows, meta['device'])
        meta['command'] += note
    mpath = out / 'metrics.json'
    if mpath.exists(): mpath.unlink()
    if a.ddp_json: bench.merge_ddp(out, a.ddp_json)
    head = bench.headline(rows, meta)
    for f in a.floor_json: update_json(mpath, floor_keys(f))
    for f in a.previous:                               # before the report, so its targets table can show them
        prev = json.loads(Path(f).read_text())
        slug = re.sub(r'[^a-z0-9]+', '_', prev['meta']['device'].lower()).strip('_')
        old = bench.headline(prev['rows'], prev['meta'])
        keep = {f'previous.{slug}.{k}': v for k, v in old.items() if k not in head and k not in ('device', 'torch', 'date')}
        keep[f'previous.{slug}.date'] = prev['meta'].get('date')
        keep[f'previous.{slug}.source'] = str(f)
        update_json(mpath, keep)
    bench.write_report(rows, out, a.name, meta, metrics=True)
    print(json.dumps(json.loads(mpath.read_text()), indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())

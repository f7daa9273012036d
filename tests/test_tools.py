"The report tools that turn committed GPU reports into metrics.json keys (tools/tiny_metrics.py, tools/bench_report.py)."
import json, pathlib, shutil, subprocess, sys
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

def _run(*args):
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True, text=True)

def _gpu_tool(name: str):
    "Import a script of tools/gpu/ as a module."
    import importlib
    sys.path.insert(0, str(ROOT / 'tools' / 'gpu'))
    try: return importlib.import_module(name)
    finally: sys.path.pop(0)

def test_tiny_metrics(tmp_path):
    "The flat teacher/student/rl keys come from the three GPU reports; rl.steps counts the steps actually trained."
    src = ROOT / 'results' / 'tiny'
    for f in ['teacher_eval.json', 'student_eval.json']: shutil.copy(src / f, tmp_path / f)
    (tmp_path / 'rl').mkdir(); shutil.copy(src / 'rl' / 'rl_report.json', tmp_path / 'rl' / 'rl_report.json')
    r = _run('tools/tiny_metrics.py', '--dir', tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads((tmp_path / 'metrics.json').read_text())
    te, st = (json.loads((src / f).read_text()) for f in ['teacher_eval.json', 'student_eval.json'])
    assert m['teacher.fid_mnist'] == te['headline']['fid_mnist'] and m['student.fid_mnist'] == st['final']['fid_mnist']
    assert m['student.fid_ratio_to_teacher'] == pytest.approx(m['student.fid_mnist'] / m['teacher.fid_mnist'])
    assert m['student.w'] == st['gsim_overrides'].get('w', st['distill_config']['gsim']['w'])
    rl = json.loads((src / 'rl' / 'rl_report.json').read_text())
    assert m['rl.steps'] == rl['runs'][rl['headline_run']]['curve'][-1]['step'] <= m['rl.steps_requested']

def test_bench_report(tmp_path):
    "Joining the H200 reports rebuilds metrics.json afresh; keys the run did not measure are kept only as previous.*."
    b = ROOT / 'results' / 'bench'
    r = _run('tools/bench_report.py', '--main', b / 'nvidia_h200_run1.json', b / 'nvidia_h200_check.json', '--name', 'joined',
             '--out', tmp_path, '--ddp-json', b / 'ddp_check.json', '--previous', b / 'nvidia_h100_80gb_hbm3.json',
             '--floor-json', b / 'kernel_floor_base_bs1.json', b / 'kernel_floor_huge_bs1.json', b / 'kernel_floor_base_bs1_pdl.json',
             b / 'kernel_floor_base_bs1_splitk.json', b / 'kernel_floor_base_bs1_l2.json', b / 'kernel_floor_base_bs1_persistent.json',
             b / 'kernel_floor_base_bs1_persistent_264.json', b / 'kernel_floor_huge_bs1_persistent.json',
             b / 'kernel_floor_base_bs1_mlp.json', b / 'kernel_floor_huge_bs1_mlp.json')
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads((tmp_path / 'metrics.json').read_text())
    for stem in ('base_bs1_mlp', 'huge_bs1_mlp'):                       # --mlp (H100): what the docs say
        mp = json.loads((b / f'kernel_floor_{stem}.json').read_text())['mlp']
        assert m[f'floor.{stem}.mlp_fused_s'] == mp['fused_s_per_call'] > m[f'floor.{stem}.mlp_cublas_s']   # slower fused
        assert m[f'floor.{stem}.mlp_products_fused_s'] > m[f'floor.{stem}.products_s'] and m[f'floor.{stem}.device'] == 'NVIDIA H100 80GB HBM3'
        assert all(r['ok'] for r in mp['check'] + mp['check_ordered']) and m[f'floor.{stem}.mlp_check_ok'] is True   # fixed kernel
        run1 = json.loads((b / f'kernel_floor_{stem}_run1.json').read_text())['mlp']      # the run that found the race
        assert run1['ok'] is False and all(r['ok'] for r in run1['check_ordered'])
        assert all(r['best_us'] > r['cublas_us'] for r in mp['sweep'])   # at every row count swept
    for stem, programs in (('base_bs1_persistent', 132), ('base_bs1_persistent_264', 264), ('huge_bs1_persistent', 264)):   # --persistent (H100)
        pc = json.loads((b / f'kernel_floor_{stem}.json').read_text())['persistent']
        assert all(r['ok'] and r['step_rel_l2'] < 0.03 for r in pc['runs']) and pc['programs'] == programs == m[f'floor.{stem}.persistent_programs']
        assert m[f'floor.{stem}.persistent_best_s'] == min(r['s_per_call'] for r in pc['runs'])
        assert m[f'floor.{stem}.persistent_best_s'] > m[f'floor.{stem}.products_s']       # not faster than cuBLAS
        assert m[f'floor.{stem}.persistent_best_variant'] == dict(config=[64, 64, 128, 4, 3], split=1, prefetch=False)
    l2 = json.loads((b / 'kernel_floor_base_bs1_l2.json').read_text())['l2']   # --l2 (H100): what the docs say
    assert m['floor.base_bs1_l2.l2_warm_s'] == l2['warm_s_per_call'] and m['floor.base_bs1_l2.device'] == 'NVIDIA H100 80GB HBM3'
    assert 0.9 * m['floor.base_bs1_l2.products_s'] < m['floor.base_bs1_l2.l2_warm_s'] < m['floor.base_bs1_l2.products_s']  # < 10% to gain
    assert m['floor.base_bs1_l2.l2_prefetch_best_s'] > m['floor.base_bs1_l2.products_s']     # reading ahead was slower
    sk = json.loads((b / 'kernel_floor_base_bs1_splitk.json').read_text())      # --split-k 1,2,4,8 (H100): what the docs say
    assert sk['triton']['split_k'] == [1, 2, 4, 8] and all(r['ok'] for k in (2, 4, 8) for r in sk['triton'][f'check_split{k}'])
    assert {r['best'][5] for r in sk['triton']['sweep']} > {1} and m['floor.base_bs1_splitk.device'] == 'NVIDIA H100 80GB HBM3'
    assert m['floor.base_bs1_splitk.triton_best_s'] > m['floor.base_bs1_splitk.products_s']   # split-K did not beat cuBLAS
    fl = json.loads((b / 'kernel_floor_base_bs1.json').read_text())
    assert m['floor.base_bs1.products_s'] == fl['products_s_per_call'] and m['floor.base_bs1.device'] == 'NVIDIA H200'
    assert m['floor.base_bs1.triton_best_s'] == fl['triton']['best_s_per_call'] and 'floor.huge_bs1.triton_best_s' not in m
    assert m['floor.huge_bs1.products_s'] > m['floor.base_bs1.products_s'] > 0.04     # B's products alone exceed 40 ms
    pd = json.loads((b / 'kernel_floor_base_bs1_pdl.json').read_text())            # --pdl: its own keys, not the baseline's
    assert m['floor.base_bs1_pdl.launch_us_per_kernel'] == min(x['us_per_kernel'] for x in pd['launch'] if 'kind' not in x)
    assert m['floor.base_bs1_pdl.launch_pdl_us_per_kernel'] < m['floor.base_bs1_pdl.launch_us_per_kernel']
    assert m['floor.base_bs1_pdl.triton_best_pdl_s'] == pd['triton']['best_pdl_s_per_call'] and 'floor.base_bs1.triton_best_pdl_s' not in m
    assert m['device'] == 'NVIDIA H200' and m['check.graph_equals_eager'] is True and 'ddp.scaling_2gpu' in m
    assert 'teacher.base.bs1_s' not in m and 'previous.nvidia_h100_80gb_hbm3.teacher.base.bs1_s' in m
    rows = json.loads((b / 'nvidia_h200_run1.json').read_text())['rows']
    best = min(x['median_s'] for x in rows if x.get('what') == 'sampler' and x.get('kind') == 'student' and x.get('batch') == 1
               and x.get('size') == 'base' and 'median_s' in x)
    assert m['student.base.bs1_s'] == best
    assert (tmp_path / 'joined.md').read_text().count('| check |') == 0 and 'Equality check' in (tmp_path / 'joined.md').read_text()
    md = (tmp_path / 'joined.md').read_text()
    assert '| 1.89 | <= 4 | yes | nvidia_h100_80gb_hbm3, 2026-11-22 (older code) |' in md   # teacher: the older H100 figure
    # joining the joined report again (with --annotate) keeps each measurement once and adds the work columns
    r = _run('tools/bench_report.py', '--main', tmp_path / 'joined.json', b / 'nvidia_h200_check.json', '--name', 'again',
             '--out', tmp_path / 'again', '--annotate')
    assert r.returncode == 0, r.stderr[-2000:]
    j, a = (json.loads(p.read_text()) for p in (tmp_path / 'joined.json', tmp_path / 'again' / 'again.json'))
    assert len(a['rows']) == len(j['rows']) and a['meta']['command'].count('nvidia_h200_check') == 1
    st = [x for x in a['rows'] if x.get('what') == 'sampler' and x['kind'] == 'student' and x['batch'] == 1]
    assert st and all(0 < x['mfu'] < 1 and x['x_bound'] > 1 and x['gflops'] > 1000 for x in st)
    # a later report's measurement of the same configuration replaces the earlier one
    r = _run('tools/bench_report.py', '--main', b / 'nvidia_h200_run1.json', b / 'nvidia_h200_run2.json', '--name', 'j12',
             '--out', tmp_path / 'j12')
    assert r.returncode == 0, r.stderr[-2000:]
    j12 = json.loads((tmp_path / 'j12' / 'j12.json').read_text())['rows']
    r2 = json.loads((b / 'nvidia_h200_run2.json').read_text())['rows']
    pick = lambda rs: [x['median_s'] for x in rs if x.get('what') == 'sampler' and x['kind'] == 'student' and x['batch'] == 1
                       and x['variant'] == 'compile']
    assert pick(j12) == pick(r2) and len(pick(j12)) == 1
    assert any(x.get('what') == 'distill' for x in j12)                          # what only run 1 measured stays
    # a job one run skipped (its row written with the job's 100 steps) and a later run measured (a student row: 1 step)
    r = _run('tools/bench_report.py', '--main', b / 'nvidia_h100_run18.json', b / 'nvidia_h100_run19.json', '--name', 'j1819',
             '--out', tmp_path / 'j1819')
    assert r.returncode == 0, r.stderr[-2000:]
    j1819 = json.loads((tmp_path / 'j1819' / 'j1819.json').read_text())['rows']
    assert not any(x.get('status') for x in j1819) and 'Not run' not in (tmp_path / 'j1819' / 'j1819.md').read_text()
    assert sorted((x['size'], x['variant']) for x in j1819) == [('base', 'compile+triton+gelu'), ('base', 'compile+triton+gelu+res'),
                                                                ('large', 'compile+triton+gelu')]
    bad = _run('tools/bench_report.py', '--main', b / 'nvidia_h200.json', b / 'nvidia_h100_80gb_hbm3.json', '--name', 'x',
               '--out', tmp_path / 'bad')
    assert bad.returncode != 0 and 'several devices' in (bad.stderr + bad.stdout)

def test_bench_levers_plan(tmp_path):
    "The GPU lever plan: the batch-1 student variants first (the unmet target), each job runnable (CPU smoke, from job 8)."
    bench_levers = _gpu_tool('bench_levers')
    js = bench_levers.jobs()
    first = [(j['kind'], j['batch'], bool(j.get('uniform')), bool(j.get('compile'))) for j in js[:3]]
    assert first == [('student', 1, False, False), ('student', 1, True, False), ('student', 1, True, True)]
    assert any(j.get('compile_mode') == 'max-autotune-no-cudagraphs' for j in js)
    assert {(j['size'], j['kind']) for j in js if j.get('batch') == 256} >= {('huge', 'student'), ('huge', 'teacher')}
    r = _run('tools/gpu/bench_levers.py', '--out', tmp_path, '--smoke', '--start', '8', '--name', 'part2')
    assert r.returncode == 0, r.stderr[-2000:]
    rows = json.loads((tmp_path / 'part2.json').read_text())['rows']
    assert len(rows) == len(bench_levers.jobs('tiny', big=(2,), latency_sizes=(), big_sizes=(), autotune=False, attention=('math',),
                                              kernel_attention=())) - 8
    assert all('status' not in x for x in rows), [x.get('status') for x in rows]
    variants = [x['variant'] for x in rows if x.get('what') == 'sampler']
    assert variants[-11:] == ['math', 'compile-head', 'compile-head', 'compile', 'uniform+compile',  # SDPA backend forced, the
                              'compile+gelu', 'compile-head+gelu',                             # head compiled, GELU epilogue,
                              'compile+gelu+res', 'compile-head+gelu+res',                     # residual adds in the products,
                              'compile-head+gelu+res', 'compile-head+gelu+res']                # fast=True at batch 1
    assert all(x['check_ok'] for x in rows if x.get('what') == 'sampler' and x['variant'] != 'plain')
    assert [j.get('attention') for j in js[20:24]] == ['flash', 'flash', 'efficient', 'efficient'] and js[21]['size'] == 'huge'
    assert (js[24]['size'], js[24]['kind'], js[24]['batch'], js[24]['compile']) == ('huge', 'teacher', 256, True)
    assert [(j['size'], j['kind'], j['batch'], j['compile']) for j in js[25:33]] == [
        ('huge', 'teacher', 256, 'head'), ('huge', 'student', 256, 'head'), ('base', 'teacher', 256, 'head'), ('base', 'teacher', 1, 'head'),
        ('large', 'teacher', 1, 'head'), ('huge', 'teacher', 1, 'head'), ('base', 'teacher', 1, True), ('base', 'teacher', 1, True)]
    assert js[32]['uniform'] and not js[31].get('uniform')
    four = [('huge', 'teacher', 256, 'head'), ('huge', 'student', 256, None), ('base', 'student', 1, True), ('base', 'teacher', 256, 'head')]
    fast_bs1 = [('base', 'student', 1, 'head'), ('base', 'teacher', 1, 'head')]      # = fast_options at batch 1
    assert [(j['size'], j['kind'], j['batch'], j.get('compile')) for j in js[33:43]] == four + four + fast_bs1 and len(js) == 60
    assert all(j['gelu_epilogue'] for j in js[33:]) and not any(j.get('gelu_epilogue') for j in js[:33])
    assert all(j['residual_epilogue'] for j in js[37:48] + [js[49]] + js[52:]) and not any(j.get('residual_epilogue') for j in js[:37] + [js[48]] + js[50:52])
    assert [{k: v for k, v in j.items() if k != 'attention'} for j in js[43:49]] == [js[i] for i in (37, 38, 40, 41, 42, 35)]
    assert js[49] == dict(js[48], residual_epilogue=True)                  # job 48 with the residual epilogue too
    assert [dict(j, size='base') for j in js[50:52]] == [js[48]] * 2 and [j['size'] for j in js[50:52]] == ['large', 'huge']
    assert [dict(j, head_stream='fp32') for j in js[52:55]] == [dict(js[i], head_stream='fp32') for i in (43, 47, 45)]   # fast=True's teachers
    assert all(j['head_stream'] == 'autocast' for j in js[52:]) and not any('head_stream' in j for j in js[:52])
    from marval.fast_sampling import HEAD_MULTI_KERNEL
    assert js[55] == dict(js[52], compile_options=HEAD_MULTI_KERNEL) and not any('compile_options' in j for j in js[:55])
    assert js[56] == dict(js[55], compile_rows='largest') and not any('compile_rows' in j for j in js[:56])
    assert js[57:60] == [dict(js[52], ada_group=g) for g in (1, 2, 4)] and not any('ada_group' in j for j in js[:57])   # job 52 per g blocks
    assert all(j['attention'] == 'triton' for j in js[43:]) and not any(j.get('attention') == 'triton' for j in js[:43])
    r = _run('tools/gpu/bench_levers.py', '--out', tmp_path, '--smoke', '--jobs', '0', '--repeats', '3', '--name', 'rep')
    assert r.returncode == 0, r.stderr[-2000:]
    assert [len(x['runs']) for x in json.loads((tmp_path / 'rep.json').read_text())['rows']] == [3]   # --repeats: timed calls
    assert _run('tools/gpu/bench_levers.py', '--out', tmp_path, '--smoke', '--repeats', '0').returncode == 2
    r = _run('tools/gpu/bench_levers.py', '--out', tmp_path, '--smoke', '--jobs', '0', '--repeats', '1', '--attention-tiles', 'ab', '--name', 'x')
    assert r.returncode == 0, r.stderr[-2000:]                                # one process, two reports: plain tiles, then variants
    assert [len(json.loads((tmp_path / f'x_{v}.json').read_text())['rows']) for v in ('plain', 'variants')] == [1, 1]
    assert r.stdout.count('attention tiles tuned:') == 2
    r = _run('tools/gpu/bench_levers.py', '--out', tmp_path, '--smoke', '--jobs', '0', '--repeats', '1', '--attention-tiles', 'ab-unflagged', '--name', 'y')
    assert r.returncode == 0, r.stderr[-2000:]                                # the unflagged tiles, then ATTENTION_TILES
    assert [len(json.loads((tmp_path / f'y_{v}.json').read_text())['rows']) for v in ('unflagged', 'plain')] == [1, 1]

def test_bench_levers_attention_tuning(monkeypatch):
    """--attention-tuning eager / --attention-tiles variants: the samplers' tile tuning (`FastSampler._tune_attention` ->
    tune_attention) runs eagerly / over the variant tiles too; by default it is left as the sampler asks."""
    from marval import fast_sampling, kernels
    calls = []
    monkeypatch.setattr(fast_sampling, 'tune_attention', fast_sampling.tune_attention)    # restored after the test
    assert fast_sampling.tune_attention is kernels.tune_attention             # the default: as the sampler asks
    original = kernels.tune_attention
    monkeypatch.setattr(kernels, 'tune_attention', lambda *a, **k: calls.append((a, k)))
    tuning = _gpu_tool('bench_levers').attention_tuning
    tuning()
    assert fast_sampling.tune_attention is original                          # nothing asked: unchanged
    tuning(eager=True)
    fast_sampling.tune_attention(64, graph=True, B=1)                        # what `_tune_attention` passes on a GPU
    assert calls == [((64,), dict(graph=False, B=1))]
    tuning(tiles='variants')
    fast_sampling.tune_attention(80, graph=True, B=2)
    assert calls[-1] == ((80,), dict(graph=True, B=2, tiles=kernels.tiles_with_variants()))
    assert len(calls[-1][1]['tiles']) == 64 + 20 and all(len(t) == 6 for t in kernels.ATTENTION_VARIANT_TILES)
    tuning(tiles='variants', flags='pipe')
    fast_sampling.tune_attention(80, B=2)
    assert calls[-1][1]['tiles'] == kernels.ATTENTION_TILES + kernels.attention_variant_tiles('pipe')
    tuning(tiles='unflagged')                                                # --attention-tiles ab-unflagged's first pass
    fast_sampling.tune_attention(80, B=2)
    assert calls[-1][1]['tiles'] == kernels.ATTENTION_TILES[:48] and all(len(t) == 4 for t in calls[-1][1]['tiles'])
    tuning()                                                                 # its second pass: the override undone
    assert fast_sampling.tune_attention is original
    with pytest.raises(ValueError): tuning(tiles='both')                   # not a tile list

def test_attn_bench_tiles():
    "tools/gpu/attn_bench.py's tile lists: the tuner's by default; --variants adds the flag tiles once; --flags one group."
    from marval import kernels
    tiles = _gpu_tool('attn_bench').bench_tiles
    assert tiles() == (kernels.ATTENTION_TILES, [])
    every, checks = tiles(variants=True)
    assert every == kernels.tiles_with_variants() and len(every) == len(set(every)) == 84
    assert [c[4:] for c in checks] == list(kernels.VARIANT_FLAGS.values()) and all(c in every for c in checks)
    pipe, checks = tiles(variants=True, flags='pipe')
    assert pipe == kernels.attention_variant_tiles('pipe') and checks == [(64, 64, 8, 2, False, True)]
    wrong = _gpu_tool('attn_bench').LEFT_OUT_WRONG                           # --with-wrong: the left-out tiles come back
    assert len(wrong) == 4 and not set(wrong) & set(kernels.ATTENTION_VARIANT_TILES) and all(t[5] for t in wrong)
    pipe, checks = tiles(variants=True, flags='pipe', check_all=True, with_wrong=True)
    assert pipe == kernels.attention_variant_tiles('pipe') + [(64, 64, 4, 2, False, True), (64, 64, 4, 3, False, True)]
    assert checks == kernels.attention_variant_tiles('pipe')                 # --check-all: every kept tile of the group
    every, checks = tiles(variants=True, check_all=True)
    assert checks == kernels.ATTENTION_VARIANT_TILES                         # the flagged tiles (m_fast's in ATTENTION_TILES too)

def test_profile_step_smoke(tmp_path):
    "tools/gpu/profile_step.py on the CPU (tiny model, CPU ops): the report and its per-kind FLOP rates are written."
    r = _run('tools/gpu/profile_step.py', '--out', tmp_path, '--smoke')
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((tmp_path / 'profile_student_tiny_bs1.json').read_text())['results']['plain']
    assert res['kernels_per_call'] > 0 and res['batch'] == 1 and res['call_tflop'] > 0
    assert '| kind | kernels | ms per call | share | TFLOP/s |' in (tmp_path / 'profile_student_tiny_bs1.md').read_text()
    (tmp_path / 'run_stdout.txt').write_text(r.stdout)                      # the per-kind table again, from the printout
    variant_options = _gpu_tool('profile_step').variant_options             # variant names as marval.bench.variant_name gives them
    assert variant_options('compile-head+triton+gelu+res+head16') == dict(compile='head', attention='triton', gelu_epilogue=True,
                                                                          residual_epilogue=True, head_stream='autocast')
    assert variant_options('gelu') == dict(gelu_epilogue=True)
    kind_of = _gpu_tool('profile_step').kind_of                              # our attention kernel counts as attention
    assert [kind_of(k) for k in ('_attn_kernel', 'nvjet_sm90_tst_192x192_64x4_1x2_h_bz_coopB_bias_TNN', '_offset_ln_kernel',
                                 'pytorch_flash::flash_fwd_kernel')] == ['attention', 'matmul', 'other', 'attention']
    r2 = _run('tools/gpu/profile_step.py', '--out', tmp_path / 're', '--size', 'tiny', '--K', '3', '--from-stdout', tmp_path / 'run_stdout.txt')
    assert r2.returncode == 0, r2.stderr[-2000:]
    md = (tmp_path / 're' / 'run.md').read_text()
    assert '## plain' in md and f"{res['kernels_per_call']} kernels per call" in md
    r3 = _run('tools/gpu/profile_step.py', '--out', tmp_path / 't', '--smoke', '--kind', 'teacher', '--variants', 'plain,gelu+res')
    assert r3.returncode == 0, r3.stderr[-2000:]
    t = json.loads((tmp_path / 't' / 'profile_teacher_tiny_bs1.json').read_text())['results']
    assert set(t) == {'plain', 'gelu+res'} and t['plain']['call_tflop'] > res['call_tflop']   # 100 head steps with CFG > 1 step
    assert 'teacher (100 head steps, CFG' in (tmp_path / 't' / 'profile_teacher_tiny_bs1.md').read_text()
    assert _run('tools/gpu/profile_step.py', '--out', tmp_path / 'x', '--smoke', '--variants', 'fast').returncode != 0

def test_ddp_check_cpu(tmp_path):
    "tools/gpu/ddp_check.py at world size 2 on the CPU (gloo): the 2-process GSIM update equals the 1-process update."
    import os
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2',
                        'tools/gpu/ddp_check.py', '--out', str(tmp_path), '--smoke', '--per-step', '--retime-first'], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    d = json.loads((tmp_path / 'ddp_check.json').read_text())
    assert d['world_size'] == 2 and d['ranks_identical'] and d['update_equal']
    assert d['gen_grad_rel_err'] < 1e-4 and d['aux_grad_rel_err'] < 1e-4
    ps = d['s_per_step_1gpu_passes']                                   # one pass before DDP's, one after; the fastest counts
    assert len(ps) == 2 and d['s_per_step_1gpu'] == min(ps) and d['scaling_world'] == d['img_per_s_world'] / (2 * d['img_per_s_1gpu'])
    fr = d['s_per_step_first_pass_by_rank']                          # no rank meets the DDP pass with its first distiller
    assert len(fr) == 2 and fr[0] == ps[0] and fr[1] > 0
    assert d['command'].startswith('torchrun --standalone --nproc_per_node 2 tools/gpu/ddp_check.py --out ')
    assert [p['what'] for p in d['per_step']] == ['one-gpu', 'ddp', 'one-gpu', 'first distiller again'] and 'load_before_passes' not in d
    assert d['per_step'][1]['s_per_step'] == d['s_per_step_world']      # the probes change no figure (the fastest pass: above)
    r = subprocess.run([sys.executable, 'tools/gpu/ddp_check.py', '--out', str(tmp_path / 'one'), '--smoke', '--one-gpu',
                        '--per-step', '--retime-first', '--load-s', '0.2', '--one-gpu-passes', '3'], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    o = json.loads((tmp_path / 'one' / 'one_gpu_passes.json').read_text())
    assert o['world_size'] == 1 and len(o['s_per_step_1gpu_passes']) == 3 and 'scaling_world' not in o and 'update_equal' not in o
    assert 's_per_step_first_pass_by_rank' not in o
    md = (tmp_path / 'one' / 'one_gpu_passes.md').read_text()
    assert o['command'].endswith('--one-gpu-passes 3') and '--one-gpu --per-step --retime-first --load-s 0.2 --one-gpu-passes 3' in md
    tr = o['per_step']                                                 # the three passes, then the first distiller again
    assert [p['what'] for p in tr] == ['one-gpu'] * 3 + ['first distiller again'] and all(len(p['ms_host']) == o['steps'] for p in tr)
    assert [p['s_per_step'] for p in tr[:3]] == o['s_per_step_1gpu_passes'] and tr[3]['s_per_step'] == o['s_per_step_first_distiller_retimed']
    assert o['s_per_step_1gpu'] == min(o['s_per_step_1gpu_passes'])   # the retimed pass is not counted
    assert o['load_before_passes']['seconds'] >= 0.2 and o['load_before_passes']['products'] > 0
    assert "first pass's distiller timed again" in md and '| 4 (first distiller again) |' in md
    assert all(len(p['gc_collections']) == 3 and p['minor_faults'] >= 0 and p['host_cpu_s'] > 0 for p in tr)
    for p in tr[:3]:                                                   # masked-token counts; new = not met before in the process
        assert len(p['masked']) == len(p['new_length']) == o['steps'] and all(isinstance(n, int) and n > 0 for n in p['masked'])
    assert tr[1]['masked'] == tr[0]['masked'] and not any(tr[1]['new_length'] + tr[2]['new_length'])   # later passes replay
    assert '| distinct lengths |' in md and f"| 1 (one-gpu) | {o['steps']} (host ms) |" in md
    r = subprocess.run([sys.executable, 'tools/gpu/ddp_check.py', '--out', str(tmp_path / 'prof'), '--smoke', '--one-gpu',
                        '--per-step', '--profile', 'host', '--gc-freeze', '--no-cudnn-sdp'], cwd=ROOT,
                       env=dict(env, CUDA_MODULE_LOADING='EAGER'), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    o = json.loads((tmp_path / 'prof' / 'one_gpu_passes.json').read_text())
    md = (tmp_path / 'prof' / 'one_gpu_passes.md').read_text()
    assert o['command'].startswith('CUDA_MODULE_LOADING=EAGER python tools/gpu/ddp_check.py ')   # the probe's setting, recorded
    ks = [p['kernels'] for p in o['per_step']]                         # host ops by self CPU time, largest first, per pass
    assert len(ks) == 2 and all(k and [r['us'] for r in k] == sorted((r['us'] for r in k), reverse=True) for k in ks)
    assert any(r['name'] == 'aten::mm' or r['name'] == 'aten::addmm' for r in ks[0]) and 'Profiled kernels' in md
    assert all(len(p['gc_collections']) == 3 and min(p['gc_collections']) >= 0 for p in o['per_step']) and '--gc-freeze' in o['command']

def test_kernel_floor(tmp_path):
    "tools/gpu/kernel_floor.py: its product list is the sampler's linear-layer work (FLOPs as counted), and it runs (CPU smoke)."
    kernel_floor = _gpu_tool('kernel_floor')
    from marval.bench import sampler_cost
    from marval.config import get_preset
    from marval.fast_sampling import step_plan
    for size, B, K in [('base', 1, 64), ('huge', 3, 16), ('tiny', 2, 5)]:
        mc = get_preset(size).model
        f = sum(2 * r * k * n for cur, nxt, _ in step_plan(mc.seq_len, K) if cur > nxt
                for r, k, n in kernel_floor.step_products(mc, B, cur, cur - nxt))
        c = sampler_cost(mc, 'student', B, K)
        assert f == c['flops'] - c['attn_flops'], (size, f, c['flops'] - c['attn_flops'])
    r = _run('tools/gpu/kernel_floor.py', '--out', tmp_path, '--smoke')
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((tmp_path / 'kernel_floor_tiny_bs1.json').read_text())
    assert [x['kernels'] for x in res['launch']] == [10, 30] and len(res['steps']) == 3 and res['products_s_per_call'] > 0
    assert '## Product floor' in (tmp_path / 'kernel_floor_tiny_bs1.md').read_text()
    r = _run('tools/gpu/kernel_floor.py', '--out', tmp_path, '--smoke', '--blas', 'cublaslt')   # its own file stem
    assert r.returncode == 0 and (tmp_path / 'kernel_floor_tiny_bs1_cublaslt.json').exists(), r.stderr[-2000:]
    assert _run('tools/gpu/kernel_floor.py', '--out', tmp_path, '--blas', 'mkl').returncode == 2     # argparse refuses it
    r = _run('tools/gpu/kernel_floor.py', '--out', tmp_path, '--pdl')                               # PDL without --triton
    assert r.returncode == 2 and '--pdl needs --triton' in r.stderr, r.stderr[-500:]
    r = _run('tools/gpu/kernel_floor.py', '--out', tmp_path, '--smoke', '--triton', '--pdl')        # no PDL on the CPU
    assert r.returncode == 2 and 'Hopper' in r.stderr, r.stderr[-500:]
    # --tiles-from: the union of an earlier report's best tiles, sorted; a report without a sweep is refused by name
    prev = tmp_path / 'prev.json'
    prev.write_text(json.dumps(dict(triton=dict(sweep=[dict(best=[64, 32, 128, 4, 3]), dict(best=[16, 32, 64, 4, 3]),
                                                       dict(best=[64, 32, 128, 4, 3])]))))
    ns = lambda f, k='1': type('A', (), dict(tiles_from=str(f), split_k=k))
    assert kernel_floor.sweep_tiles(ns(prev), cuda=True) == [(16, 32, 64, 4, 3), (64, 32, 128, 4, 3)]
    assert kernel_floor.sweep_tiles(ns(''), cuda=True) == kernel_floor.SWEEP
    assert kernel_floor.sweep_tiles(ns(prev, '1,4'), cuda=True) == [(16, 32, 64, 4, 3, 1), (16, 32, 64, 4, 3, 4),
                                                                    (64, 32, 128, 4, 3, 1), (64, 32, 128, 4, 3, 4)]   # tile × split
    for bad in ('0', '2,x', ''): pytest.raises(SystemExit, kernel_floor.split_list, bad)
    r = _run('tools/gpu/kernel_floor.py', '--out', tmp_path, '--smoke', '--split-k', '2')           # split-K without --triton
    assert r.returncode == 2 and '--split-k needs --triton' in r.stderr, r.stderr[-500:]
    (tmp_path / 'bare.json').write_text('{"launch": []}')
    with pytest.raises(SystemExit, match='bare.json has no Triton sweep'): kernel_floor.sweep_tiles(ns(tmp_path / 'bare.json'), cuda=True)

def _interpreted_floor(tmp_path, *args):
    "tools/gpu/kernel_floor.py --smoke *args on the CPU through Triton's interpreter (skipped without Triton)."
    pytest.importorskip('triton')
    import os
    env = dict(os.environ, TRITON_INTERPRET='1', PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, 'tools/gpu/kernel_floor.py', '--out', str(tmp_path), '--smoke', *args],
                          cwd=ROOT, env=env, capture_output=True, text=True)

def test_kernel_floor_triton(tmp_path):
    "kernel_floor.py --triton on the CPU (Triton's interpreter): fused_linear checked, swept, per step, one block — reported."
    r = _interpreted_floor(tmp_path, '--triton')
    assert r.returncode == 0, r.stderr[-2000:]
    t = json.loads((tmp_path / 'kernel_floor_tiny_bs1.json').read_text())['triton']
    assert all(c['ok'] for c in t['check']) and len(t['sweep']) == 2 and len(t['steps']) == 1
    swept = [list(c) for c in _gpu_tool('kernel_floor').SWEEP[:2]]        # the smoke sweeps two tiles; the best is their minimum
    assert all(s['best'] in swept and (s['pick'] not in swept or s['best_us'] <= s['pick_us']) for s in t['sweep'])
    assert [b['where'] for b in t['block']] == ['encoder', 'decoder'] and all(b['rel_l2'] < 1e-5 for b in t['block'])
    # --split-k: each swept tile once per split, the split checks, the best (tile, split) per shape; its own file stem
    r = _interpreted_floor(tmp_path, '--triton', '--split-k', '1,3')
    assert r.returncode == 0, r.stderr[-2000:]
    t = json.loads((tmp_path / 'kernel_floor_tiny_bs1_splitk.json').read_text())['triton']
    assert t['split_k'] == [1, 3] and t['tiles'] == 4 and all(c['ok'] for c in t['check_split3'])
    assert all(len(s['best']) == 6 and s['best'][:5] in swept and s['best'][5] in (1, 3) for s in t['sweep'])
    assert all(b['rel_l2'] < 1e-5 for b in t['block'])
    assert 'K split in 1, 3' in (tmp_path / 'kernel_floor_tiny_bs1_splitk.md').read_text()
    assert '## Triton `fused_linear` at the same products' in (tmp_path / 'kernel_floor_tiny_bs1.md').read_text()

def test_kernel_floor_l2(tmp_path):
    "kernel_floor.py --l2 (CPU smoke): warm, flat and read-ahead rows per step and per (group, programs); bad lists refused by flag."
    r = _run('tools/gpu/kernel_floor.py', '--out', tmp_path, '--smoke', '--l2', '--l2-group', '4,8', '--l2-programs', '2')
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((tmp_path / 'kernel_floor_tiny_bs1_l2.json').read_text())
    l2 = res['l2']
    assert l2['pairs'] == [[4, 2], [8, 2]] and len(l2['steps']) == len(res['steps']) == 3
    assert l2['cold_s_per_call'] == res['products_s_per_call'] and l2['warm_mb'] < l2['weight_mb_per_step']
    assert all(s[f'{v}_s'] > 0 for s in l2['steps'] for v in ('warm', 'flat', 'prefetch_g4_p2', 'prefetch_g8_p2'))
    md = (tmp_path / 'kernel_floor_tiny_bs1_l2.md').read_text()
    assert '## L2: the products' in md and 'groups of 8 products, 2 programs' in md
    for flag, bad in (('--l2-group', '0'), ('--l2-programs', '2,x')):
        r = _run('tools/gpu/kernel_floor.py', '--out', tmp_path, '--smoke', '--l2', flag, bad)
        assert r.returncode == 2 and f'{flag} wants whole numbers' in r.stderr, r.stderr[-500:]

def _floor_steps():
    "(model config, batch, masked before, predicted) of every AR step of three kernel_floor.py configurations."
    from marval.config import get_preset
    from marval.fast_sampling import step_plan
    for size, B, K in [('base', 1, 64), ('huge', 2, 16), ('tiny', 1, 5)]:
        mc = get_preset(size).model
        for cur, nxt, _ in step_plan(mc.seq_len, K):
            if cur != nxt: yield mc, B, cur, cur - nxt

def test_kernel_floor_persistent(tmp_path):
    """kernel_floor.py --persistent: `step_chain` is `step_products` with the step's data flow (same list, every wait on an
    earlier product, row waits only between equal row counts), and section 7 runs on the CPU (Triton's interpreter,
    one program) with the chain checked against F.linear; bad --chain-tiles / --chain-split refused by flag."""
    kernel_floor = _gpu_tool('kernel_floor')
    from marval.config import get_preset
    for mc, B, cur, m in _floor_steps():
        prods, specs = kernel_floor.step_products(mc, B, cur, m), kernel_floor.step_chain(mc, B, cur, m)
        assert [(s['M'], s['K'], s['N']) for s in specs] == prods
        for l, s in enumerate(specs):
            if s.get('src') is not None: assert s['src'] < l and specs[s['src']]['M'] == s['M'] and specs[s['src']]['N'] >= s['K']
            assert all(j < l and (kind == 'all' or specs[j]['M'] == s['M']) for kind, j in s.get('deps', ()))
        assert sum(s.get('src') is None for s in specs) == 5          # z_proj, encoder / decoder inputs, the query rows, x_t
    base = kernel_floor.step_chain(get_preset('base').model, 1, 256, 4)
    assert base[1]['deps'] == [('all', 0)] and base[2]['deps'] == [('all', 1)] and base[3]['deps'] == [('rows', 2)]
    assert kernel_floor.chain_tiles('64,64,64,4,3;32,64,128,4,3') == [(64, 64, 64, 4, 3), (32, 64, 128, 4, 3)]
    for bad in ('64,64,64,4', '64,x,64,4,3', ''): pytest.raises(SystemExit, kernel_floor.chain_tiles, bad)
    r = _run('tools/gpu/kernel_floor.py', '--out', tmp_path, '--smoke', '--persistent', '--chain-tiles', '64,64')
    assert r.returncode == 2 and '--chain-tiles wants tiles' in r.stderr, r.stderr[-500:]
    r = _run('tools/gpu/kernel_floor.py', '--out', tmp_path, '--smoke', '--persistent', '--chain-split', 'auto,0')
    assert r.returncode == 2 and "--chain-split wants 'auto'" in r.stderr, r.stderr[-500:]
    r = _run('tools/gpu/kernel_floor.py', '--out', tmp_path, '--smoke', '--persistent', '--chain-prefetch', '0,2')
    assert r.returncode == 2 and '--chain-prefetch wants 0 or 1' in r.stderr, r.stderr[-500:]
    r = _interpreted_floor(tmp_path, '--persistent', '--chain-prefetch', '0,1', '--chain-trace')
    assert r.returncode == 0, r.stderr[-2000:]
    pc = json.loads((tmp_path / 'kernel_floor_tiny_bs1_persistent.json').read_text())['persistent']
    assert pc['programs'] == 1 and [run['prefetch'] for run in pc['runs']] == [False, True]
    for run in pc['runs']:                                               # no trace on the CPU (the GPU timer): not asked for
        assert run['ok'] and run['step_rel_l2'] < 1e-5 and len(run['steps']) == 1 and run['s_per_call'] > 0 and 'trace' not in run
    assert '## One persistent kernel per AR step' in (tmp_path / 'kernel_floor_tiny_bs1_persistent.md').read_text()

def test_kernel_floor_mlp(tmp_path):
    """kernel_floor.py --mlp: `step_mlps` finds one fc1 → fc2 pair per transformer block (the decoder's last at the
    predicted rows), and section 8 runs on the CPU (Triton's interpreter) with `fused_mlp` checked against torch ops,
    every timing filled in; a bad --mlp-tiles is refused by flag."""
    kernel_floor = _gpu_tool('kernel_floor')
    for mc, B, cur, m in _floor_steps():
        prods, mlps = kernel_floor.step_products(mc, B, cur, m), kernel_floor.step_mlps(mc, B, cur, m)
        assert len(mlps) == mc.encoder_depth + mc.decoder_depth
        for i, r, d, h in mlps:
            assert prods[i] == (r, d, h) and prods[i + 1] == (r, h, d) and h == int(d * mc.mlp_ratio)
        assert mlps[-1][1] == B * m and mlps[0][1] == B * (mc.buffer_size + mc.seq_len - cur)
    assert kernel_floor.mlp_tiles('64,64,64,64,4,3;16,32,64,128,8,3') == [(64, 64, 64, 64, 4, 3), (16, 32, 64, 128, 8, 3)]
    for bad in ('64,64,64,64,4', '64,x,64,64,4,3', ''): pytest.raises(SystemExit, kernel_floor.mlp_tiles, bad)
    r = _run('tools/gpu/kernel_floor.py', '--out', tmp_path, '--smoke', '--mlp', '--mlp-tiles', '64,64')
    assert r.returncode == 2 and '--mlp-tiles wants tiles' in r.stderr, r.stderr[-500:]
    r = _interpreted_floor(tmp_path, '--mlp')
    assert r.returncode == 0, r.stderr[-2000:]
    mp = json.loads((tmp_path / 'kernel_floor_tiny_bs1_mlp.json').read_text())['mlp']
    assert mp['ok'] and len(mp['steps']) == 1 and len(mp['sweep']) == 2
    assert all(r['rel_l2'] < 1e-5 for r in mp['sweep'] + mp['check'] + mp['check_ordered'])
    assert all(mp[f'{v}_s_per_call'] > 0 for v in ('cublas', 'fused', 'ordered', 'pick', 'products', 'products_fused_mlp'))
    assert mp['steps'][0]['mlps'] == 6 and 'rel_l2' in mp['steps'][0]           # tiny: 3 + 3 blocks, checked once
    assert '## One kernel per MLP' in (tmp_path / 'kernel_floor_tiny_bs1_mlp.md').read_text()

def test_l2_read_kernel():
    """The read-ahead kernel of kernel_floor.py --l2 (Triton's interpreter): program p reads chunks p, p + P, ... up to
    n and stores its sum only when it equals `magic` (NaN when reading ahead: never)."""
    pytest.importorskip('triton')
    import os
    code = ("import sys, torch, triton; sys.path.insert(0, 'tools/gpu'); import kernel_floor as kf\n"
            "x = torch.ones(6000, dtype=torch.bfloat16)\n"
            "for magic, want in ((2048., [2048., 2048., 0.]), (1904., [0., 0., 1904.]), (float('nan'), [0., 0., 0.])):\n"
            "    sink = torch.zeros(3)\n"
            "    kf._l2_read_kernel[(3,)](x, 6000, triton.cdiv(6000, 3 * 1024), sink, magic, BLOCK=1024)\n"
            "    assert sink.tolist() == want, (magic, sink)\n"        # 2 chunks each; program 2's second one is 880 long
            "print('ok')\n")
    r = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=dict(os.environ, TRITON_INTERPRET='1'),
                       capture_output=True, text=True)
    assert r.returncode == 0 and 'ok' in r.stdout, r.stderr[-2000:]

def _attention_ab(stem: str, versions: tuple) -> tuple[dict, dict]:
    """A committed A/B of our attention kernel (results/bench/<stem>_<version>.json, attn_bench.py, old package first):
    one H100, every check passed, the same tiles timed by each version at 320 and 128 rows. Returns the reports and
    each version's best tile in µs by length."""
    b = ROOT / 'results' / 'bench'
    runs = {v: json.loads((b / f'{stem}_{v}.json').read_text()) for v in versions}
    assert {r['device'] for r in runs.values()} == {'NVIDIA H100 80GB HBM3'} and all(c['ok'] for r in runs.values() for c in r['checks'])
    tiles = lambda r, N: [x.get('config') for x in r['rows'] if x['N'] == N]
    assert all(tiles(runs[v], N) == tiles(runs[versions[0]], N) for v in versions for N in (320, 128))
    best = {v: {N: min(x['us'] for x in r['rows'] if x['what'] == 'triton' and x['N'] == N) for N in (320, 128)} for v, r in runs.items()}
    return runs, best

def test_attention_even_evidence():
    """The committed A/B of our attention kernel before and after its masks were specialised away (one H100, one call,
    results/bench/attention_even_*.json): every check passed, the same tiles were timed, and at MAR-H's shapes the new
    kernel's best tile is faster than the old one's in both runs, as 02d and the bench README say."""
    runs, best = _attention_ab('attention_even', ('old', 'new', 'new2'))
    assert len(runs['new']['checks']) == len(runs['old']['checks']) + 1 == 8   # the new all-even case (64 × 64, d 80)
    for N in (320, 128):
        assert max(best['new'][N], best['new2'][N]) < 0.97 * best['old'][N], N

def test_attention_bs1_evidence():
    """The 20th session's H100 lease (results/bench/attention_bs1_*, nvidia_h100_run17-19): at the MARVAL-B student's
    batch-1 shapes the kernel without masks timed the same tiles as the previous one, every check passed, and its best tile
    was faster at both lengths; compiled through by Inductor (job 48) it ran and matched the plain fast path, at the
    66.0 ms the docs give, and MARVAL-L / -H at 98.1 / 162.6 ms."""
    runs, best = _attention_ab('attention_bs1', ('old', 'new'))
    assert all(x['B'] == 1 and x['H'] == 12 and x['d'] == 64 for r in runs.values() for x in r['rows'])
    for N in (320, 128):
        assert best['new'][N] < best['old'][N], N
    b = ROOT / 'results' / 'bench'
    m17 = json.loads((b / 'nvidia_h100_run17_metrics.json').read_text())
    assert round(m17['student.base.bs1_s'] * 1e3, 1) == 66.0 and round(m17['student.huge.bs1_s'] * 1e3, 1) == 162.6
    rows = [x for n in (18, 19) for x in json.loads((b / f'nvidia_h100_run{n}.json').read_text())['rows'] if not x.get('status')]
    got = {(x['size'], x['variant']): round(x['median_s'] * 1e3, 1) for x in rows}
    assert got == {('base', 'compile+triton+gelu+res'): 75.1, ('base', 'compile+triton+gelu'): 66.0, ('large', 'compile+triton+gelu'): 98.1}
    assert all(x['rel_l2_vs_plain'] < 0.02 and x['batch'] == 1 and x['kind'] == 'student' for x in rows)

def test_22nd_session_evidence():
    """The 22nd session's H200 lease (results/bench/nvidia_h200_run33.json, one_gpu_passes_h200.json): fast=True's MAR-H
    teacher at batch 256 (job 52) matched the plain fast path at 29.48 s = 1.99x, still above the 2x limit, and is the row
    metrics.json keeps; in one process the first timed one-GPU GSIM pass was about 20% slower than the next two, the
    order effect the README cites against the 2-GPU run's efficiency of 1.087. Its H100 lease (nvidia_h100_run20.json,
    one_gpu_passes_h100*.json): the same order effect, with 5 and 25 warm-up steps; the MARVAL-H student at batch 256 at
    1.62x and job 52 at 1.95x, the rows h100/metrics.json kept (the teacher's until run 23, the 27th session)."""
    b = ROOT / 'results' / 'bench'
    r33 = json.loads((b / 'nvidia_h200_run33.json').read_text())
    (row,) = r33['rows']
    assert r33['meta']['device'] == 'NVIDIA H200' and '--jobs 52 ' in r33['meta']['command']
    assert (row['size'], row['kind'], row['batch'], row['variant']) == ('huge', 'teacher', 256, 'compile-head+triton+gelu+res+head16')
    assert row['check_ok'] and row['rel_l2_vs_plain'] < 0.05 and round(row['median_s'], 2) == 29.48
    assert 1.99 < row['speedup_vs_official'] < 2 and row['median_s'] > row['official_s'] / 2      # 2x: <= 29.38 s, not met
    m = json.loads((b / 'metrics.json').read_text())
    assert m['teacher.huge.bs256_x_official'] == row['speedup_vs_official']
    o = json.loads((b / 'one_gpu_passes_h200.json').read_text())
    ps = o['s_per_step_1gpu_passes']
    assert o['device'] == 'NVIDIA H200' and o['world_size'] == 1 and len(ps) == 3 and o['s_per_step_1gpu'] == min(ps)
    assert ps[0] > 1.15 * max(ps[1:]) and max(ps[1:]) < 1.01 * min(ps[1:])     # the first pass slow, the later two alike
    d = json.loads((b / 'ddp_check.json').read_text())
    assert d['scaling_world'] > 1 > d['scaling_world'] * min(ps) / ps[0] > 0.9   # 1.087 / 1.20 = 0.904: the README's estimate
    for stem, warmup, ratio in (('one_gpu_passes_h100', 5, 1.15), ('one_gpu_passes_h100_w25', 25, 1.1)):   # the same on an H100
        o = json.loads((b / f'{stem}.json').read_text())
        ps = o['s_per_step_1gpu_passes']
        assert o['device'] == 'NVIDIA H100 80GB HBM3' and o['warmup'] == warmup and ps[0] > ratio * max(ps[1:]), stem
    rows = json.loads((b / 'nvidia_h100_run20.json').read_text())['rows']             # the H100 lease of that session
    got = {(x['kind'], x['variant']): (round(x['median_s'], 2), round(x['speedup_vs_official'], 2)) for x in rows if x['check_ok']}
    assert got == {('student', 'triton+gelu+res'): (11.16, 1.62), ('teacher', 'compile-head+triton+gelu+res+head16'): (30.12, 1.95)}
    h = json.loads((b / 'h100' / 'metrics.json').read_text())
    assert h['student.huge.bs256_variant'] == 'triton+gelu+res'

def test_26th_session_evidence():
    """The 26th session's H100 lease (results/bench/first_pass_h100/, nvidia_h100_run21-22): the first one-GPU GSIM pass
    is slower in every probe but the one that turns cuDNN attention off; the device profile finds the same kernels with
    the same device time in both passes, the host profile puts the gap in cuDNN attention's host time; the retimed first
    distiller is as fast as the later passes. The current code's students at batch 1: 66.1 / 98.5 / 162.7 ms, the rows
    h100/metrics.json keeps."""
    b = ROOT / 'results' / 'bench'
    f = b / 'first_pass_h100'
    ratio = {}
    for stem in ('load30', 'probe', 'eager_modules', 'gc_counts', 'gc_freeze', 'compile_threads1', 'host_faults',
                 'malloc_tuned', 'no_cudnn_sdp'):
        o = json.loads((f / f'{stem}.json').read_text())
        ps = o['s_per_step_1gpu_passes']
        assert o['device'] == 'NVIDIA H100 80GB HBM3' and o['world_size'] == 1 and o['s_per_step_1gpu'] == min(ps), stem
        assert o['s_per_step_first_distiller_retimed'] < 1.01 * min(ps), stem      # the distiller itself is not slow
        ratio[stem] = ps[0] / min(ps[1:])
    assert min(v for k, v in ratio.items() if k != 'no_cudnn_sdp') > 1.13 and ratio['no_cudnn_sdp'] < 1.02
    assert '--no-cudnn-sdp' in json.loads((f / 'no_cudnn_sdp.json').read_text())['command']
    fl = json.loads((f / 'host_faults.json').read_text())['per_step']            # 44 ms more host CPU per step
    assert 0.8 < fl[0]['host_cpu_s'] - fl[1]['host_cpu_s'] < 1.0
    dv = [{k['name']: k['us'] for k in p['kernels']} for p in json.loads((f / 'profile_device.json').read_text())['per_step'][:2]]
    assert abs(sum(dv[0].values()) / sum(dv[1].values()) - 1) < 1e-3           # the same device time in both passes
    hs = [{k['name']: k['us'] for k in p['kernels']} for p in json.loads((f / 'profile_host.json').read_text())['per_step'][:2]]
    gap = {n: hs[0].get(n, 0) - hs[1].get(n, 0) for n in hs[0]}
    assert max(gap, key=gap.get) == 'aten::_cudnn_attention_forward' and gap['aten::_cudnn_attention_forward'] > 1e6   # µs
    rows = [x for n in (21, 22) for x in json.loads((b / f'nvidia_h100_run{n}.json').read_text())['rows'] if not x.get('status')]
    got = {x['size']: round(x['median_s'] * 1e3, 1) for x in rows}
    assert got == {'base': 66.1, 'large': 98.5, 'huge': 162.7}
    assert all(x['batch'] == 1 and x['kind'] == 'student' and x['rel_l2_vs_plain'] < 0.02 for x in rows)
    h = json.loads((b / 'h100' / 'metrics.json').read_text())
    assert {s: round(h[f'student.{s}.bs1_s'] * 1e3, 1) for s in got} == got
    d = json.loads((b / 'distill_h100_run2.json').read_text())               # the replaying distill_job: steady state
    ips = {x['variant']: round(x['img_per_s']) for x in d['rows']}
    assert d['meta']['device'] == 'NVIDIA H100 80GB HBM3' and '--what distill --compile' in d['meta']['command']
    assert ips == {'plain': 276, 'compile': 438} and all(x['timed_shapes_warm'] for x in d['rows'])
    assert all(x['masked_tokens'] == x['warm_masked_tokens'][:len(x['masked_tokens'])] for x in d['rows'])

def test_27th_session_evidence():
    """The 27th session's H100 probe (results/bench/first_pass_h100/long_run.*): over a 300-step first pass, the steps at
    a masked-token count the process had met before stay at the replayed pass's speed to the end (every length's cuDNN
    attention plan stays cached), while the steps at a new count are slower. Its run 23 (nvidia_h100_run23.json): fast=True's
    MAR-H teacher at batch 256 without and with the head's multi-kernel reductions in one process, 29.67 against 29.69 s:
    no gain; job 52's row is the one h100/metrics.json keeps (1.98x, still short of 2x)."""
    b = ROOT / 'results' / 'bench'
    o = json.loads((b / 'first_pass_h100' / 'long_run.json').read_text())
    assert o['device'] == 'NVIDIA H100 80GB HBM3' and o['steps'] == 300 and '--steps 300' in o['command']
    first, second = o['per_step'][:2]
    assert len(first['masked']) == len(first['new_length']) == len(first['ms_gpu']) == 300
    assert first['masked'] == second['masked'] and not any(second['new_length'])     # the second pass replays the first
    seen, new = set(), []                                                            # new_length as the script defines it
    for n in first['masked']: new.append(n not in seen); seen.add(n)
    diff = [a != b for a, b in zip(new, first['new_length'])]                      # at most the warm-up step's length
    assert sum(diff) <= 1 and all(a for a, d in zip(new, diff) if d) and sum(first['new_length']) >= 70
    mean = lambda xs: sum(xs) / len(xs)
    rep = [(i, m) for i, (m, f) in enumerate(zip(first['ms_gpu'], first['new_length'])) if not f]
    last = mean([m for i, m in rep if i >= 200])
    ref = mean(second['ms_gpu'])
    assert abs(last / ref - 1) < 0.03                                                # repeats in the last third: steady state
    assert mean([m for m, f in zip(first['ms_gpu'], first['new_length']) if f]) > 1.15 * ref   # new lengths: plan builds
    md = (b / 'first_pass_h100' / 'long_run.md').read_text()
    assert '| 1 (one-gpu) | 300 (GPU ms) | 75 | 74, 286.6 | 226, 232.6 | 231.5 / 235.2 / 230.7 |' in md
    r = json.loads((b / 'nvidia_h100_run23.json').read_text())
    assert r['meta']['device'] == 'NVIDIA H100 80GB HBM3' and '--jobs 52,55 ' in r['meta']['command']
    got = {x['variant']: round(x['median_s'], 2) for x in r['rows'] if x['check_ok'] and x['rel_l2_vs_plain'] < 0.05}
    assert got == {'compile-head+triton+gelu+res+head16': 29.67, 'compile-head+triton+gelu+res+head16+mk': 29.69}
    assert all(x['median_s'] > x['official_s'] / 2 for x in r['rows'])                 # 2x not met on this H100 either
    h = json.loads((b / 'h100' / 'metrics.json').read_text())
    assert h['teacher.huge.bs256_x_official'] == r['rows'][0]['speedup_vs_official'] and round(h['teacher.huge.bs256_x_official'], 2) == 1.98
    (j32,) = json.loads((b / 'nvidia_h100_run24.json').read_text())['rows']             # job 32: uniform, all compiled
    assert (j32['size'], j32['kind'], j32['batch'], j32['variant']) == ('base', 'teacher', 1, 'uniform+compile') and j32['check_ok']
    assert round(j32['median_s'], 3) == 0.795 and h['teacher.base.bs1_s'] < j32['median_s']   # fast=True's 0.782 s stays

def test_28th_session_evidence():
    """The 28th session's H100 run 25 (results/bench/nvidia_h100_run25.*): `bench_levers.py --attention-tiles ab` on job 52,
    fast=True's MAR-H teacher at batch 256. Its plain pass took 30.27 s (a slow lease, tile (128, 64, 4, 3)); its second
    pass, with the variant tiles among the tuner's candidates, faulted the device and wrote nothing (the stdout says so).
    The H100 join keeps run 23's faster 29.67 s."""
    b = ROOT / 'results' / 'bench'
    r = json.loads((b / 'nvidia_h100_run25.json').read_text())
    assert r['meta']['device'] == 'NVIDIA H100 80GB HBM3' and '--jobs 52 ' in r['meta']['command'] and '--attention-tiles ab' in r['meta']['command']
    (row,) = r['rows']
    assert row['variant'] == 'compile-head+triton+gelu+res+head16' and row['check_ok'] and row['rel_l2_vs_plain'] < 0.05
    assert round(row['median_s'], 2) == 30.27 and row['median_s'] > row['official_s'] / 2
    out = (b / 'nvidia_h100_run25_stdout.txt').read_text()
    assert "attention tiles tuned: {'d 80 bfloat16 B·H 8192': (128, 64, 4, 3)}" in out
    assert out.count('== headline') == 1 and 'an illegal memory access was encountered' in out   # the variants pass: no report
    h = json.loads((b / 'h100' / 'metrics.json').read_text())
    assert h['teacher.huge.bs256_img_per_s'] > row['img_per_s']                          # the join keeps run 23's 29.67 s

def test_29th_session_evidence():
    """The 29th session's H100 evidence for the `m_fast` attention tiles (2026-12-07): the one-group-per-process sweep
    (results/bench/attention_flags_*_h100.*) and run 26, job 52 (fast=True's MAR-H teacher at batch 256) tuned over the
    plain tiles, then, in the same process, over the plain and `m_fast` tiles (today's `ATTENTION_TILES`)."""
    from marval import kernels
    b = ROOT / 'results' / 'bench'
    best = {}
    for f in ('plain', 'm_fast'):
        a = json.loads((b / f'attention_flags_{f}_h100.json').read_text())
        assert a['device'] == 'NVIDIA H100 80GB HBM3' and a['timing'] == 'graph' and all(c['ok'] for c in a['checks'])
        assert ('--flags m_fast' in a['command']) == (f == 'm_fast')
        for N in (320, 128):
            (sdpa,) = [r for r in a['rows'] if r['N'] == N and r['what'].startswith('sdpa')]
            (top,) = [r for r in a['rows'] if r['N'] == N and r['best']]
            best[f, N] = top['us'], tuple(top['config']), sdpa['us']
    assert best['m_fast', 320][1] == (64, 64, 4, 3, True, False) and best['plain', 320][1] == (128, 64, 4, 3)
    assert best['m_fast', 320][0] < 0.8 * best['plain', 320][0] and best['m_fast', 320][0] < 0.8 * best['m_fast', 320][2]
    assert best['m_fast', 128][0] < best['plain', 128][0]
    assert set(kernels.attention_variant_tiles('m_fast')) <= set(kernels.ATTENTION_TILES)     # so the tuner has them
    for f, tile in (('pipe', '(128, 64, 4, 2, False, True) faulted the device'), ('both', 'illegal memory access')):
        assert tile in (b / f'attention_flags_{f}_h100_stdout.txt').read_text()
    assert not [t for t in kernels.ATTENTION_VARIANT_TILES if t[5] and t[:2] == (128, 64)]   # left out since
    rows = {}
    for f in ('plain', 'm_fast'):
        r = json.loads((b / f'nvidia_h100_run26_{f}.json').read_text())
        assert r['meta']['device'] == 'NVIDIA H100 80GB HBM3' and '--attention-tiles ab --variant-flags m_fast' in r['meta']['command']
        (rows[f],) = r['rows']
        assert rows[f]['variant'] == 'compile-head+triton+gelu+res+head16' and rows[f]['check_ok']
    assert (round(rows['plain']['median_s'], 2), round(rows['m_fast']['median_s'], 2)) == (30.36, 30.03)
    assert rows['m_fast']['cond_ms'] < rows['plain']['cond_ms'] - 300                      # the transformer: 22.00 -> 21.61 s
    out = (b / 'nvidia_h100_run26_stdout.txt').read_text()
    assert "(128, 64, 4, 3)}" in out and "(64, 64, 4, 3, True, False)}" in out and out.count('== headline') == 2

def test_30th_session_evidence():
    """The 30th session's H100 evidence (2026-12-07): run 27, job 44 (fast=True's MARVAL-H student at batch 256) tuned
    over the 48 unflagged tiles, then over `ATTENTION_TILES`, in one process; every variant tile checked on the device,
    with `pipe`'s 64 × 64 4-warp tiles wrong at 80-wide heads (so they are left out), and `pipe`'s timings."""
    from marval import kernels
    b = ROOT / 'results' / 'bench'
    r = json.loads((b / 'nvidia_h100_run27_plain.json').read_text())
    assert r['meta']['device'] == 'NVIDIA H100 80GB HBM3' and '--jobs 44 ' in r['meta']['command'] and 'ab-unflagged' in r['meta']['command']
    (row,) = r['rows']
    assert (row['size'], row['kind'], row['batch'], row['variant'], row['check_ok']) == ('huge', 'student', 256, 'triton+gelu+res', True)
    assert round(row['median_s'], 2) == 10.98 and 1.6 < row['speedup_vs_official'] < 2        # still short of 2x
    out = (b / 'nvidia_h100_run27_stdout.txt').read_text()
    assert 'timed call 1: 11.1 s' in out and 'timed call 1: 10.98 s' in out and out.count('== headline') == 2
    assert out.index("(128, 64, 4, 3)}") < out.index("(64, 64, 4, 3, True, False)}")         # unflagged, then m_fast's tile
    lines = [l.split() for l in (b / 'attention_variant_checks_h100.txt').read_text().splitlines() if l.startswith('(')]
    checked = {tuple(eval(' '.join(l[:6]))): l[-1] for l in lines}
    wrong = {t for t, v in checked.items() if v == 'FAIL'}
    assert len(checked) == 40 and wrong == {(64, 64, 4, s, m, True) for s in (2, 3) for m in (False, True)}
    assert not wrong & set(kernels.ATTENTION_VARIANT_TILES) and set(kernels.ATTENTION_VARIANT_TILES) == set(checked) - wrong
    assert wrong == set(_gpu_tool('attn_bench').LEFT_OUT_WRONG)
    for f, best in (('pipe', '1530 us (175 TFLOP/s) at [128, 32, 8, 3, False, True]'), ('both', '1196 us (224 TFLOP/s) at [64, 32, 4, 3, True, True]')):
        text = (b / f'attention_flags_{f}_h100_s30_stdout.txt').read_text()
        assert best in text and 'FAILED max rel. L2 5.0e-01' in text                # slower than m_fast's 925 us
        assert 'illegal memory access' in (b / f'attention_flags_{f}_checkall_h100_stdout.txt').read_text()   # (64, 64, 4, 3)
        g = json.loads((b / f'attention_flags_{f}_gated_h100.json').read_text())     # the checking tuner on the device
        assert g['device'] == 'NVIDIA H100 80GB HBM3' and '--with-wrong' in g['command']
        rejected = {(tuple(r['config']), r['N']) for r in g['rows'] if r.get('error', '').startswith('wrong result')}
        assert rejected == {(t, N) for t in wrong if t[4:] == kernels.VARIANT_FLAGS[f] for N in (320, 128)}
        assert all(r['us'] < float('inf') for r in g['rows'] if 'error' not in r) and not any(r['best'] and 'error' in r for r in g['rows'])
        top = min((r for r in g['rows'] if r['N'] == 320 and r['what'] == 'triton'), key=lambda r: r['us'])
        assert top['us'] > 1.25 * 925                                           # pipe is slower than m_fast's best
    r28 = json.loads((b / 'nvidia_h100_run28.json').read_text())
    (row,) = r28['rows']
    assert (row['size'], row['kind'], row['batch'], row['check_ok']) == ('huge', 'student', 256, True) and round(row['median_s'], 2) == 10.89
    assert abs(row['rel_l2_vs_plain'] - 0.0163) < 5e-4 and "(64, 64, 4, 3, True, False)}" in (b / 'nvidia_h100_run28_stdout.txt').read_text()
    h = json.loads((b / 'h100' / 'metrics.json').read_text())                # the H100 join keeps run 28's row
    assert h['student.huge.bs256_x_official'] == row['speedup_vs_official'] and 'nvidia_h100_run28.json' in (b / 'README.md').read_text()

def test_31st_session_evidence():
    """The 31st session's H100 evidence (2026-12-07, one lease): run 29, job 44 (fast=True's MARVAL-H student at batch
    256) with the tuners' share of its setup (`tune_s`, Triton's cache cold); the kernel profile of that sampler, whose
    matrix products alone take longer than 2x the official figure allows (9.07 s); run 30, job 52 (fast=True's MAR-H
    teacher at batch 256), the tuners' share with Triton's cache warm."""
    b = ROOT / 'results' / 'bench'
    r29, r30 = (json.loads((b / f'nvidia_h100_run{n}.json').read_text()) for n in (29, 30))
    (st,), (te,) = r29['rows'], r30['rows']
    for r, job in ((r29, 44), (r30, 52)):
        assert r['meta']['device'] == 'NVIDIA H100 80GB HBM3' and f'--jobs {job} ' in r['meta']['command']
    assert (st['size'], st['kind'], st['batch'], st['check_ok'], round(st['median_s'], 2)) == ('huge', 'student', 256, True, 10.94)
    assert (te['size'], te['kind'], te['batch'], te['check_ok'], round(te['median_s'], 2)) == ('huge', 'teacher', 256, True, 29.82)
    assert 1.6 < st['speedup_vs_official'] < 2 and 1.9 < te['speedup_vs_official'] < 2             # both still short of 2x
    assert round(st['tune_s'], 1) == 86.4 and st['tune_s'] > 0.6 * st['setup_s']                   # cold: compiling the tiles
    assert round(te['tune_s'], 1) == 10.4 and te['tune_s'] < 0.1 * te['setup_s']                   # warm: the same lease after
    assert 'kernel tuners (part of the setup): 86.43 s' in (b / 'nvidia_h100_run29_stdout.txt').read_text()
    p = json.loads((b / 'profile_student_huge_bs256_fast_h100.json').read_text())
    v = p['results']['compile-head+triton+gelu+res+head16']
    assert p['meta']['device'] == 'NVIDIA H100 80GB HBM3' and abs(v['wall_graphs_s'] - st['median_s']) < 0.1
    official = st['official_s']
    assert v['by_kind']['matmul']['ms'] / 1e3 > official / 2                                        # 9.25 s > 9.07 s
    attn = [k for k in v['top'] if k['name'] == '_attn_kernel']                                     # 'other' in this run's table
    assert len(attn) == 1 and round(attn[0]['total_us'] / 1e6, 2) == 1.02
    for f in ('`nvidia_h100_run29.{md,csv,json}`', '`nvidia_h100_run30.{md,csv,json}`', '`profile_student_huge_bs256_fast_h100.{md,json}`'):
        assert f in (b / 'README.md').read_text()

def test_33rd_session_evidence():
    """The 33rd session's H100 evidence (2026-12-07, one lease, `tools/gpu/session33.sh`): job 44 (fast=True's MARVAL-H
    student at batch 256) in three processes with the compiler caches emptied: run 33 compiles the attention tiles one
    by one (no picks file), run 31 compiles them at once on threads and writes the picks, run 32 recalls them. Each
    step cuts the tuners' share of the setup, the samples and the tile stay the same; and the kernels notebook's GPU
    test cells passed there (`tools/gpu/nb_cells.py`)."""
    b = ROOT / 'results' / 'bench'
    rows = {}
    for n, name in ((31, 'cold'), (32, 'picks'), (33, 'serial')):
        r = json.loads((b / f'nvidia_h100_run{n}.json').read_text())
        assert r['meta']['device'] == 'NVIDIA H100 80GB HBM3' and r['meta']['command'].endswith(f'--jobs 44 --repeats 1 --budget-s 30 --name {name}')
        (rows[name],) = r['rows']
        x = rows[name]
        assert (x['size'], x['kind'], x['batch'], x['check_ok'], round(x['rel_l2_vs_plain'], 4)) == ('huge', 'student', 256, True, 0.0163)
        assert 10.85 < x['median_s'] < 10.95 and 'tiles tuned: {\'d 80 bfloat16 B·H 4096\': (64, 64, 4, 3, True, False)}' in (
            b / f'nvidia_h100_run{n}_stdout.txt').read_text()
    serial, cold, picks = rows['serial'], rows['cold'], rows['picks']
    assert [round(x['tune_s'], 1) for x in (serial, cold, picks)] == [62.1, 33.0, 2.5]
    assert [round(x['setup_s'], 1) for x in (serial, cold, picks)] == [98.5, 70.0, 39.6]
    assert [x['tunes_recalled'] for x in (serial, cold, picks)] == ['0/2', '0/2', '2/2']
    kp = json.loads((b / 'kernel_picks_h100_session33.json').read_text())['picks']
    att = [v for k, v in kp.items() if k.startswith('attention | NVIDIA H100 80GB HBM3 sm_90 driver 580.159.04 |')]
    assert len(kp) == 2 and [a['config'] for a in att] == [[64, 64, 4, 3, True, False]]
    assert 'c032: passed' in (b / 'nb_cells_02d_c032_h100.txt').read_text()
    assert 'c036k: passed' in (b / 'nb_cells_02d_c036k_h100.txt').read_text()
    te = (b / 'nvidia_h100_job52_cold_threads_stdout.txt').read_text()              # the teacher's cold setup, cut short
    assert 'setup (weights, compile, capture, 1st call): 166.6 s' in te and 'kernel tuners (part of the setup): 41.63 s' in te
    assert 'timed call' not in te                                                   # no sampling time was measured
    kt = json.loads((b / 'kernel_picks_h100_session33_teacher.json').read_text())['picks']
    assert [v['config'] for k, v in kt.items() if 'B=512 H=16 N=320 d=80' in k] == [[64, 64, 4, 3, True, False]]
    readme = (b / 'README.md').read_text()
    for f in ('`nvidia_h100_job52_cold_threads_stdout.txt`', '`nvidia_h100_run31.{md,csv,json}`', '`nvidia_h100_run32.{md,csv,json}`', '`nvidia_h100_run33.{md,csv,json}`',
              '`kernel_picks_h100_session33.json`', '`nb_cells_02d_c032_h100.txt`', '**33rd session**'):
        assert f in readme

def test_34th_session_evidence():
    """The 34th session's H100 evidence (2026-12-08, `tools/gpu/session34.sh head`): the compiled MAR-H head step at
    batch 256 with its adaLN product whole and split per g residual blocks (`ada_group`), in one process: every split is
    slower, at every row count, with the same outputs; so `fast_options` keeps the one product."""
    b = ROOT / 'results' / 'bench'
    run = json.loads((b / 'head_bench_huge_bs256_ada_h100.json').read_text())
    assert run['meta']['device'] == 'NVIDIA H100 80GB HBM3' and run['meta']['order'] == 'sampler'
    assert run['meta']['command'].endswith('--options none --ada-groups all,1,2,3,4,6')
    sets = {s['ada_group']: s for s in run['sets']}
    assert list(sets) == [None, 1, 2, 3, 4, 6] and all(s['options'] is None for s in run['sets'])
    whole = sets.pop(None)
    assert round(whole['head_s_per_call'], 3) == 7.748 and round(sets[4]['head_s_per_call'], 3) == 7.854
    for g, s in sets.items():
        assert s['head_s_per_call'] > whole['head_s_per_call'] + 0.1 and s['rel_l2_vs_first'] == 0.0, g
        assert all(a['us'] < x['us'] for a, x in zip(whole['rows'], s['rows'])), g     # at every row count
    assert min(sets, key=lambda g: sets[g]['head_s_per_call']) == 4 and max(sets, key=lambda g: sets[g]['head_s_per_call']) == 1
    assert 'none+ada1: head 8.320 s per call' in (b / 'head_bench_huge_bs256_ada_h100_stdout.txt').read_text()
    from marval.generate import fast_options
    assert 'ada_group' not in fast_options(True, 'cuda')
    readme = (b / 'README.md').read_text()
    for f in ('`head_bench_huge_bs256_ada_h100.{md,json}`', '**34th session**'): assert f in readme

def test_nb_cells(tmp_path):
    """tools/gpu/nb_cells.py runs the named code cells of a notebook in order, in one namespace with a module's names;
    a failing cell is reported and makes the exit status 1, a missing cell id is refused."""
    nb = dict(cells=[dict(id='a', cell_type='code', source=['x = dumps([1])\n']),
                     dict(id='m', cell_type='markdown', source=['not run']),
                     dict(id='b', cell_type='code', source=['assert x == "[1]"; test_fail(lambda: 1/0, contains="division")']),
                     dict(id='c', cell_type='code', source=['assert x == "[2]", "wrong"'])])
    p = tmp_path / 'n.ipynb'; p.write_text(json.dumps(nb))
    r = _run('tools/gpu/nb_cells.py', p, 'json', 'a', 'b')
    assert r.returncode == 0 and 'a: passed' in r.stdout and 'b: passed' in r.stdout, r.stdout + r.stderr
    r = _run('tools/gpu/nb_cells.py', p, 'json', 'a', 'c')
    assert r.returncode == 1 and 'c: FAILED' in r.stdout and 'AssertionError: wrong' in r.stderr
    r = _run('tools/gpu/nb_cells.py', p, 'json', 'a', 'm')
    assert r.returncode != 0 and "has no code cells ['m']" in r.stderr

def test_head_bench(tmp_path):
    """tools/gpu/head_bench.py: option sets parsed by name (values as numbers or booleans), and on the CPU (--smoke) every
    set compiles the teacher's head step, is timed at each AR step's rows and checked against the first set; the
    committed MAR-H runs (H100) say what the docs say: inductor's multi-kernel reductions make the head faster when
    their forms are picked at the largest rows, slower when picked in the sampler's order (its first step's rows)."""
    hb = _gpu_tool('head_bench')
    assert hb.parse_options('none; triton.multi_kernel=1,fx_graph_cache=False ;a=0.5,b=x') == [
        None, {'triton.multi_kernel': 1, 'fx_graph_cache': False}, {'a': 0.5, 'b': 'x'}]
    for bad in ('', 'none;', 'triton.multi_kernel', '=1'): pytest.raises(SystemExit, hb.parse_options, bad)
    r = _run('tools/gpu/head_bench.py', '--out', tmp_path, '--smoke', '--options', 'none;triton.multi_kernel=1,fx_graph_cache=False')
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((tmp_path / 'head_bench_tiny_bs2.json').read_text())
    assert [s['label'] for s in res['sets']] == ['none', 'triton.multi_kernel=1,fx_graph_cache=False']
    from marval.fast_sampling import step_plan
    ms = sorted({c - n for c, n, _ in step_plan(49, 4)})
    for s in res['sets']:
        assert [row['m'] for row in s['rows']] == ms and [row['rows'] for row in s['rows']] == [4 * m for m in ms]   # 2 images, CFG
        assert all(row['us'] > 0 for row in s['rows']) and s['head_s_per_call'] > 0
    assert res['sets'][1]['rel_l2_vs_first'] < 1e-5                          # inductor's CPU backend: the same function
    assert '| `triton.multi_kernel=1,fx_graph_cache=False` |' in (tmp_path / 'head_bench_tiny_bs2.md').read_text()
    b = ROOT / 'results' / 'bench'
    run = json.loads((b / 'head_bench_huge_bs256.json').read_text())
    none, mk = run['sets'][0], run['sets'][1]
    assert run['meta']['device'] == 'NVIDIA H100 80GB HBM3' and mk['options'] == {'triton.multi_kernel': 1, 'fx_graph_cache': False}
    assert mk['head_s_per_call'] < none['head_s_per_call'] - 0.15 and mk['rel_l2_vs_first'] < 1e-3
    assert all(a['us'] > c['us'] for a, c in zip(none['rows'], mk['rows']))  # at every row count
    so = json.loads((b / 'head_bench_huge_bs256_sampler.json').read_text())   # the 18th session's lease, the sampler's order
    none, mk = so['sets']
    assert so['meta']['order'] == 'sampler' and mk['options'] == run['sets'][1]['options']
    assert mk['head_s_per_call'] > none['head_s_per_call'] + 0.05 and all(a['us'] < c['us'] for a, c in zip(none['rows'], mk['rows']))
    # 19th session: without multi-kernel the first call's rows do not matter (each order's second process, one lease)
    by = {o: json.loads((b / f'head_bench_huge_bs256_order_{o}.json').read_text()) for o in ('sampler', 'largest')}
    assert [by[o]['meta']['order'] for o in by] == ['sampler', 'largest'] and all(by[o]['sets'][0]['options'] is None for o in by)
    t = [by[o]['sets'][0]['head_s_per_call'] for o in by]
    assert abs(t[0] - t[1]) < 0.02 * t[1], t
    r = _run('tools/gpu/head_bench.py', '--out', tmp_path / 'o', '--smoke', '--options', 'none', '--order', 'sampler')
    assert r.returncode == 0, r.stderr[-2000:]
    so = json.loads((tmp_path / 'o' / 'head_bench_tiny_bs2.json').read_text())
    assert so['meta']['order'] == 'sampler' and [row['m'] for row in so['sets'][0]['rows']] == ms and so['sets'][0]['setup_s'] > 0
    # --ada-groups: each options set with the head's adaLN product whole and per g blocks (`ada_group`), the same function
    assert hb.parse_groups('all, 1,4') == [None, 1, 4] and hb.label(None, 2) == 'none+ada2'
    for bad in ('', '0', 'x', '1.5'): pytest.raises(SystemExit, hb.parse_groups, bad)
    r = _run('tools/gpu/head_bench.py', '--out', tmp_path / 'g', '--smoke', '--options', 'none', '--ada-groups', 'all,1')
    assert r.returncode == 0, r.stderr[-2000:]
    sg = json.loads((tmp_path / 'g' / 'head_bench_tiny_bs2.json').read_text())['sets']
    assert [(s['label'], s['ada_group']) for s in sg] == [('none', None), ('none+ada1', 1)] and sg[1]['rel_l2_vs_first'] < 1e-5

def test_gpu_shell_scripts():
    """Every device script in tools/gpu parses (`bash -n`) and is listed in tools/gpu/README.md: a session's device
    call runs one of them, and a syntax error would cost a lease."""
    import subprocess
    readme = (ROOT / 'tools' / 'gpu' / 'README.md').read_text()
    scripts = sorted((ROOT / 'tools' / 'gpu').glob('*.sh'))
    assert len(scripts) >= 2
    for f in scripts:
        r = subprocess.run(['bash', '-n', str(f)], capture_output=True, text=True)
        assert r.returncode == 0, (f.name, r.stderr)
        assert f'`{f.name}`' in readme, f'{f.name} is not in tools/gpu/README.md'

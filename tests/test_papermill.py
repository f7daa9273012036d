"The run notebooks execute under papermill with injected parameters (the path users take: -p size ...)."
import json, os, pathlib, subprocess, sys
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

def _papermill(nb, out, *params, cwd=ROOT / 'nbs'):
    exe = pathlib.Path(sys.executable).parent / 'papermill'
    args = [str(exe), str(ROOT / 'nbs' / nb), str(out), '-k', 'python3', '--cwd', str(cwd), '--log-level', 'WARNING']
    for k, v in params: args += ['-p', k, str(v)]
    env = {k: v for k, v in os.environ.items() if k != 'IN_TEST'}   # nbdev's runner (other tests) sets IN_TEST in-process
    return subprocess.run(args, capture_output=True, text=True, env=env)

def test_sample_teacher_tiny(tmp_path):
    if not (ROOT / 'data' / 'tiny_teacher.pt').exists(): pytest.skip('data/tiny_teacher.pt not shipped yet')
    r = _papermill('04e_sample_teacher.ipynb', tmp_path / 'o.ipynb', ('size', 'tiny'), ('num_samples', 20),
                   ('batch_size', 20), ('out_dir', tmp_path), ('num_sampling_steps', 10))
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((tmp_path / 'teacher_sample.json').read_text())
    assert res['num_samples'] == 20 and res['K'] == 16 and (tmp_path / 'teacher_sample_grid.png').exists()
    assert 0 <= res['judge_accuracy'] <= 1

def test_unknown_size_fails_clearly(tmp_path):
    r = _papermill('04e_sample_teacher.ipynb', tmp_path / 'o.ipynb', ('size', 'gigantic'))
    assert r.returncode != 0 and 'unknown size' in (r.stderr + r.stdout)

def test_paper_tables_imagenet_standin(tmp_path):
    "The base/large/huge path of the table notebook (Inception + VAE + MAR stand-ins, random weights) under papermill."
    r = _papermill('08a_paper_tables.ipynb', tmp_path / 'o.ipynb', ('size', 'base'), ('smoke', True), ('out_dir', tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    nb = json.loads((tmp_path / 'o.ipynb').read_text())
    text = ''.join(''.join(o.get('text', '')) for c in nb['cells'] for o in c.get('outputs', []))
    assert 'table1.teacher.fid' in text and 'paper B fid' in text and 'cfg_ablation.w1.2.fid' in text

def test_rl_tiny(tmp_path):
    "06_rl under papermill (CPU smoke sizes): the six headline rl.* keys are written."
    for f in ['tiny_student.pt', 'mnist.pkl.gz']:
        if not (ROOT / 'data' / f).exists(): pytest.skip(f'data/{f} missing')
    r = _papermill('06_rl.ipynb', tmp_path / 'o.ipynb', ('size', 'tiny'), ('steps', 2), ('batch_size', 4),
                   ('num_samples', 20), ('out_dir', tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads((tmp_path / 'metrics.json').read_text())
    for k in ['reward_before', 'reward_after', 'judge_accuracy_before', 'judge_accuracy_after', 'fid_before', 'fid_after']:
        assert f'rl.{k}' in m, k

def test_bench_smoke(tmp_path):
    "07_bench under papermill in its CPU smoke configuration writes the report files."
    r = _papermill('07_bench.ipynb', tmp_path / 'o.ipynb', ('smoke', True), ('out_dir', tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    nb = json.loads((tmp_path / 'o.ipynb').read_text())
    text = ''.join(''.join(o.get('text', '')) for c in nb['cells'] for o in c.get('outputs', []))
    assert '|---' in text and 'sampler' in text, text[-2000:]

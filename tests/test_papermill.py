"The run notebooks execute under papermill with injected parameters (the path users take: -p size ...)."
import json, pathlib, subprocess, sys
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

def _papermill(nb, out, *params, cwd=ROOT / 'nbs'):
    exe = pathlib.Path(sys.executable).parent / 'papermill'
    args = [str(exe), str(ROOT / 'nbs' / nb), str(out), '-k', 'python3', '--cwd', str(cwd), '--log-level', 'WARNING']
    for k, v in params: args += ['-p', k, str(v)]
    return subprocess.run(args, capture_output=True, text=True)

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

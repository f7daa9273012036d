"The report tools that turn committed GPU reports into metrics.json keys (tools/tiny_metrics.py, tools/bench_report.py)."
import json, pathlib, shutil, subprocess, sys
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

def _run(*args):
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True, text=True)

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
    r = _run('tools/bench_report.py', '--main', b / 'nvidia_h200.json', b / 'nvidia_h200_check.json', '--name', 'joined',
             '--out', tmp_path, '--ddp-json', b / 'ddp_check.json', '--previous', b / 'nvidia_h100_80gb_hbm3.json')
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads((tmp_path / 'metrics.json').read_text())
    assert m['device'] == 'NVIDIA H200' and m['check.graph_equals_eager'] is True and 'ddp.scaling_2gpu' in m
    assert 'teacher.base.bs1_s' not in m and 'previous.nvidia_h100_80gb_hbm3.teacher.base.bs1_s' in m
    rows = json.loads((b / 'nvidia_h200.json').read_text())['rows']
    best = min(x['median_s'] for x in rows if x.get('what') == 'sampler' and x.get('kind') == 'student' and x.get('batch') == 1
               and x.get('size') == 'base' and 'median_s' in x)
    assert m['student.base.bs1_s'] == best
    assert (tmp_path / 'joined.md').read_text().count('| check |') == 0 and 'Equality check' in (tmp_path / 'joined.md').read_text()
    bad = _run('tools/bench_report.py', '--main', b / 'nvidia_h200.json', b / 'nvidia_h100_80gb_hbm3.json', '--name', 'x',
               '--out', tmp_path / 'bad')
    assert bad.returncode != 0 and 'several devices' in (bad.stderr + bad.stdout)

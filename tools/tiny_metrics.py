"""Write the flat `teacher.*`, `student.*` and `rl.*` keys of results/tiny/metrics.json from the GPU jobs' reports:
results/tiny/teacher_eval.json (tools/gpu/tiny_teacher.py), results/tiny/student_eval.json (tools/gpu/tiny_student.py)
and results/tiny/rl/rl_report.json (tools/gpu/tiny_rl.py). Each key group carries the command, device and date of the
job that measured it. The CPU speed-up keys come from `bash tools/main.sh` (nbs/05_distill.ipynb, `-p headline True`),
the table keys from nbs/08a_paper_tables.ipynb.

    python tools/tiny_metrics.py [--dir results/tiny]
"""
import argparse, json, re, sys
from pathlib import Path


def flat_eval(prefix: str, r: dict, extra: dict) -> dict:
    h = r['headline'] if 'headline' in r else r['final']
    keys = ['fid_mnist', 'judge_accuracy', 'classifier_accuracy', 'K', 'cfg', 'cfg_schedule', 'temperature', 'num_samples']
    out = {f'{prefix}.{k}': h[k] for k in keys if k in h}
    prov = r.get('provenance', {})
    out.update({f'{prefix}.command': r.get('command'), f'{prefix}.device': prov.get('device', h.get('device')),
                f'{prefix}.date': prov.get('date', h.get('date')), f'{prefix}.torch': prov.get('torch', h.get('torch'))})
    out.update({f'{prefix}.{k}': v for k, v in extra.items()})
    return out


def main(argv=None):
    from marval.core import update_json
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--dir', default='results/tiny')
    a = ap.parse_args(argv)
    d = Path(a.dir)
    te = json.loads((d / 'teacher_eval.json').read_text())
    st = json.loads((d / 'student_eval.json').read_text())
    keys = flat_eval('teacher', te, dict(checkpoint='data/tiny_teacher.pt', train_steps=te['train']['steps'],
                                         num_sampling_steps=100))
    for row in te.get('cfg_sweep', []):
        keys[f"teacher.cfg_sweep.w{row['cfg']:g}.fid_mnist"] = row['fid_mnist']
        keys[f"teacher.cfg_sweep.w{row['cfg']:g}.judge_accuracy"] = row['judge_accuracy']
        keys['teacher.cfg_sweep.num_samples'] = row['num_samples']
    for t in te.get('timing_gpu') or []: keys[f"teacher.gpu_bs{t['batch']}_s_per_batch"] = t['median_s']
    keys.update(flat_eval('student', st, dict(checkpoint='data/tiny_student.pt', train_steps=st['train']['steps'],
                                              w=st.get('gsim_overrides', {}).get('w', st['distill_config']['gsim']['w']))))
    keys['student.fid_ratio_to_teacher'] = keys['student.fid_mnist'] / keys['teacher.fid_mnist']
    m = re.search(r'--curve-samples (\d+)', st.get('command', ''))
    n_curve = int(m.group(1)) if m else 2000                          # tools/gpu/tiny_student.py's default
    for c in st.get('curve', []): keys[f"student.curve.step{c['step']}.fid_mnist_{n_curve}"] = c['fid_mnist']
    for t in (st.get('timing_gpu') or {}).get('student') or []: keys[f"student.gpu_bs{t['batch']}_s_per_batch"] = t['median_s']
    rl_path = d / 'rl' / 'rl_report.json'
    if rl_path.exists():
        rl = json.loads(rl_path.read_text())
        keys.update(rl['metrics'])
        run = rl['runs'][rl['headline_run']]
        keys['rl.steps'] = run['curve'][-1]['step']                  # steps actually trained (the time budget can cut)
        keys['rl.steps_requested'] = rl['metrics']['rl.steps']
    update_json(d / 'metrics.json', keys)
    print(json.dumps(keys, indent=1, default=str))
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""GPU job: the tiny CFG ablation — GSIM-distil one student per guidance scale w, all on one GPU at once, then time
the teacher and the shipped student alone.

Run on the GPU machine from the repo root (data/mnist.pkl.gz and data/tiny_teacher.pt present):
    PYTHONPATH=$PWD python3 tools/gpu/tiny_cfg_ablation.py --out $OUT --ws 1.0 1.1 1.2 2.0 4.0 --ship 1.1 1.2
Each w runs `tools/gpu/tiny_student.py` in its own process (the tiny model is launch-bound, so several processes
share the GPU well); they all use the tiny distill preset (`marval.distill.distill_preset('tiny')`) and differ
only in `w`. Outputs in --out:
  students.tar        per-w folders w<w>/: student_eval.json (curve, final MNIST-FID / judge on 10k samples),
                      log.csv, loss.png, student_grid.png, student_samples.npz, stdout.txt
  student_w<w>.pt     the EMA generators of the `--ship` values (candidates for data/tiny_student.pt)
  teacher_samples.npz, teacher_eval.json   with --teacher-samples N: N teacher samples (cfg 3, K = 16, seed 0)
  timing.json         GPU batch-1 / batch-64 generation times of the teacher and each shipped student (alone)
"""
import argparse, json, os, subprocess, sys, tarfile, time
from pathlib import Path
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--work', default='/tmp/tiny_cfg_ablation')
    ap.add_argument('--ws', type=float, nargs='+', default=[1.0, 1.2, 2.0, 4.0])
    ap.add_argument('--ship', type=float, nargs='*', default=[1.2])
    ap.add_argument('--train-seconds', type=float, default=400)
    ap.add_argument('--max-steps', type=int, default=5000)
    ap.add_argument('--chunk', type=int, default=500)
    ap.add_argument('--num-samples', type=int, default=10000)
    ap.add_argument('--curve-samples', type=int, default=2000)
    ap.add_argument('--teacher-samples', type=int, default=0, help='also sample the teacher (cfg 3, K=16, seed 0) and keep the samples')
    a = ap.parse_args()
    out, work = Path(a.out), Path(a.work); out.mkdir(parents=True, exist_ok=True); work.mkdir(parents=True, exist_ok=True)
    here = Path(__file__).resolve().parent
    procs = {}
    for w in a.ws:
        d = work / f'w{w}'; d.mkdir(exist_ok=True)
        cmd = [sys.executable, str(here / 'tiny_student.py'), '--out', str(d), '--work', str(work / f'run_w{w}'),
               '--train-seconds', str(a.train_seconds), '--max-steps', str(a.max_steps), '--chunk', str(a.chunk),
               '--num-samples', str(a.num_samples), '--curve-samples', str(a.curve_samples),
               '--gsim', json.dumps({'w': w}), '--no-timing']
        procs[w] = (subprocess.Popen(cmd, stdout=open(d / 'stdout.txt', 'w'), stderr=subprocess.STDOUT), d)
        print('started w =', w, flush=True)
    t0 = time.time()
    for w, (p, d) in procs.items():
        rc = p.wait()
        print(f'w = {w}: exit {rc} after {time.time() - t0:.0f}s', flush=True)
        if (d / 'student_eval.json').exists():
            f = json.loads((d / 'student_eval.json').read_text())['final']
            print(f"  fid_mnist {f['fid_mnist']:.3f}  judge {f['judge_accuracy']:.4f}", flush=True)
        else:
            print((d / 'stdout.txt').read_text()[-3000:], flush=True)
    with tarfile.open(out / 'students.tar', 'w') as tf:
        for w, (p, d) in procs.items():
            for f in d.iterdir():
                if f.suffix != '.pt': tf.add(f, arcname=f'w{w}/{f.name}')
    for w in a.ship:
        src = procs[w][1] / 'tiny_student.pt'
        if src.exists(): (out / f'student_w{w}.pt').write_bytes(src.read_bytes())

    # timings alone on the GPU (no other process running now)
    from marval.generate import load_teacher
    from marval.distill import load_student, StudentTokenSampler
    from marval.sampling import DiffusionTokenSampler
    from marval.tokenizers import make_tokenizer
    from marval.evaluate import time_generation
    from marval.config import get_preset
    from marval.core import provenance
    dev = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    K, cfg = get_preset('tiny').sample.num_iter, get_preset('tiny').sample.cfg
    teacher = load_teacher(None, device=dev)
    tok = make_tokenizer('pixel', channels=1, patch_size=4).to(dev)
    if a.teacher_samples:
        from marval.evaluate import sample_report
        r = sample_report(teacher, tok, DiffusionTokenSampler(teacher.diffloss), 'teacher', work, num_iter=K, cfg=cfg,
                          num_samples=a.teacher_samples, seed=0, batch_size=1000, samples_path=out / 'teacher_samples.npz',
                          command='PYTHONPATH=$PWD python3 tools/gpu/tiny_cfg_ablation.py ' + ' '.join(sys.argv[1:]))
        print(json.dumps(r, indent=1, default=str), flush=True)
        (out / 'teacher_eval.json').write_text(json.dumps(r, indent=1, default=str))
    timing = dict(provenance=provenance(), K=K,
                  teacher=[time_generation(teacher, tok, DiffusionTokenSampler(teacher.diffloss), batch=b, num_iter=K,
                                           cfg=cfg, repeats=3) for b in [1, 64]])
    for w in a.ship:
        f = out / f'student_w{w}.pt'
        if f.exists():
            g = load_student(f, teacher, device=dev)
            timing[f'student_w{w}'] = [time_generation(teacher, tok, StudentTokenSampler(g, clip=1.0), batch=b,
                                                       num_iter=K, cfg=1.0, repeats=5) for b in [1, 64]]
    print(json.dumps(timing, indent=1, default=str), flush=True)
    (out / 'timing.json').write_text(json.dumps(timing, indent=1, default=str))


if __name__ == '__main__':
    main()

"""GPU job: GSIM-distil the shipped tiny MNIST teacher into a one-step student, with a learning curve, then evaluate.

Run on the GPU machine from the repo root (data/mnist.pkl.gz present):
    PYTHONPATH=$PWD python3 tools/gpu/tiny_student.py --out $OUT --train-seconds 360
Everything goes through the library (marval.distill.distill_size, marval.evaluate); this file only orchestrates.
Outputs in --out: tiny_student.pt (EMA generator, shipped as data/tiny_student.pt), log.csv, loss.png,
student_eval.json (curve + final figures + provenance), student_grid.png, student_samples.npz (the evaluated samples).
"""
import argparse, json, shutil, sys, time
from pathlib import Path
import torch

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--work', default='/tmp/tiny_student_run')
    ap.add_argument('--train-seconds', type=float, default=360)
    ap.add_argument('--chunk', type=int, default=500)
    ap.add_argument('--max-steps', type=int, default=100000)
    ap.add_argument('--curve-samples', type=int, default=2000)
    ap.add_argument('--num-samples', type=int, default=10000)
    ap.add_argument('--overrides', default='{}', help='JSON DistillConfig overrides')
    ap.add_argument('--gsim', default='{}', help='JSON GSIMConfig overrides')
    ap.add_argument('--no-timing', action='store_true', help='skip the GPU timings (e.g. when several runs share a GPU)')
    ap.add_argument('--no-teacher-timing', action='store_true', help="time the student only (the teacher's GPU times come from tiny_teacher.py)")
    a = ap.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    torch.backends.cuda.matmul.allow_tf32 = True; torch.backends.cudnn.allow_tf32 = True
    from marval.distill import distill_size, load_student, StudentTokenSampler, STUDENT_EMA, distill_preset
    from marval.generate import load_teacher
    from marval.tokenizers import make_tokenizer
    from marval.sampling import DiffusionTokenSampler
    from marval.evaluate import sample_report, time_generation
    from marval.config import get_preset
    from marval.core import provenance
    p = get_preset('tiny'); K = p.sample.num_iter
    dev = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    teacher = load_teacher(None, device=dev)
    tok = make_tokenizer('pixel', channels=1, patch_size=4).to(dev)
    ov, gs = json.loads(a.overrides), json.loads(a.gsim)
    argv = ['$OUT' if x == a.out else x for x in sys.argv[1:]]
    import shlex; cmd = 'PYTHONPATH=$PWD python3 tools/gpu/tiny_student.py ' + shlex.join(argv).replace("'$OUT'", '$OUT')
    curve, t0, steps = [], time.time(), 0

    def evaluate(name, n, seed, out_dir, **kw):
        g = load_student(Path(a.work) / STUDENT_EMA, teacher, device=dev)
        return sample_report(teacher, tok, StudentTokenSampler(g, clip=teacher.cfg.clip_denoised), name, out_dir,
                             num_iter=K, cfg=1.0, num_samples=n, seed=seed, batch_size=1000, command=cmd, **kw)

    while steps < a.max_steps and time.time() - t0 < a.train_seconds:
        steps += a.chunk
        r = distill_size('tiny', out_dir=a.work, steps=steps, resume=steps > a.chunk, progress=False, overrides=ov,
                         gsim_overrides=gs, device=dev)
        e = evaluate('curve', a.curve_samples, 1, Path(a.work) / 'curve')
        curve.append(dict(step=steps, seconds=time.time() - t0, fid_mnist=e['fid_mnist'], judge_accuracy=e['judge_accuracy']))
        print(curve[-1], flush=True)
    train_s = time.time() - t0
    shutil.copy(Path(a.work) / STUDENT_EMA, out / 'tiny_student.pt')
    shutil.copy(Path(a.work) / 'log.csv', out / 'log.csv'); shutil.copy(Path(a.work) / 'loss.png', out / 'loss.png')
    final = evaluate('student', a.num_samples, 0, out, samples_path=out / 'student_samples.npz')
    print(json.dumps(final, indent=1), flush=True)
    g = load_student(out / 'tiny_student.pt', teacher, device=dev)
    timing = None if a.no_timing else dict(student=[time_generation(teacher, tok, StudentTokenSampler(g, clip=1.0), batch=b, num_iter=K, cfg=1.0, repeats=5)
                           for b in [1, 64]],
                  teacher=None if a.no_teacher_timing else
                          [time_generation(teacher, tok, DiffusionTokenSampler(teacher.diffloss), batch=b, num_iter=K,
                                           cfg=p.sample.cfg, repeats=3) for b in [1, 64]])
    print(timing, flush=True)
    res = dict(curve=curve, final=final, timing_gpu=timing, train=dict(steps=steps, seconds=train_s),
               distill_config=json.loads(json.dumps(vars(distill_preset('tiny')), default=lambda o: getattr(o, '__dict__', str(o)))),
               distill_config_effective=torch.load(out / 'tiny_student.pt', weights_only=False, map_location='cpu')['distill_config'],
               overrides=ov, gsim_overrides=gs, command=cmd, provenance=provenance())
    (out / 'student_eval.json').write_text(json.dumps(res, indent=1, default=str))

if __name__ == '__main__':
    main()

"""GPU job: train the tiny MNIST MAR teacher, then evaluate it (MNIST-FID, judge accuracy, grids, timings).

Run on the GPU machine from the repo root (data/mnist.pkl.gz present):
    PYTHONPATH=$PWD python tools/gpu/tiny_teacher.py --out $OUT --train-seconds 370     # train + evaluate
    PYTHONPATH=$PWD python tools/gpu/tiny_teacher.py --out $OUT --teacher data/tiny_teacher.pt   # evaluate only
Everything goes through the library (marval.train.train_teacher, marval.evaluate); this file only orchestrates.
Outputs in --out: tiny_teacher.pt (EMA weights, shipped as data/tiny_teacher.pt), log.csv, loss.png,
teacher_eval.json (figures + provenance), teacher_grid.png, teacher_samples.npz (the 10k evaluated samples).
"""
import argparse, json, shutil, sys, time
from pathlib import Path
import torch

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--work', default='/tmp/tiny_teacher_run')
    ap.add_argument('--train-seconds', type=float, default=330)
    ap.add_argument('--chunk', type=int, default=2000)
    ap.add_argument('--max-steps', type=int, default=60000)
    ap.add_argument('--num-samples', type=int, default=10000)
    ap.add_argument('--sweep-samples', type=int, default=2000)
    ap.add_argument('--teacher', default=None, help='evaluate this teacher file and skip training')
    a = ap.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    from marval.train import train_teacher
    from marval.config import get_preset
    from marval.core import provenance
    torch.backends.cuda.matmul.allow_tf32 = True; torch.backends.cudnn.allow_tf32 = True
    if a.teacher is None:
        t0, steps = time.time(), 0
        while steps < a.max_steps and time.time() - t0 < a.train_seconds:   # constant lr after warm-up: chunks == one run
            steps += a.chunk
            r = train_teacher('tiny', out_dir=a.work, steps=steps, resume=steps > a.chunk, progress=False)
            print(f'step {steps}: loss {r["loss"]:.4f}  elapsed {time.time() - t0:.0f}s', flush=True)
        train = dict(steps=steps, seconds=time.time() - t0, final_loss=r['loss'])
        shutil.copy(r['teacher_ema'], out / 'tiny_teacher.pt')
        for f in ['log.csv']: shutil.copy(Path(a.work) / f, out / f)
        from marval.train import plot_log
        plot_log(a.work, out / 'loss.png', title='tiny MAR teacher (MNIST)')
        teacher = out / 'tiny_teacher.pt'
    else:
        teacher = Path(a.teacher)
        train = dict(torch.load(teacher, weights_only=False, map_location='cpu')['provenance'])

    from marval.generate import load_teacher
    from marval.tokenizers import make_tokenizer
    from marval.sampling import DiffusionTokenSampler
    from marval.evaluate import sample_report, time_generation
    p = get_preset('tiny')
    dev = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    m = load_teacher(teacher, device=dev)
    tok = make_tokenizer('pixel', channels=1, patch_size=4).to(dev)
    ts = DiffusionTokenSampler(m.diffloss)
    argv = ['$OUT' if x == a.out else x for x in sys.argv[1:]]
    cmd = 'PYTHONPATH=$PWD python3 tools/gpu/tiny_teacher.py ' + ' '.join(argv)
    res = dict(train=train, teacher=str(teacher),
               provenance=provenance(), command=cmd)
    res['headline'] = sample_report(m, tok, ts, 'teacher', out, num_iter=p.sample.num_iter, cfg=p.sample.cfg,
                                    cfg_schedule=p.sample.cfg_schedule, temperature=p.sample.temperature,
                                    num_samples=a.num_samples, seed=0, batch_size=1000, command=cmd,
                                    samples_path=out / 'teacher_samples.npz')
    print(json.dumps(res['headline'], indent=1), flush=True)
    res['cfg_sweep'] = []
    for cfg in [1.0, 2.0, 3.0, 4.0, 5.0]:
        rr = sample_report(m, tok, ts, f'sweep_cfg{cfg}', Path(a.work) / 'sweep', num_iter=p.sample.num_iter, cfg=cfg,
                           num_samples=a.sweep_samples, seed=1, batch_size=1000, command=cmd)
        res['cfg_sweep'].append({k: rr[k] for k in ['cfg', 'fid_mnist', 'judge_accuracy', 'classifier_accuracy', 'num_samples']})
        print(res['cfg_sweep'][-1], flush=True)
    res['timing_gpu'] = [time_generation(m, tok, ts, batch=b, num_iter=p.sample.num_iter, cfg=p.sample.cfg, repeats=3)
                         for b in [1, 64]]
    print(res['timing_gpu'], flush=True)
    (out / 'teacher_eval.json').write_text(json.dumps(res, indent=1, default=str))

if __name__ == '__main__':
    main()

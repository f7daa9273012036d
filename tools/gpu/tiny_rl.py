"""GPU job: MARVAL-RL of the shipped tiny student (data/tiny_student.pt) with the MNIST classifier reward.

Run on the GPU machine from the repo root (data/ holds the tiny teacher, student, classifiers and mnist.pkl.gz):
    PYTHONPATH=$PWD python3 tools/gpu/tiny_rl.py --out $OUT
Two runs of the same recipe that differ only in the regulariser weight (--reg-weights, default 0 and the preset's λ),
each evaluated every --chunk steps on --curve-samples samples (reward, judge accuracy, MNIST-FID: the reward-hacking
check over training) and at the end on --num-samples samples, against the distilled student evaluated the same way.
Everything goes through the library (marval.rl.rl_size / rl_eval / hacking_check); this file only orchestrates.
The headline run is the LAST of --reg-weights (the regularised recipe), fixed before looking at the numbers.
Outputs in --out (6 files): rl_report.json (all numbers, curves, configs, the flat `rl.*` keys for
results/tiny/metrics.json, provenance), rl_student.pt (headline EMA student), rl_grids.png (before | each run),
rl_curves.png (training reward and evaluation curves), rl_logs.csv (both training logs), rl_samples.npz (the headline
run's evaluated samples). CPU smoke test:
    PYTHONPATH=$PWD python3 tools/gpu/tiny_rl.py --out /tmp/o --steps 4 --chunk 2 --batch-size 4 --num-samples 20 \
        --curve-samples 20 --device cpu
"""
import argparse, json, shlex, shutil, sys, time
from pathlib import Path
import torch

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--work', default='/tmp/tiny_rl_run')
    ap.add_argument('--steps', type=int, default=None, help='RL steps per run (default: the tiny preset)')
    ap.add_argument('--chunk', type=int, default=100, help='evaluate every this many steps')
    ap.add_argument('--batch-size', type=int, default=None)
    ap.add_argument('--lr', type=float, default=None)
    ap.add_argument('--grad-path', default=None)
    ap.add_argument('--reg-weights', default=None, help='comma-separated λ values, one run each (default: 0,<preset λ>)')
    ap.add_argument('--overrides', default='{}', help='JSON RLConfig overrides shared by the runs')
    ap.add_argument('--num-samples', type=int, default=10000)
    ap.add_argument('--curve-samples', type=int, default=2000)
    ap.add_argument('--max-seconds', type=float, default=None, help='wall-clock budget of each run')
    ap.add_argument('--device', default=None)
    a = ap.parse_args()
    out, work = Path(a.out), Path(a.work)
    out.mkdir(parents=True, exist_ok=True)
    if work.exists(): shutil.rmtree(work)
    torch.backends.cuda.matmul.allow_tf32 = True; torch.backends.cudnn.allow_tf32 = True
    from marval.rl import rl_size, rl_eval, load_rl_student, hacking_check, rl_preset, plot_rl_log, TINY_STUDENT
    from marval.generate import load_teacher, save_grid
    from marval.distill import load_student
    from marval.rewards import make_reward
    from marval.tokenizers import make_tokenizer
    from marval.core import provenance, get_device, repo_root
    from marval.evaluate import save_samples
    dev = get_device(a.device)
    pre = rl_preset('tiny')
    ov = json.loads(a.overrides)
    for k, v in [('lr', a.lr), ('grad_path', a.grad_path)]:
        if v is not None: ov[k] = v
    steps = a.steps or pre.steps
    regs = [float(x) for x in a.reg_weights.split(',')] if a.reg_weights else [0.0, pre.reg_weight]
    argv = ['$OUT' if x == a.out else x for x in sys.argv[1:]]
    cmd = 'PYTHONPATH=$PWD python3 tools/gpu/tiny_rl.py ' + shlex.join(argv).replace("'$OUT'", '$OUT')
    teacher = load_teacher(None, device=dev)
    tok = make_tokenizer('pixel', channels=1, patch_size=4).to(dev)
    reward = make_reward('classifier', device=dev)
    K = pre.num_iter
    keys = ['reward', 'judge_accuracy', 'classifier_accuracy', 'fid_mnist']
    ev = lambda model, gen, n, seed, **kw: rl_eval(model, tok, gen, reward, n, K, seed=seed, batch_size=1000, **kw)

    t0 = time.time()
    student = load_student(repo_root() / TINY_STUDENT, teacher, device=dev)
    before, imgs_b, labels = ev(teacher, student, a.num_samples, 0)
    before_curve = ev(teacher, student, a.curve_samples, 1)[0]
    print('before', {k: before[k] for k in keys}, flush=True)
    runs, grids = {}, [('distilled student', imgs_b)]
    for lam in regs:
        name = f'reg{lam:g}'
        run_dir = work / name
        curve = [dict(step=0, **{k: before_curve[k] for k in keys})]
        t_run, done = time.time(), 0
        while done < steps:
            left = None if a.max_seconds is None else a.max_seconds - (time.time() - t_run)
            if left is not None and left <= 0: break          # (before 2026-12-01 `done` was advanced before this test)
            target = min(steps, done + a.chunk)
            r = rl_size('tiny', out_dir=run_dir, steps=target, batch_size=a.batch_size, device=dev, resume=done > 0,
                        progress=False, overrides=dict(ov, reg_weight=lam), max_seconds=left)
            done = r['step']
            model, gen = load_rl_student(r['student'], teacher, device=dev)
            e = ev(model, gen, a.curve_samples, 1)[0]
            curve.append(dict(step=done, seconds=time.time() - t_run, **{k: e[k] for k in keys}))
            print(name, curve[-1], flush=True)
            if r['stopped_early']: break
        train_s = time.time() - t_run
        model, gen = load_rl_student(run_dir / 'rl_student_ema.pt', teacher, device=dev)
        after, imgs_a, _ = ev(model, gen, a.num_samples, 0)
        runs[name] = dict(reg_weight=lam, steps=done, train_seconds=train_s, after={k: after[k] for k in keys},
                          hacking=hacking_check(before, after), curve=curve,
                          config=json.loads((run_dir / 'config.json').read_text())['rl'])
        grids.append((f'after RL, λ = {lam:g}', imgs_a))
        print(name, 'after', runs[name]['after'], runs[name]['hacking'], flush=True)
    head = f'reg{regs[-1]:g}'
    shutil.copy(work / head / 'rl_student_ema.pt', out / 'rl_student.pt')
    save_samples(out / 'rl_samples.npz', grids[-1][1], labels)

    # grids: the first 8 samples of every class, one panel per model
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    fig, axs = plt.subplots(1, len(grids), figsize=(3.2 * len(grids), 4))
    for ax, (title, im) in zip(axs, grids):
        sel = torch.cat([im[labels == c][:8] for c in range(10)])
        p = save_grid(sel, work / 'tmp_grid.png', nrow=8)
        ax.imshow(plt.imread(p), cmap='gray'); ax.set_title(title, fontsize=9); ax.axis('off')
    fig.tight_layout(); fig.savefig(out / 'rl_grids.png', dpi=110); plt.close(fig)
    # curves: training reward / reg / grad norm per run, then the evaluation curves
    fig, axs = plt.subplots(2, 3, figsize=(13, 6.5))
    for name in runs: plot_rl_log(work / name, label=name, axs=axs[0])
    for name, rr in runs.items():
        st = [c['step'] for c in rr['curve']]
        for ax, k, t in zip(axs[1], ['reward', 'judge_accuracy', 'fid_mnist'],
                            ['eval reward (mean log p, reward classifier)', 'judge accuracy (independent)', 'MNIST-FID']):
            ax.plot(st, [c[k] for c in rr['curve']], marker='o', label=name); ax.set_title(t); ax.set_xlabel('step'); ax.legend()
    axs[1][2].axhline(1.2 * before_curve['fid_mnist'], color='gray', ls='--', lw=0.8)
    fig.tight_layout(); fig.savefig(out / 'rl_curves.png', dpi=110); plt.close(fig)
    import pandas as pd
    pd.concat([pd.read_csv(work / n / 'log.csv').assign(run=n) for n in runs]).to_csv(out / 'rl_logs.csv', index=False)

    h = runs[head]
    prov = provenance()
    flat = {'rl.reward_before': before['reward'], 'rl.reward_after': h['after']['reward'],
            'rl.judge_accuracy_before': before['judge_accuracy'], 'rl.judge_accuracy_after': h['after']['judge_accuracy'],
            'rl.fid_before': before['fid_mnist'], 'rl.fid_after': h['after']['fid_mnist'],
            'rl.classifier_accuracy_before': before['classifier_accuracy'],
            'rl.classifier_accuracy_after': h['after']['classifier_accuracy'],
            'rl.fid_ratio': h['after']['fid_mnist'] / before['fid_mnist'], 'rl.reward_hacking': h['hacking']['reward_hacking'],
            'rl.reg_weight': h['reg_weight'], 'rl.steps': h['steps'], 'rl.batch_size': h['config']['batch_size'],
            'rl.lr': h['config']['lr'], 'rl.grad_path': h['config']['grad_path'], 'rl.K': K,
            'rl.num_samples': a.num_samples, 'rl.reward': 'classifier (log p, data/mnist_classifier.pt)',
            'rl.judge': 'data/mnist_judge.pt', 'rl.command': cmd, 'rl.device': prov['device'], 'rl.date': prov['date'],
            'rl.torch': prov['torch']}
    for name, rr in runs.items():
        if name == head: continue
        flat.update({f'rl.{name}.{k}': v for k, v in rr['after'].items()})
        flat[f'rl.{name}.reward_hacking'] = rr['hacking']['reward_hacking']
    report = dict(before={k: before[k] for k in keys}, runs=runs, headline_run=head, metrics=flat, command=cmd,
                  total_seconds=time.time() - t0, provenance=prov)
    (out / 'rl_report.json').write_text(json.dumps(report, indent=1, default=str))
    print(json.dumps(flat, indent=1, default=str), flush=True)

if __name__ == '__main__':
    main()

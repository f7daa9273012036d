"""Integration tests of `marval train-teacher` as a real process: SIGKILL + --resume gives bit-identical weights,
torchrun (2 CPU processes, gloo) works and resumes exactly, and bad input gives clear errors."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SMALL = json.dumps(dict(encoder_embed_dim=32, encoder_depth=1, encoder_num_heads=2, decoder_embed_dim=32,
                        decoder_depth=1, decoder_num_heads=2, buffer_size=4, diffloss_d=1, diffloss_w=32,
                        diffusion_batch_mul=1))
ENV = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', PYTHONUNBUFFERED='1')


def cli(out, steps, *extra, batch=16):
    "argv of a fast teacher run (reduced tiny MAR on synthetic digits) after `python -m marval.cli`."
    return ['train-teacher', '--size', 'tiny', '--dataset', 'synthetic', '--synthetic-n', '256', '--out', str(out),
            '--steps', str(steps), '--batch-size', str(batch), '--ckpt-every', '5', '--log-every', '5',
            '--lr', '2e-3', '--model-overrides', SMALL, '--train-overrides', '{"warmup_steps": 10}', '--no-progress',
            '--device', 'cpu', *extra]


def run(argv, **kw):
    return subprocess.run([sys.executable, '-m', 'marval.cli', *argv], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=120, **kw)


def ckpt(out):
    return torch.load(Path(out) / 'checkpoint-last.pt', map_location='cpu', weights_only=False)


def assert_same_weights(a, b):
    for k in ('model', 'ema'):
        assert a[k].keys() == b[k].keys()
        diff = [n for n in a[k] if not torch.equal(a[k][n], b[k][n])]
        assert not diff, f'{k}: {len(diff)} tensors differ, e.g. {diff[:3]}'
    sa, sb = a['optimizer']['state'], b['optimizer']['state']
    assert all(torch.equal(sa[i][s], sb[i][s]) for i in sa for s in sa[i])


def test_sigkill_then_resume_is_bit_identical(tmp_path):
    steps, kill_after = 100, 10
    full, killed = tmp_path / 'full', tmp_path / 'killed'
    ref = subprocess.Popen([sys.executable, '-m', 'marval.cli', *cli(full, steps)], cwd=ROOT, env=ENV,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = subprocess.Popen([sys.executable, '-m', 'marval.cli', *cli(killed, steps)], cwd=ROOT, env=ENV,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0, seen = time.time(), 0
    try:
        while seen < kill_after:                                   # wait for a checkpoint at step >= kill_after
            assert victim.poll() is None, f'the run ended (rc {victim.returncode}) before the kill'
            assert time.time() - t0 < 90, 'no checkpoint appeared in time'
            if (killed / 'checkpoint-last.pt').exists():
                try: seen = ckpt(killed)['step']
                except Exception: pass                             # renamed under us: read it next round
            time.sleep(0.02)
        assert victim.poll() is None
        victim.send_signal(signal.SIGKILL)                         # mid-run, between two checkpoints or inside one
        victim.wait(timeout=10)
    finally:
        if victim.poll() is None: victim.kill()
    assert victim.returncode == -signal.SIGKILL
    k = ckpt(killed)['step']
    assert kill_after <= k < steps, k

    r = run(cli(killed, steps, '--resume'))
    assert r.returncode == 0, r.stderr[-3000:]
    assert f'resumed from {killed / "checkpoint-last.pt"} at step {k}' in r.stdout, r.stdout
    out, err = ref.communicate(timeout=120)
    assert ref.returncode == 0, err[-3000:]

    a, b = ckpt(full), ckpt(killed)
    assert a['step'] == b['step'] == steps
    assert_same_weights(a, b)
    ea = torch.load(full / 'teacher_ema.pt', weights_only=False)['model']
    eb = torch.load(killed / 'teacher_ema.pt', weights_only=False)['model']
    assert all(torch.equal(ea[n], eb[n]) for n in ea)
    la = (full / 'log.csv').read_text().splitlines()
    lb = (killed / 'log.csv').read_text().splitlines()
    strip = lambda rows: [r.rsplit(',', 1)[0] for r in rows]       # drop sec_per_step
    assert strip(la) == strip(lb) and len(la) == steps // 5 + 1
    assert json.loads((killed / 'config.json').read_text())['resumed_from']['step'] == k


def test_torchrun_two_processes_resume_exactly(tmp_path):
    "gloo DDP on CPU: resuming a 2-process run from its step-5 checkpoint gives the same step-10 weights."
    def torchrun(out, steps, *extra):
        return subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2',
                               '-m', 'marval.cli', *cli(out, steps, *extra, batch=8)], cwd=ROOT, env=ENV,
                              capture_output=True, text=True, timeout=150)
    full, split = tmp_path / 'full', tmp_path / 'split'
    r = torchrun(full, 10, '--keep-every', '5'); assert r.returncode == 0, r.stderr[-3000:]
    r = torchrun(split, 10, '--resume', str(full / 'checkpoint-0000005.pt')); assert r.returncode == 0, r.stderr[-3000:]
    assert 'at step 5' in r.stdout, r.stdout
    a, b = ckpt(full), ckpt(split)
    assert a['world_size'] == 2 and len(a['rng']) == 2 and a['step'] == b['step'] == 10
    assert not torch.equal(a['rng'][0]['torch'], a['rng'][1]['torch'])   # ranks draw different masks/noise
    cfg = json.loads((full / 'config.json').read_text())
    assert cfg['global_batch'] == 16 and cfg['world_size'] == 2
    assert_same_weights(a, b)


def test_bad_input_errors(tmp_path):
    # the installed console script: unknown size lists the choices (argparse usage error, status 2)
    r = subprocess.run([str(Path(sys.executable).parent / 'marval'), 'train-teacher', '--size', 'xl'],
                       cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "invalid choice: 'xl'" in r.stderr
    assert all(f"'{s}'" in r.stderr for s in ('tiny', 'base', 'large', 'huge')), r.stderr


@pytest.mark.parametrize('argv, needle', [
    (['--data', '/nonexistent/mnist.pkl.gz'], "'/nonexistent/mnist.pkl.gz' does not exist"),
    (['--size', 'base'], 'needs data_path (CLI: --data)'),
    (['--size', 'base', '--data', '/nonexistent/imagenet'], "'/nonexistent/imagenet' does not exist"),
    (['--dataset', 'synthetic', '--model-overrides', '{"depth": 2}'], "unknown MARConfig field(s): ['depth']"),
    (['--dataset', 'synthetic', '--train-overrides', '{"warmup": 2}'], "unknown TrainConfig field(s): ['warmup']"),
    (['--dataset', 'synthetic', '--synthetic-n', '4', '--batch-size', '8'], 'fewer than one global batch'),
])
def test_bad_input_is_one_clear_line(argv, needle, tmp_path, capsys):
    from marval.cli import main
    rc = main(['train-teacher', '--out', str(tmp_path / 'o'), '--device', 'cpu', *argv])
    err = capsys.readouterr().err
    assert rc == 2 and needle in err and 'Traceback' not in err, err
    assert err.startswith('marval train-teacher: error:')

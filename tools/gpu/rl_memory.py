"""GPU job: peak GPU memory and step time of the MARVAL-RL gradient paths at MAR-B size (issue: RL memory).

Run on the GPU machine from the repo root (random weights; nothing to download):
    PYTHONPATH=$PWD python3 tools/gpu/rl_memory.py --out $OUT
One RL step = K-step rollout of the student (marval.rl.rl_loss) + VAE decode + reward + backward + Adam step, in bf16
autocast, batch 16, K = 64, MAR-B (get_preset('base'), random weights), the KL-16 VAE architecture (random weights) and
the PickScore architecture as the reward (marval.scorers.PickScore with PICKSCORE_CONFIG = CLIP ViT-H/14, random
weights, its own differentiable preprocessing to 224 px; the prompt side is a fixed random text vector, since text
features are computed once per prompt without gradient). Without marval.scorers a ViT-H/14-sized image tower built
here stands in. Every configuration runs in its own subprocess (clean CUDA context, so the peaks do not mix); an
out-of-memory error is caught and recorded.
Outputs in --out: rl_memory.json, rl_memory.md. CPU smoke test (reduced stand-ins, no memory figures):
    PYTHONPATH=$PWD python3 tools/gpu/rl_memory.py --out /tmp/o --smoke --K 4 --batch 2 --repeats 1
"""
import argparse, json, os, subprocess, sys, time, statistics, traceback
from pathlib import Path
import torch
import torch.nn as nn
import torch.nn.functional as F

# name -> (grad_path, trainable, activation checkpointing)
CONFIGS = {
    'head':                 ('head', 'head', True),
    'head+transformer':     ('head', 'head+transformer', True),
    'truncated':            ('truncated', 'head', True),
    'full (checkpointed)':  ('full', 'head', True),
    'full (no checkpointing)': ('full', 'head', False),
}

class ViTRewardStandIn(nn.Module):
    "PickScore-sized image tower (ViT-H/14 at 224: 32 x 1280, 16 heads) scoring cosine similarity to a fixed text vector."
    def __init__(self, width=1280, depth=32, heads=16, patch=14, size=224, embed=1024):
        super().__init__()
        from marval.mar import Block
        self.size = size
        self.patch = nn.Conv2d(3, width, patch, patch, bias=False)
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.randn(1, (size // patch) ** 2 + 1, width) * 0.02)
        self.ln_pre, self.ln_post = nn.LayerNorm(width), nn.LayerNorm(width)
        self.blocks = nn.ModuleList([Block(width, heads) for _ in range(depth)])
        self.proj = nn.Linear(width, embed, bias=False)
        self.register_buffer('text', F.normalize(torch.randn(embed), dim=0))
    def forward(self, images, labels):
        x = F.interpolate(images, size=(self.size, self.size), mode='bilinear', align_corners=False)   # (B, 3, 224, 224)
        x = self.patch(x).flatten(2).transpose(1, 2)                                                     # (B, 256, W)
        x = torch.cat([self.cls.expand(len(x), -1, -1).to(x.dtype), x], 1) + self.pos.to(x.dtype)
        x = self.ln_pre(x)
        for b in self.blocks: x = b(x)
        f = F.normalize(self.proj(self.ln_post(x[:, 0])).float(), dim=-1)                                # (B, E)
        return 100 * f @ self.text                                                                       # (B,)

def pickscore_reward(smoke: bool):
    "(reward callable, module, description): PickScore's architecture with random weights and a fixed text vector."
    try:
        from marval.scorers import PickScore, PICKSCORE_CONFIG, CLIPConfig, CLIPTextConfig, CLIPVisionConfig
    except ImportError:
        vit = ViTRewardStandIn(width=64, depth=2, heads=4) if smoke else ViTRewardStandIn()
        return (lambda x, y: vit(x, y)), vit.eval().requires_grad_(False), 'ViT-H/14-sized image tower built here (PickScore stand-in)'
    cfg = PICKSCORE_CONFIG if not smoke else CLIPConfig(
        text=CLIPTextConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=1, num_attention_heads=4),
        vision=CLIPVisionConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                                patch_size=14), projection_dim=32)
    ps = PickScore(cfg).eval().requires_grad_(False)
    text = F.normalize(torch.randn(cfg.projection_dim), dim=0)
    def score(x, y):
        img = F.normalize(ps.image_embeds(ps.preprocess(x)).float(), dim=-1)          # (B, P)
        return ps.logit_scale.exp() * (img @ text.to(img.device))                      # (B,)
    return score, ps, 'PickScore architecture (CLIP ViT-H/14, marval.scorers.PickScore), random weights, fixed text vector'

def measure(name, a) -> dict:
    "One configuration in this process: build, warm up, time `repeats` steps, report the peak memory."
    from marval.config import get_preset
    from marval.mar import MAR, count_params
    from marval.distill import OneStepGenerator
    from marval.tokenizers import AutoencoderKL, VAETokenizer
    from marval.rewards import FunctionReward
    from marval.rl import RLPolicy, RLConfig, rl_loss, Conditioner
    from marval.train import autocast_for
    grad_path, trainable, ckpt = CONFIGS[name]
    dev = torch.device(a.device)
    cuda = dev.type == 'cuda'
    torch.manual_seed(0)
    over = {} if not a.smoke else dict(img_size=64, encoder_depth=1, decoder_depth=1, encoder_embed_dim=64,
                                       decoder_embed_dim=64, encoder_num_heads=4, decoder_num_heads=4, diffloss_d=1,
                                       diffloss_w=64, buffer_size=8)
    with torch.device(dev):
        model = MAR(get_preset(a.size, **over).model).eval().requires_grad_(False)
        gen = OneStepGenerator(model.diffloss.net)
        vae = AutoencoderKL(ch=32 if a.smoke else 128)
        score, vit, reward_desc = pickscore_reward(a.smoke)
    tok = VAETokenizer(vae)
    reward = FunctionReward(score, 'pickscore_arch_random')
    K = min(a.K, model.seq_len)
    cfg = RLConfig(reward='pickscore_arch_random', num_iter=K, grad_path=grad_path, truncate_steps=a.truncate_steps, checkpoint=ckpt,
                   trainable=trainable, reg_weight=a.reg_weight, batch_size=a.batch)
    policy = RLPolicy(model, gen, trainable).train()
    ref = OneStepGenerator(model.diffloss.net).requires_grad_(False) if a.reg_weight > 0 else None
    opt = torch.optim.Adam([p for p in policy.parameters() if p.requires_grad], lr=1e-6)
    amp = autocast_for(dev, 'bf16')
    mt = policy.transformer(model)
    cond = Conditioner(mt)
    res = dict(config=name, reward=reward_desc, grad_path=grad_path, trainable=trainable, checkpointing=ckpt, batch=a.batch, K=K,
               truncate_steps=a.truncate_steps if grad_path == 'truncated' else None, reg_weight=a.reg_weight,
               params=dict(mar=count_params(model) - count_params(model.diffloss), head=count_params(gen),
                           vae=count_params(vae), reward=count_params(vit),
                           trainable=sum(p.numel() for p in policy.parameters() if p.requires_grad)))
    if cuda:
        torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
        res['static_gb'] = torch.cuda.memory_allocated() / 2 ** 30
    times = []
    try:
        for i in range(a.warmup + a.repeats):
            labels = torch.randint(0, model.cfg.class_num, (a.batch,), device=dev)
            if cuda: torch.cuda.synchronize()
            t0 = time.perf_counter()
            with amp:
                loss, info = rl_loss(mt, tok, reward, policy.gen, labels, cfg, seed=i, condition=cond,
                                     transformer_grad=policy.mar is not None, ref_generator=ref)
            opt.zero_grad(set_to_none=True); loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in policy.parameters() if p.requires_grad], 1.0); opt.step()
            if cuda: torch.cuda.synchronize()
            if i >= a.warmup: times.append(time.perf_counter() - t0)
        res.update(status='ok', step_s_median=statistics.median(times), step_s_min=min(times), repeats=a.repeats,
                   loss=float(loss))
    except torch.cuda.OutOfMemoryError as e:
        res.update(status='OOM', error=str(e).split('\n')[0][:300])
    if cuda:
        res['peak_gb'] = torch.cuda.max_memory_allocated() / 2 ** 30
        res['peak_reserved_gb'] = torch.cuda.max_memory_reserved() / 2 ** 30
        res['gpu_total_gb'] = torch.cuda.get_device_properties(dev).total_memory / 2 ** 30
    return res

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=False)
    ap.add_argument('--size', default='base')
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--K', type=int, default=64)
    ap.add_argument('--truncate-steps', type=int, default=8)
    ap.add_argument('--reg-weight', type=float, default=0.01)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--configs', default=','.join(CONFIGS), help='comma-separated subset of: ' + ', '.join(CONFIGS))
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--smoke', action='store_true', help='reduced random stand-ins (CPU test of the script)')
    ap.add_argument('--only', default=None, help=argparse.SUPPRESS)         # internal: measure one config, print JSON
    a = ap.parse_args()
    if a.only is not None:
        torch.backends.cuda.matmul.allow_tf32 = True; torch.backends.cudnn.allow_tf32 = True
        try: r = measure(a.only, a)
        except Exception as e: r = dict(config=a.only, status='error', error=f'{type(e).__name__}: {e}', trace=traceback.format_exc()[-2000:])
        print('RESULT ' + json.dumps(r), flush=True); return
    if not a.out: ap.error('--out is required')
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    names = [n.strip() for n in a.configs.split(',') if n.strip()]
    bad = [n for n in names if n not in CONFIGS]
    if bad: ap.error(f'unknown config(s) {bad}; choose from {list(CONFIGS)}')
    base = [sys.executable, __file__, '--size', a.size, '--batch', str(a.batch), '--K', str(a.K), '--truncate-steps',
            str(a.truncate_steps), '--reg-weight', str(a.reg_weight), '--warmup', str(a.warmup), '--repeats', str(a.repeats),
            '--device', a.device] + (['--smoke'] if a.smoke else [])
    rows = []
    for n in names:
        t0 = time.time()
        p = subprocess.run(base + ['--only', n], capture_output=True, text=True, env=dict(os.environ))
        line = [l for l in p.stdout.splitlines() if l.startswith('RESULT ')]
        r = json.loads(line[-1][7:]) if line else dict(config=n, status='crashed', error=p.stderr[-1500:])
        r['wall_s'] = time.time() - t0
        rows.append(r); print(json.dumps({k: v for k, v in r.items() if k != 'trace'}), flush=True)
    from marval.core import provenance
    default = next((r for r in rows if r['config'] == 'head'), None)
    fits = None
    if default is not None and default.get('peak_gb') is not None:
        fits = default['status'] == 'ok' and default['peak_reserved_gb'] < 80
    report = dict(rows=rows, default_config='head', default_fits_80gb=fits, size=a.size, batch=a.batch, K=a.K,
                  reward=next((r['reward'] for r in rows if 'reward' in r), None), precision='bf16 autocast',
                  command='PYTHONPATH=$PWD python3 tools/gpu/rl_memory.py ' + ' '.join(
                      '$OUT' if x == a.out else x for x in sys.argv[1:]), provenance=provenance())
    (out / 'rl_memory.json').write_text(json.dumps(report, indent=1))
    fmt = lambda v, d=2: '-' if v is None else (f'{v:.{d}f}' if isinstance(v, float) else str(v))
    md = [f'# MARVAL-RL memory and step time: MAR-{a.size}, batch {a.batch}, K = {a.K}, bf16',
          '', f'Device: {report["provenance"]["device"]}, torch {report["provenance"]["torch"]}, {report["provenance"]["date"]}. '
          f'Reward: {report["reward"]}; VAE: KL-16 architecture; all weights random. One step = rollout + decode + '
          f'reward + backward + Adam. Truncated: last {a.truncate_steps} AR steps. Regulariser λ = {a.reg_weight}.', '',
          '| configuration | trainable | status | peak allocated (GB) | peak reserved (GB) | step time (s) |',
          '|---|---|---|---|---|---|']
    for r in rows:
        md.append(f"| {r['config']} | {r.get('trainable', '-')} | {r['status']} | {fmt(r.get('peak_gb'))} | "
                  f"{fmt(r.get('peak_reserved_gb'))} | {fmt(r.get('step_s_median'), 3)} |")
    md += ['', f'Default (`grad_path=head`, trainable head) fits an 80 GB GPU: {fits}.']
    (out / 'rl_memory.md').write_text('\n'.join(md) + '\n')
    print('\n'.join(md))

if __name__ == '__main__':
    main()

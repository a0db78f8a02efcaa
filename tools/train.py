#!/usr/bin/env python3
"""Train scorerecon's NCSN++ score models (VE SDE, continuous-time denoising
score matching as in score_sde_pytorch), resumably, and export the EMA
weights to weights/<name>.safetensors through tools/convert.py.

Training (score_sde's losses.get_sde_loss_fn, continuous, reduce_mean False):
  t ~ U(eps, 1), eps = 1e-5;  sigma(t) = sigma_min (sigma_max / sigma_min)^t
  loss = mean over the batch of  sum_pixels (sigma s(x + sigma z, sigma) + z)^2
  (the sigma^2-weighted score matching loss). Adam (lr 2e-4, betas 0.9/0.999,
  eps 1e-8) with a linear warmup (--warmup steps), gradient-norm clipping 1,
  EMA of the trainable weights with decay min(0.999, (1 + step) / (10 + step))
  (the warmup keeps early exports from being dominated by the random init
  during short runs). Weight initialisation as score_sde (variance scaling,
  fan_avg, uniform; zero-init (1e-10 scale) for the last conv of each residual
  block, the attention output and the output convs, init_scale 0).

Checkpoint (--state, one file): model, EMA, step, torch RNG state, the loss
log position and the optimizer state; the Adam moments are stored as
bfloat16 so that the file stays under 25 MB (they are cast back to float32
on resume).

Usage:
  train.py --name ct_head_128 --data ct --state weights/train_state/ct_head_128.pt \
           --time-budget 3600 --log weights/train_state/ct_head_128_loss.csv
  train.py --name ct_head_128 --data ct --state ... --export   (EMA -> weights/)
"""
import argparse
import copy
import csv
import json
import math
import os
import signal
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ncsnpp  # noqa: E402
import training_data  # noqa: E402

ROOT = os.path.dirname(HERE)


def make_config(args):
    m = {
        "name": "ncsnpp", "nonlinearity": "swish", "normalization": "GroupNorm",
        "resamp_with_conv": True, "fir": True, "fir_kernel": [1, 3, 3, 1],
        "skip_rescale": True, "resblock_type": "biggan", "progressive_combine": "sum",
        "embedding_type": "fourier", "fourier_scale": 16.0, "init_scale": 0.0,
        "conditional": True, "scale_by_sigma": True, "dropout": 0.0,
        "sigma_min": args.sigma_min, "sigma_max": args.sigma_max,
        "beta_min": 0.1, "beta_max": 20.0, "num_scales": args.num_scales,
        "nf": args.nf, "ch_mult": [int(c) for c in args.ch_mult.split(",")],
        "num_res_blocks": args.num_res_blocks,
        "attn_resolutions": [int(r) for r in args.attn.split(",")] if args.attn else [],
        "progressive": "output_skip", "progressive_input": "input_skip",
    }
    d = {"image_size": training_data.SIZE, "num_channels": 1, "centered": False,
         "dataset": "Cranium.inv3 (invesalius-examples)" if args.data == "ct"
         else "Colin27 ch2.nii.gz (mricron-data)"}
    d.update(training_data.CT_MAP if args.data == "ct" else training_data.MRI_MAP)
    return {"model": m, "data": d, "training": {"sde": "vesde", "continuous": True}}


def variance_scaling_(t, scale):
    """score_sde's default_init: variance scaling, fan_avg, uniform."""
    scale = max(scale, 1e-10)
    shape = t.shape
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
    var = scale / ((fan_in + fan_out) / 2.0)
    bound = math.sqrt(3.0 * var)
    with torch.no_grad():
        t.uniform_(-bound, bound)


def init_weights(net):
    m = net.cfg["model"]
    init_scale = m["init_scale"]
    for name, mod in net.named_modules():
        if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)):
            variance_scaling_(mod.weight, 1.0)
            if mod.bias is not None:
                torch.nn.init.zeros_(mod.bias)
        elif isinstance(mod, ncsnpp.NIN):
            # stored (in, out): variance scaling with fan_in = in, fan_out = out
            w = mod.W
            var = 0.1 / ((w.shape[0] + w.shape[1]) / 2.0)
            with torch.no_grad():
                w.uniform_(-math.sqrt(3 * var), math.sqrt(3 * var))
                mod.b.zero_()
    for name, mod in net.named_modules():
        if isinstance(mod, ncsnpp.ResnetBlock):
            variance_scaling_(mod.Conv_1.weight, init_scale)
        elif isinstance(mod, ncsnpp.AttnBlockpp):
            w = mod.NIN_3.W
            var = max(init_scale, 1e-10) / ((w.shape[0] + w.shape[1]) / 2.0)
            with torch.no_grad():
                w.uniform_(-math.sqrt(3 * var), math.sqrt(3 * var))
    # the output convs of the output_skip pyramid (conv3x3(..., init_scale))
    mods = net.all_modules
    for i in range(1, len(mods)):
        if isinstance(mods[i], torch.nn.Conv2d) and isinstance(mods[i - 1], torch.nn.GroupNorm):
            variance_scaling_(mods[i].weight, init_scale)


def trainable(net):
    return [p for p in net.parameters() if p.requires_grad]


def save_state(path, net, ema, opt, step, log_rows, args, cfg, elapsed):
    opt_state = opt.state_dict()
    small = {"param_groups": opt_state["param_groups"], "state": {}}
    for k, v in opt_state["state"].items():
        small["state"][k] = {kk: (vv.to(torch.bfloat16).cpu() if torch.is_tensor(vv) and vv.dim() > 0
                                  else vv) for kk, vv in v.items()}
    state = {
        "model": {k: v.detach().cpu() for k, v in net.state_dict().items()},
        "ema": {"decay": 0.999, "num_updates": step,
                "shadow_params": [p.detach().cpu().clone() for p in ema]},
        "optimizer_bf16": small,
        "step": step,
        "rng": torch.get_rng_state(),
        "config": json.dumps(cfg),
        "args": vars(args),
        "train_seconds": elapsed,
        "loss_log": log_rows,
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_state(path, net, ema, opt):
    st = torch.load(path, map_location="cpu", weights_only=False)
    net.load_state_dict(st["model"])
    for p, s in zip(ema, st["ema"]["shadow_params"]):
        p.copy_(s)
    if opt is not None and "optimizer_bf16" in st:
        o = st["optimizer_bf16"]
        full = {"param_groups": o["param_groups"], "state": {}}
        for k, v in o["state"].items():
            full["state"][k] = {kk: (vv.float() if torch.is_tensor(vv) and vv.dim() > 0 else vv)
                                for kk, vv in v.items()}
        opt.load_state_dict(full)
    torch.set_rng_state(st["rng"])
    return st


def export(args, cfg, net, ema, step, seconds, targs=None):
    targs = targs or vars(args)
    sys.path.insert(0, HERE)
    import convert
    import sr_safetensors
    out = args.out or os.path.join(ROOT, "weights", f"{args.name}.safetensors")
    # the value map of the data (a checkpoint's saved config may predate a key)
    cfg = json.loads(json.dumps(cfg))
    cfg["data"].update(training_data.CT_MAP if args.data == "ct" else training_data.MRI_MAP)
    with tempfile.TemporaryDirectory() as td:
        pth = os.path.join(td, f"{args.name}.pth")
        torch.save({"model": {k: v.detach().cpu() for k, v in net.state_dict().items()},
                    "ema": {"shadow_params": [p.detach().cpu().clone() for p in ema]}}, pth)
        convert.convert(pth, out, cfg, "ema")
    # add the training provenance to the metadata written by convert.py
    tensors, meta = sr_safetensors.read(out)
    meta["training"] = json.dumps({
        "steps": step, "train_seconds": round(seconds), "batch_size": targs["batch"],
        "lr": targs["lr"], "warmup": targs["warmup"], "ema": "min(0.999, (1+n)/(10+n))",
        "grad_clip": 1.0, "loss": "continuous DSM, sigma^2 weighted, sum over pixels",
        "data": args.data, "train_slices": ("Cranium.inv3 slices 0-79" if args.data == "ct"
                                            else "ch2 axial z in [30,110) U [130,160)"),
        "held_out_slices": ("Cranium.inv3 slices 80-107" if args.data == "ct"
                            else "ch2 axial z in [110,130)"),
        "augmentation": "random left-right flips",
        "tool": "tools/train.py"}, sort_keys=True)
    meta["source"] = f"tools/train.py: {args.name}, {step} steps (EMA weights)"
    tmp = out + ".tmp"
    sr_safetensors.write(tmp, tensors, meta)
    os.replace(tmp, out)
    n = sum(int(np.prod(v.shape)) for v in tensors.values())
    print(f"exported {out}: {len(tensors)} tensors, {n} parameters, step {step}")


# ---------------------------------------------------------------- loss plot

_FONT = {  # 3x5 bitmap digits for tick labels
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111",
    "3": "111001111001111", "4": "101101111001001", "5": "111100111001111",
    "6": "111100111101111", "7": "111001001001001", "8": "111101111101111",
    "9": "111101111001111", ".": "000000000000010", "-": "000000111000000",
    "e": "000111111100111", " ": "000000000000000", "k": "100101110101101",
}


def _text(img, x, y, s, scale=2):
    for ch in s:
        bits = _FONT.get(ch, _FONT[" "])
        for r in range(5):
            for c in range(3):
                if bits[r * 3 + c] == "1":
                    img[y + r * scale:y + (r + 1) * scale, x + c * scale:x + (c + 1) * scale] = 0
        x += 4 * scale


def write_png(path, gray):
    import struct
    import zlib
    h, w = gray.shape
    raw = b"".join(b"\x00" + gray[r].astype(np.uint8).tobytes() for r in range(h))

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def plot_loss(rows, npix, path, width=720, height=400):
    """Per-pixel loss (log scale) against the step: raw (grey) and a moving
    average over 25 steps (black). Tick labels: steps on x, loss on y."""
    steps = np.array([r[0] for r in rows], float)
    loss = np.array([r[1] for r in rows], float) / npix
    k = min(25, len(loss))
    smooth = np.convolve(loss, np.ones(k) / k, mode="valid")
    img = np.full((height, width), 255, np.uint8)
    x0, x1, y0, y1 = 70, width - 20, 20, height - 40
    lo, hi = np.log10(max(loss.min(), 1e-6)), np.log10(loss.max())
    lo, hi = np.floor(lo * 10) / 10, np.ceil(hi * 10) / 10 + 1e-9
    smax = max(steps.max(), 1)

    def px(s):
        return (x0 + (s / smax) * (x1 - x0)).astype(int)

    def py(v):
        return (y1 - (np.log10(v) - lo) / (hi - lo) * (y1 - y0)).astype(int)
    for ty in np.arange(np.ceil(lo * 10) / 10, hi, 0.1 if hi - lo < 0.8 else 0.2):
        yy = int(y1 - (ty - lo) / (hi - lo) * (y1 - y0))
        img[yy, x0:x1] = 220
        _text(img, 5, yy - 5, f"{10 ** ty:.2f}")
    for tx in np.linspace(0, smax, 6):
        xx = int(x0 + tx / smax * (x1 - x0))
        img[y0:y1, xx] = 220
        _text(img, xx - 10, y1 + 10, f"{int(round(tx))}")
    img[y0:y1 + 1, x0] = 0
    img[y1, x0:x1 + 1] = 0

    def line(xs, ys, val, thick):
        for a in range(len(xs) - 1):
            n = max(abs(xs[a + 1] - xs[a]), abs(ys[a + 1] - ys[a]), 1)
            for f in np.linspace(0, 1, n + 1):
                xx = int(round(xs[a] + f * (xs[a + 1] - xs[a])))
                yy = int(round(ys[a] + f * (ys[a + 1] - ys[a])))
                img[max(yy - thick, 0):yy + thick + 1, max(xx - thick, 0):xx + thick + 1] = val
    line(px(steps), py(loss), 190, 0)
    line(px(steps[k - 1:]), py(smooth), 0, 1)
    write_png(path, img)


# ---------------------------------------------------------------- sanity check

def denoise_check(args, cfg, net, ema, exe):
    """Tweedie denoiser x + sigma^2 s(x + sigma z, sigma) on held-out slices,
    through the C library (scorerecon score) and through PyTorch (EMA)."""
    import subprocess
    x, idx = training_data.load(args.data, "test")
    pick = [0, len(idx) // 2, len(idx) - 1]
    x = x[pick]
    g = torch.Generator().manual_seed(1234)
    wnet = copy.deepcopy(net).cpu()
    with torch.no_grad():
        for p, e in zip(trainable(wnet), ema):
            p.copy_(e)
    wnet.eval()
    model = args.out or os.path.join(ROOT, "weights", f"{args.name}.safetensors")
    res = []
    with tempfile.TemporaryDirectory() as td:
        for sigma in (0.1, 1.0, 10.0):
            z = torch.randn(x.shape, generator=g).numpy()
            xn = (x + sigma * z).astype(np.float32)
            np.save(os.path.join(td, "in.npy"), xn)
            subprocess.run([exe, "score", "--model", model, "--in", os.path.join(td, "in.npy"),
                            "--sigma", str(sigma), "--out", os.path.join(td, "out.npy"),
                            "--backend", "cpu", "--threads", "1"], check=True)
            s_c = np.load(os.path.join(td, "out.npy"))
            with torch.no_grad():
                s_t = wnet(torch.from_numpy(xn)[:, None],
                           torch.full((len(xn),), sigma)).numpy()[:, 0]
            den = xn + sigma ** 2 * s_c
            mse_noisy = float(np.mean((xn - x) ** 2))
            mse_den = float(np.mean((den - x) ** 2))
            rel = float(np.linalg.norm(s_c - s_t) / max(np.linalg.norm(s_t), 1e-12))
            res.append((sigma, mse_noisy, mse_den, rel))
            print(f"sigma {sigma:5}: MSE noisy {mse_noisy:.6g}  Tweedie denoised {mse_den:.6g}  "
                  f"({'lower' if mse_den < mse_noisy else 'NOT lower'}); C vs PyTorch score "
                  f"rel. L2 {rel:.2e}  [held-out slices {[idx[i] for i in pick]}]", flush=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--name", required=True)
    ap.add_argument("--data", choices=["ct", "mri"], required=True)
    ap.add_argument("--state", help="checkpoint file (resumed if it exists)")
    ap.add_argument("--log", help="CSV loss log (appended)")
    ap.add_argument("--time-budget", type=float, default=0,
                    help="seconds of training in this run; then save and exit")
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--save-every", type=float, default=600, help="seconds between saves")
    ap.add_argument("--export", action="store_true", help="export the EMA weights and exit")
    ap.add_argument("--check", metavar="SCORERECON",
                    help="with --export: Tweedie denoising check through this scorerecon binary")
    ap.add_argument("--plot", metavar="PNG", help="write the loss curve from the state and exit")
    ap.add_argument("--out", help="export path (default weights/<name>.safetensors)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (random draws stay on the CPU)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sigma-min", type=float, default=0.01)
    ap.add_argument("--sigma-max", type=float, default=50.0)
    ap.add_argument("--num-scales", type=int, default=1000)
    ap.add_argument("--nf", type=int, default=32)
    ap.add_argument("--ch-mult", default="1,2,2,2")
    ap.add_argument("--num-res-blocks", type=int, default=1)
    ap.add_argument("--attn", default="16")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    cfg = make_config(args)
    st = None
    if args.state and os.path.exists(args.state):
        st = torch.load(args.state, map_location="cpu", weights_only=False)
        cfg = json.loads(st["config"])  # the architecture of the checkpoint wins
    dev = torch.device(args.device)
    net = ncsnpp.NCSNpp(cfg)
    init_weights(net)
    net.to(dev)
    ema = [p.detach().clone() for p in trainable(net)]
    opt = torch.optim.Adam(trainable(net), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    step, elapsed, log_rows = 0, 0.0, []
    if st is not None:
        load_state(args.state, net, ema, opt)
        step, elapsed = st["step"], st.get("train_seconds", 0.0)
        log_rows = st.get("loss_log", [])
        print(f"resumed {args.state} at step {step}")
    nparams = sum(p.numel() for p in net.parameters())
    print(f"{args.name}: {nparams} parameters, config {json.dumps(cfg['model'])}", flush=True)

    if args.plot:
        plot_loss(log_rows, cfg["data"]["image_size"] ** 2, args.plot)
        print(f"wrote {args.plot} ({len(log_rows)} steps)")
        return 0
    if args.export:
        export(args, cfg, net, ema, step, elapsed, st["args"] if st else None)
        if args.check:
            denoise_check(args, cfg, net, ema, args.check)
        return 0

    x_all, _ = training_data.load(args.data, "train")
    data = torch.from_numpy(x_all)[:, None]  # (N, 1, H, W), on the CPU
    n = data.shape[0]
    smin, smax = cfg["model"]["sigma_min"], cfg["model"]["sigma_max"]
    eps = 1e-5
    params = trainable(net)
    logf = None
    if args.log:
        new = not os.path.exists(args.log)
        logf = open(args.log, "a", newline="")
        w = csv.writer(logf)
        if new:
            w.writerow(["step", "loss", "loss_per_pixel", "grad_norm", "lr", "train_seconds"])
    # SIGTERM / SIGINT end the run after the current step, with a final save,
    # so that the state and the CSV log never disagree about the step.
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(True))
    t0 = time.time()
    last_save = t0
    base_elapsed = elapsed
    run_loss = []
    net.train()
    while not stop:
        now = time.time()
        if args.time_budget and now - t0 >= args.time_budget:
            break
        if args.max_steps and step >= args.max_steps:
            break
        idx = torch.randint(0, n, (args.batch,))
        x = data[idx].clone()
        flip = torch.rand(args.batch) < 0.5
        x[flip] = x[flip].flip(-1)
        t = torch.rand(args.batch) * (1 - eps) + eps
        sigma = smin * (smax / smin) ** t
        z = torch.randn_like(x)
        # all random draws on the CPU generator (resumable, device-independent)
        x, sigma, z = x.to(dev), sigma.to(dev), z.to(dev)
        score = net(x + sigma[:, None, None, None] * z, sigma)
        per = torch.square(score * sigma[:, None, None, None] + z).reshape(args.batch, -1).sum(1)
        loss = per.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        lr = args.lr * min((step + 1) / args.warmup, 1.0) if args.warmup > 0 else args.lr
        for g in opt.param_groups:
            g["lr"] = lr
        gn = torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        decay = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            for e, p in zip(ema, params):
                e.mul_(decay).add_(p.detach(), alpha=1 - decay)
        lv = float(loss.detach())
        run_loss.append(lv)
        elapsed = base_elapsed + time.time() - t0
        row = [step, f"{lv:.3f}", f"{lv / x[0].numel():.5f}", f"{float(gn):.3f}", f"{lr:.3e}",
               f"{elapsed:.0f}"]
        log_rows.append([step, lv])
        if logf:
            csv.writer(logf).writerow(row)
            logf.flush()
        if step % 10 == 0:
            print(f"step {step} loss {np.mean(run_loss):.2f} "
                  f"({np.mean(run_loss) / x[0].numel():.4f}/px) {elapsed:.0f}s", flush=True)
            run_loss = []
        if args.state and time.time() - last_save >= args.save_every:
            save_state(args.state, net, ema, opt, step, log_rows, args, cfg, elapsed)
            last_save = time.time()
    if args.state:
        save_state(args.state, net, ema, opt, step, log_rows, args, cfg, elapsed)
        print(f"saved {args.state} at step {step}", flush=True)
    if logf:
        logf.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Golden data for scorerecon's NCSN++: runs the ORIGINAL score_sde_pytorch
model code (a fetched copy, imported at run time, never committed) on small
randomly initialised configurations in the layouts of the three published
models (the paper's CT model, BraTS, Score-MRI knee: scaled down, same
structure flags) and two more that exercise the remaining code paths, and
writes for each layout into tests/model/data/:
  <name>.safetensors     weights converted by tools/convert.py from a
                         score_sde_pytorch-style .pth (EMA != model, so the
                         test fails if the converter takes the wrong ones)
  <name>_io.safetensors  x (N, C, H, W), cond (N,), out (N, C, H, W)
  <name>_flax.msgpack    (knee layout only) the same weights as a Flax
                         params_ema checkpoint, for the converter's test
  <name>.pth             (ct layout only) the score_sde_pytorch-style
                         checkpoint the weights were converted from, for the
                         converter's round-trip test
It also checks tools/ncsnpp.py (scorerecon's own PyTorch port) against the
original on every layout.

Usage: golden_ncsnpp.py [--score-sde DIR] [--out tests/model/data]
DIR: a score_sde_pytorch checkout, or a bare git copy (then HEAD is
extracted to a temporary directory). The original's op/upfirdn2d.py and
op/fused_act.py compile CUDA extensions on import; the copy has those loads
removed, so upfirdn2d takes the file's own native path on CPU tensors."""

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import types

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import convert  # noqa: E402
import ncsnpp  # noqa: E402
import sr_safetensors  # noqa: E402

DEFAULT_SRC = "/work/.mirror/yang-song+score_sde_pytorch/repo"


def base_model(**kw):
    m = dict(convert._COMMON)
    m.update(kw)
    return m


# Scaled-down layouts. CT: 7 levels at 320 -> a 5x5 bottleneck with
# attention at 20; here 4 levels at 40 -> 5x5 with attention at 10.
LAYOUTS = {
    "ct": {"model": base_model(nf=8, ch_mult=[1, 1, 2, 2], num_res_blocks=2,
                               attn_resolutions=[10], progressive="output_skip",
                               progressive_input="input_skip", sigma_max=128.0,
                               num_scales=1000),
           "data": {"image_size": 40, "num_channels": 1, "centered": False},
           "training": {"sde": "vesde", "continuous": True}},
    # BraTS: 5 levels at 240 -> 15x15, attention at 30; here 3 levels at 24 -> 6x6, at 12.
    "brats": {"model": base_model(nf=8, ch_mult=[1, 1, 2], num_res_blocks=2,
                                  attn_resolutions=[12], progressive="output_skip",
                                  progressive_input="input_skip", sigma_max=128.0,
                                  num_scales=1000),
              "data": {"image_size": 24, "num_channels": 1, "centered": False},
              "training": {"sde": "vesde", "continuous": True}},
    # Knee: nf 128, (1, 2, 2, 2), 4 blocks, attention at 16 (never hit at 320:
    # only the bottleneck attends); here nf 8, (1, 2, 2), 4 blocks at 24.
    "knee": {"model": base_model(nf=8, ch_mult=[1, 2, 2], num_res_blocks=4,
                                 attn_resolutions=[16], progressive="none",
                                 progressive_input="residual", sigma_max=378.0,
                                 num_scales=2000),
             "data": {"image_size": 24, "num_channels": 1, "centered": False},
             "training": {"sde": "vesde", "continuous": True}},
    # The other branches. score_sde_pytorch's upsample_conv_2d (FIR upsampling
    # with a conv) cannot run (it slices a tensor with a negative step), so
    # no PyTorch model uses it: DDPM blocks with FIR run without resampling
    # convs, and progressive 'residual' without FIR.
    # DDPM blocks, FIR, input_skip with 'cat', positional embedding with the
    # discrete sigma table, centred data, 2 channels:
    "ddpm_fir": {"model": base_model(nf=8, ch_mult=[1, 2, 2], num_res_blocks=1,
                                     attn_resolutions=[8], resblock_type="ddpm",
                                     resamp_with_conv=False, progressive="output_skip",
                                     progressive_input="input_skip", progressive_combine="cat",
                                     embedding_type="positional", sigma_max=50.0,
                                     num_scales=100),
                 "data": {"image_size": 16, "num_channels": 2, "centered": True},
                 "training": {"sde": "vesde", "continuous": False}},
    # No FIR (naive resampling, the plain stride-2 conv of progressive input
    # 'residual'), unconditional, no skip rescaling, no 1/sigma. (Without FIR
    # the original's Upsample calls F.interpolate wrongly, so only BigGAN
    # blocks without progressive output run there.)
    "plain": {"model": base_model(nf=8, ch_mult=[1, 2, 2], num_res_blocks=1,
                                  attn_resolutions=[8], fir=False, resamp_with_conv=True,
                                  skip_rescale=False, progressive="none",
                                  progressive_input="residual", conditional=False,
                                  scale_by_sigma=False),
              "data": {"image_size": 16, "num_channels": 1, "centered": False},
              "training": {"sde": "vesde", "continuous": True}},
    # Nearest upsampling + conv (DDPM Upsample, progressive 'residual' without
    # FIR), which the original cannot run: the reference is tools/ncsnpp.py.
    "nearest_up": {"model": base_model(nf=8, ch_mult=[1, 2, 2], num_res_blocks=1,
                                       attn_resolutions=[8], fir=False, resamp_with_conv=True,
                                       resblock_type="ddpm", progressive="residual",
                                       progressive_input="residual"),
                   "data": {"image_size": 16, "num_channels": 1, "centered": False},
                   "training": {"sde": "vesde", "continuous": True}},
    # FIR upsampling with a conv (progressive 'residual' with FIR), which only
    # the Flax original runs: the reference here is tools/ncsnpp.py.
    "fir_conv_up": {"model": base_model(nf=8, ch_mult=[1, 2, 2], num_res_blocks=1,
                                        attn_resolutions=[], progressive="residual",
                                        progressive_input="residual"),
                    "data": {"image_size": 16, "num_channels": 1, "centered": False},
                    "training": {"sde": "vesde", "continuous": True}},
}


OWN_REFERENCE = {"fir_conv_up", "nearest_up"}
# Layouts whose .pth checkpoint is kept (tests/model/test_convert.py)
KEEP_PTH = {"ct"}


def extract(src):
    """A directory holding score_sde_pytorch's models/, op/ and sde_lib.py,
    with the CUDA extension loads removed."""
    tmp = tempfile.mkdtemp(prefix="score_sde_pytorch_")
    if os.path.isdir(os.path.join(src, "models")):
        subprocess.run(["cp", "-r", os.path.join(src, "models"), os.path.join(src, "op"),
                        os.path.join(src, "sde_lib.py"), tmp], check=True)
    else:
        archive = subprocess.run(["git", "--git-dir", src, "archive", "HEAD", "models", "op",
                                  "sde_lib.py"], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
    for name, var in (("upfirdn2d.py", "upfirdn2d_op"), ("fused_act.py", "fused")):
        p = os.path.join(tmp, "op", name)
        text = open(p).read()
        patched, n = re.subn(rf"{var} = load\(.*?\n\)\n", f"{var} = None  # no CUDA build\n",
                             text, flags=re.S)
        if n != 1:
            raise SystemExit(f"{p}: the extension load to remove was not found")
        open(p, "w").write(patched)
    return tmp


def namespace(cfg):
    c = types.SimpleNamespace()
    c.model = types.SimpleNamespace(**cfg["model"])
    c.data = types.SimpleNamespace(**cfg["data"])
    c.training = types.SimpleNamespace(**cfg["training"])
    c.model.ch_mult = tuple(c.model.ch_mult)
    c.model.attn_resolutions = tuple(c.model.attn_resolutions)
    return c


def randomise(model, gen):
    """Every parameter O(1)-scaled and random, so that no branch is zero
    (the original initialises the last convs near 0 and biases at 0)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".W") and p.dim() == 1:  # Fourier features: keep
                continue
            if p.dim() == 1:
                is_norm_scale = "GroupNorm" in name and name.endswith("weight")
                base = 1.0 if is_norm_scale else 0.0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                fan_in = p.shape[0] if name.endswith(".W") else int(np.prod(p.shape[1:]))
                p.copy_(torch.randn(p.shape, generator=gen) / np.sqrt(fan_in))
        # top-level GroupNorm modules (all_modules.<i>.weight) are 1-D too
        for name, mod in model.named_modules():
            if isinstance(mod, torch.nn.GroupNorm):
                mod.weight.copy_(1.0 + 0.1 * torch.randn(mod.weight.shape, generator=gen))


def make(name, cfg, ssp, out_dir, seed):
    from models import ncsnpp as orig  # noqa: F401  (registers 'ncsnpp')
    from models import utils as mutils
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    reference = "score_sde_pytorch NCSNpp (CPU, float32)"
    if name in OWN_REFERENCE:
        model = ncsnpp.NCSNpp(cfg)
        reference = "tools/ncsnpp.py (CPU, float32)"
    else:
        model = mutils.get_model("ncsnpp")(namespace(cfg))
    model.eval()
    randomise(model, gen)
    ema_params = [p.detach().clone() for p in model.parameters() if p.requires_grad]

    c, s = cfg["data"]["num_channels"], cfg["data"]["image_size"]
    n = 2
    x = torch.rand(n, c, s, s, generator=gen)
    if cfg["model"]["embedding_type"] == "fourier":
        cond = torch.tensor([0.05, 7.3], dtype=torch.float32)
        x = x + cond[:, None, None, None] * torch.randn(x.shape, generator=gen) * 0.1
    else:
        cond = torch.tensor([3.0, 71.0], dtype=torch.float32)
    with torch.no_grad():
        out = model(x, cond).float()

    # scorerecon's own port must agree with the original
    mine = ncsnpp.NCSNpp(cfg)
    mine.load_state_dict(model.state_dict())
    mine.eval()
    with torch.no_grad():
        out2 = mine(x, cond).float()
    err = float(torch.linalg.norm(out2 - out) / torch.linalg.norm(out))
    if err > 1e-5:
        raise SystemExit(f"{name}: tools/ncsnpp.py differs from score_sde_pytorch: rel L2 {err:.3g}")

    # a checkpoint as score_sde_pytorch's run_lib saves it: DataParallel
    # names, EMA shadow params = the weights used above, 'model' perturbed
    sd = {"module." + k: v.clone() for k, v in model.state_dict().items()}
    for k, v in sd.items():
        if v.dtype.is_floating_point and not k.endswith(".W") and not k.endswith("sigmas"):
            v.add_(0.5)  # the live weights differ from the EMA
    ckpt = {"model": sd, "ema": {"decay": 0.999, "num_updates": 10, "shadow_params": ema_params},
            "step": 10, "optimizer": {}}
    with tempfile.TemporaryDirectory() as tmp:
        pth = os.path.join(tmp, f"{name}.pth")
        torch.save(ckpt, pth)
        weights = os.path.join(out_dir, f"{name}.safetensors")
        convert.convert(pth, weights, cfg)
        if name in KEEP_PTH:
            subprocess.run(["cp", pth, os.path.join(out_dir, f"{name}.pth")], check=True)
    sr_safetensors.write(os.path.join(out_dir, f"{name}_io.safetensors"),
                         {"x": x.numpy(), "cond": cond.numpy(), "out": out.numpy()},
                         {"layout": name, "reference": reference})
    nparams = sum(p.numel() for p in model.parameters())
    print(f"{name}: {nparams} parameters, |out| = {float(out.norm()):.4g}, "
          f"tools/ncsnpp.py rel err {err:.2g}")
    return model


def write_flax(name, cfg, model, out_dir):
    """The weights as a Flax params_ema msgpack (as flax.serialization writes
    it: ndarrays as ext type 1), for the converter's Flax path."""
    import msgpack
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    params = {}
    for flax_name, tidx in convert.flax_scopes(cfg):
        if tidx is None:
            continue
        prefix = f"all_modules.{tidx}."
        for k, v in sd.items():
            if not k.startswith(prefix):
                continue
            parts = k[len(prefix):].split(".")
            leaf, scope = parts[-1], parts[:-1]
            owner = scope[-1] if scope else flax_name
            if leaf == "weight" and v.ndim == 4:
                leaf = "weight" if owner.startswith("Conv2d") else "kernel"
                v = v.transpose(2, 3, 1, 0)
            elif leaf == "weight" and v.ndim == 2:
                leaf, v = "kernel", v.T
            elif leaf == "weight" and owner.startswith("GroupNorm"):
                leaf = "scale"
            node = params.setdefault(flax_name, {})
            for sname in scope:
                node = node.setdefault(sname, {})
            node[leaf] = np.ascontiguousarray(v, dtype=np.float32)

    def default(o):
        if isinstance(o, np.ndarray):
            return msgpack.ExtType(1, msgpack.packb([list(o.shape), o.dtype.name, o.tobytes()]))
        raise TypeError(type(o))
    blob = msgpack.packb({"step": 10, "params_ema": params, "ema_rate": 0.999}, default=default)
    with open(os.path.join(out_dir, f"{name}_flax.msgpack"), "wb") as f:
        f.write(blob)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--score-sde", default=os.environ.get("SCORE_SDE_PYTORCH", DEFAULT_SRC))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "tests", "model", "data"))
    ap.add_argument("--only", nargs="*", help="layouts to make (default: all)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    src = extract(args.score_sde)
    sys.path.insert(0, src)
    os.makedirs(args.out, exist_ok=True)
    for i, (name, cfg) in enumerate(LAYOUTS.items()):
        if args.only and name not in args.only:
            continue
        model = make(name, copy.deepcopy(cfg), src, args.out, 1000 + i)
        if name == "knee":
            write_flax(name, cfg, model, args.out)
    with open(os.path.join(args.out, "layouts.json"), "w") as f:
        json.dump(LAYOUTS, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()

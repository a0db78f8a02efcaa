#!/usr/bin/env python3
"""Convert an NCSN++ checkpoint to scorerecon's .safetensors weights.

Sources:
  * score_sde_pytorch checkpoints (.pth: a dict with 'model' and 'ema'); the
    EMA weights are used (what the samplers use), except
    GaussianFourierProjection.W, which is not trainable and so missing from
    the EMA list: it comes from 'model'.
  * Flax checkpoints of score_sde / score_inverse_problems (msgpack training
    state whose 'params_ema' the samplers use): module names are mapped to
    score_sde_pytorch's all_modules.<i> names by replaying the Flax
    construction order, kernels transposed HWIO -> OIHW, Dense (in, out)
    -> (out, in), GroupNorm scale -> weight.
The model configuration (which a checkpoint does not hold) comes from
--preset (the published CT, BraTS and knee models) or --config (a JSON file
in scorerecon's format, or a score_sde config .py with get_config()). It is
written to __metadata__ ("config"), with "format" = scorerecon.ncsnpp.v1.

Every expected tensor must be found with the right shape, and every tensor
of the checkpoint placed; otherwise the error names the tensor."""

import argparse
import copy
import importlib.util
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sr_safetensors  # noqa: E402

FORMAT = "scorerecon.ncsnpp.v1"

_COMMON = {
    "name": "ncsnpp", "nonlinearity": "swish", "normalization": "GroupNorm",
    "resamp_with_conv": True, "fir": True, "fir_kernel": [1, 3, 3, 1], "skip_rescale": True,
    "resblock_type": "biggan", "progressive_combine": "sum", "embedding_type": "fourier",
    "fourier_scale": 16.0, "init_scale": 0.0, "conditional": True, "scale_by_sigma": True,
    "dropout": 0.0, "sigma_min": 0.01, "sigma_max": 50.0, "beta_min": 0.1, "beta_max": 20.0,
    "num_scales": 1000,
}

# The published configurations (score_inverse_problems' ct2d_320 and brats,
# Score-MRI's fastmri_knee_320).
PRESETS = {
    "ct": {"model": dict(_COMMON, nf=32, ch_mult=[1, 1, 2, 2, 2, 2, 2], num_res_blocks=2,
                         attn_resolutions=[20], progressive="output_skip",
                         progressive_input="input_skip", sigma_max=128.0, num_scales=1000),
           "data": {"image_size": 320, "num_channels": 1, "centered": False},
           "training": {"sde": "vesde", "continuous": True}},
    "brats": {"model": dict(_COMMON, nf=32, ch_mult=[1, 1, 2, 2, 2], num_res_blocks=2,
                            attn_resolutions=[30], progressive="output_skip",
                            progressive_input="input_skip", sigma_max=128.0, num_scales=1000),
              "data": {"image_size": 240, "num_channels": 1, "centered": False},
              "training": {"sde": "vesde", "continuous": True}},
    "knee": {"model": dict(_COMMON, nf=128, ch_mult=[1, 2, 2, 2], num_res_blocks=4,
                           attn_resolutions=[16], progressive="none",
                           progressive_input="residual", sigma_max=378.0, num_scales=2000),
             "data": {"image_size": 320, "num_channels": 1, "centered": False},
             "training": {"sde": "vesde", "continuous": True}},
}


class ConvertError(Exception):
    pass


def normalise_config(cfg):
    """Our JSON layout with plain Python values (tuples -> lists)."""
    out = {}
    for section in ("model", "data", "training"):
        if section not in cfg:
            raise ConvertError(f"the configuration has no '{section}' section")
        out[section] = {}
        for k, v in dict(cfg[section]).items():
            if isinstance(v, tuple):
                v = list(v)
            if isinstance(v, (np.generic,)):
                v = v.item()
            if isinstance(v, (str, int, float, bool, list)) or v is None:
                out[section][k] = v
    keep_training = {k: out["training"][k] for k in ("sde", "continuous") if k in out["training"]}
    out["training"] = keep_training
    return out


def load_config(path, root=None):
    if path.endswith(".json"):
        with open(path) as f:
            return normalise_config(json.load(f))
    # a score_sde / score_inverse_problems config module
    sys.path.insert(0, root or os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(path)))))
    spec = importlib.util.spec_from_file_location("sr_config_module", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    cfg = mod.get_config()
    return normalise_config({"model": cfg.model.to_dict(), "data": cfg.data.to_dict(),
                             "training": cfg.training.to_dict()})


def expected_tensors(cfg):
    """[(name, shape, trainable)] in score_sde_pytorch's parameter order,
    from scorerecon's own PyTorch NCSN++."""
    import torch  # noqa: F401  (tools/ncsnpp.py needs it)
    import ncsnpp
    net = ncsnpp.NCSNpp(cfg)
    return [(n, tuple(p.shape), p.requires_grad) for n, p in net.named_parameters()]


# ---------------------------------------------------------------- PyTorch

def from_pth(path, cfg, which="ema"):
    import torch
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickles with non-tensor objects
        raise ConvertError(f"{path}: cannot be read as a PyTorch checkpoint of tensors ({e})")
    if not isinstance(ckpt, dict) or "model" not in ckpt:
        raise ConvertError(f"{path}: not a score_sde_pytorch checkpoint (no 'model' entry)")
    model = {}
    for k, v in ckpt["model"].items():
        model[k[len("module."):] if k.startswith("module.") else k] = v
    expected = expected_tensors(cfg)
    out = {}
    if which == "ema":
        if "ema" not in ckpt or "shadow_params" not in ckpt["ema"]:
            raise ConvertError(f"{path}: no EMA weights ('ema'/'shadow_params'); "
                               "use --weights model")
        shadow = list(ckpt["ema"]["shadow_params"])
        trainable = [(n, s) for n, s, t in expected if t]
        if len(shadow) != len(trainable):
            raise ConvertError(f"{path}: the EMA holds {len(shadow)} tensors, the configuration "
                               f"implies {len(trainable)} trainable ones")
        for (name, shape), t in zip(trainable, shadow):
            if tuple(t.shape) != shape:
                raise ConvertError(f"{path}: EMA tensor for {name} has shape {tuple(t.shape)}, "
                                   f"expected {shape}")
            out[name] = t.detach().float().numpy()
    for name, shape, trainable in expected:
        if name in out:
            continue
        if name not in model:
            raise ConvertError(f"{path}: tensor {name} is missing from 'model'")
        t = model[name]
        if tuple(t.shape) != shape:
            raise ConvertError(f"{path}: tensor {name} has shape {tuple(t.shape)}, "
                               f"expected {shape}")
        out[name] = t.detach().float().numpy()
    names = {n for n, _, _ in expected}
    for k in model:
        if k not in names and k != "sigmas":
            raise ConvertError(f"{path}: cannot place tensor {k} (not part of the configured "
                               "architecture)")
    return out


# ---------------------------------------------------------------- Flax

def read_msgpack(path):
    import msgpack

    def ext_hook(code, data):
        if code == 1:  # ndarray: (shape, dtype name, buffer)
            shape, dtype, buf = msgpack.unpackb(data, raw=False)
            return np.frombuffer(buf, dtype=np.dtype(dtype)).reshape(shape)
        if code == 3:  # numpy scalar
            shape, dtype, buf = msgpack.unpackb(data, raw=False)
            return np.frombuffer(buf, dtype=np.dtype(dtype))[0]
        return msgpack.ExtType(code, data)

    with open(path, "rb") as f:
        state = msgpack.unpackb(f.read(), ext_hook=ext_hook, raw=False, strict_map_key=False)

    def unchunk(x):
        if isinstance(x, dict):
            if "__msgpack_chunked_array__" in x:
                chunks = [x["chunks"][k] for k in sorted(x["chunks"], key=int)]
                return np.concatenate([c.reshape(-1) for c in chunks]).reshape(x["shape"])
            return {k: unchunk(v) for k, v in x.items()}
        return x
    return unchunk(state)


def flax_scopes(cfg):
    """[(flax module name or None, torch module index or None)] in the order
    Flax's NCSNpp creates submodules; param-less Flax modules (the pyramid
    resamplers) take a name and no torch index."""
    m, d = cfg["model"], cfg["data"]
    L, nrb = len(m["ch_mult"]), m["num_res_blocks"]
    counts = {}
    res = []
    t = [0]

    def make(cls, torch_module=True):
        k = counts.get(cls, 0)
        counts[cls] = k + 1
        res.append((f"{cls}_{k}", t[0] if torch_module else None))
        if torch_module:
            t[0] += 1

    block = "ResnetBlockDDPMpp" if m["resblock_type"].lower() == "ddpm" else "ResnetBlockBigGANpp"
    ddpm = block == "ResnetBlockDDPMpp"
    prog, prog_in = m["progressive"].lower(), m["progressive_input"].lower()
    attn = [d["image_size"] // 2 ** i in list(m["attn_resolutions"]) for i in range(L)]
    if m["embedding_type"].lower() == "fourier":
        make("GaussianFourierProjection")
    if m["conditional"]:
        make("Dense")
        make("Dense")
    make("Conv")
    for lv in range(L):
        for _ in range(nrb):
            make(block)
            if attn[lv]:
                make("AttnBlockpp")
        if lv != L - 1:
            make("Downsample" if ddpm else block)
            if prog_in == "input_skip":
                make("Downsample", torch_module=False)
                make("Combine")
            elif prog_in == "residual":
                make("Downsample")
    make(block)
    make("AttnBlockpp")
    make(block)
    for lv in reversed(range(L)):
        for _ in range(nrb + 1):
            make(block)
        if attn[lv]:
            make("AttnBlockpp")
        if prog != "none":
            if lv == L - 1:
                make("GroupNorm")
                make("Conv")
            elif prog == "output_skip":
                make("Upsample", torch_module=False)
                make("GroupNorm")
                make("Conv")
            else:
                make("Upsample")
        if lv != 0:
            make("Upsample" if ddpm else block)
    if prog != "output_skip":
        make("GroupNorm")
        make("Conv")
    return res


def _flax_to_torch_leaf(scope_path, name, value):
    """(torch suffix, array) for one Flax parameter."""
    leaf = scope_path[-1] if scope_path else ""
    v = np.asarray(value, dtype=np.float32)
    if name == "kernel" and v.ndim == 4:      # nn.Conv: HWIO -> OIHW
        return "weight", v.transpose(3, 2, 0, 1)
    if name == "kernel" and v.ndim == 2:      # nn.Dense: (in, out) -> (out, in)
        return "weight", v.T
    if name == "weight" and v.ndim == 4:      # up_or_down_sampling.Conv2d
        return "weight", v.transpose(3, 2, 0, 1)
    if name == "scale" and leaf.startswith("GroupNorm"):
        return "weight", v
    return name, v


def from_flax(path, cfg):
    state = read_msgpack(path)
    params = state.get("params_ema") if isinstance(state, dict) else None
    if params is None:
        raise ConvertError(f"{path}: no 'params_ema' in this Flax checkpoint")
    if "params" in params and isinstance(params["params"], dict) and len(params) == 1:
        params = params["params"]
    expected = {n: s for n, s, _ in expected_tensors(cfg)}
    out, used = {}, set()
    for flax_name, tidx in flax_scopes(cfg):
        if flax_name not in params:
            if tidx is None:
                continue
            # a module without parameters on both sides (e.g. a Downsample without conv)
            if not any(n.startswith(f"all_modules.{tidx}.") for n in expected):
                continue
            raise ConvertError(f"{path}: Flax module {flax_name} (all_modules.{tidx}) is missing")
        used.add(flax_name)
        if tidx is None:
            raise ConvertError(f"{path}: Flax module {flax_name} has parameters, but NCSN++ "
                               "creates it without")

        def walk(tree, scope):
            for k, v in tree.items():
                if isinstance(v, dict):
                    walk(v, scope + [k])
                else:
                    suffix, arr = _flax_to_torch_leaf(scope, k, v)
                    name = ".".join([f"all_modules.{tidx}"] + scope[1:] + [suffix])
                    if name not in expected:
                        raise ConvertError(f"{path}: cannot place Flax tensor "
                                           f"{'/'.join(scope + [k])} (would be {name})")
                    if tuple(arr.shape) != tuple(expected[name]):
                        raise ConvertError(f"{path}: Flax tensor {'/'.join(scope + [k])} has "
                                           f"shape {arr.shape} as {name}, expected "
                                           f"{expected[name]}")
                    out[name] = np.ascontiguousarray(arr)
        walk(params[flax_name], [flax_name])
    for k in params:
        if k not in used:
            raise ConvertError(f"{path}: cannot place Flax module {k}")
    for n in expected:
        if n not in out:
            raise ConvertError(f"{path}: no Flax tensor for {n}")
    return out


# ---------------------------------------------------------------- main

def convert(src, dst, cfg, which="ema"):
    cfg = normalise_config(copy.deepcopy(cfg))
    with open(src, "rb") as f:
        magic = f.read(4)
    if magic[:2] == b"PK" or magic[:1] == b"\x80":  # torch zip or legacy pickle
        tensors = from_pth(src, cfg, which)
        source = "score_sde_pytorch checkpoint" + (" (EMA)" if which == "ema" else " (model)")
    else:
        tensors = from_flax(src, cfg)
        source = "Flax checkpoint (params_ema)"
    meta = {"format": FORMAT, "config": json.dumps(cfg, sort_keys=True),
            "source": f"{source}: {os.path.basename(src)}"}
    tmp = dst + ".tmp"
    sr_safetensors.write(tmp, tensors, meta)
    os.replace(tmp, dst)
    return tensors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", help=".pth (score_sde_pytorch) or Flax msgpack checkpoint")
    ap.add_argument("output", help="the .safetensors file to write")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--preset", choices=sorted(PRESETS), help="a published configuration")
    g.add_argument("--config", help="configuration: scorerecon JSON or a score_sde config .py")
    ap.add_argument("--config-root", help="directory to import a .py config's packages from")
    ap.add_argument("--weights", choices=["ema", "model"], default="ema",
                    help="which weights of a .pth to take (default: ema)")
    args = ap.parse_args(argv)
    try:
        cfg = PRESETS[args.preset] if args.preset else load_config(args.config, args.config_root)
        tensors = convert(args.checkpoint, args.output, cfg, args.weights)
    except (ConvertError, OSError, KeyError, ValueError) as e:
        print(f"convert.py: error: {e}", file=sys.stderr)
        return 1
    n = sum(int(np.prod(v.shape)) for v in tensors.values())
    print(f"wrote {args.output}: {len(tensors)} tensors, {n} parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())

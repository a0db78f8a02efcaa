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
import pickle
import sys
import types

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
    """[(name, shape, trainable)] in score_sde_pytorch's parameter order (the
    order of NCSNpp.named_parameters()), replayed from the configuration
    alone so that the Flax path needs no PyTorch. It mirrors NCSNpp.__init__
    of tools/ncsnpp.py module for module; tests/model/test_convert.py checks
    the two agree on every test layout when PyTorch is present."""
    m, d = cfg["model"], cfg["data"]
    nf, ch_mult, nrb = m["nf"], list(m["ch_mult"]), m["num_res_blocks"]
    L, size, ch = len(ch_mult), d["image_size"], d["num_channels"]
    attn_at = [size // 2 ** i in list(m["attn_resolutions"]) for i in range(L)]
    prog, prog_in = m["progressive"].lower(), m["progressive_input"].lower()
    cat = m["progressive_combine"].lower() == "cat"
    ddpm = m["resblock_type"].lower() == "ddpm"
    fir, rw = bool(m["fir"]), bool(m["resamp_with_conv"])
    out, index = [], [0]

    def module(params):  # one entry of all_modules: [(suffix, shape, trainable)]
        for suffix, shape, trainable in params:
            out.append((f"all_modules.{index[0]}.{suffix}", tuple(shape), trainable))
        index[0] += 1

    def conv(cin, cout, k, at=""):
        return [(at + "weight", (cout, cin, k, k), True), (at + "bias", (cout,), True)]

    def norm(c, at=""):
        return [(at + "weight", (c,), True), (at + "bias", (c,), True)]

    def dense(cin, cout, at=""):
        return [(at + "weight", (cout, cin), True), (at + "bias", (cout,), True)]

    def nin(cin, cout, at):
        return [(at + "W", (cin, cout), True), (at + "b", (cout,), True)]

    def resblock(cin, cout=None, up=False, down=False):
        cout = cout or cin
        p = (norm(cin, "GroupNorm_0.") + conv(cin, cout, 3, "Conv_0.") +
             dense(4 * nf, cout, "Dense_0.") + norm(cout, "GroupNorm_1.") +
             conv(cout, cout, 3, "Conv_1."))
        if not ddpm and (cin != cout or up or down):
            p += conv(cin, cout, 1, "Conv_2.")
        elif ddpm and cin != cout:
            p += nin(cin, cout, "NIN_0.")
        module(p)

    def attention(c):
        module(norm(c, "GroupNorm_0.") + [t for i in range(4) for t in nin(c, c, f"NIN_{i}.")])

    def resample(cin, cout, with_conv):
        module(conv(cin, cout, 3, "Conv2d_0." if fir else "Conv_0.") if with_conv else [])

    fourier = m["embedding_type"].lower() == "fourier"
    if fourier:
        module([("W", (nf,), False)])
    if m["conditional"]:
        module(dense(2 * nf if fourier else nf, 4 * nf))
        module(dense(4 * nf, 4 * nf))
    module(conv(ch, nf, 3))
    hs_c, cin, pyr_in = [nf], nf, ch
    for lv in range(L):
        for _ in range(nrb):
            resblock(cin, nf * ch_mult[lv])
            cin = nf * ch_mult[lv]
            if attn_at[lv]:
                attention(cin)
            hs_c.append(cin)
        if lv != L - 1:
            if ddpm:
                resample(cin, cin, rw)
            else:
                resblock(cin, down=True)
            if prog_in == "input_skip":
                module(conv(pyr_in, cin, 1, "Conv_0."))  # Combine
                cin *= 2 if cat else 1
            elif prog_in == "residual":
                resample(pyr_in, cin, True)
                pyr_in = cin
            hs_c.append(cin)
    cin = hs_c[-1]
    resblock(cin)
    attention(cin)
    resblock(cin)
    pyr_ch = 0
    for lv in reversed(range(L)):
        for _ in range(nrb + 1):
            resblock(cin + hs_c.pop(), nf * ch_mult[lv])
            cin = nf * ch_mult[lv]
        if attn_at[lv]:
            attention(cin)
        if prog != "none":
            if lv == L - 1 or prog == "output_skip":
                pyr_out = ch if prog == "output_skip" else cin
                module(norm(cin))
                module(conv(cin, pyr_out, 3))
                pyr_ch = pyr_out
            else:
                resample(pyr_ch, cin, True)
                pyr_ch = cin
        if lv != 0:
            if ddpm:
                resample(cin, cin, rw)
            else:
                resblock(cin, up=True)
    if prog != "output_skip":
        module(norm(cin))
        module(conv(cin, ch, 3))
    return out


# ---------------------------------------------------------------- PyTorch

class _TensorUnpickler(pickle.Unpickler):
    """An unpickler that builds tensors, containers and numbers and nothing
    else (no code runs from the file): what weights_only=True does in
    PyTorch 2, for PyTorch 1.13 (Debian's python3-torch), whose weights-only
    unpickler rejects plain floats such as the EMA decay of every
    score_sde_pytorch checkpoint. torch.load resolves storage classes itself."""
    ALLOWED = {("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"),
               ("torch._utils", "_rebuild_parameter"), ("torch", "Size")}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _torch_load(torch, path):
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        if int(torch.__version__.split(".")[0]) >= 2:
            raise
    restricted = types.ModuleType("sr_tensor_pickle")
    restricted.Unpickler = _TensorUnpickler
    restricted.load = lambda f, **kw: _TensorUnpickler(f, **kw).load()
    return torch.load(path, map_location="cpu", pickle_module=restricted)


def from_pth(path, cfg, which="ema"):
    import torch
    try:
        ckpt = _torch_load(torch, path)
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

#!/usr/bin/env python3
"""The converter round trip (tools/convert.py): the committed test
checkpoints convert into exactly the committed weights files, tensor for
tensor, and a checkpoint missing a tensor is refused by name.

  test_convert.py DATA_DIR flax   knee_flax.msgpack -> knee.safetensors; needs
                                  only numpy and msgpack (Debian python3-numpy,
                                  python3-msgpack), so it always runs
  test_convert.py DATA_DIR pth    ct.pth -> ct.safetensors, the EMA weights
                                  taken and not the live ones, and the
                                  converter's torch-free parameter list equal
                                  to tools/ncsnpp.py's on every test layout;
                                  needs PyTorch (Debian python3-torch), exit
                                  77 (skipped) without it"""

import contextlib
import io
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAIL: {what}", file=sys.stderr)


def same_file_contents(got_path, ref_path, what):
    """Tensor for tensor (names, dtypes, shapes, bytes) and the metadata."""
    import sr_safetensors
    got, got_meta = sr_safetensors.read(got_path)
    ref, ref_meta = sr_safetensors.read(ref_path)
    check(sorted(got) == sorted(ref), f"{what}: tensor names differ: "
          f"{sorted(set(got) ^ set(ref))[:5]}")
    for name in sorted(set(got) & set(ref)):
        a, b = got[name], ref[name]
        check(a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(),
              f"{what}: tensor {name} differs ({a.dtype} {a.shape} vs {b.dtype} {b.shape})")
    for key in ("format", "config"):
        check(got_meta.get(key) == ref_meta.get(key), f"{what}: metadata '{key}' differs")
    return got, ref_meta


def run_convert(argv):
    """convert.main(argv) -> (exit code, stderr text)."""
    import convert
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = convert.main(argv)
    return code, err.getvalue()


def test_flax(data, layouts, tmp):
    try:
        import msgpack
        import numpy as np
    except ImportError as e:
        print(f"test_convert flax: {e} (install python3-numpy and python3-msgpack)",
              file=sys.stderr)
        return 1
    cfg_path = os.path.join(tmp, "knee.json")
    with open(cfg_path, "w") as f:
        json.dump(layouts["knee"], f)
    src, out = os.path.join(data, "knee_flax.msgpack"), os.path.join(tmp, "knee.safetensors")
    code, err = run_convert([src, out, "--config", cfg_path])
    check(code == 0, f"converting knee_flax.msgpack failed: {err.strip()}")
    if code == 0:
        same_file_contents(out, os.path.join(data, "knee.safetensors"), "knee (Flax)")

    # a Flax checkpoint missing one tensor: refused, the tensor named
    import convert
    state = convert.read_msgpack(src)
    params = state["params_ema"]
    module = sorted(k for k in params if k.startswith("ResnetBlock"))[0]
    del params[module]["Conv_1"]["kernel"]

    def default(o):
        if isinstance(o, np.ndarray):
            return msgpack.ExtType(1, msgpack.packb([list(o.shape), o.dtype.name, o.tobytes()]))
        raise TypeError(type(o))
    broken = os.path.join(tmp, "broken.msgpack")
    with open(broken, "wb") as f:
        f.write(msgpack.packb(state, default=default))
    code, err = run_convert([broken, os.path.join(tmp, "broken.safetensors"), "--config",
                             cfg_path])
    check(code == 1 and "Conv_1.weight" in err,
          f"a Flax checkpoint without {module}/Conv_1/kernel: exit {code}, '{err.strip()}'")
    check(not os.path.exists(os.path.join(tmp, "broken.safetensors")),
          "a failed conversion left an output file")
    return 0


def test_pth(data, layouts, tmp):
    try:
        import torch
    except ImportError:
        print("skipped: no PyTorch here (Debian: apt-get install python3-torch)")
        return 77
    import convert
    import ncsnpp
    import sr_safetensors
    cfg_path = os.path.join(tmp, "ct.json")
    with open(cfg_path, "w") as f:
        json.dump(layouts["ct"], f)
    src = os.path.join(data, "ct.pth")
    out = os.path.join(tmp, "ct.safetensors")
    code, err = run_convert([src, out, "--config", cfg_path])
    check(code == 0, f"converting ct.pth failed: {err.strip()}")
    if code == 0:
        ema, _ = same_file_contents(out, os.path.join(data, "ct.safetensors"), "ct (.pth)")
        # the live weights ('model') differ from the EMA, except the
        # untrained Fourier features, which the EMA list omits
        live_path = os.path.join(tmp, "ct_live.safetensors")
        code, err = run_convert([src, live_path, "--config", cfg_path, "--weights", "model"])
        check(code == 0, f"converting ct.pth --weights model failed: {err.strip()}")
        if code == 0:
            live, _ = sr_safetensors.read(live_path)
            for name, v in ema.items():
                differs = v.tobytes() != live[name].tobytes()
                check(differs != name.endswith(".W"),
                      f"{name}: EMA and live weights should {'' if differs else 'not '}differ")

    # a checkpoint missing a tensor: refused, the tensor named
    ckpt = torch.load(src, map_location="cpu")
    victim = "module.all_modules.4.Conv_1.bias"
    del ckpt["model"][victim]
    broken = os.path.join(tmp, "broken.pth")
    torch.save(ckpt, broken)
    code, err = run_convert([broken, os.path.join(tmp, "broken.safetensors"), "--config",
                             cfg_path, "--weights", "model"])
    check(code == 1 and "all_modules.4.Conv_1.bias" in err,
          f"a .pth without {victim}: exit {code}, '{err.strip()}'")

    # the converter's own parameter list (what the Flax path uses) against
    # the PyTorch module's, on every layout and the published presets
    cfgs = dict(layouts)
    cfgs.update({f"preset {k}": v for k, v in convert.PRESETS.items()})
    for name, cfg in cfgs.items():
        cfg = convert.normalise_config(cfg)
        ref = [(n, tuple(p.shape), p.requires_grad)
               for n, p in ncsnpp.NCSNpp(cfg).named_parameters()]
        check(convert.expected_tensors(cfg) == ref,
              f"{name}: convert.expected_tensors differs from tools/ncsnpp.py")
    return 0


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("flax", "pth"):
        print(__doc__, file=sys.stderr)
        return 2
    data, which = sys.argv[1], sys.argv[2]
    with open(os.path.join(data, "layouts.json")) as f:
        layouts = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        code = (test_flax if which == "flax" else test_pth)(data, layouts, tmp)
    if code:
        return code
    if failures:
        print(f"test_convert {which}: {len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print(f"test_convert {which}: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

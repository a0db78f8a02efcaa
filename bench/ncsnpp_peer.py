#!/usr/bin/env python3
"""The PyTorch peer of bench_ncsnpp and its model maker.

  ncsnpp_peer.py write PRESET OUT.safetensors [--size S]
      random weights for a published configuration (tools/convert.py's
      presets, at --size if given), in scorerecon's format
  ncsnpp_peer.py time PRESET --size S --batch N --threads T [--repeats R]
      times score_sde_pytorch's own NCSN++ (fetched copy, imported at run
      time as tools/golden_ncsnpp.py does; --score-sde DIR) on the CPU in
      float32, eager; prints one line "peer_ms_per_image <median>".
  ncsnpp_peer.py serve PRESET --size S --batch N --threads T [--compile]
      the same model as a server for bench_ncsnpp --peer: prints "ready"
      after warming up, then one forward per "run" line on stdin, answered
      with "peer_ms <ms for the batch>", so both programs are timed in
      alternating rounds under the same load. --compile: torch.compile
      (inductor, CPU) instead of eager."""

import argparse
import copy
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import convert  # noqa: E402


def config(preset, size):
    cfg = copy.deepcopy(convert.PRESETS[preset])
    if size:
        cfg["data"]["image_size"] = size
    return cfg


def write(args):
    import json
    import torch
    import ncsnpp
    import sr_safetensors
    torch.manual_seed(0)
    cfg = config(args.preset, args.size)
    net = ncsnpp.NCSNpp(cfg)
    tensors = {k: v.detach().numpy().astype(np.float32) for k, v in net.state_dict().items()
               if k != "sigmas"}
    sr_safetensors.write(args.out, tensors, {"format": convert.FORMAT,
                                             "config": json.dumps(cfg, sort_keys=True),
                                             "source": "random weights (bench)"})
    print(f"wrote {args.out}: {sum(v.size for v in tensors.values())} parameters")


def peer_model(args):
    """score_sde_pytorch's NCSN++ for the preset, its input and sigma."""
    import torch
    import golden_ncsnpp
    torch.set_num_threads(args.threads)
    src = golden_ncsnpp.extract(args.score_sde)
    sys.path.insert(0, src)
    from models import ncsnpp as _  # noqa: F401
    from models import utils as mutils
    if args.preset.endswith(".safetensors"):
        # a model file (e.g. a shipped model): its configuration and weights
        import json
        import sr_safetensors
        tensors, meta = sr_safetensors.read(args.preset)
        cfg = json.loads(meta["config"])
        if args.size:
            cfg["data"]["image_size"] = args.size
    else:
        tensors, cfg = None, config(args.preset, args.size)
    model = mutils.get_model("ncsnpp")(golden_ncsnpp.namespace(cfg)).eval()
    if tensors is not None:
        missing, unexpected = model.load_state_dict(
            {k: torch.from_numpy(v) for k, v in tensors.items()}, strict=False)
        if [k for k in missing if k != "sigmas"] or unexpected:
            raise SystemExit(f"{args.preset}: weights do not fit score_sde_pytorch's NCSNpp")
    if getattr(args, "compile", False):
        model = torch.compile(model)
    s, c = cfg["data"]["image_size"], cfg["data"]["num_channels"]
    x = torch.rand(args.batch, c, s, s)
    sigma = torch.full((args.batch,), 0.5)
    return model, x, sigma


def serve(args):
    import torch
    model, x, sigma = peer_model(args)
    with torch.no_grad():
        model(x, sigma)  # warm-up (and compilation)
        model(x, sigma)
        print(f"ready torch {torch.__version__} threads {torch.get_num_threads()} "
              f"{'compiled' if args.compile else 'eager'}", flush=True)
        for line in sys.stdin:
            if line.strip() != "run":
                continue
            t0 = time.perf_counter()
            model(x, sigma)
            print(f"peer_ms {1e3 * (time.perf_counter() - t0):.3f}", flush=True)


def timing(args):
    import torch
    model, x, sigma = peer_model(args)
    times = []
    with torch.no_grad():
        model(x, sigma)  # warm-up
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            model(x, sigma)
            times.append(time.perf_counter() - t0)
    print(f"peer_ms_per_image {1e3 * float(np.median(times)) / args.batch:.3f} "
          f"torch {torch.__version__} threads {torch.get_num_threads()}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("preset", choices=sorted(convert.PRESETS))
    w.add_argument("out")
    w.add_argument("--size", type=int)
    for name in ("time", "serve"):
        t = sub.add_parser(name)
        t.add_argument("preset", help=f"{', '.join(sorted(convert.PRESETS))} or a .safetensors "
                       "model file (its configuration and weights)")
        t.add_argument("--size", type=int)
        t.add_argument("--batch", type=int, default=1)
        t.add_argument("--threads", type=int, default=2)
        t.add_argument("--repeats", type=int, default=3)
        t.add_argument("--compile", action="store_true")
        t.add_argument("--score-sde", default=os.environ.get(
            "SCORE_SDE_PYTORCH", "/work/.mirror/yang-song+score_sde_pytorch/repo"))
    args = ap.parse_args()
    {"write": write, "time": timing, "serve": serve}[args.cmd](args)


if __name__ == "__main__":
    main()

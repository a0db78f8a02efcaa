#!/usr/bin/env python3
"""The PyTorch peer of bench_sampler: the paper's `projection` sampler
(Song et al., ICLR 2022, score_inverse_problems cs.py, written in JAX) ported
to PyTorch around score_sde_pytorch's own NCSN++ (the fetched copy, imported
at run time as bench/ncsnpp_peer.py does; never committed).

  sampler_peer.py serve ct|mri --model M.safetensors [--size S] [--views K]
                  [--n-keep C] [--levels L] [--batch B] [--threads T]
      prints "ready ..." after a warm-up run, then for every line "run" on
      stdin runs the sampler for L noise levels on B phantoms and answers
      "peer_level_s X network_s Y consistency_s Z": seconds per level from
      the end of level 1 to the end of level L (bench_sampler's convention)
      and the network / consistency parts of it. It exits at end of input.
  sampler_peer.py time ... [--repeats R]
      the same runs R times on its own; prints the median.
  sampler_peer.py check
      self-test of the transforms (no network needed): T^-1 T = I, the
      line / sinogram round trip, the merge's fixed point, T's grid origin as
      ours (pixel (0, 0) at -(N / 2) mod ED), MRI's orthonormality and the
      31 columns of n_keep 30 on 240. Exits non-zero on a failure.

The network is score_sde_pytorch's NCSNpp built from the configuration
stored in M (bench/ncsnpp_peer.py write ct|brats M), with M's weights loaded,
so both sides evaluate the same network on the same numbers.

What one noise level does, as the official code does it (float32 / complex64):
  corrector: inpaint, then one Langevin step (score_sde's LangevinCorrector,
             step from the batch-mean norms of score and noise);
  predictor: inpaint, then one reverse-diffusion step (score_sde's
             ReverseDiffusionPredictor, VE discretisation at sde.N = L).
  inpaint:   x_k = T x, n_k = T z (z ~ N(0, I) in image space),
             y_t = known + std(t) n_k, x_k = merge(x_k, y_t), x = T^-1 x_k.
MRI: T = centred orthonormal 2-D FFT (fftshift(fft2(ifftshift(x))) / H),
     merge = known mask + x_k (1 - mask) on the paper's column mask
     (get_cartesian_mask, n_keep / 1000 centre fraction, equispaced columns).
CT:  T = fft2(ifftshift(pad_ED(pad_D(x)))), D = ceil(sqrt 2 N), ED = 4 D made
     even; T^-1 = Re unpad(crop_D(fftshift(ifft2(.)))). The merge runs in the
     sinogram domain of the Fourier lines, as the official
     merge_known_with_mask: both k-spaces are gathered on the N radial lines
     (angles linspace(0, pi, N)) and 1-D inverse-FFTed to sinograms, the
     measured rows (round(linspace(0, N - 1, K))) replace x's, the blend goes
     back by 1-D FFTs and a scatter onto the lines, and points no line
     reaches keep x_k. That is three ED x ED 2-D FFTs and 3 N 1-D FFTs of
     length ED per inpaint (ours: two 2-D FFTs; see src/sampler/consistency.c).
The official builds `known` from a 320-view sinogram by a NUFFT and bilinear
interpolation (fft_discretize_sinogram); here it is T x of the phantom on the
lines (what that interpolation approximates, by the Fourier-slice theorem):
it is set up once per run and not timed, so the timing does not depend on it.
"""

import argparse
import json
import math
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))


def phantom(n, s):
    """bench_sampler's smooth phantom for slice s."""
    r, c = np.mgrid[0:n, 0:n].astype(np.float64)
    u = (c - n // 2 + 0.5) / (n / 2.0)
    v = (r - n // 2 + 0.5) / (n / 2.0)
    p = np.where(u * u / 0.8 + v * v / 0.6 < 1.0, 0.6, 0.0)
    p = np.where((u - 0.2 - 0.02 * s) ** 2 + (v + 0.1) ** 2 < 0.05, 1.0, p)
    return p.astype(np.float32)


class MriTransform:
    """Centred orthonormal FFT and the paper's column mask."""

    def __init__(self, torch, n, n_keep):
        self.torch, self.n = torch, n
        frac = n_keep / 1000
        accel = n / n_keep
        n_low = int(round(n * frac))
        mask = np.zeros((n, n), np.float32)
        pad = (n - n_low + 1) // 2
        mask[:, pad:pad + n_low] = 1
        adj = accel * (n_low - n) / (n_low * accel - n)
        cols = np.around(np.arange(round(adj) // 2, n - 1, adj)).astype(np.int64)
        mask[:, cols] = 1
        self.mask = torch.from_numpy(mask)
        self.columns = int(mask[0].sum())

    def to_space(self, x):
        f = self.torch.fft
        return f.fftshift(f.fft2(f.ifftshift(x, dim=(-2, -1))), dim=(-2, -1)) / self.n

    def from_space(self, k):
        f = self.torch.fft
        return (f.fftshift(f.ifft2(f.ifftshift(k, dim=(-2, -1))), dim=(-2, -1)) * self.n).real

    def merge(self, x_k, known, coeff):
        m = self.mask * coeff
        return known * m + x_k * (1 - m)

    def known(self, img):
        return self.to_space(img)


class CtTransform:
    """The official Fourier-domain T of sparse-view CT (see the module doc)."""

    def __init__(self, torch, n, views, expansion=4.0):
        self.torch, self.n = torch, n
        d = math.ceil(math.sqrt(2.0) * n)
        ed = int(d * expansion)
        ed += ed % 2
        self.d, self.ed = d, ed
        pad = d - n
        self.pad_before = (n + pad) // 2 - n // 2
        self.pad_after = pad - self.pad_before
        self.grid_off = ed // 2 - d // 2  # where the D x D image sits on the grid
        self.unpad = (d - int(math.sqrt(d * d / 2))) // 2
        # radii (get_r_coords) and the nearest grid point of every line sample
        if d % 2 == 0:
            r = np.linspace(-(d / 2 - 0.5), d / 2 - 0.5, ed) - 0.5
        else:
            r = np.linspace(-(d - 1) / 2, (d - 1) / 2, ed)
        a = np.linspace(0, np.pi, n, endpoint=False)
        rg, ag = np.meshgrid(r, a, indexing="xy")  # (n angles, ed radii)
        gx = (np.round(rg * np.cos(ag) * ed / d) % ed).astype(np.int64)
        gy = (np.round(-rg * np.sin(ag) * ed / d) % ed).astype(np.int64)
        self.lines = torch.from_numpy((gy * ed + gx).reshape(-1))
        ct_mask = torch.zeros(ed * ed)
        ct_mask[self.lines] = 1.0
        self.ct_mask = ct_mask.reshape(ed, ed)
        rows = np.round(np.linspace(0, n - 1, views)).astype(np.int64)
        sino_mask = torch.zeros(n, ed)
        sino_mask[torch.from_numpy(rows), :] = 1.0
        self.sino_mask = sino_mask

    def to_space(self, x):
        F, f = self.torch.nn.functional, self.torch.fft
        x = F.pad(x, (self.pad_before, self.pad_after, self.pad_before, self.pad_after))
        o = self.grid_off
        x = F.pad(x, (o, self.ed - self.d - o, o, self.ed - self.d - o))
        return f.fft2(f.ifftshift(x, dim=(-2, -1)))

    def from_space(self, k):
        f = self.torch.fft
        img = f.fftshift(f.ifft2(k), dim=(-2, -1))
        o, u, n = self.grid_off, self.unpad, self.n
        img = img[..., o:o + self.d, o:o + self.d]
        return img[..., u:u + n, u:u + n].real

    def to_sino(self, k):
        f = self.torch.fft
        s = k.flatten(-2)[..., self.lines].reshape(k.shape[:-2] + (self.n, self.ed))
        return f.fftshift(f.ifft(f.ifftshift(s, dim=-1), dim=-1), dim=-1)

    def from_sino(self, s):
        f = self.torch.fft
        sl = f.fftshift(f.fft(f.ifftshift(s, dim=-1), dim=-1), dim=-1)
        k = self.torch.zeros(s.shape[:-2] + (self.ed * self.ed,), dtype=sl.dtype)
        k[..., self.lines] = sl.flatten(-2)
        return k.reshape(s.shape[:-2] + (self.ed, self.ed))

    def merge(self, x_k, known, coeff):
        m = self.sino_mask * coeff
        merged = self.from_sino(self.to_sino(x_k) * (1 - m) + self.to_sino(known) * m)
        return merged * self.ct_mask + x_k * (1 - self.ct_mask)

    def known(self, img):
        return self.to_space(img) * self.ct_mask


class Peer:
    def __init__(self, args):
        import torch
        import golden_ncsnpp
        import sr_safetensors
        torch.set_num_threads(args.threads)
        self.torch, self.args = torch, args
        tensors, meta = sr_safetensors.read(args.model)
        cfg = json.loads(meta["config"])
        n = args.size or cfg["data"]["image_size"]
        cfg["data"]["image_size"] = n
        src = golden_ncsnpp.extract(args.score_sde)
        sys.path.insert(0, src)
        from models import ncsnpp as _  # noqa: F401
        from models import utils as mutils
        import sde_lib
        model = mutils.get_model("ncsnpp")(golden_ncsnpp.namespace(cfg)).eval()
        state = {k: torch.from_numpy(v) for k, v in tensors.items()}
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [k for k in missing if k != "sigmas"]
        if missing or unexpected:
            raise SystemExit(f"{args.model}: weights do not fit score_sde_pytorch's NCSNpp "
                             f"(missing {missing[:4]}, unexpected {unexpected[:4]})")
        self.model, self.n = model, n
        self.sde_lib, self.sigmas = sde_lib, (cfg["model"]["sigma_min"], cfg["model"]["sigma_max"])
        # VE, continuous: the score depends on sigma(t) only, not on N
        self.score_fn = mutils.get_score_fn(self.make_sde(2), model, train=False, continuous=True)
        if args.modality == "ct":
            self.tr = CtTransform(torch, n, args.views)
            self.snr, self.coeff = 0.246, 0.841  # configs/ve/ct2d_320_ncsnpp_continuous.py
            self.what = f"CT {n}^2, {args.views} of {n} views, D {self.tr.d}, ED {self.tr.ed}"
        else:
            self.tr = MriTransform(torch, n, args.n_keep)
            self.snr, self.coeff = 0.517, 1.0  # configs/ve/brats_ncsnpp_continuous.py
            self.what = f"MRI {n}^2, n_keep {args.n_keep} ({self.tr.columns} columns)"
        img = np.stack([phantom(n, s) for s in range(args.batch)])[:, None]
        self.known = self.tr.known(torch.from_numpy(img))
        self.gen = torch.Generator().manual_seed(0)

    def make_sde(self, levels):
        return self.sde_lib.VESDE(sigma_min=self.sigmas[0], sigma_max=self.sigmas[1], N=levels)

    def _randn(self, like):
        return self.torch.randn(like.shape, generator=self.gen, dtype=like.dtype)

    def run(self, levels):
        """One sampler run; seconds per level (end of level 1 to end of level
        `levels`) and the network and consistency seconds per level."""
        torch, tr, sde = self.torch, self.tr, self.make_sde(levels)
        clock = time.perf_counter
        acc = {"net": 0.0, "cons": 0.0}

        def score(x, t):
            t0 = clock()
            s = self.score_fn(x, t)
            acc["net"] += clock() - t0
            return s

        def inpaint(x, t):
            t0 = clock()
            std = sde.marginal_prob(torch.zeros_like(x), t)[1]
            noisy = self.known + std[:, None, None, None] * tr.to_space(self._randn(x))
            x = tr.from_space(tr.merge(tr.to_space(x), noisy, self.coeff))
            acc["cons"] += clock() - t0
            return x

        def corrector(x, t):  # Langevin, VE (alpha = 1), one step
            g = score(x, t)
            z = self._randn(x)
            gn = torch.linalg.norm(g.reshape(g.shape[0], -1), dim=-1).mean()
            zn = torch.linalg.norm(z.reshape(z.shape[0], -1), dim=-1).mean()
            step = 2 * (self.snr * zn / gn) ** 2
            return x + step * g + torch.sqrt(2 * step) * z

        def predictor(x, t):  # reverse diffusion, VE discretisation
            _, g = sde.discretize(x, t)
            s = score(x, t)
            return x + (g ** 2)[:, None, None, None] * s + g[:, None, None, None] * self._randn(x)

        b, eps = self.args.batch, 1e-5
        with torch.no_grad():
            x = sde.prior_sampling((b, 1, self.n, self.n))
            ts = torch.linspace(sde.T, eps, sde.N)
            marks = []
            for i in range(sde.N):
                t = torch.full((b,), float(ts[i]))
                x = corrector(inpaint(x, t), t)
                x = predictor(inpaint(x, t), t)
                marks.append((clock(), acc["net"], acc["cons"]))
            # the final denoise and the noise-free merge (not timed: bench_sampler
            # leaves them out too)
            t = torch.full((b,), eps)
            k, std = sde.marginal_prob(torch.ones_like(x), t)
            x = x / k + (std ** 2)[:, None, None, None] * score(x, t) / k
            x = tr.from_space(tr.merge(tr.to_space(x), self.known, 1.0))
        n = len(marks) - 1
        if n < 1:
            return float("nan"), 0.0, 0.0
        (w0, n0, c0), (w1, n1, c1) = marks[0], marks[-1]
        return (w1 - w0) / n, (n1 - n0) / n, (c1 - c0) / n


def serve(args):
    p = Peer(args)
    p.run(2)  # warm-up: allocations, FFT plans
    print(f"ready torch {p.torch.__version__} threads {p.torch.get_num_threads()} {p.what}, "
          f"batch {args.batch}, {args.levels} levels", flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            continue
        lv, net, cons = p.run(args.levels)
        print(f"peer_level_s {lv:.6f} network_s {net:.6f} consistency_s {cons:.6f}", flush=True)


def timing(args):
    p = Peer(args)
    rows = [p.run(args.levels) for _ in range(args.repeats)]
    lv = sorted(r[0] for r in rows)[len(rows) // 2]
    net = float(np.mean([r[1] for r in rows]))
    cons = float(np.mean([r[2] for r in rows]))
    print(f"{p.what}, batch {args.batch}, torch {p.torch.__version__}, "
          f"threads {p.torch.get_num_threads()}")
    print(f"peer_level_s {lv:.6f} network_s {net:.6f} consistency_s {cons:.6f}")


def check(args):
    import torch
    bad = []

    def expect(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            bad.append(what)

    for n, views in ((64, 8), (320, 23)):
        ct = CtTransform(torch, n, views)
        x = torch.from_numpy(phantom(n, 0))[None, None]
        k = ct.to_space(x)
        scale = k.abs().max()
        expect((ct.from_space(k) - x).abs().max() < 1e-5, f"CT {n}: T^-1 T x = x")
        on = ct.ct_mask.bool()
        expect(((ct.from_sino(ct.to_sino(k)) - k)[..., on].abs().max() / scale) < 1e-5,
               f"CT {n}: lines -> sinogram -> lines")
        expect(((ct.merge(k, ct.known(x), 1.0) - k).abs().max() / scale) < 1e-5,
               f"CT {n}: merge(T x, known of x) = T x")
        g = torch.zeros(ct.ed, ct.ed)
        idx = (torch.arange(n) + ct.ed - n // 2) % ct.ed
        g[idx[:, None], idx[None, :]] = x[0, 0]
        expect(((torch.fft.fft2(g) - k[0, 0]).abs().max() / scale) < 1e-5,
               f"CT {n}: T's origin as src/operators/ct_fourier.c (D {ct.d}, ED {ct.ed})")
        expect(int(ct.sino_mask[:, 0].sum()) == views, f"CT {n}: {views} measured rows")
    mri = MriTransform(torch, 240, 30)
    y = torch.from_numpy(phantom(240, 0))[None, None]
    ky = mri.to_space(y)
    expect((mri.from_space(ky) - y).abs().max() < 1e-5, "MRI 240: T^-1 T x = x")
    expect(abs(float(ky.abs().pow(2).sum() / y.pow(2).sum()) - 1) < 1e-5, "MRI 240: orthonormal")
    expect(mri.columns == 31, f"MRI 240, n_keep 30: {mri.columns} columns (31 expected)")
    if bad:
        raise SystemExit(f"{len(bad)} check(s) failed")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("serve", "time"):
        t = sub.add_parser(name)
        t.add_argument("modality", choices=("ct", "mri"))
        t.add_argument("--model", required=True)
        t.add_argument("--size", type=int)
        t.add_argument("--views", type=int, default=23)
        t.add_argument("--n-keep", type=int, default=30)
        t.add_argument("--levels", type=int, default=10)
        t.add_argument("--batch", type=int, default=1)
        t.add_argument("--threads", type=int, default=1)
        t.add_argument("--repeats", type=int, default=3)
        t.add_argument("--score-sde", default=os.environ.get(
            "SCORE_SDE_PYTORCH", "/work/.mirror/yang-song+score_sde_pytorch/repo"))
    sub.add_parser("check")
    args = ap.parse_args()
    if args.cmd != "check" and args.levels < 2:
        raise SystemExit("--levels must be >= 2")
    {"serve": serve, "time": timing, "check": check}[args.cmd](args)


if __name__ == "__main__":
    main()

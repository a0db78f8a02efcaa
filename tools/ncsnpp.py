"""scorerecon's own PyTorch NCSN++ (the score network of Song et al., ICLR
2021/2022). Parameter names and their order are those of score_sde_pytorch's
`ncsnpp` model (`all_modules.<i>.<layer>.<param>`), so its checkpoints load
with load_state_dict and the C library reads the same names. Used to train
models, to place EMA weights by name when converting, and as a second
reference next to the original code.

The configuration is the JSON scorerecon stores in a weights file:
{"model": {...}, "data": {...}, "training": {...}} with score_sde's names."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def _groups(ch):
    return min(ch // 4, 32)


def _fir_2d(k1, gain):
    """Outer product of a 1-D FIR, normalised to sum 1, times gain."""
    k = np.asarray(k1, dtype=np.float32)
    k = np.outer(k, k)
    k /= np.sum(k)
    return k * np.float32(gain)


def upfirdn2d(x, k2, up=1, down=1, pad=(0, 0)):
    """Zero-insert by `up`, pad (negative crops), convolve with k2 (flipped,
    a true convolution), keep every `down`-th sample; on each channel."""
    n, c, h, w = x.shape
    y = x.reshape(n * c, 1, h, w)
    if up > 1:
        z = y.new_zeros(n * c, 1, h * up, w * up)
        z[:, :, ::up, ::up] = y
        y = z
    p0, p1 = pad
    y = F.pad(y, [max(p0, 0), max(p1, 0), max(p0, 0), max(p1, 0)])
    if p0 < 0 or p1 < 0:
        hh, ww = y.shape[2], y.shape[3]
        y = y[:, :, max(-p0, 0):hh - max(-p1, 0), max(-p0, 0):ww - max(-p1, 0)]
    kt = torch.as_tensor(np.ascontiguousarray(k2[::-1, ::-1]), dtype=y.dtype, device=y.device)
    y = F.conv2d(y, kt[None, None], stride=down)
    return y.reshape(n, c, y.shape[2], y.shape[3])


class _Fir:
    def __init__(self, cfg):
        m = cfg["model"]
        self.fir = bool(m["fir"])
        self.k = list(m["fir_kernel"]) if self.fir else [1, 1]

    def up(self, x):  # upsample_2d, or nearest x2
        p = len(self.k) - 2
        return upfirdn2d(x, _fir_2d(self.k, 4), up=2, pad=((p + 1) // 2 + 1, p // 2))

    def down(self, x):  # downsample_2d, or the 2x2 mean
        p = len(self.k) - 2
        return upfirdn2d(x, _fir_2d(self.k, 1), down=2, pad=((p + 1) // 2, p // 2))


def _conv(cin, cout, k=3, stride=1, padding=None):
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2 if padding is None else padding)


class GaussianFourierProjection(nn.Module):
    def __init__(self, size, scale):
        super().__init__()
        self.W = nn.Parameter(torch.randn(size) * scale, requires_grad=False)

    def forward(self, x):
        p = x[:, None] * self.W[None, :] * 2 * np.pi
        return torch.cat([torch.sin(p), torch.cos(p)], dim=-1)


class NIN(nn.Module):
    """A 1x1 projection stored as W (in, out), b (out)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.W = nn.Parameter(torch.randn(cin, cout) / math.sqrt(cin))
        self.b = nn.Parameter(torch.zeros(cout))

    def forward(self, x):
        return torch.einsum("nchw,co->nohw", x, self.W) + self.b[None, :, None, None]


class Combine(nn.Module):
    def __init__(self, cin, cout, method):
        super().__init__()
        self.Conv_0 = _conv(cin, cout, 1)
        self.method = method

    def forward(self, x, y):
        h = self.Conv_0(x)
        return torch.cat([h, y], dim=1) if self.method == "cat" else h + y


class AttnBlockpp(nn.Module):
    def __init__(self, ch, skip_rescale):
        super().__init__()
        self.GroupNorm_0 = nn.GroupNorm(_groups(ch), ch, eps=1e-6)
        self.NIN_0, self.NIN_1, self.NIN_2, self.NIN_3 = (NIN(ch, ch) for _ in range(4))
        self.skip_rescale = skip_rescale

    def forward(self, x):
        n, c, h, w = x.shape
        g = self.GroupNorm_0(x)
        q, k, v = (m(g).reshape(n, c, h * w) for m in (self.NIN_0, self.NIN_1, self.NIN_2))
        a = torch.softmax(torch.einsum("ncp,ncq->npq", q, k) * (int(c) ** -0.5), dim=-1)
        o = torch.einsum("npq,ncq->ncp", a, v).reshape(n, c, h, w)
        y = x + self.NIN_3(o)
        return y / np.sqrt(2.0) if self.skip_rescale else y


class Resample(nn.Module):
    """layerspp.Upsample / Downsample."""

    def __init__(self, cfg, cin, cout, up, with_conv):
        super().__init__()
        self.fir = _Fir(cfg)
        self.up, self.with_conv = up, with_conv
        self.k = list(cfg["model"]["fir_kernel"]) if cfg["model"]["fir"] else None
        if with_conv:
            if self.k is not None:
                self.Conv2d_0 = _conv(cin, cout, 3)
            else:
                self.Conv_0 = _conv(cin, cout, 3, stride=1 if up else 2, padding=1 if up else 0)

    def forward(self, x):
        if not self.with_conv:
            return self.fir.up(x) if self.up else self.fir.down(x)
        if self.k is None:
            if self.up:
                return self.Conv_0(F.interpolate(x, scale_factor=2, mode="nearest"))
            return self.Conv_0(F.pad(x, (0, 1, 0, 1)))
        w, b = self.Conv2d_0.weight, self.Conv2d_0.bias
        if self.up:
            # stride-2 transposed conv (zero insertion + conv), then the FIR
            y = F.conv_transpose2d(x, w.flip(2, 3).transpose(0, 1), stride=2)
            p = len(self.k) - 2 - 2
            y = upfirdn2d(y, _fir_2d(self.k, 4), pad=((p + 1) // 2 + 1, p // 2 + 1))
        else:
            p = len(self.k) - 2 + 2
            y = F.conv2d(upfirdn2d(x, _fir_2d(self.k, 1), pad=((p + 1) // 2, p // 2)), w, stride=2)
        return y + b[None, :, None, None]


class ResnetBlock(nn.Module):
    """ResnetBlockBigGANpp (biggan) or ResnetBlockDDPMpp (ddpm)."""

    def __init__(self, cfg, cin, cout=None, up=False, down=False):
        super().__init__()
        m = cfg["model"]
        cout = cout or cin
        self.biggan = m["resblock_type"].lower() == "biggan"
        self.fir = _Fir(cfg)
        self.up, self.down = up, down
        self.GroupNorm_0 = nn.GroupNorm(_groups(cin), cin, eps=1e-6)
        self.Conv_0 = _conv(cin, cout)
        self.Dense_0 = nn.Linear(4 * m["nf"], cout)
        self.GroupNorm_1 = nn.GroupNorm(_groups(cout), cout, eps=1e-6)
        self.Dropout_0 = nn.Dropout(m.get("dropout", 0.0))
        self.Conv_1 = _conv(cout, cout)
        self.shortcut = None  # the name of the shortcut layer, if any
        if self.biggan and (cin != cout or up or down):
            self.Conv_2 = _conv(cin, cout, 1)
            self.shortcut = "Conv_2"
        elif not self.biggan and cin != cout:
            self.NIN_0 = NIN(cin, cout)
            self.shortcut = "NIN_0"
        self.skip_rescale = bool(m["skip_rescale"])

    def forward(self, x, temb=None):
        h = F.silu(self.GroupNorm_0(x))
        if self.up:
            h, x = self.fir.up(h), self.fir.up(x)
        elif self.down:
            h, x = self.fir.down(h), self.fir.down(x)
        h = self.Conv_0(h)
        if temb is not None:
            h = h + self.Dense_0(F.silu(temb))[:, :, None, None]
        h = self.Conv_1(self.Dropout_0(F.silu(self.GroupNorm_1(h))))
        if self.shortcut is not None:
            x = getattr(self, self.shortcut)(x)
        return (x + h) / np.sqrt(2.0) if self.skip_rescale else x + h


class NCSNpp(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        m, d = cfg["model"], cfg["data"]
        nf, ch_mult, nrb = m["nf"], list(m["ch_mult"]), m["num_res_blocks"]
        self.L = len(ch_mult)
        size, ch = d["image_size"], d["num_channels"]
        self.attn_at = [size // 2 ** i in list(m["attn_resolutions"]) for i in range(self.L)]
        self.prog = m["progressive"].lower()
        self.prog_in = m["progressive_input"].lower()
        self.combine = m["progressive_combine"].lower()
        self.embedding = m["embedding_type"].lower()
        self.ddpm = m["resblock_type"].lower() == "ddpm"
        self.skip_rescale = bool(m["skip_rescale"])
        sig = np.exp(np.linspace(np.log(m["sigma_max"]), np.log(m["sigma_min"]), m["num_scales"]))
        self.register_buffer("sigmas", torch.tensor(sig))
        self.fir = _Fir(cfg)
        mods = []
        if self.embedding == "fourier":
            mods.append(GaussianFourierProjection(nf, m.get("fourier_scale", 16.0)))
        emb = 2 * nf if self.embedding == "fourier" else nf
        if m["conditional"]:
            mods += [nn.Linear(emb, 4 * nf), nn.Linear(4 * nf, 4 * nf)]
        rw = bool(m["resamp_with_conv"])
        mods.append(_conv(ch, nf))
        hs_c, cin, pyr_in = [nf], nf, ch
        for lv in range(self.L):
            for _ in range(nrb):
                mods.append(ResnetBlock(cfg, cin, nf * ch_mult[lv]))
                cin = nf * ch_mult[lv]
                if self.attn_at[lv]:
                    mods.append(AttnBlockpp(cin, self.skip_rescale))
                hs_c.append(cin)
            if lv != self.L - 1:
                mods.append(Resample(cfg, cin, cin, False, rw) if self.ddpm
                            else ResnetBlock(cfg, cin, down=True))
                if self.prog_in == "input_skip":
                    mods.append(Combine(pyr_in, cin, self.combine))
                    cin *= 2 if self.combine == "cat" else 1
                elif self.prog_in == "residual":
                    mods.append(Resample(cfg, pyr_in, cin, False, True))
                    pyr_in = cin
                hs_c.append(cin)
        cin = hs_c[-1]
        mods += [ResnetBlock(cfg, cin), AttnBlockpp(cin, self.skip_rescale), ResnetBlock(cfg, cin)]
        pyr_ch = 0
        for lv in reversed(range(self.L)):
            for _ in range(nrb + 1):
                mods.append(ResnetBlock(cfg, cin + hs_c.pop(), nf * ch_mult[lv]))
                cin = nf * ch_mult[lv]
            if self.attn_at[lv]:
                mods.append(AttnBlockpp(cin, self.skip_rescale))
            if self.prog != "none":
                if lv == self.L - 1 or self.prog == "output_skip":
                    out = ch if self.prog == "output_skip" else cin
                    mods += [nn.GroupNorm(_groups(cin), cin, eps=1e-6), _conv(cin, out)]
                    pyr_ch = out
                else:
                    mods.append(Resample(cfg, pyr_ch, cin, True, True))
                    pyr_ch = cin
            if lv != 0:
                mods.append(Resample(cfg, cin, cin, True, rw) if self.ddpm
                            else ResnetBlock(cfg, cin, up=True))
        assert not hs_c
        if self.prog != "output_skip":
            mods += [nn.GroupNorm(_groups(cin), cin, eps=1e-6), _conv(cin, ch)]
        self.all_modules = nn.ModuleList(mods)

    def forward(self, x, cond):
        m, mods, i = self.cfg["model"], self.all_modules, 0
        nf = m["nf"]
        if self.embedding == "fourier":
            sigma = cond
            temb = mods[0](torch.log(cond))
            i = 1
        else:
            sigma = self.sigmas[cond.long()]
            half = nf // 2
            f = torch.exp(torch.arange(half, dtype=torch.float32, device=x.device)
                          * -(math.log(10000) / (half - 1)))
            e = cond.float()[:, None] * f[None, :]
            temb = torch.cat([torch.sin(e), torch.cos(e)], dim=1)
            if nf % 2:
                temb = F.pad(temb, (0, 1))
        if m["conditional"]:
            temb = mods[i + 1](F.silu(mods[i](temb)))
            i += 2
        else:
            temb = None
        if not self.cfg["data"]["centered"]:
            x = 2 * x - 1.0
        pyr_in = x if self.prog_in != "none" else None
        hs = [mods[i](x)]
        i += 1
        for lv in range(self.L):
            for _ in range(m["num_res_blocks"]):
                h = mods[i](hs[-1], temb)
                i += 1
                if self.attn_at[lv]:
                    h = mods[i](h)
                    i += 1
                hs.append(h)
            if lv != self.L - 1:
                h = mods[i](hs[-1]) if self.ddpm else mods[i](hs[-1], temb)
                i += 1
                if self.prog_in == "input_skip":
                    pyr_in = self.fir.down(pyr_in)
                    h = mods[i](pyr_in, h)
                    i += 1
                elif self.prog_in == "residual":
                    pyr_in = mods[i](pyr_in)
                    i += 1
                    pyr_in = (pyr_in + h) / np.sqrt(2.0) if self.skip_rescale else pyr_in + h
                    h = pyr_in
                hs.append(h)
        h = mods[i + 2](mods[i + 1](mods[i](hs[-1], temb)), temb)
        i += 3
        pyr = None
        for lv in reversed(range(self.L)):
            for _ in range(m["num_res_blocks"] + 1):
                h = mods[i](torch.cat([h, hs.pop()], dim=1), temb)
                i += 1
            if self.attn_at[lv]:
                h = mods[i](h)
                i += 1
            if self.prog != "none":
                if lv == self.L - 1 or self.prog == "output_skip":
                    p = mods[i + 1](F.silu(mods[i](h)))
                    i += 2
                    pyr = p if lv == self.L - 1 else self.fir.up(pyr) + p
                else:
                    pyr = mods[i](pyr)
                    i += 1
                    pyr = (pyr + h) / np.sqrt(2.0) if self.skip_rescale else pyr + h
                    h = pyr
            if lv != 0:
                h = mods[i](h) if self.ddpm else mods[i](h, temb)
                i += 1
        if self.prog == "output_skip":
            h = pyr
        else:
            h = mods[i + 1](F.silu(mods[i](h)))
            i += 2
        assert i == len(mods)
        if m["scale_by_sigma"]:
            h = h / sigma.reshape(-1, 1, 1, 1).to(h.dtype)
        return h

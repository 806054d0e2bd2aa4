#!/usr/bin/python3
"""Independent PyTorch reference for the LPIPS distance (LPIPS-SPEC.md, section 1).

Needs torch and torchvision (Debian's python3-torch / python3-torchvision,
i.e. run it with /usr/bin/python3).  Used to produce the test goldens and to
check the definition against values computed by the published LPIPS code.

Weights are given in the model-file naming: backbone tensors under
torchvision's `features.N.*` keys, calibration weights as `lin.K.weight` with
shape (C,).  The "unweighted" calibration uses version 0.1's input scaling
and a weight of 1 for every channel.

Command line:
    lpips_reference.py validate [--weights DIR] [--images DIR] [--reference DIR]
        compare against the official reference values (real SqueezeNet weights)
    lpips_reference.py min-sizes
        find the smallest inputs for which every tap keeps at least one pixel
"""

import argparse
import array
import contextlib
import json
import os
import sys

import torch
import torch.nn.functional as F
import torchvision

NETWORKS = ("squeeze", "alex", "vgg")
CALIBRATIONS = ("lpips-v0.1", "lpips-v0.0", "unweighted")

# End (exclusive) of each slice of torchvision's `features`; the tap is the
# output of module end - 1.
TAP_ENDS = {
    "squeeze": (2, 5, 8, 10, 11, 12, 13),
    "alex": (2, 5, 8, 10, 12),
    "vgg": (4, 9, 16, 23, 30),
}
TAP_CHANNELS = {
    "squeeze": (64, 128, 256, 384, 384, 512, 512),
    "alex": (64, 192, 384, 256, 256),
    "vgg": (64, 128, 256, 512, 512),
}

# Version 0.1 input scaling: x <- (x - SHIFT) / SCALE per channel.
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
EPS = 1e-10


@contextlib.contextmanager
def _no_random_init():
    """Make torch.nn.init's fill functions no-ops for a while.

    Building a torchvision model draws random values for all of it (about
    140 M for VGG-16, mostly in the classifier that is dropped here), which
    takes seconds; every tensor that is kept gets zeroed or loaded anyway.
    """
    names = [n for n in ("uniform_", "normal_", "constant_", "zeros_", "ones_",
                         "kaiming_uniform_", "kaiming_normal_", "xavier_uniform_",
                         "xavier_normal_", "trunc_normal_")
             if hasattr(torch.nn.init, n)]
    saved = {n: getattr(torch.nn.init, n) for n in names}

    def keep(tensor, *args, **kwargs):
        return tensor

    try:
        for n in names:
            setattr(torch.nn.init, n, keep)
        yield
    finally:
        for n, f in saved.items():
            setattr(torch.nn.init, n, f)


def _torchvision_features(network):
    """torchvision's `model.features` for `network`, all parameters zero."""
    with _no_random_init():
        if network == "squeeze":
            model = torchvision.models.squeezenet1_1()
        elif network == "alex":
            model = torchvision.models.alexnet()
        elif network == "vgg":
            model = torchvision.models.vgg16()
        else:
            raise ValueError("unknown network %r" % network)
    features = model.features
    with torch.no_grad():
        for p in features.parameters():
            p.zero_()
    return features


class _Lin(torch.nn.Module):
    """Per-channel non-negative weights of one tap (a bias-free 1x1 conv)."""

    def __init__(self, channels):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(channels), requires_grad=False)


class Reference(torch.nn.Module):
    def __init__(self, network, calibration, tensors=None):
        super().__init__()
        if calibration not in CALIBRATIONS:
            raise ValueError("unknown calibration %r" % calibration)
        self.network = network
        self.calibration = calibration
        self.tap_ends = TAP_ENDS[network]
        features = _torchvision_features(network)
        self.features = torch.nn.Sequential(*list(features.children())[:self.tap_ends[-1]])
        self.lin = torch.nn.ModuleList(_Lin(c) for c in TAP_CHANNELS[network])
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()
        if tensors is not None:
            self.load_tensors(tensors)

    def load_tensors(self, tensors):
        """Load a dict name -> tensor, or (shape, float sequence) as made by
        tests/synth_weights.py, in the model-file naming."""
        state = {}
        for name, value in tensors.items():
            if not isinstance(value, torch.Tensor):
                shape, values = value if isinstance(value, tuple) else (None, value)
                if isinstance(values, array.array) and values.typecode == "f":
                    value = torch.frombuffer(bytearray(values.tobytes()), dtype=torch.float32)
                else:
                    value = torch.tensor(list(values), dtype=torch.float32)
                if shape is not None:
                    value = value.reshape(shape)
            state[name] = value
        expected = set(self.state_dict())
        lin_keys = {k for k in expected if k.startswith("lin.")}
        if self.calibration == "unweighted":
            extra = lin_keys & set(state)
            if extra:
                raise ValueError("unweighted model given calibration tensors %s" % sorted(extra))
            for k in lin_keys:
                state[k] = torch.ones_like(self.state_dict()[k])
        missing = expected - set(state)
        unexpected = set(state) - expected
        if missing or unexpected:
            raise ValueError("tensor mismatch: missing %s, unexpected %s"
                             % (sorted(missing), sorted(unexpected)))
        own = self.state_dict()
        for k, v in state.items():
            if tuple(v.shape) != tuple(own[k].shape):
                raise ValueError("%s: shape %s, expected %s"
                                 % (k, tuple(v.shape), tuple(own[k].shape)))
        self.load_state_dict(state, strict=True)
        return self

    def dtype(self):
        return next(self.parameters()).dtype

    def taps(self, x):
        """Backbone features at every tap for an input N x 3 x H x W in [-1, 1]."""
        if self.calibration != "lpips-v0.0":
            shift = torch.tensor(SHIFT, dtype=x.dtype).view(1, 3, 1, 1)
            scale = torch.tensor(SCALE, dtype=x.dtype).view(1, 3, 1, 1)
            x = (x - shift) / scale
        out = []
        ends = set(e - 1 for e in self.tap_ends)
        for i, module in enumerate(self.features):
            x = module(x)
            if i in ends:
                out.append(x)
        return out

    @staticmethod
    def normalize(f):
        norm = torch.sqrt(torch.sum(f * f, dim=1, keepdim=True))
        return f / (norm + EPS)

    def forward(self, x0, x1, upsampled=False):
        """Distance between two image batches (N x 3 x H x W, values in [-1, 1]).

        Returns a dict with the scalar `distance` (N), per-layer terms
        `layers` (N x L), `layer_maps` (list of N x h_l x w_l), `spatial`
        (N x H x W) and, if requested, `layer_maps_upsampled` (list of N x H x W).
        """
        size = x0.shape[2:]
        f0 = self.taps(x0)
        f1 = self.taps(x1)
        maps, terms, ups = [], [], []
        for k, (a, b) in enumerate(zip(f0, f1)):
            d = (self.normalize(a) - self.normalize(b)) ** 2
            w = self.lin[k].weight.view(1, -1, 1, 1)
            m = F.conv2d(d, w)                                  # N x 1 x h x w
            maps.append(m[:, 0])
            terms.append(m.mean(dim=(2, 3))[:, 0])
            ups.append(F.interpolate(m, size=size, mode="bilinear", align_corners=False)[:, 0])
        spatial = ups[0]
        for u in ups[1:]:
            spatial = spatial + u
        distance = terms[0]
        for t in terms[1:]:
            distance = distance + t
        out = {"distance": distance, "layers": torch.stack(terms, dim=1),
               "layer_maps": maps, "spatial": spatial}
        if upsampled:
            out["layer_maps_upsampled"] = ups
        return out


def image_tensor(pixels, dtype=torch.float64):
    """uint8 RGB (H x W x 3 tensor/array, or nested lists) -> 1 x 3 x H x W in [-1, 1].

    The mapping v / 255 * 2 - 1 is evaluated in float64 and then rounded to `dtype`.
    """
    t = torch.as_tensor(pixels)
    if t.dtype != torch.uint8:
        t = t.to(torch.uint8)
    t = t.to(torch.float64).permute(2, 0, 1).unsqueeze(0)
    return (t / 255 * 2 - 1).to(dtype).contiguous()


_SHAPE_MODELS = {}


def tap_shapes(network, height, width):
    """Spatial size of every tap for an input of height x width, or None if too small."""
    model = _SHAPE_MODELS.get(network)
    if model is None:
        model = _SHAPE_MODELS[network] = Reference(network, "unweighted")
    with torch.no_grad():
        try:
            taps = model.taps(torch.zeros(1, 3, height, width))
        except RuntimeError:
            return None
    shapes = [tuple(t.shape[2:]) for t in taps]
    if any(h < 1 or w < 1 for h, w in shapes):
        return None
    return shapes


# --------------------------------------------------------------------------
# Validation against values computed by the published LPIPS code.

def read_png(path):
    try:
        from PIL import Image
    except ImportError:
        return _read_png_zlib(path)
    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        data = im.tobytes()
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).reshape(h, w, 3)


def _read_png_zlib(path):
    """Minimal decoder for 8-bit non-interlaced RGB/RGBA PNG files."""
    import struct
    import zlib
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s: not a PNG file" % path)
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError("%s: unsupported PNG variant" % path)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        rows.append(bytes(line))
        prev = line
    t = torch.frombuffer(bytearray(b"".join(rows)), dtype=torch.uint8).reshape(h, w, bpp)
    return t[:, :, :3].contiguous()


def read_npy(path):
    """Read a little-endian float32/float64 C-order .npy array."""
    import ast
    import struct
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        raise ValueError("%s: not an .npy file" % path)
    major = data[6]
    if major == 1:
        hlen, start = struct.unpack("<H", data[8:10])[0], 10
    else:
        hlen, start = struct.unpack("<I", data[8:12])[0], 12
    header = ast.literal_eval(data[start:start + hlen].decode("latin1"))
    dtype = {"<f4": torch.float32, "<f8": torch.float64}[header["descr"]]
    if header["fortran_order"]:
        raise ValueError("%s: Fortran order not supported" % path)
    body = bytearray(data[start + hlen:])
    return torch.frombuffer(body, dtype=dtype).reshape(header["shape"])


def load_official(weights_dir, network="squeeze", version="0.1"):
    """Backbone + calibration from the published files, in the model-file naming."""
    backbone = torch.load(os.path.join(weights_dir, "torchvision",
                                       "squeezenet1_1-features.pth"),
                          map_location="cpu")
    lins = torch.load(os.path.join(weights_dir, "lpips", "v" + version, network + ".pth"),
                      map_location="cpu")
    tensors = {k: v.float() for k, v in backbone.items()}
    lin = {}
    for k in range(len(TAP_CHANNELS[network])):
        lin["lin.%d.weight" % k] = lins["lin%d.model.1.weight" % k].float().reshape(-1)
    return tensors, lin


def validate(weights_dir, images_dir, reference_dir, dtype=torch.float32):
    with open(os.path.join(reference_dir, "lpips-squeeze-v0.1-examples.json")) as f:
        cases = json.load(f)
    backbone, lin = load_official(weights_dir)
    weighted = Reference("squeeze", "lpips-v0.1", dict(backbone, **lin)).to(dtype)
    unweighted = Reference("squeeze", "unweighted", backbone).to(dtype)
    worst = {"lpips": 0.0, "lpips_layers": 0.0, "unweighted": 0.0,
             "unweighted_layers": 0.0, "spatial": 0.0, "spatial_mean": 0.0}
    for case in cases:
        x0 = image_tensor(read_png(os.path.join(images_dir, case["ref"])), dtype)
        x1 = image_tensor(read_png(os.path.join(images_dir, case["dist"])), dtype)
        with torch.no_grad():
            rw = weighted(x0, x1)
            ru = unweighted(x0, x1)
        spatial_ref = read_npy(os.path.join(reference_dir, "spatial", case["spatial_npy"]))
        diffs = {
            "lpips": abs(rw["distance"].item() - case["lpips"]),
            "lpips_layers": max(abs(a - b) for a, b in
                                zip(rw["layers"][0].tolist(), case["lpips_layers"])),
            "unweighted": abs(ru["distance"].item() - case["unweighted"]),
            "unweighted_layers": max(abs(a - b) for a, b in
                                     zip(ru["layers"][0].tolist(), case["unweighted_layers"])),
            "spatial": (rw["spatial"][0].double() - spatial_ref.double()).abs().max().item(),
            "spatial_mean": abs(rw["spatial"][0].double().mean().item() - case["spatial_mean"]),
        }
        print("%-18s lpips %.8f (ref %.8f)  unweighted %.7f (ref %.7f)"
              % (case["name"], rw["distance"].item(), case["lpips"],
                 ru["distance"].item(), case["unweighted"]))
        print("%-18s max abs diff: %s" % ("", "  ".join("%s %.3g" % kv for kv in diffs.items())))
        for k, v in diffs.items():
            worst[k] = max(worst[k], v)
    print("overall max abs diff (%s): %s" % (str(dtype).replace("torch.", ""),
                                             "  ".join("%s %.3g" % kv for kv in worst.items())))
    return worst


# --------------------------------------------------------------------------
# Smallest inputs.

def min_side(network, other=None, limit=128):
    """Smallest side s such that an s x s input (or s x other and other x s)
    keeps >= 1 pixel at every tap."""
    for s in range(1, limit):
        if other is None:
            ok = tap_shapes(network, s, s) is not None
        else:
            ok = (tap_shapes(network, s, other) is not None
                  and tap_shapes(network, other, s) is not None)
        if ok:
            return s
    return None


def report_min_sizes():
    result = {}
    for net in NETWORKS:
        sq = min_side(net)
        tall = min_side(net, other=100)
        shapes = tap_shapes(net, sq, sq)
        below = tap_shapes(net, sq - 1, 100)
        print("%-8s min square %d (taps %s); with the other side 100: min %d; "
              "%dx100 %s; %dx100 %s"
              % (net, sq, shapes, tall, sq, "ok" if tap_shapes(net, sq, 100) else "fails",
                 sq - 1, "ok" if below else "fails"))
        # The two sides are independent: check every pair around the limit.
        for h in (sq - 1, sq, sq + 1, 3 * sq + 2):
            for w in (sq - 1, sq, sq + 1, 3 * sq + 2):
                ok = tap_shapes(net, h, w) is not None
                assert ok == (h >= sq and w >= sq), (net, h, w)
        result[net] = sq
    return result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("validate")
    v.add_argument("--weights", default="/work/shared/weights")
    v.add_argument("--images", default="/work/shared/images/lpips-examples")
    v.add_argument("--reference", default="/work/shared/reference")
    v.add_argument("--float64", action="store_true", help="also run in float64")
    sub.add_parser("min-sizes")
    args = p.parse_args(argv)
    if args.cmd == "validate":
        worst = validate(args.weights, args.images, args.reference)
        if args.float64:
            validate(args.weights, args.images, args.reference, torch.float64)
        return 0 if max(worst.values()) < 1e-5 else 1
    if args.cmd == "min-sizes":
        report_min_sizes()
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())

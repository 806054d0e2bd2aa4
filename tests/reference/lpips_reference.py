#!/usr/bin/python3
"""Independent PyTorch reference for the LPIPS distance (LPIPS-SPEC.md, section 1)
and its variants on ResNets (section 3).

Needs torch and torchvision (Debian's python3-torch / python3-torchvision,
i.e. run it with /usr/bin/python3).  Used to produce the test goldens and to
check the definition against values computed by the published LPIPS code.

Weights are given in the model-file naming: backbone tensors under
torchvision's `features.N.*` keys (SqueezeNet, AlexNet, VGG-16) or its ResNet
keys (`conv1.weight`, `bn1.*`, `layer<s>.<b>.*`), calibration weights as
`lin.K.weight` with shape (C,).  The "unweighted" calibration uses version
0.1's input scaling and a weight of 1 for every channel.

Networks and taps:
  * squeeze, alex, vgg: the LPIPS taps (slices of torchvision's `features`);
    the distance counts every tap by default.
  * ResNets: torchvision's `ResNet` with `BasicBlock` or `Bottleneck`
    (resnet18 = basic 2,2,2,2, resnet34 = basic 3,4,6,3, resnet50 =
    bottleneck 3,4,6,3, or any name with a block type and 1 to 4 numbers of
    blocks: only the first stages are built), in evaluation mode (batch norm
    with its running statistics, eps 1e-5).  Taps: the output of each stage
    `layer1` .. `layer<n>` (after its last block's ReLU), then the stem's
    ReLU (after bn1, before the max pool) as tap n + 1.  The distance counts
    the stage taps by default.

Distances, from the raw tap features f (C x h x w) of both images, per tap
(see `spatial_terms`, `mean_pool_terms`, `style_terms`), summed over the
selected taps:
  * spatial (LPIPS): per pixel fn = f / (sqrt(sum_c f^2) + 1e-10);
    D = sum_c w_c (fn0 - fn1)^2; term = mean of D over the pixels.
  * mean-pool: m = per-channel mean of f over the pixels;
    mn = m / (sqrt(sum_c m^2) + 1e-10); term = (1/C) sum_c (mn0 - mn1)^2.
  * style: fn as for spatial; Gram matrix G = (1/(h*w)) sum_pixels fn fn^T
    (C x C); term = (1/C^2) sum (G0 - G1)^2 (squared Frobenius norm).
mean-pool and style never use calibration weights: a model's calibration only
decides the input scaling for them (none for lpips-v0.0, ImageNet's otherwise).

Command line:
    lpips_reference.py validate [--weights DIR] [--images DIR] [--reference DIR]
        compare against the official reference values (real SqueezeNet weights)
    lpips_reference.py min-sizes
        find the smallest inputs for which every tap keeps at least one pixel
    lpips_reference.py samples [--weights DIR] > tests/goldens/samples.json
        the project's sample images (data/samples) with the real SqueezeNet
        LPIPS v0.1 weights: the distance and terms of each against
        reference.png, in float64
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
KINDS = ("spatial", "mean-pool", "style")

# torchvision's ResNets: name -> (block type, blocks per stage).
RESNETS = {
    "resnet18": ("basic", (2, 2, 2, 2)),
    "resnet34": ("basic", (3, 4, 6, 3)),
    "resnet50": ("bottleneck", (3, 4, 6, 3)),
}
RESNET_BLOCK_CLASSES = {
    "basic": torchvision.models.resnet.BasicBlock,
    "bottleneck": torchvision.models.resnet.Bottleneck,
}

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


def resnet_description(network, resnet_block=None, resnet_blocks=None):
    """(block type, blocks tuple) of a ResNet: the standard one of a standard
    name (a description given must agree), else the one given."""
    if isinstance(resnet_blocks, str):
        resnet_blocks = tuple(int(b) for b in resnet_blocks.split(","))
    if network in RESNETS:
        block, blocks = RESNETS[network]
        if ((resnet_block is not None and resnet_block != block)
                or (resnet_blocks is not None and tuple(resnet_blocks) != blocks)):
            raise ValueError("%s is %s %s, not %s %s"
                             % (network, block, blocks, resnet_block, resnet_blocks))
        return block, blocks
    if resnet_block not in RESNET_BLOCK_CLASSES or not resnet_blocks:
        raise ValueError("network %r needs a block type (%s) and blocks per stage"
                         % (network, ", ".join(RESNET_BLOCK_CLASSES)))
    blocks = tuple(int(b) for b in resnet_blocks)
    if not 1 <= len(blocks) <= 4 or min(blocks) < 1:
        raise ValueError("blocks per stage %s: 1 to 4 stages of at least one block" % (blocks,))
    return resnet_block, blocks


def _torchvision_resnet(block, blocks):
    """torchvision's ResNet with the first len(blocks) stages (the others and
    the classifier deleted), all parameters zero."""
    layers = list(blocks) + [1] * (4 - len(blocks))
    with _no_random_init():
        model = torchvision.models.resnet.ResNet(RESNET_BLOCK_CLASSES[block], layers)
    for s in range(len(blocks) + 1, 5):
        delattr(model, "layer%d" % s)
    del model.fc, model.avgpool
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    return model


class Reference(torch.nn.Module):
    """The backbone of `network` with its calibration.

    ResNets: a standard name, or any name with `resnet_block` ("basic",
    "bottleneck") and `resnet_blocks` (blocks per stage, a sequence or
    "1,1")."""

    def __init__(self, network, calibration, tensors=None, resnet_block=None,
                 resnet_blocks=None):
        super().__init__()
        if calibration not in CALIBRATIONS:
            raise ValueError("unknown calibration %r" % calibration)
        self.network = network
        self.calibration = calibration
        if network in NETWORKS:
            if resnet_block is not None or resnet_blocks is not None:
                raise ValueError("%s is not a ResNet" % network)
            self.resnet = None
            self.tap_ends = TAP_ENDS[network]
            features = _torchvision_features(network)
            self.features = torch.nn.Sequential(*list(features.children())[:self.tap_ends[-1]])
            channels = TAP_CHANNELS[network]
            self.default_layers = tuple(range(1, len(channels) + 1))
        else:
            self.resnet = resnet_description(network, resnet_block, resnet_blocks)
            model = _torchvision_resnet(*self.resnet)
            # Registered under torchvision's names, so that the state dict
            # keys are the model file's.
            self.conv1, self.bn1, self.relu, self.maxpool = (model.conv1, model.bn1,
                                                             model.relu, model.maxpool)
            self.stages = len(self.resnet[1])
            for s in range(1, self.stages + 1):
                setattr(self, "layer%d" % s, getattr(model, "layer%d" % s))
            channels = []
            for s in range(1, self.stages + 1):
                last = getattr(self, "layer%d" % s)[-1]
                conv = last.conv3 if hasattr(last, "conv3") else last.conv2
                channels.append(conv.out_channels)
            channels.append(self.conv1.out_channels)
            self.default_layers = tuple(range(1, self.stages + 1))
        self.tap_channels = tuple(channels)
        self.lin = torch.nn.ModuleList(_Lin(c) for c in channels)
        for p in self.parameters():
            p.requires_grad_(False)
        self.eval()
        if tensors is not None:
            self.load_tensors(tensors)

    def train(self, mode=True):
        """Always in evaluation mode (batch norm with running statistics)."""
        return super().train(False)

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
        own = self.state_dict()
        # batch norm's step counters are not model-file tensors
        counters = {k for k in own if k.endswith(".num_batches_tracked")}
        for k in counters:
            if k in state:
                raise ValueError("unexpected tensor %s" % k)
            state[k] = own[k]
        expected = set(own)
        lin_keys = {k for k in expected if k.startswith("lin.")}
        if self.calibration == "unweighted":
            extra = lin_keys & set(state)
            if extra:
                raise ValueError("unweighted model given calibration tensors %s" % sorted(extra))
            for k in lin_keys:
                state[k] = torch.ones_like(own[k])
        missing = expected - set(state)
        unexpected = set(state) - expected
        if missing or unexpected:
            raise ValueError("tensor mismatch: missing %s, unexpected %s"
                             % (sorted(missing), sorted(unexpected)))
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
        if self.resnet is not None:
            stem = self.relu(self.bn1(self.conv1(x)))
            x = self.maxpool(stem)
            out = []
            for s in range(1, self.stages + 1):
                x = getattr(self, "layer%d" % s)(x)
                out.append(x)
            return out + [stem]
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

    def forward(self, x0, x1, upsampled=False, layers=None, features=None):
        """LPIPS (spatial) distance between two image batches (N x 3 x H x W,
        values in [-1, 1]).

        Returns a dict with the scalar `distance` (N) over the selected
        `layers` (1-based taps; None: the network's default), per-layer terms
        `layers` (N x L, every tap), `layer_maps` (list of N x h_l x w_l, every
        tap), `spatial` (N x H x W, the selected taps) and, if requested,
        `layer_maps_upsampled` (list of N x H x W, every tap).  `features`:
        the taps of x0 and x1 if already computed.
        """
        size = x0.shape[2:]
        f0, f1 = features if features is not None else (self.taps(x0), self.taps(x1))
        selected = [l - 1 for l in self._layers(layers)]
        maps, terms, ups = [], [], []
        for k, (a, b) in enumerate(zip(f0, f1)):
            d = (self.normalize(a) - self.normalize(b)) ** 2
            w = self.lin[k].weight.view(1, -1, 1, 1)
            m = F.conv2d(d, w)                                  # N x 1 x h x w
            maps.append(m[:, 0])
            terms.append(m.mean(dim=(2, 3))[:, 0])
            ups.append(F.interpolate(m, size=size, mode="bilinear", align_corners=False)[:, 0])
        spatial = ups[selected[0]]
        for l in selected[1:]:
            spatial = spatial + ups[l]
        distance = terms[selected[0]]
        for l in selected[1:]:
            distance = distance + terms[l]
        out = {"distance": distance, "layers": torch.stack(terms, dim=1),
               "layer_maps": maps, "spatial": spatial}
        if upsampled:
            out["layer_maps_upsampled"] = ups
        return out

    def _layers(self, layers):
        if layers is None:
            return self.default_layers
        layers = list(layers)
        if not layers or any(not 1 <= l <= len(self.tap_channels) for l in layers):
            raise ValueError("layers %s: %s has taps 1..%d"
                             % (layers, self.network, len(self.tap_channels)))
        return layers

    def terms(self, f0, f1, kind="spatial"):
        """Per-tap terms (list of N-vectors, every tap) of the distance `kind`
        between the tap features f0 and f1 (lists of N x C x h x w)."""
        if kind == "spatial":
            return spatial_terms(f0, f1, [lin.weight for lin in self.lin])
        if kind == "mean-pool":
            return mean_pool_terms(f0, f1)
        if kind == "style":
            return style_terms(f0, f1)
        raise ValueError("unknown distance %r (known: %s)" % (kind, ", ".join(KINDS)))


def spatial_terms(f0, f1, weights):
    """LPIPS terms: the mean over pixels of sum_c w_c (fn0 - fn1)^2."""
    out = []
    for a, b, w in zip(f0, f1, weights):
        d = (Reference.normalize(a) - Reference.normalize(b)) ** 2
        out.append(F.conv2d(d, w.view(1, -1, 1, 1).to(d.dtype)).mean(dim=(2, 3))[:, 0])
    return out


def mean_pool_terms(f0, f1):
    """Mean-pool terms: (1/C) sum_c (mn0 - mn1)^2 of the channel-normalised
    spatial means mn = m / (|m| + 1e-10)."""
    out = []
    for a, b in zip(f0, f1):
        m0, m1 = a.mean(dim=(2, 3)), b.mean(dim=(2, 3))
        n0 = m0 / (torch.sqrt(torch.sum(m0 * m0, dim=1, keepdim=True)) + EPS)
        n1 = m1 / (torch.sqrt(torch.sum(m1 * m1, dim=1, keepdim=True)) + EPS)
        out.append(((n0 - n1) ** 2).sum(dim=1) / a.shape[1])
    return out


def gram(f):
    """(1/(h*w)) sum over pixels of fn fn^T, fn the per-pixel channel-normalised
    features: N x C x C for N x C x h x w."""
    fn = Reference.normalize(f).flatten(2)
    return torch.bmm(fn, fn.transpose(1, 2)) / fn.shape[2]


def style_terms(f0, f1):
    """Style terms: (1/C^2) ||G0 - G1||_F^2 of the Gram matrices (`gram`).

    With fewer pixels P than channels C (deep taps) the C x C matrices are
    not formed: with the normalised features F0, F1 (C x P), S = F0 + F1 and
    D = F0 - F1, P (G0 - G1) = (S D^T + D S^T) / 2, so
    P^2 ||G0 - G1||^2 = (<S^T S, D^T D> + <M, M^T>) / 2 with M = D^T S,
    from P x P matrices only; every product holds a factor D, so identical
    features still give exactly 0."""
    out = []
    for a, b in zip(f0, f1):
        c = a.shape[1]
        fa = Reference.normalize(a).flatten(2)
        fb = Reference.normalize(b).flatten(2)
        p = fa.shape[2]
        if p < c:
            s, d = fa + fb, fa - fb
            st, dt = s.transpose(1, 2), d.transpose(1, 2)
            m = torch.bmm(dt, s)
            total = ((torch.bmm(st, s) * torch.bmm(dt, d)).sum(dim=(1, 2))
                     + (m * m.transpose(1, 2)).sum(dim=(1, 2))) / 2
            out.append(total / (p * p * c * c))
        else:
            d = (torch.bmm(fa, fa.transpose(1, 2)) - torch.bmm(fb, fb.transpose(1, 2))) / p
            out.append((d * d).sum(dim=(1, 2)) / (c * c))
    return out


def synthetic_model(network, calibration, seed, dtype=torch.float64, resnet_block=None,
                    resnet_blocks=None):
    """A reference model with tests/synth_weights.py's tensors (in `dtype`)."""
    tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if tests not in sys.path:
        sys.path.insert(0, tests)
    import synth_weights
    tensors = synth_weights.make_tensors(network, calibration, seed, resnet_block,
                                         resnet_blocks)
    model = Reference(network, calibration, tensors, resnet_block, resnet_blocks)
    return model.to(dtype)


def pair_distances(model, images0, images1, kind="spatial", layers=None, batch=32):
    """Distances between image pairs.

    images0, images1: lists of H x W x 3 uint8 tensors (sizes equal pairwise);
    kind: "spatial", "mean-pool" or "style"; layers: 1-based taps summed (None:
    the network's default: every tap of squeeze/alex/vgg, the stage taps of a
    ResNet).  Pairs of equal size go through the network together, `batch`
    pairs at a time.  Returns (distances, terms): the sums over the selected
    layers (floats) and, per pair, the terms of every tap.

    Speed: a float32 model (synthetic_model(..., dtype=torch.float32)) runs
    300 pairs of 64 x 64 images through ResNet-18 or ResNet-50 in a few
    seconds on two cores; float64 convolutions are some 30 times slower with
    Debian's PyTorch (generic BLAS).
    """
    if len(images0) != len(images1):
        raise ValueError("%d first and %d second images" % (len(images0), len(images1)))
    if kind not in KINDS:
        raise ValueError("unknown distance %r (known: %s)" % (kind, ", ".join(KINDS)))
    selected = [l - 1 for l in model._layers(layers)]
    dtype = model.dtype()
    groups = {}
    for i, (a, b) in enumerate(zip(images0, images1)):
        if tuple(a.shape) != tuple(b.shape) or a.dim() != 3 or a.shape[2] != 3:
            raise ValueError("pair %d: images of shapes %s and %s"
                             % (i, tuple(a.shape), tuple(b.shape)))
        groups.setdefault(tuple(a.shape), []).append(i)
    terms = [None] * len(images0)
    with torch.no_grad():
        for indices in groups.values():
            for start in range(0, len(indices), batch):
                chunk = indices[start:start + batch]
                x0 = torch.cat([image_tensor(images0[i], dtype) for i in chunk])
                x1 = torch.cat([image_tensor(images1[i], dtype) for i in chunk])
                per_tap = model.terms(model.taps(x0), model.taps(x1), kind)
                rows = torch.stack(per_tap, dim=1).double().tolist()
                for i, row in zip(chunk, rows):
                    terms[i] = row
    distances = []
    for row in terms:
        total = 0.0
        for l in selected:
            total += row[l]
        distances.append(total)
    return distances, terms


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


def tap_shapes(network, height, width, resnet_block=None, resnet_blocks=None):
    """Spatial size of every tap for an input of height x width, or None if too small."""
    key = (network, resnet_block, resnet_blocks)
    model = _SHAPE_MODELS.get(key)
    if model is None:
        model = _SHAPE_MODELS[key] = Reference(network, "unweighted", None, resnet_block,
                                               resnet_blocks)
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


def samples(weights_dir):
    """The sample images' distances from reference.png (real weights)."""
    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "data", "samples")
    backbone, lin = load_official(weights_dir)
    model = Reference("squeeze", "lpips-v0.1", dict(backbone, **lin)).to(torch.float64)
    x0 = image_tensor(read_png(os.path.join(folder, "reference.png")))
    out = {"network": "squeeze", "calibration": "lpips-v0.1", "reference": "reference.png",
           "distances": {}}
    for name in ("retouched.png", "shifted.png"):
        with torch.no_grad():
            r = model(x0, image_tensor(read_png(os.path.join(folder, name))))
        out["distances"][name] = {"distance": r["distance"].item(),
                                  "layers": r["layers"][0].tolist()}
    return out


# --------------------------------------------------------------------------
# Smallest inputs.

def min_side(network, other=None, limit=128, resnet_block=None, resnet_blocks=None):
    """Smallest side s such that an s x s input (or s x other and other x s)
    keeps >= 1 pixel at every tap."""
    def shapes(h, w):
        return tap_shapes(network, h, w, resnet_block, resnet_blocks)

    for s in range(1, limit):
        if other is None:
            ok = shapes(s, s) is not None
        else:
            ok = shapes(s, other) is not None and shapes(other, s) is not None
        if ok:
            return s
    return None


# ResNets whose smallest inputs `min-sizes` reports: (name, block, blocks).
MIN_SIZE_RESNETS = (("resnet18", None, None), ("resnet34", None, None),
                    ("resnet50", None, None), ("resnet6", "basic", "1,1"),
                    ("resnet-b1", "bottleneck", "1"))


def report_min_sizes():
    result = {}
    for net, block, blocks in [(n, None, None) for n in NETWORKS] + list(MIN_SIZE_RESNETS):
        def shapes(h, w):
            return tap_shapes(net, h, w, block, blocks)

        sq = min_side(net, resnet_block=block, resnet_blocks=blocks)
        tall = min_side(net, other=100, resnet_block=block, resnet_blocks=blocks)
        below = shapes(sq - 1, 100) if sq > 1 else None
        print("%-8s min square %d (taps %s); with the other side 100: min %d; "
              "%dx100 %s; %dx100 %s"
              % (net, sq, shapes(sq, sq), tall, sq, "ok" if shapes(sq, 100) else "fails",
                 sq - 1, "ok" if below else "fails"))
        # The two sides are independent: check every pair around the limit.
        for h in (sq - 1, sq, sq + 1, 3 * sq + 2):
            for w in (sq - 1, sq, sq + 1, 3 * sq + 2):
                ok = h >= 1 and w >= 1 and shapes(h, w) is not None
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
    sm = sub.add_parser("samples")
    sm.add_argument("--weights", default="/work/shared/weights")
    args = p.parse_args(argv)
    if args.cmd == "samples":
        json.dump(samples(args.weights), sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
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

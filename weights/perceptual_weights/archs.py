"""The tensors each supported network needs, named as in torchvision's state dicts.

Only the part of `model.features` up to the last LPIPS tap is kept; everything
after it (and the classifier) is dropped by the converter.
"""

from collections import OrderedDict

# LPIPS "lin" calibration: one non-negative weight per channel of each tap.
TAP_CHANNELS = {
    "squeeze": (64, 128, 256, 384, 384, 512, 512),
    "alex": (64, 192, 384, 256, 256),
    "vgg": (64, 128, 256, 512, 512),
}

# Minimum input side (pixels) for which every tap still has at least one pixel.
MIN_SIZE = {"squeeze": 17, "alex": 31, "vgg": 16}

# Official torchvision file names, for messages and the manifest.
NETWORKS = tuple(TAP_CHANNELS)


def _conv(out, name, cout, cin, k):
    out[name + ".weight"] = (cout, cin, k, k)
    out[name + ".bias"] = (cout,)


def _squeeze():
    t = OrderedDict()
    _conv(t, "features.0", 64, 3, 3)
    fires = {3: (64, 16, 64, 64), 4: (128, 16, 64, 64),
             6: (128, 32, 128, 128), 7: (256, 32, 128, 128),
             9: (256, 48, 192, 192), 10: (384, 48, 192, 192),
             11: (384, 64, 256, 256), 12: (512, 64, 256, 256)}
    for i, (cin, s, e1, e3) in fires.items():
        _conv(t, "features.%d.squeeze" % i, s, cin, 1)
        _conv(t, "features.%d.expand1x1" % i, e1, s, 1)
        _conv(t, "features.%d.expand3x3" % i, e3, s, 3)
    return t


def _alex():
    t = OrderedDict()
    for i, cout, cin, k in ((0, 64, 3, 11), (3, 192, 64, 5), (6, 384, 192, 3),
                            (8, 256, 384, 3), (10, 256, 256, 3)):
        _conv(t, "features.%d" % i, cout, cin, k)
    return t


def _vgg():
    t = OrderedDict()
    cin = 3
    for i, cout in ((0, 64), (2, 64), (5, 128), (7, 128), (10, 256), (12, 256),
                    (14, 256), (17, 512), (19, 512), (21, 512), (24, 512),
                    (26, 512), (28, 512)):
        _conv(t, "features.%d" % i, cout, cin, 3)
        cin = cout
    return t


_BUILDERS = {"squeeze": _squeeze, "alex": _alex, "vgg": _vgg}


def backbone_tensors(network):
    """OrderedDict of torchvision key -> shape for the backbone of `network`."""
    try:
        return _BUILDERS[network]()
    except KeyError:
        raise ValueError("unknown network %r (known: %s)"
                         % (network, ", ".join(NETWORKS))) from None


def lin_tensors(network):
    """OrderedDict of model-file key -> shape for the calibration weights."""
    return OrderedDict(("lin.%d.weight" % k, (c,))
                       for k, c in enumerate(TAP_CHANNELS[network]))

"""The tensors each supported network needs, named as in torchvision's state dicts.

SqueezeNet 1.1, AlexNet and VGG-16 (the LPIPS networks): only the part of
`model.features` up to the last LPIPS tap is kept; everything after it (and
the classifier) is dropped by the converter.

ResNets (torchvision's `ResNet`, v1.5 layout): the stem (`conv1` 7x7/2 pad 3
without bias, `bn1`, ReLU, 3x3/2 max pool with padding 1) and 1 to 4 stages
`layer1` .. `layer4` of "basic" or "bottleneck" blocks.  Stage s has
64 * 2**(s-1) planes; a basic block (expansion 1) is conv1 3x3 + bn1 + ReLU,
conv2 3x3 + bn2, a bottleneck block (expansion 4) conv1 1x1 + bn1 + ReLU,
conv2 3x3 + bn2 + ReLU, conv3 1x1 + bn3; then the shortcut is added and
ReLU applied.  The first block of stages 2.. has stride 2 (on conv1 of a basic
block, conv2 of a bottleneck); a block has a `downsample` shortcut (1x1 conv
with that stride, no bias, + batch norm) when its stride is not 1 or its input
channels differ from planes * expansion.  No convolution has a bias; batch
norms keep weight, bias, running_mean and running_var (eps 1e-5);
`num_batches_tracked`, `fc.*` and stages beyond the described ones are
dropped.  Taps, in this order: the output of each stage (after the ReLU of
its last block), then the stem's ReLU (before the max pool).  The distance
counts the stage taps by default; the LPIPS networks count every tap.
"""

import re
from collections import OrderedDict

# LPIPS "lin" calibration: one non-negative weight per channel of each tap.
TAP_CHANNELS = {
    "squeeze": (64, 128, 256, 384, 384, 512, 512),
    "alex": (64, 192, 384, 256, 256),
    "vgg": (64, 128, 256, 512, 512),
}

# Minimum input side (pixels) for which every tap still has at least one pixel.
MIN_SIZE = {"squeeze": 17, "alex": 31, "vgg": 16}

# The LPIPS networks (with published calibrations).
LPIPS_NETWORKS = tuple(TAP_CHANNELS)

# torchvision's standard ResNets: name -> (block, blocks per stage).
RESNET_BLOCKS = ("basic", "bottleneck")
STANDARD_RESNETS = OrderedDict([
    ("resnet18", ("basic", (2, 2, 2, 2))),
    ("resnet34", ("basic", (3, 4, 6, 3))),
    ("resnet50", ("bottleneck", (3, 4, 6, 3))),
])
RESNET_MAX_STAGES = 4
RESNET_MAX_BLOCKS = 64          # per stage
RESNET_EXPANSION = {"basic": 1, "bottleneck": 4}
RESNET_STEM_CHANNELS = 64

# Names of custom ResNets (any name but the LPIPS networks').
NETWORK_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,30}$")

# The networks known by name: the LPIPS ones and the standard ResNets.
NETWORKS = LPIPS_NETWORKS + tuple(STANDARD_RESNETS)


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


# ---------------------------------------------------------------------------
# ResNets

def format_blocks(blocks):
    """(2, 2, 2, 2) -> "2,2,2,2" (the `resnet_blocks` metadata)."""
    return ",".join(str(b) for b in blocks)


def parse_blocks(text):
    """"2,2,2,2" -> (2, 2, 2, 2); ValueError unless 1 to 4 numbers, each 1 to 64."""
    parts = text.split(",") if isinstance(text, str) else []
    if not 1 <= len(parts) <= RESNET_MAX_STAGES or not all(
            re.match(r"^[0-9]{1,3}$", p) and 1 <= int(p) <= RESNET_MAX_BLOCKS for p in parts):
        raise ValueError("resnet blocks %r: expected 1 to %d numbers of blocks per stage "
                         "(each 1 to %d) separated by commas, e.g. 2,2,2,2"
                         % (text, RESNET_MAX_STAGES, RESNET_MAX_BLOCKS))
    return tuple(int(p) for p in parts)


def _check_resnet(block, blocks):
    if block not in RESNET_BLOCKS:
        raise ValueError("unknown resnet block %r (known: %s)" % (block, ", ".join(RESNET_BLOCKS)))
    blocks = parse_blocks(blocks) if isinstance(blocks, str) else tuple(blocks)
    parse_blocks(format_blocks(blocks))
    return block, blocks


def is_resnet(network, resnet_block=None, resnet_blocks=None):
    """True for a standard ResNet name or any network described by blocks."""
    return (network in STANDARD_RESNETS
            or (network not in LPIPS_NETWORKS and (resnet_block is not None
                                                   or resnet_blocks is not None)))


def resnet_description(network, resnet_block=None, resnet_blocks=None):
    """(block, blocks tuple) of the ResNet `network`.

    A standard name (resnet18, resnet34, resnet50) needs no description; one
    given must be the standard one.  Any other name matching NETWORK_NAME (and
    not an LPIPS network's) needs both.  ValueError says what is wrong."""
    if network in LPIPS_NETWORKS:
        raise ValueError("%s is not a ResNet" % network)
    if network in STANDARD_RESNETS:
        block, blocks = STANDARD_RESNETS[network]
        given_block = block if resnet_block is None else resnet_block
        given_blocks = blocks if resnet_blocks is None else resnet_blocks
        if isinstance(given_blocks, str):
            given_blocks = parse_blocks(given_blocks)
        if (given_block, tuple(given_blocks)) != (block, blocks):
            raise ValueError("%s has %s blocks %s, not %s blocks %s (leave out the block "
                             "description for a standard ResNet, or give the network "
                             "another name)" % (network, block, format_blocks(blocks),
                                                given_block, format_blocks(given_blocks)))
        return block, blocks
    if not isinstance(network, str) or not NETWORK_NAME.match(network):
        raise ValueError("invalid network name %r (a custom ResNet's name is a lower-case "
                         "letter, then up to 30 of a-z 0-9 _ . -)" % (network,))
    if resnet_block is None or resnet_blocks is None:
        raise ValueError("unknown network %r (known: %s; a custom ResNet needs its block "
                         "type and its blocks per stage)" % (network, ", ".join(NETWORKS)))
    return _check_resnet(resnet_block, resnet_blocks)


def resnet_stages(block, blocks):
    """Per stage and block: (prefix, in channels, planes, stride, downsample)."""
    block, blocks = _check_resnet(block, blocks)
    expansion = RESNET_EXPANSION[block]
    cin = RESNET_STEM_CHANNELS
    out = []
    for s, count in enumerate(blocks):
        planes = RESNET_STEM_CHANNELS << s
        for b in range(count):
            stride = 2 if s > 0 and b == 0 else 1
            out.append(("layer%d.%d" % (s + 1, b), cin, planes, stride,
                        stride != 1 or cin != planes * expansion))
            cin = planes * expansion
    return out


def _bn(out, name, channels):
    for part in ("weight", "bias", "running_mean", "running_var"):
        out["%s.%s" % (name, part)] = (channels,)


def resnet_tensors(block, blocks):
    """OrderedDict of torchvision key -> shape for a ResNet of `block` blocks
    ("basic", "bottleneck"), `blocks[s]` of them in stage s + 1, in the order
    of torchvision's state dict (without num_batches_tracked)."""
    block, blocks = _check_resnet(block, blocks)
    expansion = RESNET_EXPANSION[block]
    t = OrderedDict()
    t["conv1.weight"] = (RESNET_STEM_CHANNELS, 3, 7, 7)
    _bn(t, "bn1", RESNET_STEM_CHANNELS)
    for prefix, cin, planes, stride, downsample in resnet_stages(block, blocks):
        if block == "basic":
            convs = ((planes, cin, 3), (planes, planes, 3))
        else:
            convs = ((planes, cin, 1), (planes, planes, 3), (planes * expansion, planes, 1))
        for i, (cout, c, k) in enumerate(convs, 1):
            t["%s.conv%d.weight" % (prefix, i)] = (cout, c, k, k)
            _bn(t, "%s.bn%d" % (prefix, i), cout)
        if downsample:
            t[prefix + ".downsample.0.weight"] = (planes * expansion, cin, 1, 1)
            _bn(t, prefix + ".downsample.1", planes * expansion)
    return t


def resnet_tap_channels(block, blocks):
    """Channels of the taps: each stage's output, then the stem (64)."""
    block, blocks = _check_resnet(block, blocks)
    return tuple((RESNET_STEM_CHANNELS << s) * RESNET_EXPANSION[block]
                 for s in range(len(blocks))) + (RESNET_STEM_CHANNELS,)


def _out_size(n, kernel, stride, pad):
    return (n + 2 * pad - kernel) // stride + 1


def resnet_tap_sizes(block, blocks, side):
    """Side of every tap (stage outputs, then the stem) for an input side."""
    block, blocks = _check_resnet(block, blocks)
    stem = _out_size(side, 7, 2, 3)
    n = _out_size(stem, 3, 2, 1)
    stages = []
    for s in range(len(blocks)):
        if s > 0:  # the 3x3 pad 1 convolution and the 1x1 shortcut agree
            n = _out_size(n, 3, 2, 1)
            assert n == _out_size(stages[-1], 1, 2, 0)
        stages.append(n)
    return tuple(stages) + (stem,)


def resnet_min_size(block, blocks):
    """Smallest input side for which every tap keeps at least one pixel (the
    sides are independent).  Every layer maps n to ceil(n / 2), so this is 1."""
    side = 1
    while min(resnet_tap_sizes(block, blocks, side)) < 1:
        side += 1
    return side


def resnet_default_layers(blocks):
    """1-based taps counted by default: the stages."""
    return tuple(range(1, len(blocks) + 1))


# ---------------------------------------------------------------------------
# Any network

def backbone_tensors(network, resnet_block=None, resnet_blocks=None):
    """OrderedDict of torchvision key -> shape for the backbone of `network`."""
    if network in _BUILDERS and resnet_block is None and resnet_blocks is None:
        return _BUILDERS[network]()
    if network not in _BUILDERS and is_resnet(network, resnet_block, resnet_blocks):
        return resnet_tensors(*resnet_description(network, resnet_block, resnet_blocks))
    if network in _BUILDERS:
        raise ValueError("%s is not a ResNet: it takes no block description" % network)
    raise ValueError("unknown network %r (known: %s)" % (network, ", ".join(NETWORKS)))


def tap_channels(network, resnet_block=None, resnet_blocks=None):
    """Channels at each tap of `network`, in tap order."""
    if network in TAP_CHANNELS and resnet_block is None and resnet_blocks is None:
        return TAP_CHANNELS[network]
    return resnet_tap_channels(*resnet_description(network, resnet_block, resnet_blocks))


def min_size(network, resnet_block=None, resnet_blocks=None):
    """Smallest input side of `network`."""
    if network in MIN_SIZE and resnet_block is None and resnet_blocks is None:
        return MIN_SIZE[network]
    return resnet_min_size(*resnet_description(network, resnet_block, resnet_blocks))


def default_layers(network, resnet_block=None, resnet_blocks=None):
    """1-based taps that the distance counts by default."""
    if network in TAP_CHANNELS and resnet_block is None and resnet_blocks is None:
        return tuple(range(1, len(TAP_CHANNELS[network]) + 1))
    return resnet_default_layers(resnet_description(network, resnet_block, resnet_blocks)[1])


def model_metadata(network, resnet_block=None, resnet_blocks=None):
    """The metadata keys that describe the architecture (empty for the LPIPS
    networks): architecture, resnet_block, resnet_blocks."""
    if network in LPIPS_NETWORKS and resnet_block is None and resnet_blocks is None:
        return OrderedDict()
    block, blocks = resnet_description(network, resnet_block, resnet_blocks)
    return OrderedDict([("architecture", "resnet"), ("resnet_block", block),
                        ("resnet_blocks", format_blocks(blocks))])


def lin_tensors(network, resnet_block=None, resnet_blocks=None):
    """OrderedDict of model-file key -> shape for the calibration weights."""
    return OrderedDict(("lin.%d.weight" % k, (c,))
                       for k, c in enumerate(tap_channels(network, resnet_block,
                                                          resnet_blocks)))

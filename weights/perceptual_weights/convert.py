"""Conversion of a torchvision backbone plus LPIPS calibration into a model file.

The LPIPS networks (squeeze, alex, vgg) keep the part of `features` up to the
last tap.  ResNets (resnet18, resnet34, resnet50, or a custom name with a
block type and blocks per stage) keep the stem and the described stages:
stages beyond the description, `fc.*` and every `num_batches_tracked` are
dropped, but any other tensor of the stem or of a kept stage (an extra block,
a bottleneck's conv3 in a basic description, a bias) is an error, as is a
missing one.  ResNets are unweighted unless a calibration is given (one lin
layer per tap, the stem last).

Every input is checked before its storages are read: the names, shapes and
dtypes the file declares must fit the network (archs.py), and no more
storage bytes are read than the network's tensors need (torchpickle.load's
limits, plus `storage_limit`); a pickle may be `pickle_limit` bytes long.
The output is written to a temporary file in its folder and renamed into
place when complete; an output that is one of the inputs is refused.
"""

import argparse
import collections
import hashlib
import json
import math
import os
import re
import sys

from . import archs, files, safetensors, torchpickle

CALIBRATIONS = ("lpips-v0.1", "lpips-v0.0", "unweighted")
NO_CALIBRATION_SOURCE = "none"  # calibration_source of unweighted models
LPIPS_VERSIONS = ("0.1", "0.0")

# torchvision's file names end in the first 8 hex digits of the file's SHA-256.
OFFICIAL_NAME = re.compile(r"^(?P<stem>.+)-(?P<prefix>[0-9a-f]{8})\.pth$")

# Key prefixes of state dicts saved from a wrapped model.
KEY_PREFIXES = ("", "module.", "net.")

# A pickle may have PICKLE_BYTES_BASE bytes plus PICKLE_BYTES_PER_TENSOR per
# tensor of the network (torch.save writes 120 to 160 bytes per entry).
PICKLE_BYTES_BASE = 256 << 10
PICKLE_BYTES_PER_TENSOR = 1024
NAME_CHARS = 200                # of a name from a file, in a message

DEFAULT_MANIFEST = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "manifest.json")


class ConvertError(Exception):
    """Conversion failed.  str() is "FILE: problem"."""


def sha256_file(path):
    """SHA-256 of the regular file `path`; OSError (files.FileProblem for a
    directory, FIFO or device) if it cannot be read."""
    with files.open_regular(path) as f:
        h = hashlib.sha256()
        while True:
            block = f.read(1 << 20)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def _file_error(path, e):
    """ConvertError for the OSError `e` about `path`."""
    return ConvertError("%s: %s" % (path, e.strerror or e))


def _shown(name):
    """A name from a file, cut for a message."""
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 3] + "..."


def _count(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def storage_limit(shapes):
    """Bytes of storage read at most for tensors of `shapes` (a dict name ->
    shape): what they need as float64, the widest dtype read, plus the
    reader's slack."""
    return torchpickle.read_limit(8 * sum(_count(s) for s in shapes.values()))


def pickle_limit(count):
    """Bytes a pickle may have for a network of `count` tensors."""
    return PICKLE_BYTES_BASE + PICKLE_BYTES_PER_TENSOR * count


def official_prefix(path):
    """The hash prefix in an official torchvision file name, or None."""
    m = OFFICIAL_NAME.match(os.path.basename(path))
    return m.group("prefix") if m else None


def check_official_name(path, digest=None):
    """Like torch.hub: a file named `<stem>-<8 hex>.pth` must have a SHA-256
    starting with those digits."""
    prefix = official_prefix(path)
    if prefix is None:
        return
    if digest is None:
        try:
            digest = sha256_file(path)
        except OSError as e:
            raise _file_error(path, e) from None
    if not digest.startswith(prefix):
        raise ConvertError("%s: SHA-256 %s does not start with %s as the file name says "
                           "(corrupted or renamed file; --no-check-name skips this check)"
                           % (path, digest, prefix))


def _names(names, limit=4):
    return ", ".join(_shown(n) for n in names[:limit]) + (", ..." if len(names) > limit
                                                           else "")


def _shape(shape):
    text = "[%s]" % ", ".join(str(d) for d in shape[:8])
    if len(shape) > 8 or len(text) > 200:
        text = text[:190].rstrip("]") + ", ... (%d dimensions)]" % len(shape)
    return text


def _all_finite(values):
    # A finite sum means finite values (inf or nan would propagate); only an
    # overflowing sum needs the slow check.
    if math.isfinite(sum(values)):
        return True
    return all(math.isfinite(v) for v in values)


def _describe(network, resnet_block=None, resnet_blocks=None):
    """archs' description of `network`, or ConvertError."""
    try:
        archs.backbone_tensors(network, resnet_block, resnet_blocks)
        if archs.is_resnet(network, resnet_block, resnet_blocks):
            return archs.resnet_description(network, resnet_block, resnet_blocks)
        return None
    except ValueError as e:
        raise ConvertError(str(e)) from None


def _resnet_extra(path, network, block, blocks, names, shapes):
    """ConvertError for the first tensor in `names` that belongs to the stem
    or a kept stage of the ResNet but is not one of `shapes`, or None."""
    kept = re.compile(r"^(?:conv1\.|bn1\.|layer(?P<stage>[1-9][0-9]*)\.(?P<block>[0-9]+)\.)")
    what = "%s (%s blocks %s)" % (network, block, archs.format_blocks(blocks))
    for name in names:
        for prefix in KEY_PREFIXES:
            rest = name[len(prefix):] if name.startswith(prefix) else None
            m = kept.match(rest) if rest is not None else None
            if (m is None or rest in shapes or rest.endswith(".num_batches_tracked")
                    or (m.group("stage") and int(m.group("stage")) > len(blocks))):
                continue
            if m.group("stage") is None:
                return ConvertError("%s: unexpected tensor %s in the stem of %s"
                                    % (path, _shown(name), what))
            stage, index = int(m.group("stage")), int(m.group("block"))
            if index >= blocks[stage - 1]:
                return ConvertError(
                    "%s: tensor %s belongs to block %d of stage %d, but stage %d of %s has "
                    "%d block%s (a deeper ResNet? Only whole stages beyond the description "
                    "are dropped)" % (path, _shown(name), index + 1, stage, stage, what,
                                      blocks[stage - 1], "s" if blocks[stage - 1] > 1 else ""))
            hint = ""
            if block == "basic" and (".conv3." in rest or ".bn3." in rest):
                hint = " (a ResNet of bottleneck blocks?)"
            return ConvertError("%s: unexpected tensor %s for %s%s"
                                % (path, _shown(name), what, hint))
    return None


def read_backbone(network, path, resnet_block=None, resnet_blocks=None, fileobj=None):
    """The backbone tensors of `network` from the torchvision state dict in
    `path`, as an OrderedDict key -> (shape, array('f')) in `archs` order.

    A ResNet is named by a standard name or described by `resnet_block` and
    `resnet_blocks` (see archs.resnet_description).  Every name and shape is
    checked before any tensor data is read.  `fileobj`, an open binary file,
    is read instead of opening `path`."""
    resnet = _describe(network, resnet_block, resnet_blocks)
    shapes = archs.backbone_tensors(network, resnet_block, resnet_blocks)
    names = []

    def strip(name):
        for prefix in KEY_PREFIXES:
            if name.startswith(prefix) and name[len(prefix):] in shapes:
                return name[len(prefix):]
        return None

    def select(name):
        names.append(name)
        return strip(name) is not None

    def check(selected, index):
        found = {}
        for name, (shape, dtype) in selected.items():
            key = strip(name)
            if key in found:
                raise ConvertError("%s: tensor %s is present under two names" % (path, key))
            found[key] = shape
        missing = [k for k in shapes if k not in found]
        if missing:
            present = list(index)
            raise ConvertError("%s: missing tensor%s %s (is this a torchvision %s state dict? "
                               "The file has %d tensors: %s)"
                               % (path, "s" if len(missing) > 1 else "", _names(missing),
                                  network, len(present), _names(present)))
        if resnet is not None:
            extra = _resnet_extra(path, network, resnet[0], resnet[1], names, shapes)
            if extra is not None:
                raise extra
        for key, shape in shapes.items():
            if tuple(found[key]) != tuple(shape):
                raise ConvertError("%s: tensor %s has shape %s, expected %s for network %s"
                                   % (path, key, _shape(found[key]), _shape(shape), network))

    try:
        found = torchpickle.load(path, select=select, check=check,
                                 max_bytes=storage_limit(shapes),
                                 max_pickle_bytes=pickle_limit(len(shapes)), fileobj=fileobj)
    except torchpickle.TorchFileError as e:
        raise ConvertError(str(e)) from None
    tensors = dict((strip(name), value) for name, value in found.items())
    out = collections.OrderedDict()
    for key, shape in shapes.items():
        got, values = tensors[key]
        if not _all_finite(values):
            raise ConvertError("%s: tensor %s holds non-finite values" % (path, key))
        out[key] = (tuple(shape), values)
    return out


def read_calibration(network, path, resnet_block=None, resnet_blocks=None, fileobj=None):
    """The LPIPS lin weights for `network` from `path`, as an OrderedDict
    `lin.{k}.weight` -> ((C,), array('f')).  A ResNet's file has one layer
    per tap: the stages, then the stem.  Every name and shape is checked
    before any tensor data is read.  `fileobj`, an open binary file, is read
    instead of opening `path`."""
    _describe(network, resnet_block, resnet_blocks)
    channels = archs.tap_channels(network, resnet_block, resnet_blocks)
    names = ["lin%d.model.1.weight" % k for k in range(len(channels))]
    shapes = collections.OrderedDict((name, (1, c, 1, 1)) for name, c in zip(names, channels))

    def check(selected, index):
        layers = sorted(k for k in selected if re.match(r"^lin\d+\.model\.1\.weight$", k))
        other = [k for k in selected if k not in layers]
        if other:
            raise ConvertError("%s: unexpected tensor %s (not an LPIPS calibration file?)"
                               % (path, _shown(other[0])))
        if set(layers) != set(names):
            raise ConvertError("%s: %d calibration layers, but %s has %d taps (the calibration "
                               "of another network?)" % (path, len(layers), network,
                                                         len(channels)))
        for name, shape in shapes.items():
            got = selected[name][0]
            if tuple(got) != shape:
                raise ConvertError("%s: tensor %s has shape %s, expected %s for network %s"
                                   % (path, name, _shape(got), _shape(shape), network))

    try:
        found = torchpickle.load(path, check=check, max_bytes=storage_limit(shapes),
                                 max_pickle_bytes=pickle_limit(len(shapes)), fileobj=fileobj)
    except torchpickle.TorchFileError as e:
        raise ConvertError(str(e)) from None
    out = collections.OrderedDict()
    for k, (name, c) in enumerate(zip(names, channels)):
        shape, values = found[name]
        if not _all_finite(values):
            raise ConvertError("%s: tensor %s holds non-finite values" % (path, name))
        if len(values) and min(values) < 0:
            raise ConvertError("%s: tensor %s holds negative weights" % (path, name))
        out["lin.%d.weight" % k] = ((c,), values)
    return out


def load_manifest(path):
    with open(path, "r", encoding="utf-8") as f:
        return json.load(f)


def known_calibration(digest, manifest_path=DEFAULT_MANIFEST):
    """(network, calibration) of the official calibration file with SHA-256
    `digest`, or None (also when there is no manifest)."""
    try:
        manifest = load_manifest(manifest_path)
        for network, entry in manifest["networks"].items():
            for calibration, item in entry.get("calibrations", {}).items():
                if item.get("sha256") == digest:
                    return network, calibration
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        pass
    return None


def calibration_label(lpips_version):
    if lpips_version is None:
        return "unweighted"
    if lpips_version not in LPIPS_VERSIONS:
        raise ValueError("unknown LPIPS version %r" % lpips_version)
    return "lpips-v" + lpips_version


def build(network, backbone, calibration, label, backbone_source, calibration_source,
          resnet_block=None, resnet_blocks=None):
    """Tensors and metadata of a model file.  ResNets get the metadata
    architecture, resnet_block and resnet_blocks."""
    architecture = archs.model_metadata(network, resnet_block, resnet_blocks)
    tensors = collections.OrderedDict(backbone)
    if calibration is not None:
        tensors.update(calibration)
    metadata = collections.OrderedDict([
        ("format", safetensors.FORMAT),
        ("format_version", safetensors.FORMAT_VERSION),
        ("network", network),
        ("calibration", label),
        ("backbone_digest", safetensors.tensor_digest(backbone)),
        ("backbone_source", backbone_source),
        ("calibration_source", calibration_source),
    ])
    metadata.update(architecture)
    return tensors, metadata


def write_model(path, tensors, metadata, mode=None):
    """Write the model file `path` atomically (files.write_atomically): a
    failure or a kill leaves `path` as it was.  OSError on failure."""
    files.write_atomically(path, lambda f: safetensors.write_to(f, tensors, metadata), mode)


def check_output(out_path, inputs):
    """ConvertError if `out_path` is a directory or one of the files
    `inputs` (also through a link): an output never replaces an input."""
    if os.path.isdir(out_path):
        raise ConvertError("%s: is a directory" % out_path)
    for what, path in inputs:
        if path is not None and files.same_file(out_path, path):
            raise ConvertError("%s: is the %s file %s; refusing to overwrite an input"
                               % (out_path, what, path))


def convert(network, backbone_path, calibration_path, lpips_version, out_path,
            check_name=True, manifest_path=DEFAULT_MANIFEST, resnet_block=None,
            resnet_blocks=None):
    """Convert and write `out_path`; returns the metadata and tensors written.

    `calibration_path` None (and `lpips_version` None) makes an unweighted
    model.  A custom ResNet needs `resnet_block` and `resnet_blocks`."""
    if network not in archs.NETWORKS and not archs.is_resnet(network, resnet_block,
                                                             resnet_blocks):
        raise ConvertError("unknown network %r (known: %s)" % (network, ", ".join(archs.NETWORKS)))
    _describe(network, resnet_block, resnet_blocks)
    label = calibration_label(lpips_version if calibration_path else None)
    check_output(out_path, (("backbone", backbone_path), ("calibration", calibration_path),
                            ("manifest", manifest_path)))
    if check_name:
        check_official_name(backbone_path)
    calibration = None
    if calibration_path is not None:
        try:
            digest = sha256_file(calibration_path)
        except OSError as e:
            raise _file_error(calibration_path, e) from None
        known = known_calibration(digest, manifest_path)
        if known is not None and known != (network, label):
            raise ConvertError("%s: this is the official %s calibration of %s, not %s of %s"
                               % (calibration_path, known[1], known[0], label, network))
        calibration = read_calibration(network, calibration_path, resnet_block, resnet_blocks)
    backbone = read_backbone(network, backbone_path, resnet_block, resnet_blocks)
    tensors, metadata = build(network, backbone, calibration, label,
                              os.path.basename(backbone_path),
                              os.path.basename(calibration_path) if calibration_path
                              else NO_CALIBRATION_SOURCE, resnet_block, resnet_blocks)
    try:
        write_model(out_path, tensors, metadata)
    except OSError as e:
        raise ConvertError("%s: %s" % (out_path, e.strerror or e)) from None
    return metadata, tensors


def summary(out_path, metadata, tensors):
    count = sum(len(v) for _, v in tensors.values())
    network = metadata["network"]
    if "architecture" in metadata:
        network += " (%s, %s blocks %s)" % (metadata["architecture"], metadata["resnet_block"],
                                            metadata["resnet_blocks"])
    return ("wrote %s: %s, %s, %d tensors, %d values, backbone digest %s"
            % (out_path, network, metadata["calibration"], len(tensors), count,
               metadata["backbone_digest"]))


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="convert",
        description="Convert a torchvision backbone (.pth) and an LPIPS calibration (.pth) "
                    "into a gegl-perceptual model file (.safetensors). Needs no torch.",
        epilog="A custom ResNet: --network NAME --resnet-block basic|bottleneck "
               "--resnet-blocks 1,1 (blocks per stage, 1 to 4 stages; the file's stages "
               "beyond these and its classifier are dropped).")
    parser.add_argument("--network", required=True, metavar="NETWORK",
                        help="%s, or the name of a custom ResNet" % ", ".join(archs.NETWORKS))
    parser.add_argument("--resnet-block", choices=archs.RESNET_BLOCKS,
                        help="block type of a custom ResNet")
    parser.add_argument("--resnet-blocks", metavar="N,N,...",
                        help="blocks per stage of a custom ResNet, e.g. 1,1,1,1")
    parser.add_argument("--backbone", required=True, metavar="FILE.pth",
                        help="torchvision state dict (e.g. squeezenet1_1-b8a52dc0.pth)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--calibration", metavar="FILE.pth",
                       help="LPIPS calibration weights (lpips/weights/v0.1/<network>.pth)")
    group.add_argument("--unweighted", action="store_true",
                       help="no calibration: every channel weighs 1 (the default for ResNets)")
    parser.add_argument("--lpips-version", choices=LPIPS_VERSIONS,
                        help="LPIPS version of --calibration (required with it)")
    parser.add_argument("--no-check-name", action="store_true",
                        help="do not check an official file name's hash prefix")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.safetensors")
    args = parser.parse_args(argv)
    resnet = archs.is_resnet(args.network, args.resnet_block, args.resnet_blocks)
    if args.network not in archs.NETWORKS and not resnet:
        parser.error("argument --network: unknown network %r (choose from %s, or describe a "
                     "custom ResNet with --resnet-block and --resnet-blocks)"
                     % (args.network, ", ".join(archs.NETWORKS)))
    try:
        archs.backbone_tensors(args.network, args.resnet_block, args.resnet_blocks)
    except ValueError as e:
        parser.error(str(e))
    if not resnet and not (args.calibration or args.unweighted):
        parser.error("one of the arguments --calibration --unweighted is required")
    if args.calibration and not args.lpips_version:
        parser.error("--calibration needs --lpips-version {0.1,0.0}")
    if not args.calibration and args.lpips_version:
        parser.error("--lpips-version goes with --calibration, not --unweighted")
    for option, path in (("--backbone", args.backbone), ("--calibration", args.calibration),
                         ("manifest", DEFAULT_MANIFEST)):
        if path is not None and files.same_file(args.output, path):
            parser.error("argument -o/--output: %s is the %s file; refusing to overwrite an "
                         "input" % (args.output, option))
    try:
        metadata, tensors = convert(args.network, args.backbone, args.calibration,
                                    args.lpips_version, args.output,
                                    check_name=not args.no_check_name,
                                    resnet_block=args.resnet_block,
                                    resnet_blocks=args.resnet_blocks)
    except ConvertError as e:
        print("convert: %s" % e, file=sys.stderr)
        return 1
    print("convert: " + summary(args.output, metadata, tensors))
    return 0

"""Fetching, checking, converting and installing model files.

A source file (from the mirror or downloaded) is opened once, as a regular
file of at most MAX_DOWNLOAD bytes; its SHA-256 is computed first, in blocks,
and the file is parsed only after that: when a byte-level pin (the full
`sha256`, or the `sha256_prefix` of its official name) identifies it, or
when the `backbone_digest` of its tensors is the one pin left to try (the
parse is then bounded by the network's size, see convert).  The parse reads
the very bytes that were hashed (the same open file).

An installed `<network>-<calibration>.safetensors` counts as installed only
when `check_installed` accepts it: a complete model file with the metadata,
tensor names and shapes fetch writes, finite weights and backbone tensors
with the digest its metadata records (and the manifest pins, if it does).  A
damaged file (cut, unreadable, or with data that do not match its digest) is
installed again; a directory, another kind of file or another model in its
place is refused and left alone (--force replaces a file, never a
directory).  The model is written to a temporary file in the destination,
flushed to disk and renamed into place; it never replaces an input.
"""

import argparse
import collections
import http.client
import os
import socket
import stat
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

from . import archs, convert, files, safetensors

MANIFEST_FORMAT = "gegl-perceptual-weights-manifest"
MIRROR_ENV = "GEGL_PERCEPTUAL_WEIGHTS_MIRROR"
DEFAULT_CALIBRATION = "lpips-v0.1"     # of the LPIPS networks; ResNets: unweighted
TIMEOUT = 60                     # seconds without progress before a download fails
MAX_DOWNLOAD = 4 << 30           # bytes


class FetchError(Exception):
    pass


def default_dest():
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"),
                                                            ".local", "share")
    return os.path.join(data, "gegl-perceptual", "weights")


def default_calibration(network):
    """lpips-v0.1 for the LPIPS networks, unweighted for the others (ResNets,
    which have no published calibration)."""
    return DEFAULT_CALIBRATION if network in archs.LPIPS_NETWORKS else "unweighted"


def installed_name(network, calibration):
    return "%s-%s.safetensors" % (network, calibration)


def _is_hex(text, length):
    return (isinstance(text, str) and len(text) == length
            and all(c in "0123456789abcdef" for c in text))


def load_manifest(path):
    """Read and check the manifest; returns its "networks" dict."""
    try:
        manifest = convert.load_manifest(path)
    except OSError as e:
        raise FetchError("%s: %s" % (path, e.strerror or e)) from None
    except ValueError as e:
        raise FetchError("%s: not valid JSON (%s)" % (path, e)) from None

    def bad(problem):
        raise FetchError("%s: %s" % (path, problem))

    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        bad("not a %s file" % MANIFEST_FORMAT)
    if manifest.get("format_version") != 1:
        bad("unsupported format_version %r" % manifest.get("format_version"))
    networks = manifest.get("networks")
    if not isinstance(networks, dict):
        bad("no \"networks\" object")

    def check_file(where, item):
        if not isinstance(item, dict):
            bad("%s is not an object" % where)
        name = item.get("name")
        if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
            bad("%s: invalid name %r" % (where, name))
        url = item.get("url")
        if url is not None and (not isinstance(url, str) or urllib.parse.urlsplit(url).scheme
                                not in ("http", "https")):
            bad("%s: url must be http or https" % where)
        paths = item.get("mirror_paths", [])
        if not isinstance(paths, list) or not all(
                isinstance(p, str) and p and not os.path.isabs(p)
                and ".." not in p.replace("\\", "/").split("/") for p in paths):
            bad("%s: mirror_paths must be relative paths" % where)
        for key, length in (("sha256", 64), ("sha256_prefix", 8), ("backbone_digest", 64)):
            if key in item and not _is_hex(item[key], length):
                bad("%s: %s must be %d lower-case hex digits" % (where, key, length))
        if "sha256_prefix" in item and convert.official_prefix(name) != item["sha256_prefix"]:
            bad("%s: sha256_prefix does not match the name %s" % (where, name))
        if not any(k in item for k in ("sha256", "sha256_prefix", "backbone_digest")):
            bad("%s pins nothing (needs sha256, sha256_prefix or backbone_digest)" % where)

    for network, entry in networks.items():
        if network not in archs.NETWORKS:
            bad("unknown network %r" % network)
        if not isinstance(entry, dict):
            bad("networks.%s is not an object" % network)
        check_file("networks.%s.backbone" % network, entry.get("backbone"))
        calibrations = entry.get("calibrations", {})
        if not isinstance(calibrations, dict):
            bad("networks.%s.calibrations is not an object" % network)
        for label, item in calibrations.items():
            if label not in convert.CALIBRATIONS or label == "unweighted":
                bad("networks.%s: unknown calibration %r" % (network, label))
            where = "networks.%s.calibrations.%s" % (network, label)
            check_file(where, item)
            if "sha256" not in item:
                bad("%s needs a sha256" % where)
    return networks


def download(url, path, log):
    """Download `url` into `path`."""
    log("fetch: downloading %s" % url)
    request = urllib.request.Request(url)
    hint = ("no network? Copy the files into a directory and pass --mirror DIR or set %s"
            % MIRROR_ENV)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response, \
                open(path, "wb") as out:
            total = 0
            while True:
                block = response.read(1 << 20)
                if not block:
                    break
                total += len(block)
                if total > MAX_DOWNLOAD:
                    raise FetchError("cannot download %s: larger than %d bytes" % (url, MAX_DOWNLOAD))
                out.write(block)
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) != total:
                raise FetchError("cannot download %s: got %d of %s bytes" % (url, total, length))
    except urllib.error.HTTPError as e:
        raise FetchError("cannot download %s: HTTP error %d %s" % (url, e.code, e.reason)) from None
    except urllib.error.URLError as e:
        raise FetchError("cannot download %s: %s (%s)" % (url, e.reason, hint)) from None
    except (socket.timeout, TimeoutError):
        raise FetchError("cannot download %s: timed out (%s)" % (url, hint)) from None
    except http.client.HTTPException as e:
        raise FetchError("cannot download %s: %s: %s" % (url, type(e).__name__, e)) from None
    except OSError as e:
        raise FetchError("cannot download %s: %s (%s)" % (url, e.strerror or e, hint)) from None
    return path


def _digest_file(f, path):
    """SHA-256 of the open source file `f`, which may have MAX_DOWNLOAD
    bytes (a larger one is refused before anything is read); leaves `f` at
    its start for the parse."""
    size = os.fstat(f.fileno()).st_size
    if size > MAX_DOWNLOAD:
        raise files.FileProblem(path, "%d bytes, more than the %d a source file may have"
                                % (size, MAX_DOWNLOAD))
    f.seek(0)
    digest = files.sha256_stream(f, MAX_DOWNLOAD, path)[0]
    f.seek(0)
    return digest


def _describe_calibration(digest, manifest_path):
    known = convert.known_calibration(digest, manifest_path)
    if known is None:
        return ""
    return " (it is the official %s calibration of %s)" % (known[1], known[0])


def check_calibration(network, label, item, path, manifest_path, f=None):
    """Reasons to refuse the calibration file `path` (empty list: accepted).
    Only its digest is computed: nothing is parsed.  `f` is the open file."""
    if f is None:
        with files.open_regular(path) as f:
            return check_calibration(network, label, item, path, manifest_path, f)
    digest = _digest_file(f, path)
    if digest == item["sha256"]:
        return []
    return ["SHA-256 %s differs from the pinned %s%s"
            % (digest, item["sha256"], _describe_calibration(digest, manifest_path))]


def check_backbone(network, item, path, f=None):
    """(tensors, reasons): the backbone tensors read from `path` when one of
    the pins identifies it, else None and why it was refused.  The file's
    SHA-256 is checked first; it is parsed only when that identifies it or
    when a `backbone_digest` pin remains to be tried.  `f` is the open file."""
    if f is None:
        with files.open_regular(path) as f:
            return check_backbone(network, item, path, f)
    digest = _digest_file(f, path)
    reasons = []
    trusted = False
    if "sha256" in item:
        if digest == item["sha256"]:
            trusted = True
        else:
            reasons.append("SHA-256 %s differs from the pinned %s" % (digest, item["sha256"]))
    if not trusted and "sha256_prefix" in item and os.path.basename(path) == item["name"]:
        if digest.startswith(item["sha256_prefix"]):
            trusted = True
        else:
            reasons.append("SHA-256 %s does not start with %s as its official name says"
                           % (digest, item["sha256_prefix"]))
    if not trusted and "backbone_digest" not in item:
        return None, reasons or ["the manifest has no pin that applies to this file name"]
    try:
        tensors = convert.read_backbone(network, path, fileobj=f)
    except convert.ConvertError as e:
        problem = str(e)
        if problem.startswith(path + ": "):
            problem = problem[len(path) + 2:]
        return None, reasons + ["cannot be converted: %s" % problem]
    if not trusted:
        tensor_digest = safetensors.tensor_digest(tensors)
        if tensor_digest == item["backbone_digest"]:
            trusted = True
        else:
            reasons.append("its backbone tensor digest %s differs from the pinned %s"
                           % (tensor_digest, item["backbone_digest"]))
    return (tensors if trusted else None), reasons


def _obtain(what, item, mirror, tmp, accept):
    """Find (in `mirror`) or download the file described by `item` and return
    (path, accept(path)) for the first copy that `accept` identifies."""
    if mirror is not None:
        candidates = [os.path.join(mirror, p) for p in item.get("mirror_paths", [])]
        present = [p for p in candidates if os.path.isfile(p)]
        if not present:
            raise FetchError("no %s in the mirror %s (looked for %s)"
                             % (what, mirror, ", ".join(item.get("mirror_paths", [])) or
                                "nothing: the manifest lists no mirror paths"))
    else:
        if not item.get("url"):
            raise FetchError("the manifest has no address for the %s; use --mirror" % what)
        target = os.path.join(tmp, item["name"])
        if os.path.exists(target):
            target = os.path.join(tempfile.mkdtemp(dir=tmp), item["name"])
        present = [download(item["url"], target, lambda m: print(m, file=sys.stderr))]
    refusals = []
    for path in present:
        try:
            with files.open_regular(path) as f:
                result, reasons = accept(path, f)
        except files.FileProblem as e:
            result, reasons = None, [e.problem]
        except OSError as e:
            result, reasons = None, ["cannot be read: %s" % (e.strerror or e)]
        if result is not None:
            return path, result
        refusals.append("%s: %s" % (path, "; ".join(reasons)))
    raise FetchError("refusing the %s: %s" % (what, " | ".join(refusals)))


def _cut(text, limit=80):
    text = str(text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _expected_tensors(network, calibration):
    shapes = collections.OrderedDict(archs.backbone_tensors(network))
    if calibration != "unweighted":
        shapes.update(archs.lin_tensors(network))
    return shapes


def check_installed(path, network, calibration, entry):
    """None when `path` holds a model file as fetch installs it for
    `network` and `calibration`, else (damaged, reason).

    A file whose header does not fit its size (a truncated or cut file),
    that is not readable as a model file, whose weights are not finite (or
    whose lin weights are negative) or whose backbone tensors do not have
    the digest its metadata records is damaged: fetch replaces it.  A
    complete model file that is not the one fetch installs here (other
    metadata, tensors or a backbone other than the manifest pins), or
    anything but a regular file, is another thing: fetch leaves it alone
    unless forced.  The data are read only once the header matches the
    network's tensors, so at most the model's size is read."""
    try:
        st = os.stat(path)
    except OSError as e:
        return True, "cannot be read (%s)" % (e.strerror or e)
    if not stat.S_ISREG(st.st_mode):
        return False, "not a regular file"
    if st.st_size < 8:
        return True, "truncated (%d bytes)" % st.st_size

    def problem(e):
        text = str(e)
        return text[len(path) + 2:] if text.startswith(path + ": ") else text

    try:
        layout, metadata = safetensors.read_header(path)
    except safetensors.SafetensorsError as e:
        return True, problem(e)
    if metadata.get("format") != safetensors.FORMAT:
        return False, "not a gegl-perceptual model file"
    expected = collections.OrderedDict([
        ("format_version", safetensors.FORMAT_VERSION), ("network", network),
        ("calibration", calibration)])
    expected.update(archs.model_metadata(network))
    for key, value in expected.items():
        if metadata.get(key) != value:
            return False, "its metadata %s is %s, not %r" % (
                key, "missing" if key not in metadata else repr(metadata[key][:60]), value)
    shapes = _expected_tensors(network, calibration)
    if list(layout) != list(shapes) or any(layout[k][0] != tuple(v)
                                           for k, v in shapes.items()):
        return False, "its tensors are not those of %s %s" % (network, calibration)
    try:
        tensors, metadata = safetensors.read(path)
    except safetensors.SafetensorsError as e:
        return True, problem(e)
    for name, (shape, values) in tensors.items():
        if not convert._all_finite(values):
            return True, "tensor %s holds non-finite values" % name
        if name.startswith("lin.") and len(values) and min(values) < 0:
            return True, "tensor %s holds negative weights" % name
    backbone = dict((k, tensors[k]) for k in archs.backbone_tensors(network))
    digest = safetensors.tensor_digest(backbone)
    if digest != metadata.get("backbone_digest"):
        return True, ("its backbone tensors have the digest %s, not the %s its metadata "
                      "records" % (digest, _cut(metadata.get("backbone_digest"))))
    pinned = entry["backbone"].get("backbone_digest")
    if pinned is not None and digest != pinned:
        return False, "its backbone digest %s differs from the pinned %s" % (digest, pinned)
    return None


def fetch(network, calibration, mirror, dest, manifest_path, force=False, log=print,
          warn=None):
    """Install `<network>-<calibration>.safetensors` into `dest`; returns its path.

    `calibration` None is the network's default (default_calibration).  An
    installed file is kept unless `force` is set or check_installed refuses
    it; `warn` (default: print to stderr) tells why it is replaced."""
    if warn is None:
        warn = lambda message: print(message, file=sys.stderr)
    networks = load_manifest(manifest_path)
    if network not in networks:
        raise FetchError("the manifest %s knows no network %r (known: %s)"
                         % (manifest_path, network, ", ".join(networks)))
    entry = networks[network]
    if calibration is None:
        calibration = default_calibration(network)
    if calibration not in convert.CALIBRATIONS:
        raise FetchError("unknown calibration %r" % calibration)
    item = None
    if calibration != "unweighted":
        calibrations = entry.get("calibrations", {})
        item = calibrations.get(calibration)
        if item is None and not calibrations:
            raise FetchError("%s has no %s calibration (no calibration is published for it): "
                             "use --calibration unweighted%s"
                             % (network, calibration,
                                ", its default" if default_calibration(network) == "unweighted"
                                else ""))
        if item is None:
            raise FetchError("the manifest has no %s calibration for %s" % (calibration, network))
    if mirror is not None and not os.path.isdir(mirror):
        raise FetchError("mirror %s is not a directory" % mirror)
    name = installed_name(network, calibration)
    out = os.path.join(dest, name)
    if os.path.isdir(out):
        raise FetchError("%s is a directory, not a model file: remove it or choose another "
                         "--dest (it is left alone)" % out)
    if os.path.lexists(out) and not force:
        problem = check_installed(out, network, calibration, entry)
        if problem is None:
            log("fetch: %s is already installed at %s (--force replaces it)" % (name, out))
            return out
        damaged, reason = problem
        if not damaged:
            raise FetchError("%s is in the way: %s; it is left alone (--force replaces it)"
                             % (out, reason))
        warn("fetch: the installed %s is damaged: %s; installing it again" % (out, reason))
    with tempfile.TemporaryDirectory(prefix="gegl-perceptual-fetch-") as tmp:
        lin = None
        cal_source = convert.NO_CALIBRATION_SOURCE
        if item is not None:
            def accept_calibration(path, f):
                reasons = check_calibration(network, calibration, item, path, manifest_path, f)
                if reasons:
                    return None, reasons
                try:
                    return convert.read_calibration(network, path, fileobj=f), []
                except convert.ConvertError as e:
                    return None, ["cannot be converted: %s" % e]
            cal_path, lin = _obtain("%s %s calibration" % (network, calibration), item,
                                    mirror, tmp, accept_calibration)
            cal_source = os.path.basename(cal_path)
        backbone_path, backbone = _obtain(
            "%s backbone" % network, entry["backbone"], mirror, tmp,
            lambda path, f: check_backbone(network, entry["backbone"], path, f))
        tensors, metadata = convert.build(network, backbone, lin, calibration,
                                          os.path.basename(backbone_path), cal_source)
        for what, path in (("manifest", manifest_path), ("backbone", backbone_path),
                           ("calibration", cal_path if item is not None else None)):
            if path is not None and files.same_file(out, path):
                raise FetchError("%s is the %s %s; refusing to overwrite an input"
                                 % (out, what, path))
        try:
            os.makedirs(dest, exist_ok=True)
        except OSError as e:
            raise FetchError("cannot write into %s: %s" % (dest, e.strerror or e)) from None
        try:
            convert.write_model(out, tensors, metadata, mode=0o644)
        except OSError as e:
            raise FetchError("cannot install %s: %s" % (out, e.strerror or e)) from None
    log("fetch: installed %s at %s" % (installed_name(network, calibration), out))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="fetch",
        description="Get the published weights of NETWORK (from a mirror directory or the "
                    "official addresses), check them against the manifest, convert them and "
                    "install <network>-<calibration>.safetensors. Needs no torch.")
    parser.add_argument("network", metavar="NETWORK", choices=archs.NETWORKS,
                        help="one of: %s" % ", ".join(archs.NETWORKS))
    parser.add_argument("--calibration", choices=convert.CALIBRATIONS,
                        help="default: %s for %s, unweighted for the ResNets"
                             % (DEFAULT_CALIBRATION, ", ".join(archs.LPIPS_NETWORKS)))
    parser.add_argument("--mirror", metavar="DIR",
                        help="local directory with the published files instead of downloading "
                             "(default: $%s)" % MIRROR_ENV)
    parser.add_argument("--dest", metavar="DIR",
                        help="install directory (default: $XDG_DATA_HOME/gegl-perceptual/"
                             "weights, XDG_DATA_HOME defaulting to ~/.local/share)")
    parser.add_argument("--manifest", metavar="FILE", default=convert.DEFAULT_MANIFEST,
                        help="pins and addresses of the files (default: %(default)s)")
    parser.add_argument("--force", action="store_true",
                        help="replace an installed file")
    args = parser.parse_args(argv)
    mirror = args.mirror or os.environ.get(MIRROR_ENV) or None
    dest = args.dest or default_dest()
    try:
        fetch(args.network, args.calibration, mirror, dest, args.manifest, args.force)
    except FetchError as e:
        print("fetch: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("fetch: interrupted", file=sys.stderr)
        return 130
    return 0

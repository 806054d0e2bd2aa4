"""Fetching, checking, converting and installing model files."""

import argparse
import http.client
import os
import socket
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

from . import archs, convert, safetensors

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


def _describe_calibration(digest, manifest_path):
    known = convert.known_calibration(digest, manifest_path)
    if known is None:
        return ""
    return " (it is the official %s calibration of %s)" % (known[1], known[0])


def check_calibration(network, label, item, path, manifest_path):
    """Reasons to refuse the calibration file `path` (empty list: accepted)."""
    digest = convert.sha256_file(path)
    if digest == item["sha256"]:
        return []
    return ["SHA-256 %s differs from the pinned %s%s"
            % (digest, item["sha256"], _describe_calibration(digest, manifest_path))]


def check_backbone(network, item, path):
    """(tensors, reasons): the backbone tensors read from `path` when one of
    the pins identifies it, else None and why it was refused."""
    digest = convert.sha256_file(path)
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
    try:
        tensors = convert.read_backbone(network, path)
    except convert.ConvertError as e:
        problem = str(e)
        if problem.startswith(path + ": "):
            problem = problem[len(path) + 2:]
        return None, reasons + ["cannot be converted: %s" % problem]
    if not trusted and "backbone_digest" in item:
        tensor_digest = safetensors.tensor_digest(tensors)
        if tensor_digest == item["backbone_digest"]:
            trusted = True
        else:
            reasons.append("its backbone tensor digest %s differs from the pinned %s"
                           % (tensor_digest, item["backbone_digest"]))
    if not trusted and not reasons:
        reasons.append("the manifest has no pin that applies to this file name")
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
            result, reasons = accept(path)
        except OSError as e:
            result, reasons = None, ["cannot be read: %s" % (e.strerror or e)]
        if result is not None:
            return path, result
        refusals.append("%s: %s" % (path, "; ".join(reasons)))
    raise FetchError("refusing the %s: %s" % (what, " | ".join(refusals)))


def fetch(network, calibration, mirror, dest, manifest_path, force=False, log=print):
    """Install `<network>-<calibration>.safetensors` into `dest`; returns its path.

    `calibration` None is the network's default (default_calibration)."""
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
    out = os.path.join(dest, installed_name(network, calibration))
    if os.path.exists(out) and not force:
        log("fetch: %s is already installed at %s (--force replaces it)"
            % (installed_name(network, calibration), out))
        return out
    with tempfile.TemporaryDirectory(prefix="gegl-perceptual-fetch-") as tmp:
        lin = None
        cal_source = convert.NO_CALIBRATION_SOURCE
        if item is not None:
            def accept_calibration(path):
                reasons = check_calibration(network, calibration, item, path, manifest_path)
                if reasons:
                    return None, reasons
                try:
                    return convert.read_calibration(network, path), []
                except convert.ConvertError as e:
                    return None, ["cannot be converted: %s" % e]
            cal_path, lin = _obtain("%s %s calibration" % (network, calibration), item,
                                    mirror, tmp, accept_calibration)
            cal_source = os.path.basename(cal_path)
        backbone_path, backbone = _obtain(
            "%s backbone" % network, entry["backbone"], mirror, tmp,
            lambda path: check_backbone(network, entry["backbone"], path))
        tensors, metadata = convert.build(network, backbone, lin, calibration,
                                          os.path.basename(backbone_path), cal_source)
        try:
            os.makedirs(dest, exist_ok=True)
            fd, partial = tempfile.mkstemp(dir=dest, prefix="." + installed_name(
                network, calibration) + ".", suffix=".part")
            os.close(fd)
        except OSError as e:
            raise FetchError("cannot write into %s: %s" % (dest, e.strerror or e)) from None
        try:
            convert.write_model(partial, tensors, metadata)
            os.chmod(partial, 0o644)
            os.replace(partial, out)
        except BaseException as e:
            try:
                os.unlink(partial)
            except OSError:
                pass
            if isinstance(e, OSError):
                raise FetchError("cannot install %s: %s" % (out, e.strerror or e)) from None
            raise
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

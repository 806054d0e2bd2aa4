#!/usr/bin/env python3
"""weights/fetch with made-up files: mirror layouts, refusals, downloads from
an HTTP server on 127.0.0.1 (no torch, no real weights, no internet)."""

import sys
sys.dont_write_bytecode = True  # keep the source tree free of caches

import copy
import functools
import hashlib
import http.server
import json
import os
import shutil
import socket
import tempfile
import threading
import unittest

import wtest
import pthwriter as P
from perceptual_weights import archs, safetensors


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests = []

    def log_message(self, *args):
        QuietHandler.requests.append(self.path)


class Fetch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fetch-test-")
        files = cls.files = os.path.join(cls.tmp, "files")
        os.makedirs(files)
        cls.entries = P.squeeze_backbone(archs)
        cls.backbone = P.write_zip(os.path.join(files, "backbone.pth"), cls.entries)
        cls.digest = safetensors.tensor_digest(dict(
            (n, (t.shape, t.storage.values)) for n, t in cls.entries if n.startswith("features.")))
        cls.lin01 = P.write_legacy(os.path.join(files, "lin01.pth"),
                                   P.calibration(archs, "squeeze", 0.1), pairs_list=True)
        cls.lin00 = P.write_legacy(os.path.join(files, "lin00.pth"),
                                   P.calibration(archs, "squeeze", 0.2), old_style=True)
        cls.prefix = sha256(cls.backbone)[:8]
        cls.official = "squeezenet1_1-%s.pth" % cls.prefix

        # the web server
        www = cls.www = os.path.join(cls.tmp, "www")
        for src, dst in ((cls.backbone, "models/" + cls.official),
                         (cls.lin01, "lpips/v0.1/squeeze.pth"),
                         (cls.lin00, "lpips/v0.0/squeeze.pth"),
                         (cls.lin00, "bad/v0.1/squeeze.pth"),
                         (cls.backbone, "bad/squeezenet1_1-b8a52dc0.pth")):
            cls.put(src, os.path.join(www, dst))
        cls.server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(QuietHandler, directory=www))
        cls.base = "http://127.0.0.1:%d/" % cls.server.server_address[1]
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()

        # a manifest pinning the made-up files
        with open(wtest.MANIFEST) as f:
            shipped = json.load(f)
        m = copy.deepcopy(shipped)
        sq = m["networks"]["squeeze"]
        sq["backbone"].update(name=cls.official, sha256_prefix=cls.prefix,
                              backbone_digest=cls.digest, url=cls.base + "models/" + cls.official)
        sq["backbone"]["mirror_paths"] = ["torchvision/squeezenet1_1-features.pth",
                                          "torchvision/" + cls.official, cls.official]
        for label, path in (("lpips-v0.1", cls.lin01), ("lpips-v0.0", cls.lin00)):
            sq["calibrations"][label].update(sha256=sha256(path),
                                             url=cls.base + "lpips/%s/squeeze.pth" % label[6:])
        cls.manifest = cls.write_manifest("manifest.json", m)

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        shutil.rmtree(cls.tmp)

    @classmethod
    def put(cls, src, dst):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        return dst

    @classmethod
    def write_manifest(cls, name, content):
        path = os.path.join(cls.tmp, name)
        with open(path, "w") as f:
            json.dump(content, f)
        return path

    def setUp(self):
        self.work = tempfile.mkdtemp(dir=self.tmp)
        self.dest = os.path.join(self.work, "dest")

    def mirror(self, layout):
        """A mirror directory holding `layout` (relative path -> source)."""
        m = os.path.join(self.work, "mirror")
        for rel, src in layout.items():
            self.put(src, os.path.join(m, rel))
        os.makedirs(m, exist_ok=True)
        return m

    def fetch(self, *args, **env):
        manifest = env.pop("manifest", self.manifest)
        return wtest.run_tool(wtest.FETCH, list(args) + ["--manifest", manifest],
                              env=wtest.clean_env(**env), timeout=90)

    def installed(self, r, path):
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("fetch: installed %s at %s\n" % (os.path.basename(path), path), r.stdout)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o644)
        self.assertEqual(os.listdir(os.path.dirname(path)).count(os.path.basename(path)), 1)
        self.assertFalse([n for n in os.listdir(os.path.dirname(path)) if n.startswith(".")])
        return safetensors.read(path)

    def refused(self, r, *patterns):
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertTrue(r.stderr.startswith("fetch: "), r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        for pattern in patterns:
            self.assertRegex(r.stderr, pattern)
        if os.path.isdir(self.dest):
            self.assertEqual(os.listdir(self.dest), [])

    def test_shared_layout_and_default_dest(self):
        m = self.mirror({"torchvision/squeezenet1_1-features.pth": self.backbone,
                         "lpips/v0.1/squeeze.pth": self.lin01})
        xdg = os.path.join(self.work, "xdg")
        r = self.fetch("squeeze", "--mirror", m, XDG_DATA_HOME=xdg)
        path = os.path.join(xdg, "gegl-perceptual", "weights", "squeeze-lpips-v0.1.safetensors")
        tensors, meta = self.installed(r, path)
        self.assertEqual(meta["calibration"], "lpips-v0.1")
        self.assertEqual(meta["backbone_digest"], self.digest)
        self.assertEqual(meta["backbone_source"], "squeezenet1_1-features.pth")
        # the same bytes as weights/convert makes from the same files
        out = os.path.join(self.work, "converted.safetensors")
        c = wtest.run_tool(wtest.CONVERT, [
            "--network", "squeeze", "--backbone",
            os.path.join(m, "torchvision/squeezenet1_1-features.pth"), "--calibration",
            os.path.join(m, "lpips/v0.1/squeeze.pth"), "--lpips-version", "0.1", "-o", out])
        self.assertEqual(c.returncode, 0, c.stderr)
        with open(out, "rb") as a, open(path, "rb") as b:
            self.assertEqual(a.read(), b.read())
        # installed already: left alone unless --force
        with open(path, "rb") as f:
            good = f.read()
        inode = os.stat(path).st_ino
        r = self.fetch("squeeze", "--mirror", m, XDG_DATA_HOME=xdg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("already installed", r.stdout)
        self.assertEqual(os.stat(path).st_ino, inode)
        r = self.fetch("squeeze", "--mirror", m, "--force", XDG_DATA_HOME=xdg)
        self.installed(r, path)
        # a damaged installed file is not "installed": it is installed again
        with open(path, "ab") as f:
            f.write(b"x")
        r = self.fetch("squeeze", "--mirror", m, XDG_DATA_HOME=xdg)
        self.assertEqual(r.stderr, "fetch: the installed %s is damaged: 1 bytes after the last "
                         "tensor; installing it again\n" % path)
        self.installed(r, path)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), good)

    def test_mirror_from_environment(self):
        m = self.mirror({"torchvision/" + self.official: self.backbone,
                         "lpips/v0.0/squeeze.pth": self.lin00})
        r = self.fetch("squeeze", "--calibration", "lpips-v0.0", "--dest", self.dest,
                       GEGL_PERCEPTUAL_WEIGHTS_MIRROR=m)
        tensors, meta = self.installed(r, os.path.join(self.dest,
                                                       "squeeze-lpips-v0.0.safetensors"))
        self.assertEqual(meta["backbone_source"], self.official)
        self.assertEqual(meta["calibration"], "lpips-v0.0")
        r = self.fetch("squeeze", "--calibration", "unweighted", "--dest", self.dest,
                       GEGL_PERCEPTUAL_WEIGHTS_MIRROR=m)
        tensors, meta = self.installed(r, os.path.join(self.dest,
                                                       "squeeze-unweighted.safetensors"))
        self.assertEqual(meta["calibration_source"], "none")
        self.assertFalse(any(k.startswith("lin.") for k in tensors))

    def test_official_name_is_enough(self):
        # no tensor digest pinned: the official name's hash prefix identifies it
        with open(self.manifest) as f:
            m = json.load(f)
        del m["networks"]["squeeze"]["backbone"]["backbone_digest"]
        manifest = self.write_manifest("prefix-only.json", m)
        mirror = self.mirror({self.official: self.backbone,
                              "lpips/weights/v0.1/squeeze.pth": self.lin01})
        r = self.fetch("squeeze", "--mirror", mirror, "--dest", self.dest, manifest=manifest)
        self.installed(r, os.path.join(self.dest, "squeeze-lpips-v0.1.safetensors"))
        # the same file under another name is not identified
        os.makedirs(os.path.join(mirror, "torchvision"))
        os.rename(os.path.join(mirror, self.official),
                  os.path.join(mirror, "torchvision", "squeezenet1_1-features.pth"))
        r = self.fetch("squeeze", "--mirror", mirror, "--dest", self.dest, "--force",
                       manifest=manifest)
        self.assertEqual(r.returncode, 1)
        self.assertIn("the manifest has no pin that applies to this file name", r.stderr)

    def test_renamed_calibration_is_refused(self):
        m = self.mirror({"torchvision/squeezenet1_1-features.pth": self.backbone,
                         "lpips/v0.1/squeeze.pth": self.lin00})
        r = self.fetch("squeeze", "--mirror", m, "--dest", self.dest)
        self.refused(r, r"^fetch: refusing the squeeze lpips-v0.1 calibration: %s: SHA-256 %s "
                     r"differs from the pinned %s \(it is the official lpips-v0.0 calibration "
                     r"of squeeze\)\n$" % (os.path.join(m, "lpips/v0.1/squeeze.pth"),
                                           sha256(self.lin00), sha256(self.lin01)))

    def test_corrupted_backbone_is_refused(self):
        entries = list(self.entries)
        entries[4] = (entries[4][0], P.filled(entries[4][1].shape, 0.75))
        changed = P.write_zip(os.path.join(self.work, "changed.pth"), entries)
        m = self.mirror({"torchvision/squeezenet1_1-features.pth": changed})
        r = self.fetch("squeeze", "--calibration", "unweighted", "--mirror", m,
                       "--dest", self.dest)
        self.refused(r, r"refusing the squeeze backbone: .*squeezenet1_1-features\.pth: its "
                     r"backbone tensor digest [0-9a-f]{64} differs from the pinned %s"
                     % self.digest)
        with open(self.backbone, "rb") as f:
            data = f.read()
        with open(os.path.join(m, "torchvision/squeezenet1_1-features.pth"), "wb") as f:
            f.write(data[:-100])
        r = self.fetch("squeeze", "--calibration", "unweighted", "--mirror", m,
                       "--dest", self.dest)
        self.refused(r, r"squeezenet1_1-features\.pth: cannot be converted: not a valid zip")

    def test_fake_official_file_with_shipped_manifest(self):
        m = self.mirror({"torchvision/squeezenet1_1-b8a52dc0.pth": self.backbone})
        r = self.fetch("squeeze", "--calibration", "unweighted", "--mirror", m,
                       "--dest", self.dest, manifest=wtest.MANIFEST)
        self.refused(r, r"SHA-256 %s does not start with b8a52dc0 as its official name says; "
                     r"its backbone tensor digest %s differs from the pinned "
                     r"3d3caed92426c348" % (sha256(self.backbone), self.digest))

    def test_missing_files(self):
        m = self.mirror({})
        r = self.fetch("squeeze", "--mirror", m, "--dest", self.dest)
        self.refused(r, r"^fetch: no squeeze lpips-v0.1 calibration in the mirror %s \(looked "
                     r"for lpips/v0.1/squeeze.pth, lpips/weights/v0.1/squeeze.pth, "
                     r"v0.1/squeeze.pth\)\n$" % m)
        r = self.fetch("alex", "--calibration", "unweighted", "--mirror", m, "--dest",
                       self.dest, manifest=wtest.MANIFEST)
        self.refused(r, r"^fetch: no alex backbone in the mirror %s \(looked for "
                     r"torchvision/alexnet-owt-7be5be79.pth, alexnet-owt-7be5be79.pth\)" % m)
        r = self.fetch("squeeze", "--mirror", os.path.join(m, "absent"), "--dest", self.dest)
        self.refused(r, r"mirror .*absent is not a directory")

    def test_download(self):
        QuietHandler.requests[:] = []
        r = self.fetch("squeeze", "--dest", self.dest)
        tensors, meta = self.installed(r, os.path.join(self.dest,
                                                       "squeeze-lpips-v0.1.safetensors"))
        self.assertEqual(meta["backbone_source"], self.official)
        self.assertEqual(meta["calibration_source"], "squeeze.pth")
        self.assertEqual(meta["backbone_digest"], self.digest)
        self.assertEqual(sorted(QuietHandler.requests),
                         sorted(["/models/" + self.official, "/lpips/v0.1/squeeze.pth"]))
        self.assertIn("fetch: downloading %smodels/%s" % (self.base, self.official), r.stderr)

    def test_download_problems(self):
        with open(self.manifest) as f:
            m = json.load(f)
        sq = m["networks"]["squeeze"]
        # a wrong file at the address
        sq["calibrations"]["lpips-v0.1"]["url"] = self.base + "bad/v0.1/squeeze.pth"
        manifest = self.write_manifest("bad.json", m)
        r = self.fetch("squeeze", "--dest", self.dest, manifest=manifest)
        self.refused(r, r"refusing the squeeze lpips-v0.1 calibration: .*squeeze\.pth: SHA-256 "
                     r"%s differs from the pinned %s" % (sha256(self.lin00), sha256(self.lin01)))
        # the shipped pins, with a made-up file at the official name
        bad = json.load(open(wtest.MANIFEST))
        bad["networks"]["squeeze"]["backbone"]["url"] = (self.base
                                                         + "bad/squeezenet1_1-b8a52dc0.pth")
        manifest = self.write_manifest("bad-backbone.json", bad)
        r = self.fetch("squeeze", "--calibration", "unweighted", "--dest", self.dest,
                       manifest=manifest)
        self.refused(r, r"squeezenet1_1-b8a52dc0\.pth: SHA-256 [0-9a-f]{64} does not start "
                     r"with b8a52dc0")
        # nothing at the address
        sq["calibrations"]["lpips-v0.1"]["url"] = self.base + "absent/squeeze.pth"
        manifest = self.write_manifest("absent.json", m)
        r = self.fetch("squeeze", "--dest", self.dest, manifest=manifest)
        self.refused(r, r"(?m)^fetch: cannot download %sabsent/squeeze\.pth: HTTP error 404"
                     % self.base)
        # no server at all: what a machine without network sees
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        sq["calibrations"]["lpips-v0.1"]["url"] = "http://127.0.0.1:%d/squeeze.pth" % port
        manifest = self.write_manifest("offline.json", m)
        r = self.fetch("squeeze", "--dest", self.dest, manifest=manifest)
        self.refused(r, r"(?m)^fetch: cannot download http://127\.0\.0\.1:%d/squeeze\.pth: .*"
                     r"\(no network\? Copy the files into a directory and pass --mirror DIR or "
                     r"set GEGL_PERCEPTUAL_WEIGHTS_MIRROR\)" % port)

    def test_bad_manifests(self):
        for content, pattern in (
                ("{", r"not valid JSON"),
                ("[]", r"not a gegl-perceptual-weights-manifest file"),
                (json.dumps({"format": "gegl-perceptual-weights-manifest", "format_version": 1,
                             "networks": {"squeeze": {"backbone": {"name": "x.pth"}}}}),
                 r"networks\.squeeze\.backbone pins nothing"),
                (json.dumps({"format": "gegl-perceptual-weights-manifest", "format_version": 1,
                             "networks": {"squeeze": {"backbone": {
                                 "name": "x.pth", "sha256": "0" * 64,
                                 "mirror_paths": ["../x.pth"]}}}}),
                 r"networks\.squeeze\.backbone: mirror_paths must be relative paths")):
            path = os.path.join(self.work, "m.json")
            with open(path, "w") as f:
                f.write(content)
            r = self.fetch("squeeze", "--mirror", self.work, "--dest", self.dest, manifest=path)
            self.refused(r, "^fetch: %s: %s" % (path, pattern))

    def test_usage(self):
        r = self.fetch("resnet")
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: fetch", r.stderr)
        r = self.fetch("squeeze", "--calibration", "lpips-v0.2")
        self.assertEqual(r.returncode, 2)


class ResNetFetch(unittest.TestCase):
    """ResNets have no calibration: fetch installs them unweighted."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fetch-resnet-test-")
        entries = P.resnet_backbone(archs, "basic", (2, 2, 2, 2))
        made = P.write_zip(os.path.join(cls.tmp, "resnet18.pth"), entries)
        cls.digest = safetensors.tensor_digest(dict(
            (n, (t.shape, t.storage.values)) for n, t in entries
            if n in archs.backbone_tensors("resnet18")))
        cls.prefix = sha256(made)[:8]
        cls.official = "resnet18-%s.pth" % cls.prefix
        cls.backbone = os.path.join(cls.tmp, cls.official)
        os.rename(made, cls.backbone)
        with open(wtest.MANIFEST) as f:
            m = json.load(f)
        m["networks"]["resnet18"]["backbone"].update(
            name=cls.official, sha256_prefix=cls.prefix,
            mirror_paths=["torchvision/" + cls.official, cls.official])
        cls.manifest = os.path.join(cls.tmp, "manifest.json")
        with open(cls.manifest, "w") as f:
            json.dump(m, f)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def setUp(self):
        self.work = tempfile.mkdtemp(dir=self.tmp)
        self.dest = os.path.join(self.work, "dest")
        self.mirror = os.path.join(self.work, "mirror")
        os.makedirs(os.path.join(self.mirror, "torchvision"))

    def tearDown(self):
        shutil.rmtree(self.work)

    def fetch(self, *args, **kw):
        manifest = kw.pop("manifest", wtest.MANIFEST)
        return wtest.run_tool(wtest.FETCH, list(args) + ["--mirror", self.mirror, "--dest",
                                                         self.dest, "--manifest", manifest],
                              env=wtest.clean_env(), timeout=120)

    def refused(self, r, message):
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(r.stderr, "fetch: %s\n" % message)
        self.assertFalse(os.path.exists(self.dest) and os.listdir(self.dest))

    def test_unweighted_by_default(self):
        os.link(self.backbone, os.path.join(self.mirror, "torchvision", self.official))
        r = self.fetch("resnet18", manifest=self.manifest)
        path = os.path.join(self.dest, "resnet18-unweighted.safetensors")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "fetch: installed resnet18-unweighted.safetensors at %s\n"
                         % path)
        tensors, meta = safetensors.read(path)
        self.assertEqual(meta, {
            "format": "gegl-perceptual-model", "format_version": "1", "network": "resnet18",
            "calibration": "unweighted", "backbone_digest": self.digest,
            "backbone_source": self.official, "calibration_source": "none",
            "architecture": "resnet", "resnet_block": "basic", "resnet_blocks": "2,2,2,2"})
        self.assertEqual(list(tensors), list(archs.backbone_tensors("resnet18")))
        # the same bytes as weights/convert makes
        out = os.path.join(self.work, "converted.safetensors")
        c = wtest.run_tool(wtest.CONVERT, ["--network", "resnet18", "--backbone",
                                           self.backbone, "-o", out])
        self.assertEqual(c.returncode, 0, c.stderr)
        with open(out, "rb") as a, open(path, "rb") as b:
            self.assertEqual(a.read(), b.read())
        r = self.fetch("resnet18", "--calibration", "unweighted", manifest=self.manifest)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("already installed", r.stdout)

    def test_calibrations_are_refused(self):
        for label in ("lpips-v0.1", "lpips-v0.0"):
            r = self.fetch("resnet50", "--calibration", label)
            self.refused(r, "resnet50 has no %s calibration (no calibration is published for "
                         "it): use --calibration unweighted, its default" % label)

    def test_missing_file(self):
        r = self.fetch("resnet34")
        self.refused(r, "no resnet34 backbone in the mirror %s (looked for "
                     "torchvision/resnet34-b627a593.pth, resnet34-b627a593.pth)" % self.mirror)

    def test_fake_official_file(self):
        os.link(self.backbone, os.path.join(self.mirror, "resnet18-f37072fd.pth"))
        r = self.fetch("resnet18")
        self.refused(r, "refusing the resnet18 backbone: %s: SHA-256 %s does not start with "
                     "f37072fd as its official name says"
                     % (os.path.join(self.mirror, "resnet18-f37072fd.pth"),
                        sha256(self.backbone)))

    def test_shipped_manifest(self):
        with open(wtest.MANIFEST) as f:
            networks = json.load(f)["networks"]
        for network, prefix in (("resnet18", "f37072fd"), ("resnet34", "b627a593"),
                                ("resnet50", "0676ba61")):
            item = networks[network]["backbone"]
            name = "%s-%s.pth" % (network, prefix)
            self.assertEqual(item, {
                "name": name, "url": "https://download.pytorch.org/models/" + name,
                "sha256_prefix": prefix, "mirror_paths": ["torchvision/" + name, name]})
            self.assertNotIn("calibrations", networks[network])


if __name__ == "__main__":
    wtest.main()

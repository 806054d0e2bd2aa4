#!/usr/bin/env python3
"""The GIMP 2.10 plug-in, headless: gimp-console-2.10 runs Script-Fu that
loads two images as two layers of one image and calls
plug-in-perceptual-compare; the script writes what it got to a file, which
this test reads and checks.

Usage: test_gimp.py PLUG-IN-EXECUTABLE GEGL-MODULE

Everything happens in a throw-away profile (GIMP2_DIRECTORY, HOME,
XDG_DATA_HOME, XDG_CONFIG_HOME): the plug-in is copied into its plug-ins
folder and the GEGL module into $XDG_DATA_HOME/gegl-0.4/plug-ins, where
both GIMP and its plug-ins find it without GEGL_PATH.

Cases:
  synthetic  a synthetic SqueezeNet model and the first golden case's
             images: the distance for each output equals the golden one,
             the new layer's name, size and place in the stack, the gray
             maps' pixels against the golden maps, the heatmap at opacity 0
             against the reference, and every refusal (grayscale image,
             layers of different sizes or positions, no layer below, a layer
             compared with itself, a layer the network does not have,
             arguments out of range);
  missing    no model, and a broken one: the call fails with the op's
             status (which names the fetch command) and GIMP goes on;
  real       with GEGL_PERCEPTUAL_WEIGHTS_MIRROR: the real SqueezeNet LPIPS
             v0.1 model and the official example images (in images/
             lpips-examples next to the mirror), distance
             0.7110476493835449 (skipped, and said so, without a mirror).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
TOP = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)
sys.path.insert(0, os.path.join(TESTS, "plugin"))

import synth_weights  # noqa: E402
from test_cli import read_png_rgb, write_png  # noqa: E402

GIMP = "gimp-console-2.10"
OFFICIAL_DISTANCE = 0.7110476493835449
TOLERANCE = 1e-5

failures = []


def check(condition, what):
    print(("ok      " if condition else "FAILED  ") + what)
    if not condition:
        failures.append(what)


def scheme_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# What every script starts with: writing results, catching errors with
# their message, loading two images as two layers, calling the plug-in.
PRELUDE = r"""
(define results (open-output-file %(results)s))

(define (emit . items)
  (for-each (lambda (x) (write x results) (display " " results)) items)
  (newline results))

; (ok . value) or (error message ...): Script-Fu raises a failed PDB call
; as an error whose message holds the procedure's error string.
(define (try thunk)
  (call/cc
    (lambda (return)
      (let ((old-hook *error-hook*))
        (set! *error-hook*
              (lambda args
                (set! *error-hook* old-hook)
                (return (cons 'error args))))
        (let ((value (thunk)))
          (set! *error-hook* old-hook)
          (cons 'ok value))))))

; An image with `reference` as its layer and `compared` above it:
; (image reference-layer compared-layer).
(define (load-pair reference compared)
  (let* ((image (car (gimp-file-load RUN-NONINTERACTIVE reference reference)))
         (bottom (car (gimp-image-get-active-layer image)))
         (top (car (gimp-file-load-layer RUN-NONINTERACTIVE image compared))))
    (gimp-image-insert-layer image top 0 -1)
    (list image bottom top)))

; Calls the plug-in (in `run-mode`) and writes one line:
;   NAME ok DISTANCE LAYER-NAME WIDTH HEIGHT NEW-POSITION DRAWABLE-POSITION
;        HAS-ALPHA N-LAYERS
;   NAME error MESSAGE
; and, on success, exports the new layer to `png` unless it is "".
(define run-mode RUN-NONINTERACTIVE)
(define (compare name image drawable other network calibration output layer
                 colormap opacity png)
  (let ((r (try (lambda ()
                  (plug-in-perceptual-compare run-mode image
                                              drawable other network
                                              calibration output layer
                                              colormap opacity)))))
    (if (eq? (car r) 'ok)
        (let ((new (car (cdr r)))
              (distance (cadr (cdr r))))
          (if (not (equal? png ""))
              (file-png-save-defaults RUN-NONINTERACTIVE image new png png))
          (emit name 'ok distance
                (car (gimp-item-get-name new))
                (car (gimp-drawable-width new))
                (car (gimp-drawable-height new))
                (car (gimp-image-get-item-position image new))
                (car (gimp-image-get-item-position image drawable))
                (car (gimp-drawable-has-alpha new))
                (car (gimp-image-get-layers image))))
        (emit name 'error (if (pair? (cdr r)) (cadr r) "")))))
"""

EPILOGUE = r"""
(emit "done" 'ok)
(close-output-port results)
"""


def parse_results(path):
    """{name: [items]} from the lines the script wrote with `write`."""
    token = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))', re.S)
    out = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            items, pos = [], 0
            line = line.rstrip("\n")
            while pos < len(line):
                m = token.match(line, pos)
                if not m or m.end() == pos:
                    break
                pos = m.end()
                if m.group(1) is not None:
                    items.append(re.sub(r"\\(.)", lambda e: {"n": "\n", "t": "\t"}.get(e.group(1), e.group(1)),
                                        m.group(1)))
                else:
                    word = m.group(2)
                    try:
                        items.append(float(word) if re.search(r"[.eE]", word) else int(word))
                    except ValueError:
                        items.append(word)
            if items:
                out[items[0]] = items[1:]
    return out


class Profile:
    """A throw-away GIMP profile with the plug-in and the GEGL module."""

    def __init__(self, root, plugin_exe, gegl_module):
        self.root = root
        self.home = os.path.join(root, "home")
        self.gimpdir = os.path.join(root, "gimp2")
        self.data = os.path.join(root, "data")
        self.config = os.path.join(root, "config")
        for d in (self.home, self.gimpdir, self.data, self.config):
            os.makedirs(d)
        # The folders GIMP writes its resources into at exit.
        for d in ("brushes", "dynamics", "gradients", "palettes", "patterns",
                  "tool-presets", "mypaint-brushes", "fonts"):
            os.makedirs(os.path.join(self.gimpdir, d))
        self.logs = []
        plugin_dir = os.path.join(self.gimpdir, "plug-ins", "perceptual-compare")
        os.makedirs(plugin_dir)
        shutil.copy2(plugin_exe, os.path.join(plugin_dir, "perceptual-compare"))
        module_dir = os.path.join(self.data, "gegl-0.4", "plug-ins")
        os.makedirs(module_dir)
        shutil.copy2(gegl_module, module_dir)

    def env(self, weights_dir):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GEGL_PATH", "GIMP", "XDG_", "LC_", "LANG"))}
        env.update(HOME=self.home, GIMP2_DIRECTORY=self.gimpdir,
                   XDG_DATA_HOME=self.data, XDG_CONFIG_HOME=self.config,
                   XDG_CACHE_HOME=os.path.join(self.root, "cache"),
                   LC_ALL="C.UTF-8", GEGL_PERCEPTUAL_WEIGHTS_PATH=weights_dir,
                   GEGL_SWAP="RAM", GEGL_USE_OPENCL="no")
        return env

    def run(self, label, body, weights_dir):
        """Runs the script in gimp-console; returns the parsed results."""
        results = os.path.join(self.root, label + ".results")
        script = os.path.join(self.root, label + ".scm")
        with open(script, "w", encoding="utf-8") as f:
            f.write(PRELUDE % {"results": scheme_string(results)})
            f.write(body)
            f.write(EPILOGUE)
        cmd = [GIMP, "-i", "-d", "-f", "--batch-interpreter=plug-in-script-fu-eval",
               "-b", "(load %s)" % scheme_string(script), "-b", "(gimp-quit 0)"]
        start = time.monotonic()
        proc = subprocess.run(cmd, env=self.env(weights_dir), capture_output=True,
                              text=True, errors="replace", timeout=300)
        print("-- %s: gimp-console ran %.1f s, exit status %d"
              % (label, time.monotonic() - start, proc.returncode))
        log = proc.stdout + proc.stderr
        check(proc.returncode == 0, "%s: GIMP exits normally" % label)
        check("crashed" not in log.lower(), "%s: no plug-in crashed" % label)
        parsed = parse_results(results) if os.path.exists(results) else {}
        check("done" in parsed, "%s: the script ran to its end" % label)
        self.logs.append("---- %s: gimp-console's output\n%s" % (label, log))
        return parsed


def check_success(results, name, distance, layer_name, size, has_alpha):
    r = results.get(name)
    if not r or r[0] != "ok":
        check(False, "%s: succeeds (got %r)" % (name, r))
        return
    got, got_name, w, h, new_pos, drawable_pos, alpha, _n = r[1:9]
    check(abs(got - distance) <= TOLERANCE,
          "%s: distance %.9f, expected %.9f" % (name, got, distance))
    check(got_name == layer_name, "%s: layer named %r (got %r)" % (name, layer_name, got_name))
    check((w, h) == size, "%s: new layer %dx%d (got %dx%d)" % (name, size[0], size[1], w, h))
    check(new_pos + 1 == drawable_pos,
          "%s: new layer right above the compared one (positions %d, %d)"
          % (name, new_pos, drawable_pos))
    check(alpha == int(has_alpha), "%s: new layer %s alpha" % (name, "has" if has_alpha else "without"))


def check_error(results, name, *fragments):
    r = results.get(name)
    if not r or r[0] != "error":
        check(False, "%s: refused (got %r)" % (name, r))
        return
    message = r[1]
    missing = [f for f in fragments if f not in message]
    check(not missing, "%s: refused with %r" % (name, message)
          + (" (missing %r)" % missing if missing else ""))


def check_gray_png(path, expected, what, width, height):
    """The gray map's pixels are the values, clipped to 0..1, as 8 bits."""
    w, h, rgb = read_png_rgb(path)
    check((w, h) == (width, height), "%s: exported %dx%d" % (what, w, h))
    worst = 0.0
    for i, v in enumerate(expected):
        want = min(max(v, 0.0), 1.0)
        for c in range(3):
            worst = max(worst, abs(rgb[3 * i + c] - want))
    check(worst <= 1.0 / 255 + 1e-6,
          "%s: pixels are the map's values clipped to 0..1 (worst %.4f)" % (what, worst))


def synthetic_cases(profile, root):
    with open(os.path.join(TESTS, "goldens", "goldens.json")) as f:
        case = json.load(f)["cases"][0]
    assert (case["network"], case["calibration"], case["seed"]) == ("squeeze", "lpips-v0.1", 1), \
        "goldens.json changed: case 0 must be squeeze v0.1 seed 1"
    weights = os.path.join(root, "weights-synthetic")
    os.makedirs(weights)
    synth_weights.write_model(os.path.join(weights, "squeeze-lpips-v0.1.safetensors"),
                              "squeeze", "lpips-v0.1", 1)
    w, h = case["width"], case["height"]
    ref, cmp = os.path.join(root, "reference.png"), os.path.join(root, "compared.png")
    write_png(ref, w, h, case["image0"])
    write_png(cmp, w, h, case["image1"])
    small = os.path.join(root, "small.png")
    write_png(small, 20, 17, case["image1"][:3 * 20 * 17])
    png = {k: os.path.join(root, k + ".png") for k in ("heatmap0", "map", "layer3")}
    s = {k: scheme_string(v) for k, v in
         dict(ref=ref, cmp=cmp, small=small, **png).items()}

    body = """
(let* ((pair (load-pair %(ref)s %(cmp)s))
       (image (car pair)) (bottom (cadr pair)) (top (caddr pair)))
  (compare "heatmap" image top -1 0 0 0 1 0 0.7 "")
  (compare "map" image top -1 0 0 1 1 0 0.7 %(map)s)
  (compare "layer3" image top -1 0 0 2 3 0 0.7 %(layer3)s)
  (compare "heatmap-opacity-0" image top bottom 0 0 0 1 4 0.0 %(heatmap0)s)
  (compare "reversed" image bottom top 0 0 2 5 0 0.7 "")
  (compare "itself" image top top 0 0 0 1 0 0.7 "")
  (compare "no-layer-below" image bottom -1 0 0 0 1 0 0.7 "")
  (compare "squeeze-layer-8" image top -1 0 0 2 8 0 0.7 "")
  (compare "alex-layer-6" image top -1 1 0 2 6 0 0.7 "")
  (compare "network-3" image top -1 3 0 0 1 0 0.7 "")
  (compare "opacity-2" image top -1 0 0 0 1 0 2.0 ""))

; Without a dialog: the last values, or the defaults (heatmap, magma).
(let* ((pair (load-pair %(ref)s %(cmp)s)))
  (set! run-mode RUN-WITH-LAST-VALS)
  (compare "last-values" (car pair) (caddr pair) -1 2 2 2 9 9 9.0 "")
  (set! run-mode RUN-NONINTERACTIVE))

(let* ((pair (load-pair %(ref)s %(small)s)))
  (compare "sizes" (car pair) (caddr pair) -1 0 0 0 1 0 0.7 ""))

(let* ((pair (load-pair %(ref)s %(cmp)s)))
  (gimp-layer-set-offsets (caddr pair) 2 1)
  (compare "offsets" (car pair) (caddr pair) -1 0 0 0 1 0 0.7 ""))

(let* ((pair (load-pair %(ref)s %(cmp)s)))
  (gimp-image-convert-grayscale (car pair))
  (compare "grayscale" (car pair) (caddr pair) -1 0 0 0 1 0 0.7 ""))
""" % s
    results = profile.run("synthetic", body, weights)

    d = case["distance"]
    term3 = case["layers"][2]
    label = "(squeeze, lpips-v0.1)"
    check_success(results, "heatmap", d, "Perceptual heatmap %s: %.4f" % (label, d), (w, h), True)
    check_success(results, "map", d, "Perceptual distance map %s: %.4f" % (label, d), (w, h), False)
    check_success(results, "layer3", d, "Layer 3 difference %s: term %.4f" % (label, term3),
                  (w, h), False)
    check_success(results, "reversed", d,
                  "Layer 5 difference %s: term %.4f" % (label, case["layers"][4]), (w, h), False)
    check_success(results, "last-values", d, "Perceptual heatmap %s: %.4f" % (label, d),
                  (w, h), True)
    if os.path.exists(png["map"]):
        check_gray_png(png["map"], case["spatial"], "map", w, h)
    if os.path.exists(png["layer3"]):
        check_gray_png(png["layer3"], case["layer_maps_upsampled"][2], "layer3", w, h)
    if os.path.exists(png["heatmap0"]):
        hw, hh, rgb = read_png_rgb(png["heatmap0"])
        worst = max(abs(a - b / 255.0) for a, b in zip(rgb, case["image0"]))
        check((hw, hh) == (w, h) and worst <= 1e-6,
              "heatmap-opacity-0: the reference (the `other` layer) itself (worst %.4f)" % worst)

    check_error(results, "itself", "compared with itself")
    check_error(results, "no-layer-below", "no layer below")
    check_error(results, "squeeze-layer-8", "SqueezeNet 1.1 has layers 1 to 7", "no layer 8")
    check_error(results, "alex-layer-6", "AlexNet has layers 1 to 5", "no layer 6")
    check_error(results, "network-3", "network", "not 3")
    check_error(results, "opacity-2", "opacity", "between 0 and 1")
    check_error(results, "sizes", "differ in size", "%d×%d" % (w, h), "20×17")
    check_error(results, "offsets", "differ in size or position", "(0, 0)", "(2, 1)")
    check_error(results, "grayscale", "grayscale", "Image > Mode > RGB")


def missing_cases(profile, root, module):
    weights = os.path.join(root, "weights-empty")
    os.makedirs(weights)
    # The build's config.h names the installed model folder, which the op
    # also searches: a model installed there would be found.
    installed = None
    config_h = os.path.join(os.path.dirname(module), "config.h")
    if os.path.exists(config_h):
        with open(config_h) as f:
            m = re.search(r'#define PERCEPTUAL_WEIGHTS_DIR "([^"]*)"', f.read())
            installed = m and m.group(1)
    if installed and os.path.exists(os.path.join(installed, "squeeze-lpips-v0.1.safetensors")):
        print("SKIPPED missing weights: a model is installed in", installed)
        return
    broken = os.path.join(weights, "alex-lpips-v0.1.safetensors")
    with open(broken, "wb") as f:
        f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{not a header}")
    with open(os.path.join(TESTS, "goldens", "goldens.json")) as f:
        case = json.load(f)["cases"][0]
    ref, cmp = os.path.join(root, "reference.png"), os.path.join(root, "compared.png")
    if not os.path.exists(ref):
        write_png(ref, case["width"], case["height"], case["image0"])
        write_png(cmp, case["width"], case["height"], case["image1"])
    # AlexNet needs 31x31 pixels: the broken model is reported before that.
    body = """
(let* ((pair (load-pair %s %s)))
  (compare "missing" (car pair) (caddr pair) -1 0 0 0 1 0 0.7 "")
  (compare "missing-layer" (car pair) (caddr pair) -1 0 0 2 3 0 0.7 "")
  (compare "broken" (car pair) (caddr pair) -1 1 0 1 1 0 0.7 "")
  (emit "layers-after" 'ok (car (gimp-image-get-layers (car pair)))))
""" % (scheme_string(ref), scheme_string(cmp))
    results = profile.run("missing", body, weights)
    check_error(results, "missing", "gegl-perceptual-fetch squeeze --calibration lpips-v0.1")
    check_error(results, "missing-layer", "gegl-perceptual-fetch squeeze --calibration lpips-v0.1")
    check_error(results, "broken", broken)
    check(results.get("layers-after", [None, None])[1] == 2,
          "missing: no layer added by the failed calls")


def real_cases(profile, root):
    mirror = os.environ.get("GEGL_PERCEPTUAL_WEIGHTS_MIRROR", "")
    if not mirror:
        print("SKIPPED real weights: set GEGL_PERCEPTUAL_WEIGHTS_MIRROR to a mirror "
              "of the official files to compare with the official distance")
        return
    # The mirror's folder sits next to the official example images.
    examples = os.path.join(os.path.dirname(os.path.abspath(mirror)), "images", "lpips-examples")
    weights = os.path.join(root, "weights-real")
    os.makedirs(weights)
    model = os.path.join(weights, "squeeze-lpips-v0.1.safetensors")
    subprocess.run([sys.executable, os.path.join(TOP, "weights", "convert"),
                    "--network", "squeeze",
                    "--backbone", os.path.join(mirror, "torchvision", "squeezenet1_1-features.pth"),
                    "--calibration", os.path.join(mirror, "lpips", "v0.1", "squeeze.pth"),
                    "--lpips-version", "0.1", "-o", model],
                   check=True, capture_output=True, timeout=300)
    body = """
(let* ((pair (load-pair %s %s)))
  (compare "official" (car pair) (caddr pair) -1 0 0 0 1 0 0.7 ""))
""" % (scheme_string(os.path.join(examples, "ex_ref.png")),
       scheme_string(os.path.join(examples, "ex_p0.png")))
    results = profile.run("real", body, weights)
    check_success(results, "official", OFFICIAL_DISTANCE,
                  "Perceptual heatmap (squeeze, lpips-v0.1): %.4f" % OFFICIAL_DISTANCE,
                  (64, 64), True)


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: test_gimp.py PLUG-IN-EXECUTABLE GEGL-MODULE")
    if not shutil.which(GIMP):
        print("SKIP: %s (Debian's gimp package) is not installed" % GIMP)
        return 77
    plugin_exe, module = argv[1], argv[2]
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="perc-gimp-") as root:
        profile = Profile(root, plugin_exe, module)
        synthetic_cases(profile, root)
        missing_cases(profile, root, module)
        real_cases(profile, root)
        if failures:
            sys.stdout.write("\n".join(profile.logs))
    print("%d checks failed, %.1f s" % (len(failures), time.monotonic() - start))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

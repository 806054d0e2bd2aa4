"""What the GIMP 2.10 and GIMP 3 tests share: a throw-away GIMP profile with
the plug-in and the GEGL module, running a Script-Fu file in gimp-console,
reading what the script wrote, and the checks.

GIMP 3's console exits 0 even when a script fails, so every test judges by
the lines its script writes (and by "done", its last line)."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(os.path.dirname(HERE))
TOP = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)
sys.path.insert(0, os.path.join(TESTS, "support"))

import synth_weights  # noqa: E402,F401
from pngfile import read_png_rgb, write_png  # noqa: E402,F401

OFFICIAL_DISTANCE = 0.7110476493835449
TOLERANCE = 1e-5

failures = []


def check(condition, what):
    print(("ok      " if condition else "FAILED  ") + what)
    if not condition:
        failures.append(what)


def scheme_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Writing results and catching errors with their message, in any
# Script-Fu: (try thunk) is (ok . value) or (error message ...).
RESULTS = r"""
(define results (open-output-file %(results)s))

(define (emit . items)
  (for-each (lambda (x) (write x results) (display " " results)) items)
  (newline results))

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
    """A throw-away GIMP profile (GIMP 2.10 or 3) with the plug-in and the
    GEGL module, where both GIMP and its plug-ins find them without
    GEGL_PATH."""

    def __init__(self, root, major, plugin_exe, gegl_module):
        self.root, self.major = root, major
        self.home = os.path.join(root, "home")
        self.gimpdir = os.path.join(root, "gimp%d" % major)
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

    def env(self, weights_dir, locale="C.UTF-8"):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GEGL_PATH", "GIMP", "XDG_", "LC_", "LANG"))}
        env.update(HOME=self.home, XDG_DATA_HOME=self.data, XDG_CONFIG_HOME=self.config,
                   XDG_CACHE_HOME=os.path.join(self.root, "cache"),
                   LC_ALL=locale, LANGUAGE="", GEGL_PERCEPTUAL_WEIGHTS_PATH=weights_dir,
                   GEGL_SWAP="RAM", GEGL_USE_OPENCL="no")
        env["GIMP%d_DIRECTORY" % self.major] = self.gimpdir
        return env

    def command(self, script):
        if self.major == 3:
            return ["gimp-console-3.0", "-i", "-n", "--quit",
                    "--batch-interpreter=plug-in-script-fu-eval",
                    "-b", "(load %s)" % scheme_string(script)]
        return ["gimp-console-2.10", "-i", "-d", "-f",
                "--batch-interpreter=plug-in-script-fu-eval",
                "-b", "(load %s)" % scheme_string(script), "-b", "(gimp-quit 0)"]

    def run(self, label, prelude, body, weights_dir, locale="C.UTF-8"):
        """Runs the script in gimp-console; returns the parsed results."""
        results = os.path.join(self.root, label + ".results")
        script = os.path.join(self.root, label + ".scm")
        with open(script, "w", encoding="utf-8") as f:
            f.write(RESULTS % {"results": scheme_string(results)})
            f.write(prelude)
            f.write(body)
            f.write(EPILOGUE)
        start = time.monotonic()
        proc = subprocess.run(self.command(script), env=self.env(weights_dir, locale),
                              capture_output=True, text=True, errors="replace", timeout=300)
        print("-- %s: gimp-console ran %.1f s, exit status %d"
              % (label, time.monotonic() - start, proc.returncode))
        log = proc.stdout + proc.stderr
        check(proc.returncode == 0, "%s: GIMP exits normally" % label)
        check("crashed" not in log.lower(), "%s: no plug-in crashed" % label)
        parsed = parse_results(results) if os.path.exists(results) else {}
        check("done" in parsed, "%s: the script ran to its end" % label)
        self.logs.append("---- %s: gimp-console's output\n%s" % (label, log))
        return parsed


def golden_case():
    with open(os.path.join(TESTS, "goldens", "goldens.json")) as f:
        case = json.load(f)["cases"][0]
    assert (case["network"], case["calibration"], case["seed"]) == ("squeeze", "lpips-v0.1", 1), \
        "goldens.json changed: case 0 must be squeeze v0.1 seed 1"
    return case


def synthetic_weights(root, name="weights-synthetic"):
    """A folder with the synthetic SqueezeNet model of the golden case."""
    weights = os.path.join(root, name)
    os.makedirs(weights)
    synth_weights.write_model(os.path.join(weights, "squeeze-lpips-v0.1.safetensors"),
                              "squeeze", "lpips-v0.1", 1)
    return weights


def installed_model_dir():
    """The installed model folder (the ops search it too)."""
    return os.environ["PERCEPTUAL_TEST_WEIGHTS_DIR"]


def real_model(root, mirror):
    """The real SqueezeNet LPIPS v0.1 model, converted from the mirror, in a
    folder of its own; and the official example images' folder."""
    examples = os.path.join(os.path.dirname(os.path.abspath(mirror)), "images", "lpips-examples")
    weights = os.path.join(root, "weights-real")
    os.makedirs(weights)
    subprocess.run([sys.executable, os.path.join(TOP, "weights", "convert"),
                    "--network", "squeeze",
                    "--backbone", os.path.join(mirror, "torchvision", "squeezenet1_1-features.pth"),
                    "--calibration", os.path.join(mirror, "lpips", "v0.1", "squeeze.pth"),
                    "--lpips-version", "0.1",
                    "-o", os.path.join(weights, "squeeze-lpips-v0.1.safetensors")],
                   check=True, capture_output=True, timeout=300)
    return weights, examples


def check_success(results, name, distance, layer_name, size, has_alpha):
    """A success line: NAME ok DISTANCE LAYER-NAME WIDTH HEIGHT NEW-POSITION
    COMPARED-POSITION HAS-ALPHA ..."""
    r = results.get(name)
    if not r or r[0] != "ok":
        check(False, "%s: succeeds (got %r)" % (name, r))
        return None
    got, got_name, w, h, new_pos, drawable_pos, alpha = r[1:8]
    check(abs(got - distance) <= TOLERANCE,
          "%s: distance %.9f, expected %.9f" % (name, got, distance))
    check(got_name == layer_name, "%s: layer named %r (got %r)" % (name, layer_name, got_name))
    check((w, h) == size, "%s: new layer %dx%d (got %dx%d)" % (name, size[0], size[1], w, h))
    check(new_pos + 1 == drawable_pos,
          "%s: new layer right above the compared one (positions %d, %d)"
          % (name, new_pos, drawable_pos))
    check(alpha == int(has_alpha), "%s: new layer %s alpha" % (name, "has" if has_alpha else "without"))
    return r


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
    if not os.path.exists(path):
        check(False, "%s: exported" % what)
        return
    w, h, rgb = read_png_rgb(path)
    check((w, h) == (width, height), "%s: exported %dx%d" % (what, w, h))
    worst = 0.0
    for i, v in enumerate(expected):
        want = min(max(v, 0.0), 1.0)
        for c in range(3):
            worst = max(worst, abs(rgb[3 * i + c] - want))
    check(worst <= 1.0 / 255 + 1e-6,
          "%s: pixels are the map's values clipped to 0..1 (worst %.4f)" % (what, worst))


def check_same_png(path, reference, what, tolerance=0):
    """Two 8-bit PNGs with the same colours (within `tolerance` levels)."""
    if not (os.path.exists(path) and os.path.exists(reference)):
        check(False, "%s: both images exist" % what)
        return
    w, h, a = read_png_rgb(path)
    rw, rh, b = read_png_rgb(reference)
    worst = max(abs(x - y) for x, y in zip(a, b)) * 255 if (w, h) == (rw, rh) else None
    check(worst is not None and worst <= tolerance + 1e-6,
          "%s: %dx%d, pixels equal within %d levels (worst %s)"
          % (what, w, h, tolerance, worst))


def real_cases(profile, root, prelude, call):
    """With GEGL_PERCEPTUAL_WEIGHTS_MIRROR: the real SqueezeNet LPIPS v0.1
    model on the official example images gives the official distance.
    `call` is the Script-Fu that compares the layers of `pair` (from
    load-pair) as "official"."""
    mirror = os.environ.get("GEGL_PERCEPTUAL_WEIGHTS_MIRROR", "")
    if not mirror:
        print("SKIPPED real weights: set GEGL_PERCEPTUAL_WEIGHTS_MIRROR to a mirror "
              "of the official files to compare with the official distance")
        return
    weights, examples = real_model(root, mirror)
    body = "(let* ((pair (load-pair %s %s)))\n  %s)\n" % (
        scheme_string(os.path.join(examples, "ex_ref.png")),
        scheme_string(os.path.join(examples, "ex_p0.png")), call)
    results = profile.run("real", prelude, body, weights)
    check_success(results, "official", OFFICIAL_DISTANCE,
                  "Perceptual heatmap (squeeze, lpips-v0.1): %.4f" % OFFICIAL_DISTANCE,
                  (64, 64), True)


def main(argv, major, run_cases):
    """The test's main: `run_cases (profile, root, plugin_exe, module)` runs
    every case in a throw-away profile of GIMP `major`."""
    gimp = "gimp-console-3.0" if major == 3 else "gimp-console-2.10"
    if len(argv) != 3:
        sys.exit("usage: %s PLUG-IN-EXECUTABLE GEGL-MODULE" % os.path.basename(argv[0]))
    if not shutil.which(gimp):
        print("SKIP: %s (Debian's gimp package) is not installed" % gimp)
        return 77
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="perc-gimp%d-" % major) as root:
        profile = Profile(root, major, argv[1], argv[2])
        run_cases(profile, root, argv[1], argv[2])
        if failures:
            sys.stdout.write("\n".join(profile.logs))
    print("%d checks failed, %.1f s" % (len(failures), time.monotonic() - start))
    return 1 if failures else 0

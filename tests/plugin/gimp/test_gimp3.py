#!/usr/bin/env python3
"""The GIMP 3 plug-in, headless: gimp-console-3.0 runs Script-Fu that loads
two images as two layers of one image and calls plug-in-perceptual-compare;
the script writes what it got to a file, which this test reads and checks
(GIMP 3.0's console exits 0 even when a script fails).

Usage: test_gimp3.py PLUG-IN-EXECUTABLE GEGL-MODULE

Everything happens in throw-away profiles (GIMP3_DIRECTORY, HOME, XDG_*):
the plug-in is copied into the profile's plug-ins folder and the GEGL module
into $XDG_DATA_HOME/gegl-0.4/plug-ins.

Cases:
  synthetic  a synthetic SqueezeNet model and the first golden case's
             images: each output's distance against the golden one, the
             new layer's name, size and place, the gray maps' pixels
             against the golden maps, the heatmap at opacity 0 against the
             reference; the compared layer stays selected and a result is
             never the default reference; the filter API route
             (gimp-drawable-filter-new, -configure with the weights, colour
             map and opacity, -set-aux-input, gimp-drawable-merge-filter)
             pixel for pixel against the `gegl` command line; every refusal
             (two drawables, a choice that does not exist, grayscale, sizes,
             positions, a transparent border, no layer below, the layer
             itself, a layer the network does not have, a ResNet with an
             LPIPS calibration) with its message and no layer added;
  missing    no model, and a broken one: refused with the op's status;
  german     a German locale: the plug-in's documentation and its messages,
             those that come from the core included, are German;
  real       with GEGL_PERCEPTUAL_WEIGHTS_MIRROR: the real SqueezeNet LPIPS
             v0.1 model and the official example images, distance
             0.7110476493835449 (skipped, and said so, without a mirror).
"""

import os
import subprocess
import sys

from gimptest import (Profile, check, check_error, check_gray_png, check_same_png,  # noqa: E402
                      check_success, golden_case, installed_model_dir, main, read_png_rgb,
                      real_cases, scheme_string, synthetic_weights, write_png)

PRELUDE = r"""
; An image with `reference` as its layer and `compared` above it:
; (image reference-layer compared-layer).
(define (load-pair reference compared)
  (let* ((image (car (gimp-file-load RUN-NONINTERACTIVE reference)))
         (bottom (vector-ref (car (gimp-image-get-layers image)) 0))
         (top (car (gimp-file-load-layer RUN-NONINTERACTIVE image compared))))
    (gimp-image-insert-layer image top 0 -1)
    (list image bottom top)))

(define (n-layers image) (vector-length (car (gimp-image-get-layers image))))

; A layer alone, as an 8-bit PNG.
(define (export-layer layer png)
  (let* ((img (car (gimp-image-new (car (gimp-drawable-get-width layer))
                                   (car (gimp-drawable-get-height layer)) RGB)))
         (copy (car (gimp-layer-new-from-drawable layer img))))
    (gimp-image-insert-layer img copy 0 0)
    (file-png-export #:run-mode RUN-NONINTERACTIVE #:image img #:file png)
    (gimp-image-delete img)))

; Calls the plug-in with positional arguments (GIMP checks the choices)
; and writes one line:
;   NAME ok DISTANCE LAYER-NAME WIDTH HEIGHT NEW-POSITION COMPARED-POSITION
;        HAS-ALPHA COMPARED-STAYS-SELECTED IS-MARKED N-LAYERS
;   NAME error MESSAGE N-LAYERS
; and, on success, exports the new layer to `png` unless it is "".
(define (compare name image drawables reference network calibration output layer
                 colormap opacity png)
  (let ((r (try (lambda ()
                  (plug-in-perceptual-compare RUN-NONINTERACTIVE image drawables reference
                                              network calibration output layer
                                              colormap opacity))))
        (drawable (vector-ref drawables 0)))
    (if (eq? (car r) 'ok)
        (let ((new (car (cdr r)))
              (distance (cadr (cdr r))))
          (if (not (equal? png "")) (export-layer new png))
          (emit name 'ok distance
                (car (gimp-item-get-name new))
                (car (gimp-drawable-get-width new))
                (car (gimp-drawable-get-height new))
                (car (gimp-image-get-item-position image new))
                (car (gimp-image-get-item-position image drawable))
                (car (gimp-drawable-has-alpha new))
                (if (equal? (car (gimp-image-get-selected-layers image)) (vector drawable)) 1 0)
                (if (null? (car (gimp-item-get-parasite-list new))) 0 1)
                (n-layers image)))
        (emit name 'error (if (pair? (cdr r)) (cadr r) "") (n-layers image)))))
"""


def synthetic_cases(profile, root, module):
    case = golden_case()
    weights = synthetic_weights(root)
    model = os.path.join(weights, "squeeze-lpips-v0.1.safetensors")
    w, h = case["width"], case["height"]
    ref, cmp = os.path.join(root, "reference.png"), os.path.join(root, "compared.png")
    write_png(ref, w, h, case["image0"])
    write_png(cmp, w, h, case["image1"])
    small = os.path.join(root, "small.png")
    write_png(small, 20, 17, case["image1"][:3 * 20 * 17])
    png = {k: os.path.join(root, k + ".png")
           for k in ("heatmap0", "map", "layer3", "filter", "filter-magma")}
    s = {k: scheme_string(v) for k, v in
         dict(ref=ref, cmp=cmp, small=small, model=model, **png).items()}

    body = """
(let* ((pair (load-pair %(ref)s %(cmp)s))
       (image (car pair)) (bottom (cadr pair)) (top (caddr pair)) (v (vector top)))
  (compare "heatmap" image v -1 "squeeze" "default" "heatmap" 1 "magma" 0.7 "")
  (compare "map" image v -1 "squeeze" "lpips-v0.1" "distance-map" 1 "magma" 0.7 %(map)s)
  (compare "layer3" image v -1 "squeeze" "default" "layer-difference" 3 "magma" 0.7 %(layer3)s)
  (compare "heatmap-opacity-0" image v bottom "squeeze" "default" "heatmap" 1 "gray" 0.0 %(heatmap0)s)
  (compare "reversed" image (vector bottom) top "squeeze" "default" "layer-difference" 5 "magma" 0.7 "")
  (compare "itself" image v top "squeeze" "default" "heatmap" 1 "magma" 0.7 "")
  (compare "no-layer-below" image (vector bottom) -1 "squeeze" "default" "heatmap" 1 "magma" 0.7 "")
  (compare "two-drawables" image (vector top bottom) -1 "squeeze" "default" "heatmap" 1 "magma" 0.7 "")
  (compare "squeeze-layer-8" image v -1 "squeeze" "default" "layer-difference" 8 "magma" 0.7 "")
  (compare "alex-layer-6" image v -1 "alex" "default" "layer-difference" 6 "magma" 0.7 "")
  (compare "bad-network" image v -1 "squeezenet" "default" "heatmap" 1 "magma" 0.7 "")
  (compare "bad-colormap" image v -1 "squeeze" "default" "heatmap" 1 "jet" 0.7 "")
  (compare "resnet-lpips" image v -1 "resnet18" "lpips-v0.1" "heatmap" 1 "magma" 0.7 "")
  (compare "resnet-missing" image v -1 "resnet18" "default" "heatmap" 1 "magma" 0.7 "")
  ; A copy of the compared layer on top of everything: the layer below it
  ; is a result, so the default reference is the compared layer itself.
  (let ((copy (car (gimp-layer-copy top))))
    (gimp-image-insert-layer image copy 0 0)
    (compare "skips-results" image (vector copy) -1 "squeeze" "default" "heatmap" 1 "magma" 0.7 "")))

; The ops through GIMP 3's filter API, with a property after `weights`.
(let* ((pair (load-pair %(ref)s %(cmp)s)) (bottom (cadr pair)) (top (caddr pair))
       (filter (car (gimp-drawable-filter-new bottom "perceptual:heatmap" ""))))
  (gimp-drawable-filter-configure filter LAYER-MODE-REPLACE 1.0
                                  "weights" %(model)s "colormap" "viridis" "opacity" 0.6)
  (gimp-drawable-filter-set-aux-input filter "aux" top)
  (gimp-drawable-merge-filter bottom filter)
  (export-layer bottom %(filter)s))
(let* ((pair (load-pair %(ref)s %(cmp)s)) (bottom (cadr pair)) (top (caddr pair))
       (filter (car (gimp-drawable-filter-new bottom "perceptual:heatmap" ""))))
  (gimp-drawable-filter-set-aux-input filter "aux" top)
  (gimp-drawable-merge-filter bottom filter)
  (export-layer bottom %(filter-magma)s))

(let* ((pair (load-pair %(ref)s %(small)s)))
  (compare "sizes" (car pair) (vector (caddr pair)) -1 "squeeze" "default" "heatmap" 1 "magma" 0.7 ""))

(let* ((pair (load-pair %(ref)s %(cmp)s)))
  (gimp-layer-set-offsets (caddr pair) 2 1)
  (compare "offsets" (car pair) (vector (caddr pair)) -1 "squeeze" "default" "heatmap" 1 "magma" 0.7 ""))

; What Layer > Layer to Image Size leaves: a transparent border.
(let* ((pair (load-pair %(ref)s %(cmp)s)) (image (car pair)) (top (caddr pair)))
  (gimp-layer-add-alpha top)
  (gimp-image-select-rectangle image CHANNEL-OP-REPLACE 0 0 %(w)d 2)
  (gimp-drawable-edit-clear top)
  (gimp-selection-none image)
  (compare "padding" image (vector top) -1 "squeeze" "default" "heatmap" 1 "magma" 0.7 ""))

(let* ((pair (load-pair %(ref)s %(cmp)s)))
  (gimp-image-convert-grayscale (car pair))
  (compare "grayscale" (car pair) (vector (caddr pair)) -1 "squeeze" "default" "heatmap" 1 "magma" 0.7 ""))
""" % dict(s, w=w)
    results = profile.run("synthetic", PRELUDE, body, weights)

    d = case["distance"]
    label = "(squeeze, lpips-v0.1)"
    for name, layer_name, alpha in (
            ("heatmap", "Perceptual heatmap %s: %.4f" % (label, d), True),
            ("map", "Perceptual distance map %s: %.4f" % (label, d), False),
            ("layer3", "Layer 3 difference %s: term %.4f" % (label, case["layers"][2]), False),
            ("reversed", "Layer 5 difference %s: term %.4f" % (label, case["layers"][4]), False)):
        r = check_success(results, name, d, layer_name, (w, h), alpha)
        if r:
            check(r[8] == 1, "%s: the compared layer stays selected" % name)
            check(r[9] == 1, "%s: the new layer is marked as a result" % name)
    check_success(results, "skips-results", 0.0, "Perceptual heatmap %s: 0.0000" % label,
                  (w, h), True)
    check_gray_png(png["map"], case["spatial"], "map", w, h)
    check_gray_png(png["layer3"], case["layer_maps_upsampled"][2], "layer3", w, h)
    if os.path.exists(png["heatmap0"]):
        hw, hh, rgb = read_png_rgb(png["heatmap0"])
        worst = max(abs(a - b / 255.0) for a, b in zip(rgb, case["image0"]))
        check((hw, hh) == (w, h) and worst <= 1e-6,
              "heatmap-opacity-0: the reference itself (worst %.4f)" % worst)
    else:
        check(False, "heatmap-opacity-0: exported")

    # The same graph from the gegl command line.
    env = dict(os.environ, GEGL_PATH=os.path.dirname(module) + ":" + subprocess.run(
        ["pkg-config", "--variable=pluginsdir", "gegl-0.4"], capture_output=True,
        text=True).stdout.strip(), GEGL_PERCEPTUAL_WEIGHTS_PATH=weights)
    for out, props in (("filter", ["weights=" + model, "colormap=viridis", "opacity=0.6"]),
                       ("filter-magma", [])):
        want = os.path.join(root, out + "-gegl.png")
        subprocess.run(["gegl", ref, "--", "perceptual:heatmap"] + props +
                       ["aux=[", "gegl:load", "path=" + cmp, "]",
                        "gegl:png-save", "path=" + want, "bitdepth=8"],
                       env=env, capture_output=True, timeout=120)
        check_same_png(png[out], want, "filter API (%s) against the gegl command line"
                       % (" ".join(props) or "defaults"))

    for name, fragments in (
            ("itself", ["compared with itself"]),
            ("no-layer-below", ["no layer below"]),
            ("two-drawables", ["select exactly one layer"]),
            ("squeeze-layer-8", ["value 8 out of range: 1 to 7"]),
            ("alex-layer-6", ["AlexNet has layers 1 to 5", "no layer 6"]),
            ("bad-network", ["Invalid value for argument 4"]),
            ("bad-colormap", ["Invalid value for argument 8"]),
            ("resnet-lpips", ["ResNet-18 has no LPIPS calibration"]),
            ("resnet-missing", ["no resnet18 model installed", "gegl-perceptual-fetch resnet18"]),
            ("sizes", ["differ in size", "%d×%d" % (w, h), "20×17", "Layer > Scale Layer"]),
            ("offsets", ["differ in size or position", "(0, 0)", "(2, 1)"]),
            ("padding", ["transparent border", "Layer > Crop to Content"]),
            ("grayscale", ["grayscale", "Image > Mode > RGB"])):
        check_error(results, name, *fragments)
        # The first image had 2 layers and 5 results by then; each later
        # one has its 2 layers.
        before = 2 if name in ("sizes", "offsets", "padding", "grayscale") else 7
        r = results.get(name)
        check(r is not None and r[-1] == before, "%s: no layer added (%r)" % (name, r))


def missing_cases(profile, root, module):
    weights = os.path.join(root, "weights-empty")
    os.makedirs(weights)
    installed = installed_model_dir()
    if installed and os.path.exists(os.path.join(installed, "squeeze-lpips-v0.1.safetensors")):
        print("SKIPPED missing weights: a model is installed in", installed)
        return
    broken = os.path.join(weights, "alex-lpips-v0.1.safetensors")
    with open(broken, "wb") as f:
        f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{not a header}")
    ref, cmp = os.path.join(root, "reference.png"), os.path.join(root, "compared.png")
    body = """
(let* ((pair (load-pair %s %s)) (image (car pair)) (v (vector (caddr pair))))
  (compare "missing" image v -1 "squeeze" "default" "heatmap" 1 "magma" 0.7 "")
  (compare "missing-layer" image v -1 "squeeze" "default" "layer-difference" 3 "magma" 0.7 "")
  (compare "broken" image v -1 "alex" "default" "distance-map" 1 "magma" 0.7 ""))
""" % (scheme_string(ref), scheme_string(cmp))
    results = profile.run("missing", PRELUDE, body, weights)
    check_error(results, "missing", "gegl-perceptual-fetch squeeze --calibration lpips-v0.1")
    check_error(results, "missing-layer", "gegl-perceptual-fetch squeeze --calibration lpips-v0.1")
    check_error(results, "broken", broken)
    check(all(results.get(n, [None, None, 0])[-1] == 2 for n in ("missing", "missing-layer", "broken")),
          "missing: no layer added by the failed calls")


def german_locale(root):
    """LOCPATH and the locale name of a German UTF-8 locale, or None."""
    names = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.split()
    if any(n.lower().replace("-", "") in ("de_de.utf8",) for n in names):
        return None, "de_DE.UTF-8"
    path = os.path.join(root, "locale")
    os.makedirs(path)
    made = subprocess.run(["localedef", "-i", "de_DE", "-f", "UTF-8",
                           os.path.join(path, "de_DE.UTF-8")], capture_output=True)
    if made.returncode not in (0, 1) or not os.path.isdir(os.path.join(path, "de_DE.UTF-8")):
        return False, None
    return path, "de_DE.UTF-8"


def german_cases(root, plugin_exe, module, catalogue):
    locpath, name = german_locale(root)
    if locpath is False:
        print("SKIPPED german: no German locale and localedef cannot make one (Debian's locales)")
        return None
    german = os.path.join(root, "german")
    os.makedirs(german)
    profile = Profile(german, 3, plugin_exe, module)
    # The catalogue the build made, where the plug-in looks for it.
    os.environ["GEGL_PERCEPTUAL_LOCALEDIR"] = catalogue
    if locpath:
        os.environ["LOCPATH"] = locpath
    ref, cmp = os.path.join(root, "reference.png"), os.path.join(root, "compared.png")
    body = """
(let* ((pair (load-pair %s %s)) (image (car pair)) (v (vector (caddr pair))))
  (compare "missing" image v -1 "squeeze" "default" "heatmap" 1 "magma" 0.7 "")
  (gimp-image-convert-grayscale image)
  (compare "grayscale" image v -1 "squeeze" "default" "heatmap" 1 "magma" 0.7 ""))
""" % (scheme_string(ref), scheme_string(cmp))
    empty = os.path.join(german, "weights")
    os.makedirs(empty)
    results = profile.run("german", PRELUDE, body, empty, locale=name)
    del os.environ["GEGL_PERCEPTUAL_LOCALEDIR"]
    os.environ.pop("LOCPATH", None)
    profile.logs.insert(0, "(the German profile)")
    # What the plug-in registered, as GIMP keeps it: its menu label and
    # documentation, translated by the plug-in itself.
    with open(os.path.join(profile.gimpdir, "pluginrc"), encoding="utf-8", errors="replace") as f:
        pluginrc = f.read()
    for text in ("Wahrnehmungs_abstand …", "Zwei Ebenen mit einem gelernten Wahrnehmungsabstand"):
        check(text in pluginrc, "german: the plug-in registers %r" % text)
    check_error(results, "grayscale", "Graustufen", "Bild > Modus > RGB")
    # The core's message, translated too: no English left in it.
    check_error(results, "missing", "Wahrnehmungsabstand nicht verfügbar", "kein squeeze-Modell")
    r = results.get("missing")
    check(r is not None and "installed" not in str(r[1]) and "looked for" not in str(r[1]),
          "german: the core's message has no English in it")
    return profile


def run_cases(profile, root, plugin_exe, module):
    synthetic_cases(profile, root, module)
    missing_cases(profile, root, module)
    catalogue = os.environ["PERCEPTUAL_TEST_LOCALEDIR"]
    german = german_cases(root, plugin_exe, module, catalogue)
    real_cases(profile, root, PRELUDE,
               '(compare "official" (car pair) (vector (caddr pair)) -1 "squeeze" "default" '
               '"heatmap" 1 "magma" 0.7 "")')
    if german:
        profile.logs += german.logs


if __name__ == "__main__":
    sys.exit(main(sys.argv, 3, run_cases))

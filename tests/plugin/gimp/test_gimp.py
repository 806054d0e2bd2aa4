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
             layers of different sizes or positions, a transparent border,
             no layer below, a layer compared with itself, a layer the
             network does not have, arguments out of range, a ResNet with
             an LPIPS calibration); the compared layer stays active, and a
             result layer is never the default reference;
  missing    no model, and a broken one: the call fails with the op's
             status (which names the fetch command) and GIMP goes on;
  real       with GEGL_PERCEPTUAL_WEIGHTS_MIRROR: the real SqueezeNet LPIPS
             v0.1 model and the official example images (in images/
             lpips-examples next to the mirror), distance
             0.7110476493835449 (skipped, and said so, without a mirror).
"""

import os
import sys

from gimptest import (check, check_error, check_gray_png, check_success,  # noqa: E402
                      golden_case, installed_model_dir, main, read_png_rgb, real_cases,
                      scheme_string, synthetic_weights, write_png)


# What every script starts with (after gimptest's results and `try`):
# loading two images as two layers, calling the plug-in.
PRELUDE = r"""
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
;        HAS-ALPHA COMPARED-STAYS-ACTIVE N-LAYERS
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
                (if (= (car (gimp-image-get-active-layer image)) drawable) 1 0)
                (car (gimp-image-get-layers image))))
        (emit name 'error (if (pair? (cdr r)) (cadr r) "")))))
"""

def synthetic_cases(profile, root):
    case = golden_case()
    weights = synthetic_weights(root)
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
  (compare "network-6" image top -1 6 0 0 1 0 0.7 "")
  (compare "resnet-lpips" image top -1 3 0 0 1 0 0.7 "")
  (compare "resnet-missing" image top -1 3 3 0 1 0 0.7 "")
  (compare "opacity-2" image top -1 0 0 0 1 0 2.0 "")
  ; A copy of the compared layer on top of everything: the layer below it
  ; is a result, so the default reference is the compared layer itself.
  (let ((copy (car (gimp-layer-copy top FALSE))))
    (gimp-image-insert-layer image copy 0 0)
    (compare "skips-results" image copy -1 0 0 0 1 0 0.7 "")))

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

; What Layer > Layer to Image Size leaves: a transparent border.
(let* ((pair (load-pair %(ref)s %(cmp)s)) (image (car pair)) (top (caddr pair)))
  (gimp-layer-add-alpha top)
  (gimp-image-select-rectangle image CHANNEL-OP-REPLACE 0 0 %(w)d 2)
  (gimp-edit-clear top)
  (gimp-selection-none image)
  (compare "padding" image top -1 0 0 0 1 0 0.7 ""))

(let* ((pair (load-pair %(ref)s %(cmp)s)))
  (gimp-image-convert-grayscale (car pair))
  (compare "grayscale" (car pair) (caddr pair) -1 0 0 0 1 0 0.7 ""))
""" % dict(s, w=w)
    results = profile.run("synthetic", PRELUDE, body, weights)

    d = case["distance"]
    term3 = case["layers"][2]
    label = "(squeeze, lpips-v0.1)"
    for name, layer_name, alpha in (
            ("heatmap", "Perceptual heatmap %s: %.4f" % (label, d), True),
            ("map", "Perceptual distance map %s: %.4f" % (label, d), False),
            ("layer3", "Layer 3 difference %s: term %.4f" % (label, term3), False),
            ("reversed", "Layer 5 difference %s: term %.4f" % (label, case["layers"][4]), False),
            ("last-values", "Perceptual heatmap %s: %.4f" % (label, d), True)):
        r = check_success(results, name, d, layer_name, (w, h), alpha)
        if r:
            check(r[8] == 1, "%s: the compared layer stays active" % name)
    check_success(results, "skips-results", 0.0, "Perceptual heatmap %s: 0.0000" % label,
                  (w, h), True)
    check_gray_png(png["map"], case["spatial"], "map", w, h)
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
    check_error(results, "network-6", "network", "resnet50 (5)", "not 6")
    check_error(results, "resnet-lpips", "ResNet-18 has no LPIPS calibration")
    check_error(results, "resnet-missing", "no resnet18 model installed",
                "gegl-perceptual-fetch resnet18")
    check_error(results, "opacity-2", "opacity", "between 0 and 1")
    check_error(results, "sizes", "differ in size", "%d×%d" % (w, h), "20×17",
                "Layer > Scale Layer")
    check_error(results, "offsets", "differ in size or position", "(0, 0)", "(2, 1)")
    check_error(results, "padding", "transparent border", "Layer > Crop to Content")
    check_error(results, "grayscale", "grayscale", "Image > Mode > RGB")


def missing_cases(profile, root, module):
    weights = os.path.join(root, "weights-empty")
    os.makedirs(weights)
    # The op also searches the installed model folder: a model installed
    # there would be found.
    installed = installed_model_dir()
    if installed and os.path.exists(os.path.join(installed, "squeeze-lpips-v0.1.safetensors")):
        print("SKIPPED missing weights: a model is installed in", installed)
        return
    broken = os.path.join(weights, "alex-lpips-v0.1.safetensors")
    with open(broken, "wb") as f:
        f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{not a header}")
    case = golden_case()
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
    results = profile.run("missing", PRELUDE, body, weights)
    check_error(results, "missing", "gegl-perceptual-fetch squeeze --calibration lpips-v0.1")
    check_error(results, "missing-layer", "gegl-perceptual-fetch squeeze --calibration lpips-v0.1")
    check_error(results, "broken", broken)
    check(results.get("layers-after", [None, None])[1] == 2,
          "missing: no layer added by the failed calls")


def run_cases(profile, root, plugin_exe, module):
    synthetic_cases(profile, root)
    missing_cases(profile, root, module)
    real_cases(profile, root, PRELUDE,
               '(compare "official" (car pair) (caddr pair) -1 0 0 0 1 0 0.7 "")')


if __name__ == "__main__":
    sys.exit(main(sys.argv, 2, run_cases))

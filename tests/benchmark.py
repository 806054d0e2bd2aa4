#!/usr/bin/python3
"""Side-by-side timing of our LPIPS distance, ONNX Runtime's and PyTorch's, on this machine.

Usage: /usr/bin/python3 tests/benchmark.py [--build DIR] [--quick] [--rounds R]
                                           [--ort-dir DIR] [--install-ort] [--keep-heap]

Needs a built tree (ninja -C build) and Debian's torch/torchvision (hence
/usr/bin/python3); for the ONNX Runtime columns, Node.js and npm's
onnxruntime-node.  Not a test: it measures and prints, and exits 0 whether or
not the speed targets are met.

Three engines, the same synthetic weights, float32, the same thread count:
  * ours: the C core, build/tests/bench-distance --json --runs 1 --cores N
    with BLIS_NUM_THREADS=N, in a subprocess, the size repeated once per
    timed run (so that every timed run's time is reported; each follows its
    own warm-up on the same workspace); its images are the pattern and
    distorted copy it makes before the timing;
  * ONNX Runtime: the reference model below exported to ONNX by torch
    (torch.onnx.export, opset 17, dynamic height and width) once per network
    into the temporary directory, run by tests/bench-ort.mjs under Node.js
    (onnxruntime-node 1.30.0, CPU execution provider, intraOpNumThreads = N,
    interOpNumThreads = 1, graph optimisation 'all'), one subprocess per graph
    and measurement, one warm-up then the timed runs;
  * PyTorch: the independent implementation in tests/reference/
    lpips_reference.py, in this process, torch.set_num_threads(N) before
    every measurement, no_grad, one warm-up then the timed runs.
ORT and PyTorch get two random images in [-1, 1] (the second the first plus
noise); the content does not change the time.

What it does:
  * writes synthetic lpips-v0.1 models (tests/synth_weights.py) to a
    temporary directory (weights do not change the time) and exports each
    network's two graphs: "scalar" is both images through the network,
    normalisation, the lin weights, the spatial mean and the sum over layers;
    "spatial" is the same plus upsampling every layer map bilinearly to the
    input size and summing them (what the official LPIPS code does with
    spatial=True);
  * checks once per network that ORT's graphs compute PyTorch's distance and
    map on the same images, and prints the differences;
  * cases: SqueezeNet, AlexNet and VGG-16 at 64x64, 256x256 and 1024x1024,
    each with 1 and 2 threads (--quick: SqueezeNet 64 and 256, AlexNet 256);
    the timed runs per measurement scale with the work;
  * --rounds R interleaved rounds (default 3): in each, every case
    runs every engine once in turn, the engines' order rotated from round to
    round, so that all of them see the same machine load; per engine and
    case it prints the best and the median of all timed runs of all rounds,
    and how busy other processes kept the machine during the case;
  * our achieved GFLOP/s (counting the multiply-adds of direct convolutions,
    which Winograd's blocks reduce) and its share of the machine's float32
    peak (an estimate from the clock and the vector units: 64 FLOP/cycle/core
    with AVX-512, 32 where AVX-512 runs on 256-bit units, AMD family 25, and
    with AVX2 only);
  * peak memory of the whole process, each engine in a fresh process, one
    spatial distance of SqueezeNet at 2048x2048 with 2 threads, counting the
    two float32 input images on every side (and ours at 8192x8192 where
    bench-distance takes a memory budget; the others' figures extrapolated);
  * a targets table: ours against ORT (>= 1.5x) and PyTorch
    (>= 3x), scalar and spatial, per case and thread count; and
    our speed-up from 1 to 2 threads at 1024x1024 (>= 1.8x);
  * 2AFC throughput on 64x64 triplets (tests/bench_2afc.py): our 2afc
    command on PNG files, ORT and PyTorch in batches of 50 as the official
    evaluation runs them, and its target (>= 2x ORT).

onnxruntime-node is looked for in --ort-dir DIR (a folder holding
node_modules/onnxruntime-node), else $GEGL_PERCEPTUAL_ORT_DIR, else the cache
folder ~/.cache/gegl-perceptual-bench/ort; --install-ort installs it there with
`npm install --ignore-scripts onnxruntime-node@1.30.0` (its install script
only fetches GPU add-ons).  Without Node.js or the package the ORT columns
say so, and everything else still runs.

--keep-heap sets glibc's MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ for
every side, so that freed memory is reused instead of being returned to the
system and faulted in again.  PyTorch allocates every intermediate tensor
afresh; where page faults are expensive (virtual machines) its default
spends a large part of its time in the kernel.  The "sys" columns show it.

Shared machines are noisy: only numbers from the same run should be compared.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "reference"))
sys.path.insert(0, os.path.join(HERE, "support"))

import bench_2afc  # noqa: E402 -- found through the path above

CALIBRATION = "lpips-v0.1"
SEED = 1
TIMEOUT = 1200          # seconds, for any one subprocess

NAMES = {"squeeze": "SqueezeNet 1.1", "alex": "AlexNet", "vgg": "VGG-16"}
SIZES = (64, 256, 1024)
THREAD_COUNTS = (1, 2)
FULL_CASES = [(net, size) for net in ("squeeze", "alex", "vgg") for size in SIZES]
QUICK_CASES = [("squeeze", 64), ("squeeze", 256), ("alex", 256)]
ROUNDS = 3
# Timed runs per measurement (one engine, one case, one round), by size:
# a distance takes milliseconds at 64x64 and up to seconds at 1024x1024.
RUNS = {64: 15, 256: 6, 1024: 2}
VGG_RUNS = {64: 8, 256: 3, 1024: 1}     # VGG-16 does ~20 times SqueezeNet's work
MAX_SIZES = 16          # bench-distance takes at most 16 sizes per command

ENGINES = ("ours", "ort", "torch")
LABELS = {"ours": "ours", "ort": "ORT", "torch": "PyTorch"}
ORT_TARGET = 1.5        # ORT time / ours, scalar and spatial, every case
TORCH_TARGET = 3.0      # PyTorch time / ours
SCALING_TARGET = 1.8    # ours, 1 thread / 2 threads, at 1024x1024
SCALING_SIZE = 1024

ORT_VERSION = "1.30.0"
ORT_PACKAGE = "onnxruntime-node"
ORT_ENV = "GEGL_PERCEPTUAL_ORT_DIR"
ORT_CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                         "gegl-perceptual-bench", "ort")
ORT_SCRIPT = os.path.join(HERE, "bench-ort.mjs")
OPSET = 17
TRACE_SIZE = 64         # the size the ONNX graphs are traced at (dynamic anyway)
CHECK_SIZE = 128        # ORT against PyTorch, at a size the graphs were not traced at

MEMORY_SIZE = 2048
MEMORY_THREADS = 2
LARGE_SIZE = 8192
BUDGET_MIB = 512
KEEP_HEAP_ENV = {"MALLOC_MMAP_THRESHOLD_": str(1 << 34), "MALLOC_TRIM_THRESHOLD_": str(1 << 34)}


def runs_for(network, size):
    table = VGG_RUNS if network == "vgg" else RUNS
    return table.get(size, 1 if size > 1024 else 3)


# --------------------------------------------------------------------------
# Work: multiply-adds of the convolutions up to the last LPIPS tap.

def _conv_out(n, k, stride, pad):
    return (n + 2 * pad - k) // stride + 1


def _pool_out(n, k, stride, ceil_mode):
    """torch.nn.MaxPool2d's output size (no padding, dilation 1)."""
    if not ceil_mode:
        return (n - k) // stride + 1
    out = -(-(n - k) // stride) + 1
    if (out - 1) * stride >= n:         # the last window must start inside the input
        out -= 1
    return out


# Layers of torchvision's `features` up to the last tap:
#   ("conv", in, out, k, stride, pad), ("pool", k, stride, ceil_mode),
#   ("fire", in, squeeze, expand1x1, expand3x3)       (ReLUs do no multiply-adds)
ARCHS = {
    "squeeze": [("conv", 3, 64, 3, 2, 0), ("pool", 3, 2, True),
                ("fire", 64, 16, 64, 64), ("fire", 128, 16, 64, 64), ("pool", 3, 2, True),
                ("fire", 128, 32, 128, 128), ("fire", 256, 32, 128, 128), ("pool", 3, 2, True),
                ("fire", 256, 48, 192, 192), ("fire", 384, 48, 192, 192),
                ("fire", 384, 64, 256, 256), ("fire", 512, 64, 256, 256)],
    "alex": [("conv", 3, 64, 11, 4, 2), ("pool", 3, 2, False),
             ("conv", 64, 192, 5, 1, 2), ("pool", 3, 2, False),
             ("conv", 192, 384, 3, 1, 1), ("conv", 384, 256, 3, 1, 1),
             ("conv", 256, 256, 3, 1, 1)],
    "vgg": [("conv", 3, 64, 3, 1, 1), ("conv", 64, 64, 3, 1, 1), ("pool", 2, 2, False),
            ("conv", 64, 128, 3, 1, 1), ("conv", 128, 128, 3, 1, 1), ("pool", 2, 2, False),
            ("conv", 128, 256, 3, 1, 1), ("conv", 256, 256, 3, 1, 1),
            ("conv", 256, 256, 3, 1, 1), ("pool", 2, 2, False),
            ("conv", 256, 512, 3, 1, 1), ("conv", 512, 512, 3, 1, 1),
            ("conv", 512, 512, 3, 1, 1), ("pool", 2, 2, False),
            ("conv", 512, 512, 3, 1, 1), ("conv", 512, 512, 3, 1, 1),
            ("conv", 512, 512, 3, 1, 1)],
}


def multiply_adds(network, height, width):
    """Multiply-adds of all convolutions for one image of height x width:
    sum over convolutions of output positions x out x in x k x k."""
    h, w, total = height, width, 0

    def conv(cin, cout, k, stride, pad):
        nonlocal h, w, total
        h, w = _conv_out(h, k, stride, pad), _conv_out(w, k, stride, pad)
        total += h * w * cout * cin * k * k

    for layer in ARCHS[network]:
        kind = layer[0]
        if kind == "conv":
            conv(*layer[1:])
        elif kind == "pool":
            _, k, stride, ceil_mode = layer
            h, w = _pool_out(h, k, stride, ceil_mode), _pool_out(w, k, stride, ceil_mode)
        else:                                   # fire: squeeze, then both expands
            _, cin, s, e1, e3 = layer
            conv(cin, s, 1, 1, 0)
            hs, ws = h, w
            conv(s, e1, 1, 1, 0)
            h, w = hs, ws
            conv(s, e3, 3, 1, 1)
    return total


def gflop_per_distance(network, size):
    """2 x multiply-adds for both images, in GFLOP."""
    return 2 * 2 * multiply_adds(network, size, size) / 1e9


# --------------------------------------------------------------------------
# The machine.

def cpu_info():
    mhz, flags, model, cores = [], set(), "unknown", set()
    vendor, family = "unknown", None
    physical = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "cpu MHz":
                    mhz.append(float(value))
                elif key == "flags" and not flags:
                    flags = set(value.split())
                elif key == "model name" and model == "unknown":
                    model = value
                elif key == "vendor_id" and vendor == "unknown":
                    vendor = value
                elif key == "cpu family" and family is None:
                    try:
                        family = int(value)
                    except ValueError:
                        pass
                elif key == "physical id":
                    physical = value
                elif key == "core id":
                    cores.add((physical, value))
    except OSError:
        pass
    n_cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    n_cores = min(len(cores) or n_cpus, n_cpus)
    return {
        "model": model,
        "vendor": vendor,
        "family": family,
        "mhz": sum(mhz) / len(mhz) if mhz else None,
        "avx512f": "avx512f" in flags,
        "cores": n_cores,
        "cpus": n_cpus,
    }


def flop_per_cycle(cpu):
    """float32 FLOP per cycle and core (two FMA units), and why.

    AMD's family 25 (Zen 3, Zen 4) executes AVX-512 on 256-bit units: it
    reports avx512f but does no more per cycle than with AVX2."""
    if cpu["avx512f"]:
        if cpu["vendor"] == "AuthenticAMD" and cpu["family"] == 25:
            return 32, "AVX-512 on 256-bit units (AMD family 25)"
        return 64, "AVX-512"
    return 32, "AVX2"


def peak_gflops(cpu, threads):
    """float32 peak of the cores `threads` threads use, or None."""
    if not cpu["mhz"]:
        return None
    return min(cpu["cores"], threads) * cpu["mhz"] / 1000.0 * flop_per_cycle(cpu)[0]


class LoadMeter:
    """CPU time other processes used while a measurement ran, in cores.

    Busy time of the whole machine (/proc/stat) minus this process's and its
    finished children's CPU time, divided by the wall-clock time.
    """

    def __init__(self):
        self.start = self._sample()

    @staticmethod
    def _sample():
        busy = None
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
            idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
            busy = (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            pass
        own = 0.0
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            u = resource.getrusage(who)
            own += u.ru_utime + u.ru_stime
        return time.monotonic(), busy, own

    def totals(self):
        """(CPU seconds of other processes, wall-clock seconds) so far, or None."""
        (t0, b0, o0), (t1, b1, o1) = self.start, self._sample()
        if b0 is None or b1 is None or t1 <= t0:
            return None
        return max(0.0, (b1 - b0) - (o1 - o0)), t1 - t0

    def others(self):
        totals = self.totals()
        return totals[0] / totals[1] if totals else None


def cpu_seconds(who):
    """(user, system) CPU seconds of this process or of its waited-for children."""
    u = resource.getrusage(who)
    return u.ru_utime, u.ru_stime


def fresh(cmd):
    """`cmd` run from a small intermediate shell.

    Linux carries a process's peak RSS (ru_maxrss) over from the process it
    was forked from: a child of this (large) Python process would report at
    least this process's size.  The shell is forked from us, but `cmd` is
    forked from the shell ("; exit" keeps the shell from exec'ing it), so its
    ru_maxrss is its own.
    """
    return ["/bin/sh", "-c", '"$0" "$@"; exit $?'] + list(cmd)


def run_json(cmd, env=None, timeout=TIMEOUT):
    """Run `cmd` (in a fresh process); returns (JSON objects it printed, one
    a line, None) or (None, error text)."""
    try:
        p = subprocess.run(fresh(cmd), env=env, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timed out after %d s" % timeout
    except OSError as e:
        return None, str(e)
    if p.returncode != 0:
        return None, "exit status %d: %s" % (p.returncode,
                                            (p.stderr or p.stdout).strip()[-500:])
    objects = []
    for line in p.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                objects.append(json.loads(line))
            except ValueError:
                pass
    if not objects:
        return None, "no JSON result in its output: %r" % p.stdout[-300:]
    return objects, None


# --------------------------------------------------------------------------
# PyTorch side.

def torch_setup(threads=MEMORY_THREADS):
    import torch
    torch.set_num_threads(threads)
    return torch


def torch_model(network, tensors):
    import lpips_reference as ref
    return ref.Reference(network, CALIBRATION, tensors).float()


def torch_images(torch, size, seed=SEED):
    g = torch.Generator().manual_seed(seed)
    x0 = torch.rand(1, 3, size, size, generator=g, dtype=torch.float32) * 2 - 1
    noise = (torch.rand(1, 3, size, size, generator=g, dtype=torch.float32) * 2 - 1) * 0.2
    x1 = (x0 + noise).clamp(-1, 1)
    return x0.contiguous(), x1.contiguous()


def _layer_maps(model, x0, x1):
    import torch.nn.functional as F
    f0 = model.taps(x0)
    f1 = model.taps(x1)
    for k, (a, b) in enumerate(zip(f0, f1)):
        d = (model.normalize(a) - model.normalize(b)) ** 2
        yield F.conv2d(d, model.lin[k].weight.view(1, -1, 1, 1))      # N x 1 x h x w


def torch_scalar(model, x0, x1):
    """Both images through the network, normalise, lin, spatial mean, sum."""
    total = None
    for m in _layer_maps(model, x0, x1):
        term = m.mean(dim=(2, 3))
        total = term if total is None else total + term
    return total


def torch_spatial(model, x0, x1):
    """As torch_scalar, plus every layer map upsampled to the input size and summed."""
    import torch.nn.functional as F
    size = x0.shape[2:]
    total = spatial = None
    for m in _layer_maps(model, x0, x1):
        term = m.mean(dim=(2, 3))
        total = term if total is None else total + term
        up = F.interpolate(m, size=size, mode="bilinear", align_corners=False)
        spatial = up if spatial is None else spatial + up
    return total, spatial


def torch_times(torch, model, size, runs, threads):
    """{"scalar": [times], "spatial": [times]}: `runs` timed runs of each
    after one warm-up, in `threads` threads."""
    torch.set_num_threads(threads)
    x0, x1 = torch_images(torch, size)
    times = {}
    with torch.no_grad():
        torch_spatial(model, x0, x1)                    # warm-up (covers both)
        for name, fn in (("scalar", torch_scalar), ("spatial", torch_spatial)):
            times[name] = []
            for _ in range(runs):
                t0 = time.perf_counter()
                fn(model, x0, x1)
                times[name].append(time.perf_counter() - t0)
    return times


def torch_peak_helper(network, size, threads):
    """Run in a fresh process: one spatial distance (which includes the
    scalar one); prints the process's peak resident memory as JSON."""
    torch = torch_setup(threads)
    import synth_weights
    model = torch_model(network, synth_weights.make_tensors(network, CALIBRATION, SEED))
    x0, x1 = torch_images(torch, size)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    with torch.no_grad():
        t0 = time.perf_counter()
        torch_spatial(model, x0, x1)
        t1 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"network": network, "size": size, "threads": torch.get_num_threads(),
                      "peak_rss_mib": round(peak, 1), "before_mib": round(before, 1),
                      "spatial_s": t1 - t0}))
    return 0


def run_torch_peak(network, size, threads):
    cmd = [sys.executable, os.path.abspath(__file__), "--torch-peak-helper", network,
           str(size), "--helper-threads", str(threads)]
    objects, err = run_json(cmd)
    return (objects[-1], None) if objects else (None, err)


# --------------------------------------------------------------------------
# ONNX Runtime side.

class _Graph:
    """torch modules of the two graphs exported to ONNX (made lazily: torch
    is imported by the caller)."""

    @staticmethod
    def make(torch, model, kind):
        class Scalar(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, x0, x1):
                return torch_scalar(self.m, x0, x1)

        class Spatial(Scalar):
            def forward(self, x0, x1):
                return torch_spatial(self.m, x0, x1)

        return (Scalar if kind == "scalar" else Spatial)(model).eval()


def export_onnx(torch, model, kind, path):
    """Export `model`'s scalar or spatial graph to `path` (opset 17, float32,
    inputs x0 and x1 of dynamic batch, height and width; outputs "distance"
    and, for the spatial graph, "spatial")."""
    x0, x1 = torch_images(torch, TRACE_SIZE)
    outputs = ["distance"] if kind == "scalar" else ["distance", "spatial"]
    axes = {name: {0: "batch", 2: "height", 3: "width"} for name in ("x0", "x1")}
    axes["distance"] = {0: "batch"}
    if kind == "spatial":
        axes["spatial"] = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Graph.make(torch, model, kind), (x0, x1), path,
                          opset_version=OPSET, input_names=["x0", "x1"],
                          output_names=outputs, dynamic_axes=axes)
    return path


def _ort_version(folder):
    try:
        with open(os.path.join(folder, "node_modules", ORT_PACKAGE, "package.json")) as f:
            return json.load(f).get("version") or "?"
    except (OSError, ValueError):
        return None


def install_ort(folder):
    """npm install --ignore-scripts onnxruntime-node@ORT_VERSION into `folder`;
    returns None or an error text."""
    npm = shutil.which("npm")
    if not npm:
        return "npm not found (install Node.js 20 and npm)"
    os.makedirs(folder, exist_ok=True)
    manifest = os.path.join(folder, "package.json")
    if not os.path.exists(manifest):
        # Without a package.json npm may pick a parent folder as the project.
        with open(manifest, "w") as f:
            json.dump({"name": "gegl-perceptual-bench-ort", "private": True,
                       "description": "onnxruntime-node for tests/benchmark.py"}, f, indent=2)
    cmd = [npm, "install", "--prefix", folder, "--ignore-scripts", "--no-audit", "--no-fund",
           "--save-exact", "%s@%s" % (ORT_PACKAGE, ORT_VERSION)]
    progress("installing %s %s into %s (%s)" % (ORT_PACKAGE, ORT_VERSION, folder,
                                                " ".join(cmd[1:])))
    try:
        p = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return "npm install timed out after 900 s"
    if p.returncode != 0:
        return "npm install failed (exit status %d): %s" % (
            p.returncode, (p.stderr or p.stdout).strip()[-600:])
    if not _ort_version(folder):
        return "npm install did not leave node_modules/%s in %s" % (ORT_PACKAGE, folder)
    return None


def find_ort(ort_dir, install):
    """{"node", "dir", "version", "how"} of a usable ORT, or (None, why not)."""
    how_to = ("run with --install-ort (npm install --ignore-scripts %s@%s into %s), or "
              "give --ort-dir DIR or %s=DIR, DIR holding node_modules/%s"
              % (ORT_PACKAGE, ORT_VERSION, ORT_CACHE, ORT_ENV, ORT_PACKAGE))
    node = shutil.which("node")
    if not node:
        return None, ("not installed: Node.js (node) not found; install Node.js 20 "
                      "(apt-get install nodejs npm), then " + how_to)
    if not os.path.exists(ORT_SCRIPT):
        return None, "not available: %s is missing" % ORT_SCRIPT
    candidates = []
    if ort_dir:
        candidates.append((os.path.abspath(ort_dir), "--ort-dir"))
    if os.environ.get(ORT_ENV):
        candidates.append((os.path.abspath(os.environ[ORT_ENV]), ORT_ENV))
    candidates.append((ORT_CACHE, "the cache folder"))
    for folder, how in candidates:
        version = _ort_version(folder)
        if version:
            return {"node": node, "dir": folder, "version": version, "how": how}, None
    if install:
        err = install_ort(ORT_CACHE)
        if err:
            return None, "not installed: " + err
        return {"node": node, "dir": ORT_CACHE, "version": _ort_version(ORT_CACHE),
                "how": "installed now by --install-ort"}, None
    return None, ("not installed: no node_modules/%s in %s; %s"
                  % (ORT_PACKAGE, ", ".join(f for f, _ in candidates), how_to))


def run_ort(ort, model_path, size, threads, runs, extra=()):
    """tests/bench-ort.mjs on one graph; returns (its JSON result, None) or
    (None, error text)."""
    cmd = ([ort["node"], ORT_SCRIPT, "--ort-dir", ort["dir"], "--seed", str(SEED)]
           + list(extra) + [model_path, str(size), str(threads), str(runs)])
    objects, err = run_json(cmd)
    if err:
        return None, err
    result = objects[-1]
    if not isinstance(result.get("times_s"), list) or len(result["times_s"]) != runs:
        return None, "unexpected output %r" % (result,)
    return result, None


def ort_times(ort, graphs, size, runs, threads):
    """{"scalar": [times], "spatial": [times]}, error text or None."""
    times = {}
    for kind in ("scalar", "spatial"):
        result, err = run_ort(ort, graphs[kind], size, threads, runs)
        if err:
            return None, "%s graph: %s" % (kind, err)
        times[kind] = result["times_s"]
    return times, None


def ort_check(torch, ort, model, graphs, tmp):
    """ORT's graphs against PyTorch on the same images at CHECK_SIZE; returns
    ({"distance", "scalar", "spatial_distance", "map"} differences, None) or
    (None, error text)."""
    x0, x1 = torch_images(torch, CHECK_SIZE)
    with torch.no_grad():
        distance, spatial = torch_spatial(model, x0, x1)
    images = os.path.join(tmp, "check-images.f32")
    with open(images, "wb") as f:
        f.write(x0.numpy().tobytes())
        f.write(x1.numpy().tobytes())
    out = {"distance": float(distance.flatten()[0])}
    for kind in ("scalar", "spatial"):
        dump = os.path.join(tmp, "check-%s.f32" % kind)
        result, err = run_ort(ort, graphs[kind], CHECK_SIZE, MEMORY_THREADS, 0,
                              ("--images", images, "--dump", dump))
        if err:
            return None, "%s graph: %s" % (kind, err)
        with open(dump, "rb") as f:
            values = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
        os.unlink(dump)
        d = abs(float(values[0]) - out["distance"])
        if kind == "scalar":
            out["scalar"] = d
        else:
            out["spatial_distance"] = d
            if values.numel() != 1 + spatial.numel():
                return None, "spatial graph: %d map values, expected %d" % (
                    values.numel() - 1, spatial.numel())
            out["map"] = float((values[1:] - spatial.flatten()).abs().max())
            out["map_max"] = float(spatial.abs().max())
    os.unlink(images)
    return out, None


# --------------------------------------------------------------------------
# Our side.

def ours_env(threads):
    env = dict(os.environ)
    env["BLIS_NUM_THREADS"] = str(threads)
    return env


def _ours_results(objects, size):
    out = []
    for result in objects:
        if result.get("size") != size:
            continue
        for key in ("scalar_s", "spatial_s"):
            if not isinstance(result.get(key), (int, float)) or result[key] > 1e9:
                result[key] = None
        out.append(result)
    return out


def run_ours(binary, model_path, size, runs, threads, extra=()):
    """bench-distance at one size (best of `runs`); returns (result dict,
    None) or (None, error text)."""
    cmd = ([binary, "--json", "--runs", str(runs), "--cores", str(threads)] + list(extra)
           + [model_path, str(size)])
    objects, err = run_json(cmd, env=ours_env(threads))
    results = _ours_results(objects or [], size)
    if err or not results:
        return None, err or "no result for %dx%d" % (size, size)
    return results[0], None


def ours_times(binary, model_path, size, runs, threads):
    """`runs` timed runs of ours (bench-distance --runs 1 with the size
    repeated, up to MAX_SIZES a command): ({"scalar": [...], "spatial":
    [...]}, the last result, None) or (None, None, error text)."""
    times = {"scalar": [], "spatial": []}
    last = None
    left = runs
    while left > 0:
        k = min(left, MAX_SIZES)
        cmd = ([binary, "--json", "--runs", "1", "--cores", str(threads), model_path]
               + [str(size)] * k)
        objects, err = run_json(cmd, env=ours_env(threads))
        if err:
            return None, None, err
        results = _ours_results(objects, size)
        if len(results) != k or any(r["scalar_s"] is None or r["spatial_s"] is None
                                    for r in results):
            return None, None, "expected %d results, got %r" % (k, objects[-3:])
        for r in results:
            times["scalar"].append(r["scalar_s"])
            times["spatial"].append(r["spatial_s"])
        last = results[-1]
        left -= k
    return times, last, None


def ours_has_budget(binary):
    try:
        p = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return False
    return "--budget" in (p.stdout + p.stderr)


# --------------------------------------------------------------------------
# Output.

def progress(text):
    print("... " + text, file=sys.stderr, flush=True)


def fmt_time(t):
    if t is None:
        return "-"
    if t < 0.01:
        return "%.2f ms" % (t * 1e3)
    return "%.1f ms" % (t * 1e3) if t < 1 else "%.3f s" % t


def fmt_pct(x):
    return "%.0f%%" % (100 * x) if x is not None else "-"


def fmt_mib(x):
    return "%.0f MiB" % x if x is not None else "-"


def best(times):
    return min(times) if times else None


def median(times):
    return statistics.median(times) if times else None


def tile_of(result):
    """bench-distance's tile side, or None if it ran the image whole (or did not say)."""
    tile = (result or {}).get("tile")
    return tile if tile and tile < result["size"] else None


def print_table(rows, header, align=None):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    align = align or ["<"] + [">"] * (len(header) - 1)

    def line(r):
        return "  ".join("%*s" % (w if a == ">" else -w, c)
                         for c, w, a in zip(r, widths, align)).rstrip()

    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def say(label, text, width=88, indent=10):
    """`label` and `text` wrapped to `width`, continued lines indented."""
    print(textwrap.fill(text, width, initial_indent=label.ljust(indent),
                        subsequent_indent=" " * indent, break_on_hyphens=False,
                        break_long_words=False))


def case_label(net, size, threads=None):
    text = "%s %dx%d" % (NAMES[net], size, size)
    return text if threads is None else text + ", %d thread%s" % (threads, "s" * (threads > 1))


def ratio_status(slow, fast, goal):
    """"2.10x met" for slow / fast against goal, or a reason."""
    if not fast or not slow:
        return "-"
    r = slow / fast
    return "%.2fx %s" % (r, "met" if r >= goal else "NOT MET")


# --------------------------------------------------------------------------

def measure(engine, rec, ctx):
    """One measurement of `engine` on the case `rec` (all its timed runs of
    one round), added to rec."""
    net, size, threads, runs = rec["network"], rec["size"], rec["threads"], rec["runs"]
    children = engine != "torch"
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    c0 = cpu_seconds(who)
    err = None
    if engine == "ours":
        times, last, err = ours_times(ctx["binary"], ctx["models"][net], size, runs, threads)
        if last:
            rec["ours"] = last
            if last.get("blis") and last["blis"] not in ctx["blis_lines"]:
                ctx["blis_lines"].append(last["blis"])
    elif engine == "ort":
        graphs = ctx["graphs"].get(net)
        if not graphs:
            times, err = None, ctx["ort_errors"].get(net, "no ONNX graphs")
        else:
            times, err = ort_times(ctx["ort"], graphs, size, runs, threads)
    else:
        try:
            times = torch_times(ctx["torch"], ctx["torch_models"][net], size, runs, threads)
        except (RuntimeError, MemoryError) as e:
            times, err = None, "%s: %s" % (type(e).__name__, str(e)[:300])
    c1 = cpu_seconds(who)
    if err:
        rec["errors"][engine] = err
        return
    for kind in ("scalar", "spatial"):
        rec["times"][engine][kind].extend(times[kind])
    cpu = rec["cpu"][engine]
    cpu[0] += c1[0] - c0[0]
    cpu[1] += c1[1] - c0[1]


def twoafc_rounds(args, ctx, engines, networks, tmp):
    """2AFC throughput (bench_2afc.py), interleaved rounds as the speed's:
    {(network, threads): {"ours", "ours_reading", "ort", "torch": [seconds
    per triplet], "errors": {}}}."""
    cli = os.path.join(args.build, "plugin", "cli", "gegl-perceptual")
    nets = networks[:1] if args.quick else networks
    out = {(net, t): {"ours": [], "ours_reading": [], "ort": [], "torch": [], "errors": {},
                      "others_cpu": 0.0, "wall": 0.0}
           for net in nets for t in THREAD_COUNTS}
    progress("2AFC: writing %d triplets of %dx%d PNG files"
             % (bench_2afc.TRIPLETS, bench_2afc.SIZE, bench_2afc.SIZE))
    folder = bench_2afc.make_set(os.path.join(tmp, "bapps"))
    for rnd in range(args.rounds):
        k = rnd % len(engines)
        order = engines[k:] + engines[:k]
        for (net, threads), rec in out.items():
            meter = LoadMeter()
            for engine in order:
                if engine in rec["errors"]:
                    continue
                progress("round %d/%d, 2AFC %s, %d thread%s: %s"
                         % (rnd + 1, args.rounds, NAMES[net], threads, "s" * (threads > 1),
                            LABELS[engine]))
                err = None
                if engine == "ours":
                    times, err = bench_2afc.ours(cli, ctx["models"][net], folder, threads,
                                                 ours_env(1))
                    if times:
                        rec["ours"].append(times[0])
                        rec["ours_reading"].append(times[1])
                elif engine == "ort":
                    graphs = ctx["graphs"].get(net)
                    if not graphs:
                        err = ctx["ort_errors"].get(net, "no ONNX graphs")
                    else:
                        times, err = bench_2afc.ort(run_ort, ctx["ort"], graphs["scalar"],
                                                    threads)
                        if times:
                            rec["ort"].extend(times)
                else:
                    rec["torch"].extend(bench_2afc.torch_times(
                        ctx["torch"], ctx["torch_models"][net], torch_scalar, threads))
                if err:
                    rec["errors"][engine] = err
            totals = meter.totals()
            if totals:
                rec["others_cpu"] += totals[0]
                rec["wall"] += totals[1]
    return out


def twoafc_report(ort, twoafc):
    print("2AFC throughput: %dx%d triplets, time per triplet (two distances), best and median"
          % (bench_2afc.SIZE, bench_2afc.SIZE))
    rows = []
    targets = []
    for (net, threads), rec in twoafc.items():
        cells = [NAMES[net], str(threads)]
        for engine in ("ours", "ours_reading", "ort", "torch"):
            times = rec[engine]
            name = "ours" if engine == "ours_reading" else engine
            if not times:
                cells += ["not installed" if engine == "ort" and not ort else
                          "%s failed" % LABELS[name] if name in rec["errors"] else "-", ""]
            else:
                cells += [fmt_time(best(times)), fmt_time(median(times))]
        others = rec["others_cpu"] / rec["wall"] if rec["wall"] else None
        cells.append("%.2f" % others if others is not None else "?")
        rows.append(cells)
        ours_best, ort_best = best(rec["ours"]), best(rec["ort"])
        targets.append(["2AFC %s, %d thread%s" % (NAMES[net], threads, "s" * (threads > 1)),
                        ratio_status(ort_best, ours_best, bench_2afc.TARGET)
                        if ours_best and ort_best else
                        "not installed" if not ort else "-"])
    print_table(rows, ["network", "thr", "ours best", "median", "+ reading", "median",
                       "ORT best", "median", "PyTorch best", "median", "others"],
                ["<", ">", ">", ">", ">", ">", ">", ">", ">", ">", ">"])
    print(textwrap.fill(
        "ours = gegl-perceptual 2afc on %d triplets of PNG files (its own threads, one "
        "triplet per thread at a time), its time without reading the images (+ reading: "
        "with it); ORT and PyTorch = batches of %d triplets in memory, the scalar graph "
        "run twice per batch, (ref, p0) and (ref, p1), as the official LPIPS evaluation "
        "does; %d batches per measurement" % (bench_2afc.TRIPLETS, bench_2afc.BATCH,
                                               bench_2afc.RUNS), 88))
    print()
    print("Target: 2AFC throughput >= %.1fx ORT's (ours without reading; ORT in batches "
          "of %d)" % (bench_2afc.TARGET, bench_2afc.BATCH))
    print_table(targets, ["case", "vs ORT"], ["<", ">"])
    print()


def main(argv=None):
    p = argparse.ArgumentParser(description="Time our LPIPS distance against ONNX Runtime's "
                                "and PyTorch's, side by side.")
    p.add_argument("--build", default=os.path.join(TOP, "build"), metavar="DIR",
                   help="meson build directory (default: %(default)s)")
    p.add_argument("--quick", action="store_true",
                   help="only SqueezeNet at 64x64 and 256x256 and AlexNet at 256x256 (1 and "
                   "2 threads), and no 8192x8192 memory run")
    p.add_argument("--rounds", type=int, default=ROUNDS, metavar="R",
                   help="interleaved rounds: each runs every case on every engine once "
                   "(default: %(default)s)")
    p.add_argument("--ort-dir", metavar="DIR",
                   help="a folder holding node_modules/%s (default: $%s, else %s)"
                   % (ORT_PACKAGE, ORT_ENV, ORT_CACHE))
    p.add_argument("--install-ort", action="store_true",
                   help="if %s is not found, install it into %s with npm install "
                   "--ignore-scripts %s@%s" % (ORT_PACKAGE, ORT_CACHE, ORT_PACKAGE, ORT_VERSION))
    p.add_argument("--keep-heap", action="store_true",
                   help="set glibc's malloc thresholds so that freed memory is reused "
                   "(every side; see the module docstring)")
    p.add_argument("--torch-peak-helper", nargs=2, metavar=("NETWORK", "SIZE"),
                   help=argparse.SUPPRESS)
    p.add_argument("--helper-threads", type=int, default=MEMORY_THREADS, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.torch_peak_helper:
        return torch_peak_helper(args.torch_peak_helper[0], int(args.torch_peak_helper[1]),
                                 args.helper_threads)
    if args.rounds < 1:
        p.error("--rounds must be at least 1")

    if args.keep_heap and any(os.environ.get(k) != v for k, v in KEEP_HEAP_ENV.items()):
        # glibc reads these when the process starts: start again with them.
        os.environ.update(KEEP_HEAP_ENV)
        script = os.path.abspath(__file__)
        os.execv(sys.executable, [sys.executable, script] + sys.argv[1:])
    heap = ("MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ = %s (every side)"
            % KEEP_HEAP_ENV["MALLOC_MMAP_THRESHOLD_"]
            if all(os.environ.get(k) == v for k, v in KEEP_HEAP_ENV.items())
            else "glibc's defaults%s" % (" (MALLOC_* variables set in the environment)"
                                         if any(k.startswith("MALLOC_") for k in os.environ)
                                         else ""))

    binary = os.path.join(args.build, "tests", "bench-distance")
    if not os.access(binary, os.X_OK):
        print("benchmark: %s not found; build first (ninja -C %s)" % (binary, args.build),
              file=sys.stderr)
        return 1
    try:
        torch = torch_setup()
    except ImportError as e:
        print("benchmark: needs torch (run with /usr/bin/python3): %s" % e, file=sys.stderr)
        return 1
    import synth_weights

    start = time.time()
    ort, ort_missing = find_ort(args.ort_dir, args.install_ort)
    node_version = None
    if ort:
        try:
            node_version = subprocess.run([ort["node"], "--version"], capture_output=True,
                                          text=True, timeout=60).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            node_version = "?"
    engines = [e for e in ENGINES if e != "ort" or ort]
    cases = QUICK_CASES if args.quick else FULL_CASES
    networks = []
    for net, _ in cases:
        if net not in networks:
            networks.append(net)

    cpu = cpu_info()
    records = []
    for net, size in cases:
        for threads in THREAD_COUNTS:
            records.append({"network": net, "size": size, "threads": threads,
                            "runs": runs_for(net, size), "ours": None,
                            "times": {e: {"scalar": [], "spatial": []} for e in ENGINES},
                            "cpu": {e: [0.0, 0.0] for e in ENGINES},
                            "errors": {}, "others_cpu": 0.0, "wall": 0.0, "metered": True})

    ctx = {"binary": binary, "torch": torch, "ort": ort, "blis_lines": [], "graphs": {},
           "ort_errors": {}, "torch_models": {}, "models": {}}
    checks = {}
    mem = {}
    with tempfile.TemporaryDirectory(prefix="perc-bench-") as tmp:
        for net in networks:
            progress("writing a synthetic %s %s model" % (net, CALIBRATION))
            ctx["models"][net] = os.path.join(tmp, "%s-%s.safetensors" % (net, CALIBRATION))
            tensors = synth_weights.write_model(ctx["models"][net], net, CALIBRATION, SEED)
            ctx["torch_models"][net] = torch_model(net, tensors)
            del tensors
            if not ort:
                continue
            progress("%s: exporting the scalar and spatial graphs to ONNX (opset %d)"
                     % (net, OPSET))
            try:
                ctx["graphs"][net] = {
                    kind: export_onnx(torch, ctx["torch_models"][net], kind,
                                      os.path.join(tmp, "%s-%s.onnx" % (net, kind)))
                    for kind in ("scalar", "spatial")}
            except Exception as e:      # noqa: BLE001 -- any failure: no ORT for this network
                ctx["ort_errors"][net] = "ONNX export failed: %s: %s" % (type(e).__name__, e)
                checks[net] = (None, ctx["ort_errors"][net])
                continue
            progress("%s: ORT against PyTorch at %dx%d, same images"
                     % (net, CHECK_SIZE, CHECK_SIZE))
            checks[net] = ort_check(torch, ort, ctx["torch_models"][net], ctx["graphs"][net],
                                    tmp)

        # Speed: interleaved rounds, the engines' order rotated each round.
        orders = []
        for rnd in range(args.rounds):
            k = rnd % len(engines)
            order = engines[k:] + engines[:k]
            orders.append(order)
            for rec in records:
                meter = LoadMeter()
                for engine in order:
                    if engine in rec["errors"]:
                        continue
                    progress("round %d/%d, %s: %s (%d run%s)"
                             % (rnd + 1, args.rounds,
                                case_label(rec["network"], rec["size"], rec["threads"]),
                                LABELS[engine], rec["runs"], "s" * (rec["runs"] > 1)))
                    measure(engine, rec, ctx)
                totals = meter.totals()
                if totals:
                    rec["others_cpu"] += totals[0]
                    rec["wall"] += totals[1]
                else:
                    rec["metered"] = False
        twoafc = twoafc_rounds(args, ctx, engines, networks, tmp)
        torch.set_num_threads(MEMORY_THREADS)
        ctx["torch_models"].clear()

        # Peak memory: one spatial distance of SqueezeNet at MEMORY_SIZE, each
        # engine in a fresh process, MEMORY_THREADS threads.
        meter = LoadMeter()
        progress("squeeze %dx%d: peak memory, ours (fresh process)" % (MEMORY_SIZE, MEMORY_SIZE))
        mem["ours"] = run_ours(binary, ctx["models"]["squeeze"], MEMORY_SIZE, 0, MEMORY_THREADS)
        if ctx["graphs"].get("squeeze"):
            progress("squeeze %dx%d: peak memory, ORT (fresh process)"
                     % (MEMORY_SIZE, MEMORY_SIZE))
            mem["ort"] = run_ort(ort, ctx["graphs"]["squeeze"]["spatial"], MEMORY_SIZE,
                                 MEMORY_THREADS, 0)
        else:
            mem["ort"] = (None, ort_missing or ctx["ort_errors"].get("squeeze"))
        progress("squeeze %dx%d: peak memory, PyTorch (fresh process)"
                 % (MEMORY_SIZE, MEMORY_SIZE))
        mem["torch"] = run_torch_peak("squeeze", MEMORY_SIZE, MEMORY_THREADS)
        mem_others = meter.others()
        has_budget = ours_has_budget(binary)
        large_ours = large_ours_err = large_others = None
        if has_budget and not args.quick:
            # One run without a warm-up (--runs 0): only the memory matters here.
            progress("squeeze %dx%d: peak memory, ours with --budget %d"
                     % (LARGE_SIZE, LARGE_SIZE, BUDGET_MIB))
            meter = LoadMeter()
            large_ours, large_ours_err = run_ours(binary, ctx["models"]["squeeze"], LARGE_SIZE,
                                                  0, MEMORY_THREADS,
                                                  ("--budget", str(BUDGET_MIB)))
            large_others = meter.others()
    elapsed = time.time() - start

    report(args, cpu, torch, ort, ort_missing, node_version, engines, orders, records, ctx,
           checks, mem, mem_others, has_budget, large_ours, large_ours_err, large_others,
           binary, heap, elapsed, twoafc)
    return 0


def report(args, cpu, torch, ort, ort_missing, node_version, engines, orders, records, ctx,
           checks, mem, mem_others, has_budget, large_ours, large_ours_err, large_others,
           binary, heap, elapsed, twoafc):
    per_cycle, units = flop_per_cycle(cpu)
    print("LPIPS distance: ours, ONNX Runtime and PyTorch side by side (%s, synthetic weights)"
          % CALIBRATION)
    print("=" * 88)
    say("CPU:", "%s (%s, family %s), %d core(s) of %d CPU(s), avx512f: %s"
        % (cpu["model"], cpu["vendor"], cpu["family"] if cpu["family"] is not None else "?",
           cpu["cores"], cpu["cpus"], "yes" if cpu["avx512f"] else "no"))
    if cpu["mhz"]:
        say("Peak:", "~%.0f GFLOP/s float32 with 1 thread, ~%.0f with 2: an estimate, cores x "
            "%.0f MHz (\"cpu MHz\" in /proc/cpuinfo, which may be below the real clock) x %d "
            "FLOP/cycle (%s)" % (peak_gflops(cpu, 1), peak_gflops(cpu, 2), cpu["mhz"],
                                 per_cycle, units))
    else:
        say("Peak:", "unknown (no \"cpu MHz\" in /proc/cpuinfo)")
    say("Ours:", "%s --json --runs 1 --cores N, BLIS_NUM_THREADS=N, the size repeated once per "
        "timed run (each after its own warm-up)"
        % (os.path.relpath(binary, TOP) if binary.startswith(TOP + os.sep) else binary))
    for line in ctx["blis_lines"] or ["(no result from bench-distance)"]:
        say("BLIS:", line)
    if ort:
        say("ORT:", "%s %s in %s (%s), Node.js %s: tests/bench-ort.mjs, CPU execution "
            "provider, intraOpNumThreads=N, interOpNumThreads=1, graph optimisation 'all'; "
            "the graphs exported by torch.onnx.export (ONNX opset %d, float32, dynamic height "
            "and width); 1 warm-up, one process per graph and measurement"
            % (ORT_PACKAGE, ort["version"], ort["dir"], ort["how"], node_version, OPSET))
    else:
        say("ORT:", ort_missing)
    say("PyTorch:", "%s, torch.set_num_threads(N) before each measurement, float32, no_grad; "
        "1 warm-up, in this process" % torch.__version__)
    say("malloc:", heap)
    say("Images:", "ORT and PyTorch: two random images in [-1, 1] (the second the first plus "
        "noise); ours: the pattern and distorted copy bench-distance makes before its timing "
        "and copies in region by region (the content does not change the time)")
    say("Rounds:", "%d, interleaved: in each, every case runs %s once in turn; the order "
        "rotates: %s" % (len(orders), ", ".join(LABELS[e] for e in engines),
                         "; ".join(", ".join(LABELS[e] for e in o) for o in orders)))
    print()

    if ort:
        print("ORT against PyTorch, same images (%dx%d, not the size the graphs were traced at)"
              % (CHECK_SIZE, CHECK_SIZE))
        for net in sorted(checks, key=list(NAMES).index):
            check, err = checks[net]
            if err:
                print("  %-15s failed: %s" % (NAMES[net] + ":", err))
                continue
            agree = (max(check["scalar"], check["spatial_distance"])
                     <= 1e-4 * abs(check["distance"]) + 1e-7)
            say("  " + NAMES[net] + ":", "|ORT - PyTorch| %.1e (scalar graph), %.1e (spatial "
                "graph) on a distance of %.7f; the map's at most %.1e (its values up to "
                "%.3g)%s" % (check["scalar"], check["spatial_distance"], check["distance"],
                             check["map"], check["map_max"], "" if agree else
                             ": DISAGREE, ORT's times are not of the same computation"),
                indent=18)
        print()

    def cell(rec, engine, kind, how):
        if engine == "ort" and not ort:
            return "not installed"
        if engine in rec["errors"] and not rec["times"][engine][kind]:
            return "failed"
        return fmt_time(how(rec["times"][engine][kind]))

    def others(rec):
        if not rec["metered"] or rec["wall"] <= 0:
            return "?"
        return "%.2f" % (rec["others_cpu"] / rec["wall"])

    for kind in ("scalar", "spatial"):
        rows = []
        for rec in records:
            row = [NAMES[rec["network"]], "%dx%d" % (rec["size"], rec["size"]),
                   str(rec["threads"]), str(rec["runs"] * len(orders))]
            for engine in ENGINES:
                row += [cell(rec, engine, kind, best), cell(rec, engine, kind, median)]
            row.append(others(rec))
            rows.append(row)
        print("Time per distance (both images), %s: best and median of all timed runs" % kind)
        print_table(rows, ["network", "size", "thr", "runs", "ours best", "median",
                           "ORT best", "median", "PyTorch best", "median", "others"])
        print()
    print("thr    = threads, the same for every engine; runs = timed runs per engine: %d"
          % len(orders))
    print("         round(s) x %s" % ", ".join(
        "%d at %s" % (n, s) for s, n in sorted(RUNS.items())) + " (VGG-16: %s)" % ", ".join(
        "%d at %s" % (n, s) for s, n in sorted(VGG_RUNS.items())))
    print("others = CPU cores other processes kept busy, on average, during the case (all")
    print("         engines, all rounds); above ~0.1 the times are disturbed")
    if not ort:
        say("ORT    =", ort_missing, indent=9)
    for rec in records:
        for engine, err in rec["errors"].items():
            if not (engine == "ort" and rec["network"] in ctx["ort_errors"]):
                print("%s failed for %s: %s" % (LABELS[engine], case_label(
                    rec["network"], rec["size"], rec["threads"]), err))
    for net, err in ctx["ort_errors"].items():
        print("ORT not run for %s: %s" % (NAMES[net], err))
    busy = [rec for rec in records if others(rec) not in ("?",) and float(others(rec)) > 0.1]
    if busy:
        say("WARNING:", "the machine was busy during %s: compare these figures with care."
            % ", ".join(case_label(r["network"], r["size"], r["threads"]) for r in busy))
    print()

    rows = []
    for rec in records:
        gf = gflop_per_distance(rec["network"], rec["size"])
        peak = peak_gflops(cpu, rec["threads"])
        t = {e: best(rec["times"][e]["scalar"]) for e in ENGINES}
        ours = rec["ours"] or {}

        def gfs(e):
            return "%.0f" % (gf / t[e]) if t[e] else "-"

        def sys_share(e):
            user, system = rec["cpu"][e]
            return fmt_pct(system / (user + system)) if user + system > 0 else "-"

        rows.append([NAMES[rec["network"]], "%dx%d" % (rec["size"], rec["size"]),
                     str(rec["threads"]), "%.2f" % gf if gf < 10 else "%.1f" % gf,
                     gfs("ours"), "%.0f%%" % (100 * gf / t["ours"] / peak)
                     if t["ours"] and peak else "-",
                     gfs("ort"), gfs("torch"),
                     "%s, %s" % (tile_of(ours) or "whole", ours.get("threads", "?"))
                     if ours else "-",
                     sys_share("ours"), sys_share("ort"), sys_share("torch")])
    print("Work and throughput (scalar, best times)")
    print_table(rows, ["network", "size", "thr", "GFLOP", "ours GF/s", "% peak", "ORT GF/s",
                       "torch GF/s", "ours tile", "sys: ours", "ORT", "torch"])
    print("GFLOP      = 2 x multiply-adds of all convolutions up to the last tap, both images,")
    print("             computed directly (as PyTorch does)")
    print("GF/s       = GFLOP / scalar time; % peak = ours GF/s / the peak estimate above for")
    print("             the case's threads. Our 3x3 and 5x5 convolutions with 16 or more")
    print("             channels take Winograd's blocks, about a quarter of those multiply-adds:")
    print("             our GF/s is what the direct computation would need, and may exceed it")
    print("ours tile  = the tile side bench-distance reports (\"whole\": no tiling), and how it")
    print("             used the threads: one, the images side by side (\"images\"), or each")
    print("             op split between them (\"split\"); see kernels/run/perc-pair.h")
    print("sys        = share of each engine's CPU time spent in the kernel (page faults,")
    print("             mostly; ours and ORT: their whole processes, start-up included)")
    print()

    print("Targets (best times; speed ratio = the other engine's time / ours)")
    rows = []
    for rec in records:
        t = {(e, k): best(rec["times"][e][k]) for e in ENGINES for k in ("scalar", "spatial")}
        row = [case_label(rec["network"], rec["size"], rec["threads"])]
        for other, goal in (("ort", ORT_TARGET), ("torch", TORCH_TARGET)):
            for kind in ("scalar", "spatial"):
                if other == "ort" and not ort:
                    row.append("not installed")
                elif not t[(other, kind)] and other in rec["errors"]:
                    row.append("%s failed" % LABELS[other])
                elif not t[("ours", kind)] and "ours" in rec["errors"]:
                    row.append("ours failed")
                else:
                    row.append(ratio_status(t[(other, kind)], t[("ours", kind)], goal))
        rows.append(row)
    print_table(rows, ["case", "vs ORT scalar", "vs ORT spatial", "vs PyTorch scalar",
                       "vs PyTorch spatial"], ["<", ">", ">", ">", ">"])
    print("targets: ours >= %.1fx ORT's speed, >= %.0fx PyTorch's, scalar and spatial"
          % (ORT_TARGET, TORCH_TARGET))
    print()
    print("Our speed-up from 1 to 2 threads at %dx%d (target >= %.1fx)"
          % (SCALING_SIZE, SCALING_SIZE, SCALING_TARGET))
    by_case = {(r["network"], r["size"], r["threads"]): r for r in records}
    rows = []
    for net in NAMES:
        one, two = by_case.get((net, SCALING_SIZE, 1)), by_case.get((net, SCALING_SIZE, 2))
        if not one or not two:
            rows.append([NAMES[net], "-", "-", "not measured", "not measured"])
            continue
        row = [NAMES[net]]
        for kind in ("scalar", "spatial"):
            a, b = best(one["times"]["ours"][kind]), best(two["times"]["ours"][kind])
            row.append("%s / %s" % (fmt_time(a), fmt_time(b)))
        for kind in ("scalar", "spatial"):
            a, b = best(one["times"]["ours"][kind]), best(two["times"]["ours"][kind])
            row.append(ratio_status(a, b, SCALING_TARGET))
        rows.append(row)
    print_table(rows, ["network", "scalar 1 / 2 thr", "spatial 1 / 2 thr", "scalar speed-up",
                       "spatial speed-up"], ["<", ">", ">", ">", ">"])
    print("speed-up = best 1-thread time / best 2-thread time")
    if args.quick:
        print("(--quick measures no %dx%d case)" % (SCALING_SIZE, SCALING_SIZE))
    print()
    twoafc_report(ort, twoafc)

    # ---------------------------------------------------------------- memory
    input_mib = 2 * 3 * MEMORY_SIZE * MEMORY_SIZE * 4 / 2**20
    factor = (LARGE_SIZE // MEMORY_SIZE) ** 2
    print("Peak memory, %s %s, one spatial distance at %dx%d, %d threads"
          % (NAMES["squeeze"], CALIBRATION, MEMORY_SIZE, MEMORY_SIZE, MEMORY_THREADS))
    print("Whole process (ru_maxrss), each engine in a fresh process, the two float32 input")
    print("images counted on every side (%.0f MiB at %dx%d, %.0f MiB at %dx%d)"
          % (input_mib, MEMORY_SIZE, MEMORY_SIZE, input_mib * factor, LARGE_SIZE, LARGE_SIZE))
    rows = []
    mo, mo_err = mem["ours"]
    if mo:
        rows.append(["ours", fmt_mib(mo["peak_rss_mib"]),
                     fmt_mib(mo["peak_rss_mib"] + input_mib),
                     "%.0f MiB + %.0f MiB of inputs" % (mo["peak_rss_mib"], input_mib)
                     + (", tile %d" % tile_of(mo) if tile_of(mo) else "")])
    else:
        rows.append(["ours", "failed", "-", mo_err])
    if large_ours:
        rows.append(["ours, %dx%d" % (LARGE_SIZE, LARGE_SIZE), fmt_mib(large_ours["peak_rss_mib"]),
                     fmt_mib(large_ours["peak_rss_mib"] + input_mib * factor),
                     "--budget %d%s" % (BUDGET_MIB, ", tile %d" % tile_of(large_ours)
                                        if tile_of(large_ours) else "")])
    elif large_ours_err:
        rows.append(["ours, %dx%d" % (LARGE_SIZE, LARGE_SIZE), "failed", "-",
                     "--budget %d: %s" % (BUDGET_MIB, large_ours_err)])
    else:
        rows.append(["ours, %dx%d" % (LARGE_SIZE, LARGE_SIZE), "not run", "-",
                     "bench-distance has no --budget option" if not has_budget else "--quick"])
    for engine in ("ort", "torch"):
        m, m_err = mem[engine]
        if m:
            if engine == "ort":
                base = "%.0f MiB with Node.js and ORT loaded" % m.get("base_rss_mib", 0)
            else:
                base = "%.0f MiB with torch, model and inputs" % m.get("before_mib", 0)
            rows.append([LABELS[engine], fmt_mib(m["peak_rss_mib"]), fmt_mib(m["peak_rss_mib"]),
                         "inputs included; " + base])
            rows.append(["%s, %dx%d" % (LABELS[engine], LARGE_SIZE, LARGE_SIZE), "not run",
                         "~%.0f MiB" % (factor * m["peak_rss_mib"]),
                         "estimate: %d x the %dx%d figure" % (factor, MEMORY_SIZE, MEMORY_SIZE)])
        else:
            rows.append([LABELS[engine], "not installed" if engine == "ort" and not ort
                         else "failed", "-", "see \"ORT:\" above" if engine == "ort" and not ort
                         else m_err or "-"])
    print_table(rows, ["engine", "measured", "with inputs", "notes"], ["<", ">", ">", "<"])
    print("ours:    bench-distance --json --runs 0 --cores %d (one scalar and one spatial "
          "distance);" % MEMORY_THREADS)
    print("         above 1024x1024 it makes its images region by region and never holds "
          "them,")
    print("         so the two images' size is added (\"with inputs\")")
    print("ORT:     bench-ort.mjs, spatial graph, RUNS 0 (one distance); its figure includes "
          "Node.js")
    print("         and its two Float32Array inputs")
    print("PyTorch: one spatial distance in a fresh Python (its figure includes torch and its "
          "two")
    print("         input tensors)")
    times = []
    if mo:
        times.append("ours %dx%d scalar %s, spatial %s" % (
            MEMORY_SIZE, MEMORY_SIZE, fmt_time(mo["scalar_s"]), fmt_time(mo["spatial_s"])))
    if mem["ort"][0]:
        times.append("ORT %dx%d spatial %s (first run)" % (
            MEMORY_SIZE, MEMORY_SIZE, fmt_time(mem["ort"][0]["warmup_s"])))
    if mem["torch"][0]:
        times.append("PyTorch %dx%d spatial %s (first run)" % (
            MEMORY_SIZE, MEMORY_SIZE, fmt_time(mem["torch"][0]["spatial_s"])))
    if large_ours:
        times.append("ours %dx%d scalar %s, spatial %s" % (
            LARGE_SIZE, LARGE_SIZE, fmt_time(large_ours["scalar_s"]),
            fmt_time(large_ours["spatial_s"])))
    if times:
        print("Times of these runs (single runs, no warm-up):")
        for t in times:
            print("  " + t)
    loads = [("%dx%d" % (n, n), v) for n, v in ((MEMORY_SIZE, mem_others),
                                                 (LARGE_SIZE, large_others)) if v is not None]
    if loads:
        print("others during these runs: %s" % ", ".join("%.2f at %s" % (v, n) for n, v in loads))
    print()
    print("Total time of this benchmark: %.0f s%s" % (elapsed, " (--quick)" if args.quick else ""))


if __name__ == "__main__":
    sys.exit(main())

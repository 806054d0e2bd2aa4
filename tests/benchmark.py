#!/usr/bin/python3
"""Side-by-side timing of our LPIPS distance and a PyTorch one, on this machine.

Usage: /usr/bin/python3 tests/benchmark.py [--build DIR] [--quick] [--keep-heap]

Needs a built tree (ninja -C build) and Debian's torch/torchvision (hence
/usr/bin/python3).  Not a test: it measures and prints, and exits 0 whether or
not the speed targets are met.

What it does:
  * writes synthetic lpips-v0.1 models (tests/synth_weights.py) to a
    temporary directory; weights do not change the time;
  * for each case runs ours (build/tests/bench-distance --json --runs N in a
    subprocess, BLIS_NUM_THREADS=2) and then PyTorch (the independent
    implementation in tests/reference/lpips_reference.py, 2 threads, float32,
    no_grad, same weights, two random images in [-1, 1], best of N after one
    warm-up), alternating case by case so that both see the same machine
    load, and measures how busy other processes kept the machine meanwhile;
  * "scalar" is both images through the network, normalisation, the lin
    weights, the spatial mean and the sum over layers; "spatial" is the same
    plus upsampling every layer map bilinearly to the input size and summing
    them (what the official LPIPS code does with spatial=True);
  * prints the times and ratios (PyTorch time / ours), our achieved GFLOP/s
    (counting the multiply-adds of direct convolutions, which Winograd's
    blocks reduce) and its share of the machine's float32 peak, the speed
    targets, and the peak memory of both at 2048x2048 (and of ours at
    8192x8192 where bench-distance takes a memory budget; PyTorch's is
    extrapolated).

--keep-heap sets glibc's MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ for
both sides, so that freed memory is reused instead of being returned to the
system and faulted in again.  PyTorch allocates every intermediate tensor
afresh; where page faults are expensive (virtual machines) its default
spends a large part of its time in the kernel.  The "sys" columns show it.

Shared machines are noisy: only numbers from the same run should be compared.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "reference"))

THREADS = 2
CALIBRATION = "lpips-v0.1"
SEED = 1
RUNS = 3
SMALL_RUNS = 10         # at 256x256 and below a distance takes milliseconds: more runs
VGG_RUNS = 1            # VGG-16 at 1024x1024 takes ~25 s per distance on each side
TIMEOUT = 1200          # seconds, for any one subprocess

NAMES = {"squeeze": "SqueezeNet 1.1", "alex": "AlexNet", "vgg": "VGG-16"}
FULL_CASES = [("squeeze", 256), ("squeeze", 1024), ("alex", 1024), ("vgg", 1024)]
QUICK_CASES = [("squeeze", 256), ("alex", 512)]
# (network, size, minimum ratio PyTorch time / ours), for scalar and spatial.
TARGETS = [("squeeze", 256, 3.0), ("squeeze", 1024, 3.0), ("alex", 1024, 2.0),
           ("vgg", 1024, 2.0)]
MEMORY_SIZE = 2048
LARGE_SIZE = 8192
BUDGET_MIB = 512
KEEP_HEAP_ENV = {"MALLOC_MMAP_THRESHOLD_": str(1 << 34), "MALLOC_TRIM_THRESHOLD_": str(1 << 34)}


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
        "mhz": sum(mhz) / len(mhz) if mhz else None,
        "avx512f": "avx512f" in flags,
        "cores": n_cores,
        "cpus": n_cpus,
    }


def peak_gflops(cpu):
    """float32 peak of the cores this benchmark uses (at most THREADS)."""
    if not cpu["mhz"]:
        return None, None
    per_cycle = 64 if cpu["avx512f"] else 32
    cores = min(cpu["cores"], THREADS)
    return cores * cpu["mhz"] / 1000.0 * per_cycle, per_cycle


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

    def others(self):
        (t0, b0, o0), (t1, b1, o1) = self.start, self._sample()
        if b0 is None or b1 is None or t1 <= t0:
            return None
        return max(0.0, ((b1 - b0) - (o1 - o0)) / (t1 - t0))


def cpu_seconds(who):
    """(user, system) CPU seconds of this process or of its waited-for children."""
    u = resource.getrusage(who)
    return u.ru_utime, u.ru_stime


def sys_share(before, after):
    user, system = after[0] - before[0], after[1] - before[1]
    return system / (user + system) if user + system > 0 else None


def fresh(cmd):
    """`cmd` run from a small intermediate shell.

    Linux carries a process's peak RSS (ru_maxrss) over from the process it
    was forked from: a child of this (large) Python process would report at
    least this process's size.  The shell is forked from us, but `cmd` is
    forked from the shell ("; exit" keeps the shell from exec'ing it), so its
    ru_maxrss is its own.
    """
    return ["/bin/sh", "-c", '"$0" "$@"; exit $?'] + list(cmd)


# --------------------------------------------------------------------------
# PyTorch side.

def torch_setup():
    import torch
    torch.set_num_threads(THREADS)
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


def torch_time(torch, model, size, runs):
    """Best of `runs` for scalar and spatial, after one warm-up."""
    x0, x1 = torch_images(torch, size)
    with torch.no_grad():
        torch_spatial(model, x0, x1)                    # warm-up (covers both)
        best = {}
        for name, fn in (("scalar", torch_scalar), ("spatial", torch_spatial)):
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                fn(model, x0, x1)
                times.append(time.perf_counter() - t0)
            best[name] = min(times)
    return best["scalar"], best["spatial"]


def torch_peak_helper(network, size):
    """Run in a fresh process: one spatial distance (which includes the
    scalar one); prints the process's peak resident memory as JSON."""
    torch = torch_setup()
    import synth_weights
    model = torch_model(network, synth_weights.make_tensors(network, CALIBRATION, SEED))
    x0, x1 = torch_images(torch, size)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    with torch.no_grad():
        t0 = time.perf_counter()
        torch_spatial(model, x0, x1)
        t1 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"network": network, "size": size, "peak_rss_mib": round(peak, 1),
                      "before_mib": round(before, 1), "spatial_s": t1 - t0}))
    return 0


def run_torch_peak(network, size):
    cmd = [sys.executable, os.path.abspath(__file__), "--torch-peak-helper", network, str(size)]
    try:
        p = subprocess.run(fresh(cmd), capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "timed out after %d s" % TIMEOUT
    if p.returncode != 0:
        return None, "exit status %d: %s" % (p.returncode, p.stderr.strip()[-500:])
    try:
        return json.loads(p.stdout.strip().splitlines()[-1]), None
    except (ValueError, IndexError):
        return None, "unreadable output %r" % p.stdout[-300:]


# --------------------------------------------------------------------------
# Our side.

def ours_env():
    env = dict(os.environ)
    env["BLIS_NUM_THREADS"] = str(THREADS)
    return env


def run_ours(binary, model_path, size, runs, extra=()):
    """Run bench-distance; returns (result dict, None) or (None, error text)."""
    cmd = [binary, "--json", "--runs", str(runs)] + list(extra) + [model_path, str(size)]
    try:
        p = subprocess.run(fresh(cmd), env=ours_env(), capture_output=True, text=True,
                           timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "timed out after %d s" % TIMEOUT
    if p.returncode != 0:
        return None, "exit status %d: %s" % (p.returncode, (p.stderr or p.stdout).strip())
    for line in p.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                result = json.loads(line)
            except ValueError:
                continue
            if result.get("size") == size:
                for key in ("scalar_s", "spatial_s"):
                    if not isinstance(result.get(key), (int, float)) or result[key] > 1e9:
                        result[key] = None
                return result, None
    return None, "no JSON result in its output: %r" % p.stdout[-300:]


def ours_has_budget(binary):
    try:
        p = subprocess.run([binary, "--help"], env=ours_env(), capture_output=True,
                           text=True, timeout=60)
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
    return "%.1f ms" % (t * 1e3) if t < 1 else "%.3f s" % t


def fmt_ratio(a, b):
    return "%.2fx" % (a / b) if a and b else "-"


def fmt_pct(x):
    return "%.0f%%" % (100 * x) if x is not None else "-"


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


# --------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description="Time our LPIPS distance against PyTorch's, "
                                "side by side.")
    p.add_argument("--build", default=os.path.join(TOP, "build"), metavar="DIR",
                   help="meson build directory (default: %(default)s)")
    p.add_argument("--quick", action="store_true",
                   help="only SqueezeNet at 256x256 and AlexNet at 512x512, and no "
                   "8192x8192 memory run")
    p.add_argument("--keep-heap", action="store_true",
                   help="set glibc's malloc thresholds so that freed memory is reused "
                   "(both sides; see the module docstring)")
    p.add_argument("--torch-peak-helper", nargs=2, metavar=("NETWORK", "SIZE"),
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.torch_peak_helper:
        return torch_peak_helper(args.torch_peak_helper[0], int(args.torch_peak_helper[1]))

    if args.keep_heap and any(os.environ.get(k) != v for k, v in KEEP_HEAP_ENV.items()):
        # glibc reads these when the process starts: start again with them.
        os.environ.update(KEEP_HEAP_ENV)
        script = os.path.abspath(__file__)
        os.execv(sys.executable, [sys.executable, script] + sys.argv[1:])
    heap = ("MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ = %s (both sides)"
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
    cases = QUICK_CASES if args.quick else FULL_CASES
    networks = []
    for net, _ in cases:
        if net not in networks:
            networks.append(net)

    cpu = cpu_info()
    peak, per_cycle = peak_gflops(cpu)

    results = []
    blis_lines = []
    with tempfile.TemporaryDirectory(prefix="perc-bench-") as tmp:
        models, tensors = {}, {}
        for net in networks:
            progress("writing a synthetic %s %s model" % (net, CALIBRATION))
            models[net] = os.path.join(tmp, "%s-%s.safetensors" % (net, CALIBRATION))
            tensors[net] = synth_weights.write_model(models[net], net, CALIBRATION, SEED)

        # Speed: ours, then PyTorch, case by case.
        for net, size in cases:
            runs = VGG_RUNS if net == "vgg" else SMALL_RUNS if size <= 256 else RUNS
            meter = LoadMeter()
            progress("%s %dx%d: ours (best of %d)" % (net, size, size, runs))
            c0 = cpu_seconds(resource.RUSAGE_CHILDREN)
            ours, err = run_ours(binary, models[net], size, runs)
            ours_sys = sys_share(c0, cpu_seconds(resource.RUSAGE_CHILDREN))
            if ours and ours.get("blis") and ours["blis"] not in blis_lines:
                blis_lines.append(ours["blis"])
            progress("%s %dx%d: PyTorch (best of %d)" % (net, size, size, runs))
            model = torch_model(net, tensors[net])
            s0 = cpu_seconds(resource.RUSAGE_SELF)
            t_scalar, t_spatial = torch_time(torch, model, size, runs)
            torch_sys = sys_share(s0, cpu_seconds(resource.RUSAGE_SELF))
            del model
            results.append({"network": net, "size": size, "runs": runs, "ours": ours,
                            "error": err, "torch_scalar": t_scalar, "torch_spatial": t_spatial,
                            "ours_sys": ours_sys, "torch_sys": torch_sys,
                            "others": meter.others()})

        # Peak memory.
        meter = LoadMeter()
        progress("squeeze %dx%d: peak memory, ours" % (MEMORY_SIZE, MEMORY_SIZE))
        mem_ours, mem_ours_err = run_ours(binary, models["squeeze"], MEMORY_SIZE, 1)
        progress("squeeze %dx%d: peak memory, PyTorch (fresh process)"
                 % (MEMORY_SIZE, MEMORY_SIZE))
        mem_torch, mem_torch_err = run_torch_peak("squeeze", MEMORY_SIZE)
        mem_others = meter.others()
        has_budget = ours_has_budget(binary)
        large_ours = large_ours_err = large_others = None
        if has_budget and not args.quick:
            # One run without a warm-up (--runs 0): only the memory matters here.
            progress("squeeze %dx%d: peak memory, ours with --budget %d"
                     % (LARGE_SIZE, LARGE_SIZE, BUDGET_MIB))
            meter = LoadMeter()
            large_ours, large_ours_err = run_ours(binary, models["squeeze"], LARGE_SIZE, 0,
                                                  ("--budget", str(BUDGET_MIB)))
            large_others = meter.others()
    elapsed = time.time() - start

    # ---------------------------------------------------------------- report
    print("LPIPS distance, ours vs PyTorch, side by side (%s, synthetic weights)" % CALIBRATION)
    print("=" * 78)
    print("CPU:      %s, %d core(s) used of %d CPU(s), avx512f: %s"
          % (cpu["model"], min(cpu["cores"], THREADS), cpu["cpus"],
             "yes" if cpu["avx512f"] else "no"))
    if peak:
        print("Peak:     ~%.0f GFLOP/s float32, an estimate: %d cores x %.0f MHz (\"cpu MHz\" in"
              % (peak, min(cpu["cores"], THREADS), cpu["mhz"]))
        print("          /proc/cpuinfo, which may be below the real clock) x %d FLOP/cycle"
              % per_cycle)
    else:
        print("Peak:     unknown (no \"cpu MHz\" in /proc/cpuinfo)")
    print("Ours:     %s --json --runs N, BLIS_NUM_THREADS=%d; best of N after 1 warm-up"
          % (os.path.relpath(binary, TOP) if binary.startswith(TOP) else binary, THREADS))
    for line in blis_lines or ["(no result from bench-distance)"]:
        print("BLIS:     %s" % line)
    print("PyTorch:  %s, %d threads, float32, no_grad; best of N after 1 warm-up"
          % (torch.__version__, torch.get_num_threads()))
    print("malloc:   %s" % heap)
    print("Images:   PyTorch: two random images in [-1, 1]; ours: the two images bench-distance")
    print("          makes before its timing and copies in region by region (the content")
    print("          does not change the time)")
    print()

    rows, rows2 = [], []
    for r in results:
        ours = r["ours"] or {}
        os_, op = ours.get("scalar_s"), ours.get("spatial_s")
        gf = gflop_per_distance(r["network"], r["size"])
        gfs = gf / os_ if os_ else None
        label = [NAMES[r["network"]], "%dx%d" % (r["size"], r["size"])]
        rows.append(label + [
            str(r["runs"]),
            fmt_time(os_), fmt_time(r["torch_scalar"]), fmt_ratio(r["torch_scalar"], os_),
            fmt_time(op), fmt_time(r["torch_spatial"]), fmt_ratio(r["torch_spatial"], op),
        ])
        rows2.append(label + [
            "%.1f" % gf,
            "%.0f" % gfs if gfs else "-",
            "%.0f%%" % (100 * gfs / peak) if gfs and peak else "-",
            "%.0f" % (gf / r["torch_scalar"]),
            "%s, %s" % (tile_of(ours) or "whole", ours.get("threads", "?")) if ours else "-",
            fmt_pct(r["ours_sys"]), fmt_pct(r["torch_sys"]),
            "%.2f" % r["others"] if r["others"] is not None else "?",
        ])
    print("Time per distance (both images)")
    print_table(rows, ["network", "size", "N", "ours scalar", "torch scalar", "ratio",
                       "ours spatial", "torch spatial", "ratio"])
    print("ratio = PyTorch time / our time (higher is better for us)")
    for r in results:
        if r["error"]:
            print("ours failed for %s %dx%d: %s" % (r["network"], r["size"], r["size"],
                                                     r["error"]))
    print()
    print("Work and throughput (scalar)")
    print_table(rows2, ["network", "size", "GFLOP", "ours GF/s", "% peak", "torch GF/s",
                        "ours tile, threads", "ours sys", "torch sys", "others"])
    print("GFLOP      = 2 x multiply-adds of all convolutions up to the last tap, both images,")
    print("             computed directly (as PyTorch does)")
    print("GF/s       = GFLOP / scalar time; %% peak = ours GF/s / %s"
          % ("%.0f GFLOP/s (estimate)" % peak if peak else "the peak (unknown)"))
    print("             Our 3x3 and 5x5 convolutions with 16 or more channels take Winograd's")
    print("             blocks, about a quarter of those multiply-adds: our GF/s is what the")
    print("             direct computation would need, and may exceed the peak")
    print("ours tile  = the tile side bench-distance reports (\"whole\": no tiling), and how")
    print("             it used two threads: the images side by side (\"images\"), or each")
    print("             op split between them (\"split\"); see kernels/run/perc-pair.h")
    print("sys        = share of the CPU time spent in the kernel (page faults, mostly)")
    print("others     = CPU cores other processes kept busy, on average, during the case;")
    print("             above ~0.1 the times are disturbed and the ratios less reliable")
    busy = [r for r in results if r["others"] is not None and r["others"] > 0.1]
    if busy:
        print("WARNING: the machine was busy during %s: compare these ratios with care."
              % ", ".join("%s %dx%d" % (r["network"], r["size"], r["size"]) for r in busy))
    print()

    print("Targets (PyTorch time / ours)")
    by_case = {(r["network"], r["size"]): r for r in results}
    trows = []
    for net, size, goal in TARGETS:
        r = by_case.get((net, size))
        for kind in ("scalar", "spatial"):
            label = "%s %dx%d %s" % (NAMES[net], size, size, kind)
            if r is None:
                trows.append([label, ">= %.0fx" % goal, "-", "not measured (--quick)"])
                continue
            ours_t = (r["ours"] or {}).get(kind + "_s")
            if not ours_t:
                trows.append([label, ">= %.0fx" % goal, "-", "not met (ours failed)"])
                continue
            ratio = r["torch_" + kind] / ours_t
            trows.append([label, ">= %.0fx" % goal, "%.2fx" % ratio,
                          "met" if ratio >= goal else "NOT MET"])
    print_table(trows, ["case", "target", "measured", "status"], ["<", ">", ">", "<"])
    print()

    print("Peak memory, %s %s, whole process (ru_maxrss)" % (NAMES["squeeze"], CALIBRATION))
    input_mib = 2 * 3 * MEMORY_SIZE * MEMORY_SIZE * 4 / 2**20
    factor = (LARGE_SIZE // MEMORY_SIZE) ** 2
    if mem_ours:
        ours_mem = "%.0f MiB%s" % (mem_ours["peak_rss_mib"], " (tile %d)" % tile_of(mem_ours)
                                   if tile_of(mem_ours) else "")
    else:
        ours_mem = "failed: %s" % mem_ours_err
    if mem_torch:
        torch_mem = "%.0f MiB (%.0f MiB before the distance)" % (
            mem_torch["peak_rss_mib"], mem_torch["before_mib"])
    else:
        torch_mem = "failed: %s" % mem_torch_err
    if large_ours:
        large = "%.0f MiB (--budget %d%s)" % (
            large_ours["peak_rss_mib"], BUDGET_MIB,
            ", tile %d" % tile_of(large_ours) if tile_of(large_ours) else "")
    elif large_ours_err:
        large = "failed (--budget %d): %s" % (BUDGET_MIB, large_ours_err)
    elif not has_budget:
        large = "not run (bench-distance has no --budget option)"
    else:
        large = "not run (--quick)"
    torch_large = ("~%.0f MiB (estimate, not run: %d x the %dx%d figure)"
                   % (factor * mem_torch["peak_rss_mib"], factor, MEMORY_SIZE, MEMORY_SIZE)
                   if mem_torch else "not run")
    print_table([["%dx%d" % (MEMORY_SIZE, MEMORY_SIZE), ours_mem, torch_mem],
                 ["%dx%d" % (LARGE_SIZE, LARGE_SIZE), large, torch_large]],
                ["size", "ours", "PyTorch"], ["<", "<", "<"])
    print("ours: bench-distance --json --runs 1 (scalar and spatial, 1 warm-up each)%s."
          % (", at %dx%d --runs 0 --budget %d (one run each)" % (LARGE_SIZE, LARGE_SIZE,
                                                                  BUDGET_MIB)
             if large_ours else ""))
    print("PyTorch: one spatial distance in a fresh process; its figure includes its two")
    print("float32 RGB input tensors (%.0f MiB at %dx%d, %.0f MiB at %dx%d)."
          % (input_mib, MEMORY_SIZE, MEMORY_SIZE, input_mib * factor, LARGE_SIZE, LARGE_SIZE))
    times = []
    if mem_ours:
        times.append("ours %dx%d scalar %s, spatial %s" % (
            MEMORY_SIZE, MEMORY_SIZE, fmt_time(mem_ours["scalar_s"]),
            fmt_time(mem_ours["spatial_s"])))
    if mem_torch:
        times.append("PyTorch %dx%d spatial %s (first run)" % (
            MEMORY_SIZE, MEMORY_SIZE, fmt_time(mem_torch["spatial_s"])))
    if large_ours:
        times.append("ours %dx%d scalar %s, spatial %s" % (
            LARGE_SIZE, LARGE_SIZE, fmt_time(large_ours["scalar_s"]),
            fmt_time(large_ours["spatial_s"])))
    if times:
        print("Times of these runs (single runs, not best-of):")
        for t in times:
            print("  " + t)
    loads = [("%dx%d" % (n, n), v) for n, v in ((MEMORY_SIZE, mem_others),
                                                 (LARGE_SIZE, large_others)) if v is not None]
    if loads:
        print("others during these runs: %s" % ", ".join("%.2f at %s" % (v, n) for n, v in loads))
    print()
    print("Total time of this benchmark: %.0f s%s" % (elapsed, " (--quick)" if args.quick else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

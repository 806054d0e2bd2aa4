"""2AFC throughput for tests/benchmark.py: triplets of 64x64 images scored
the way the official LPIPS evaluation scores BAPPS, by every engine.

  * ours: `gegl-perceptual 2afc DIR --weights MODEL --json --threads N` on a
    BAPPS-layout set of PNG files written here (one category); its JSON
    says how long it spent computing the distances and reading the images,
    so its time per triplet is given without the reading (what the other
    engines are timed on: images already in memory, the model loaded) and
    with it;
  * ONNX Runtime and PyTorch: batches of BATCH triplets, as the official
    evaluation runs them (its batch size): the scalar graph twice per batch,
    (ref, p0) and (ref, p1), on BATCH x 3 x 64 x 64 tensors.

Time per triplet = the time of one batch (two graph runs) / BATCH for ORT
and PyTorch; the evaluator's time / the number of triplets for ours.
"""

import json
import os
import random
import subprocess
import time

import npyfile
import pngfile

SIZE = 64
BATCH = 50              # the official LPIPS evaluation's batch size
TRIPLETS = 200          # ours: four of the others' batches
RUNS = 2                # batches (ORT, PyTorch) per measurement
TARGET = 2.0            # ORT time / ours
TIMEOUT = 1200


def make_set(folder, triplets=TRIPLETS, seed=1):
    """A BAPPS-layout 2AFC set: folder/2afc/val/synthetic/{ref,p0,p1,judge}."""
    rng = random.Random(seed)
    root = os.path.join(folder, "2afc", "val", "synthetic")
    for sub in ("ref", "p0", "p1", "judge"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    for i in range(triplets):
        base = [rng.randrange(256) for _ in range(3 * SIZE * SIZE)]
        for sub, noise in (("ref", 0), ("p0", 20), ("p1", 60)):
            rgb = bytes(min(255, max(0, v + rng.randint(-noise, noise))) for v in base)
            pngfile.write_png(os.path.join(root, sub, "%06d.png" % i), SIZE, SIZE, rgb)
        npyfile.write_npy(os.path.join(root, "judge", "%06d.npy" % i), [rng.random()],
                          shape=(1,))
    return folder


def ours(cli, model, folder, threads, env):
    """(seconds per triplet without reading, with reading), None; or None,
    error text."""
    cmd = [cli, "2afc", folder, "--weights", model, "--json", "--threads", str(threads)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    if p.returncode != 0:
        return None, (p.stderr.strip() or "exit status %d" % p.returncode)[:300]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    n = sum(c["triplets"] for c in out["categories"])
    return (out["computing_seconds"] / n,
            (out["computing_seconds"] + out["reading_seconds"]) / n), None


def ort(run_ort, ort_info, graph, threads):
    """Seconds per triplet of RUNS batches, or None and error text."""
    result, err = run_ort(ort_info, graph, SIZE, threads, RUNS, ("--batch", str(BATCH)))
    if err:
        return None, err
    return [2 * t / BATCH for t in result["times_s"]], None


def torch_times(torch, model, scalar, threads):
    """Seconds per triplet of RUNS batches, after a warm-up."""
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(1)
    ref, p0, p1 = (torch.rand(BATCH, 3, SIZE, SIZE, generator=g) * 2 - 1 for _ in range(3))
    out = []
    with torch.no_grad():
        scalar(model, ref, p0)
        for _ in range(RUNS):
            t0 = time.perf_counter()
            scalar(model, ref, p0)
            scalar(model, ref, p1)
            out.append((time.perf_counter() - t0) / BATCH)
    return out

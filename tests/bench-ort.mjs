// Times one LPIPS graph (an ONNX file exported by tests/benchmark.py) with
// ONNX Runtime's CPU engine (npm's onnxruntime-node), for tests/benchmark.py.
//
//   node tests/bench-ort.mjs [--ort-dir DIR] [--images FILE] [--dump FILE] [--seed N]
//                            [--batch B] MODEL SIZE THREADS RUNS
//
// MODEL takes two inputs x0 and x1 (B x 3 x SIZE x SIZE, float32, values in
// [-1, 1]; B is 1 unless --batch says) and gives "distance" (and, for the
// spatial graph, "spatial", the B x 1 x SIZE x SIZE map).  The session: intraOpNumThreads = THREADS,
// interOpNumThreads = 1, graphOptimizationLevel 'all', executionProviders
// ['cpu'], everything else ORT's defaults.  The images are random, made as
// benchmark.py makes PyTorch's (x0 uniform in [-1, 1], x1 = x0 plus uniform
// noise of +-0.2, clamped), or read from --images FILE (x0 then x1, raw
// float32 in NCHW order, as the check against PyTorch passes them).  One
// warm-up run, then RUNS timed runs (RUNS may be 0: the warm-up only).
// --dump FILE writes the outputs of the warm-up run (raw float32, the
// distance then the map if any).
//
// onnxruntime-node is found in DIR/node_modules (--ort-dir, else the
// environment variable GEGL_PERCEPTUAL_ORT_DIR, else the usual resolution
// from this file).  Prints one JSON line: the times in seconds, the
// distance, the session's creation time, and the process's peak resident
// memory (ru_maxrss) in MiB, at the end and before the session was made.

import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";

function usage(message) {
  if (message)
    process.stderr.write("bench-ort: " + message + "\n");
  process.stderr.write("usage: node bench-ort.mjs [--ort-dir DIR] [--images FILE] [--dump FILE] "
                       + "[--seed N] [--batch B] MODEL SIZE THREADS RUNS\n");
  process.exit(2);
}

const options = { ortDir: process.env.GEGL_PERCEPTUAL_ORT_DIR || null, images: null,
                  dump: null, seed: 1, batch: 1 };
const positional = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--help" || a === "-h")
    usage();
  else if (a === "--ort-dir" && i + 1 < argv.length)
    options.ortDir = argv[++i];
  else if (a === "--images" && i + 1 < argv.length)
    options.images = argv[++i];
  else if (a === "--dump" && i + 1 < argv.length)
    options.dump = argv[++i];
  else if (a === "--seed" && i + 1 < argv.length)
    options.seed = Number(argv[++i]);
  else if (a === "--batch" && i + 1 < argv.length)
    options.batch = Number(argv[++i]);
  else if (a.startsWith("--"))
    usage("unknown option " + a);
  else
    positional.push(a);
}
if (positional.length !== 4)
  usage("needs MODEL SIZE THREADS RUNS");
const [modelPath] = positional;
const [size, threads, runs] = positional.slice(1).map(Number);
if (!(size > 0) || !(threads > 0) || !(runs >= 0) || !(options.batch > 0))
  usage("SIZE, THREADS and B must be positive, RUNS at least 0");

const require = createRequire(options.ortDir
                              ? path.join(path.resolve(options.ortDir), "node_modules", "_.js")
                              : import.meta.url);
let ort;
try {
  ort = require("onnxruntime-node");
} catch (e) {
  process.stderr.write("bench-ort: cannot load onnxruntime-node"
                       + (options.ortDir ? " from " + options.ortDir : "") + ": "
                       + e.message.split("\n")[0] + "\n");
  process.exit(3);
}
let version = "?";
try {
  version = require("onnxruntime-node/package.json").version;
} catch (e) {
  // older packages do not export their package.json
}

// mulberry32: a small deterministic generator; uniform in [0, 1).
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function images(n) {
  const count = options.batch * 3 * n * n;
  if (options.images) {
    const bytes = fs.readFileSync(options.images);
    if (bytes.length !== 2 * count * 4)
      usage(options.images + ": " + bytes.length + " bytes, expected " + 2 * count * 4);
    const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset,
                                                    bytes.byteOffset + bytes.length));
    return [all.slice(0, count), all.slice(count)];
  }
  const rand = generator(options.seed);
  const x0 = new Float32Array(count), x1 = new Float32Array(count);
  for (let i = 0; i < count; i++)
    x0[i] = rand() * 2 - 1;
  for (let i = 0; i < count; i++)
    x1[i] = Math.min(1, Math.max(-1, x0[i] + (rand() * 2 - 1) * 0.2));
  return [x0, x1];
}

const baseRssMiB = process.resourceUsage().maxRSS / 1024;
const t0 = performance.now();
const session = await ort.InferenceSession.create(modelPath, {
  executionProviders: ["cpu"],
  graphOptimizationLevel: "all",
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
});
const createS = (performance.now() - t0) / 1e3;

const [x0, x1] = images(size);
const dims = [options.batch, 3, size, size];
const feeds = { x0: new ort.Tensor("float32", x0, dims), x1: new ort.Tensor("float32", x1, dims) };

let t = performance.now();
let out = await session.run(feeds);
const warmupS = (performance.now() - t) / 1e3;
const distance = out.distance.data[0];
if (options.dump) {
  const parts = [Buffer.from(new Float32Array(out.distance.data).buffer)];
  if (out.spatial)
    parts.push(Buffer.from(new Float32Array(out.spatial.data).buffer));
  fs.writeFileSync(options.dump, Buffer.concat(parts));
}
const outputs = session.outputNames.slice();
out = null;

const times = [];
for (let r = 0; r < runs; r++) {
  t = performance.now();
  await session.run(feeds);
  times.push((performance.now() - t) / 1e3);
}

process.stdout.write(JSON.stringify({
  model: path.basename(modelPath), size, batch: options.batch, threads, runs, outputs,
  ort_version: version,
  times_s: times, warmup_s: warmupS, create_s: createS, distance,
  base_rss_mib: Math.round(baseRssMiB * 10) / 10,
  peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024 * 10) / 10,
}) + "\n");

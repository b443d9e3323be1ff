#!/usr/bin/env python3
"""Latency benchmark of the exported model with onnxruntime (CPU).

    python3 models/bench_onnx.py --batch 1 --n 2000 [--threads 1]

Runs N timed calls of BATCH rows each (rows = the golden inputs, cycled), after a short warm-up,
and prints one JSON line. inferencesPerSecond counts rows scored per second (N * BATCH / wall time of the loop);
p50Ms / p99Ms are per-call latencies in milliseconds.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

HERE = Path(__file__).resolve().parent

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--batch", type=int, default=1, help="rows per call")
ap.add_argument("--n", type=int, default=2000, help="number of timed calls")
ap.add_argument("--threads", type=int, default=1, help="onnxruntime intra_op_num_threads (0 = ORT default)")
ap.add_argument("--warmup", type=int, default=100, help="untimed calls before measuring")
args = ap.parse_args()

meta = json.loads((HERE / "diabetes-progression.json").read_text())
golden = json.loads((HERE / "golden" / "diabetes-progression.json").read_text())
rows = np.array([c["features"] for c in golden["cases"]], dtype=np.float32)

opts = ort.SessionOptions()
opts.intra_op_num_threads = args.threads
opts.inter_op_num_threads = 1
sess = ort.InferenceSession(str(HERE / meta["file"]), opts, providers=["CPUExecutionProvider"])

# Pre-build the batches (golden rows cycled) so that only sess.run is timed.
idx = np.arange(args.batch * min(args.n, 64)) % len(rows)
batches = [rows[idx[i:i + args.batch]] for i in range(0, len(idx), args.batch)]
feed = lambda i: {meta["inputName"]: batches[i % len(batches)]}

for i in range(args.warmup):
    sess.run([meta["outputName"]], feed(i))
lat = np.empty(args.n)
started = time.perf_counter()
for i in range(args.n):
    f = feed(i)
    t0 = time.perf_counter()
    sess.run([meta["outputName"]], f)
    lat[i] = time.perf_counter() - t0
wall = time.perf_counter() - started

print(json.dumps({
    "runtime": "python-onnxruntime", "batch": args.batch, "n": args.n, "threads": args.threads,
    # Wall time of the whole timed loop, as bench/cds.ts counts Node's: the ratio compares like with like.
    "inferencesPerSecond": round(args.n * args.batch / wall, 1),
    "p50Ms": round(float(np.percentile(lat, 50)) * 1e3, 4),
    "p99Ms": round(float(np.percentile(lat, 99)) * 1e3, 4),
}))

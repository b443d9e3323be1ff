#!/usr/bin/env python3
"""Latency of the diagnosis-suggestions model in Python's onnxruntime, on the golden parity texts.

    python3 models/bench_diagnosis.py --n 1000 [--threads 1]

One text per call (as the doctor's screen asks), after a warm-up; prints one JSON line with calls
per second (wall time of the timed loop) and p50/p99 per call in ms. bench/diagnosis.ts runs it
on the same texts as Node, in the same run.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

HERE = Path(__file__).resolve().parent
ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--n", type=int, default=1000, help="number of timed calls")
ap.add_argument("--threads", type=int, default=1, help="onnxruntime intra_op_num_threads")
ap.add_argument("--warmup", type=int, default=50)
args = ap.parse_args()

meta = json.loads((HERE / "diagnosis-suggestions.json").read_text())
texts = [c["text"] for c in json.loads((HERE / "golden" / "diagnosis-suggestions-parity.json").read_text())["cases"]]
opts = ort.SessionOptions()
opts.intra_op_num_threads = args.threads
opts.inter_op_num_threads = 1
sess = ort.InferenceSession(str(HERE / meta["file"]), opts, providers=["CPUExecutionProvider"])
feeds = [{meta["inputName"]: np.array([[t]], dtype=object)} for t in texts]
for i in range(args.warmup):
    sess.run([meta["outputName"]], feeds[i % len(feeds)])
lat = np.empty(args.n)
started = time.perf_counter()
for i in range(args.n):
    t0 = time.perf_counter()
    sess.run([meta["outputName"]], feeds[i % len(feeds)])
    lat[i] = time.perf_counter() - t0
wall = time.perf_counter() - started
print(json.dumps({"runtime": "python-onnxruntime", "n": args.n, "threads": args.threads, "callsPerSecond": round(args.n / wall, 1),
                  "p50Ms": round(float(np.percentile(lat, 50)) * 1e3, 3), "p99Ms": round(float(np.percentile(lat, 99)) * 1e3, 3)}))

#!/usr/bin/env python3
"""Train and export the diagnosis-suggestions model (complaints text -> top-3 ICD-10 codes).

    python3 models/train_diagnosis.py           # fit on train, score dev, export ONNX + metadata + golden files
    python3 models/train_diagnosis.py --check   # retrain in memory, compare with the committed files, write nothing

Data: RuMedTop3 train (4,690) and dev (848), vendored in models/data/rumedtop3 (see its NOTICE.md).
Every setting below was chosen on dev (the test split is not public here); the model is fitted on
train only, so the dev figures are held-out figures.
"""
import argparse
import gzip
import hashlib
import json
import re
import sys
import unicodedata
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import StringTensorType
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
MODEL_ID, VERSION = "diagnosis-suggestions", "1.0.0"
ONNX_PATH = HERE / f"{MODEL_ID}.onnx"
META_PATH = HERE / f"{MODEL_ID}.json"
GOLDEN_TOP3 = HERE / "golden" / f"{MODEL_ID}-top3.json"
GOLDEN_PARITY = HERE / "golden" / f"{MODEL_ID}-parity.json"
SEED = 42
N_PARITY = 200
MAX_ONNX_BYTES = 25_000_000
OPSET = {"": 17, "ai.onnx.ml": 3}

# The same whitespace set and steps as domain/cds/diagnosis.ts normalizeComplaints: NFC, lower
# case, every run of these characters -> one space, no space at either end. Written out rather
# than `\s`, whose members differ between Python and JavaScript.
WHITESPACE = re.compile("[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+")
# Words: runs of Cyrillic or Latin letters and digits. The same regex goes into the ONNX Tokenizer
# (re2), so scikit-learn and onnxruntime split words alike (sklearn's default \w pattern is
# exported as [a-zA-Z0-9_]+ and would drop every Russian word).
WORD_PATTERN = "[0-9a-zа-яё]+"

# Char 3-5-grams (the published baseline's features) + word unigrams, capped by frequency so
# the ONNX file stays under 25 MB; multinomial logistic regression. See the model card for how far
# the search went (one candidate against the given baseline: the shared machine was saturated).
CHAR = dict(analyzer="char", ngram_range=(3, 5), min_df=3, max_features=38_000, lowercase=False)
WORD = dict(analyzer="word", token_pattern=WORD_PATTERN, ngram_range=(1, 1), min_df=2, max_features=10_000, lowercase=False)
C = 10.0
# Bands of the top probability (after temperature scaling), and below which no ranking is shown.
BANDS = [("high", 0.5), ("moderate", 0.25), ("low", 0.0)]
LOW_CONFIDENCE_BELOW = 0.15


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def normalize(text):
    return WHITESPACE.sub(" ", unicodedata.normalize("NFC", text).lower()).strip(" ")


def load(split):
    rows = [json.loads(line) for line in (DATA / "rumedtop3" / f"{split}_v1.jsonl").read_text("utf8").splitlines() if line]
    return [normalize(r["symptoms"]) for r in rows], np.array([r["code"] for r in rows]), [r["idx"] for r in rows]


def icd10_titles():
    lines = gzip.decompress((DATA / "icd10-ru" / "icd10-ru.csv.gz").read_bytes()).decode("utf8").splitlines()[1:]
    return dict(line.split(";", 1) for line in lines)


def make_pipeline():
    features = FeatureUnion([("char", TfidfVectorizer(**CHAR)), ("word", TfidfVectorizer(**WORD))])
    return Pipeline([("features", features), ("lr", LogisticRegression(C=C, max_iter=3000))])


def hits(P, classes, y):
    top = classes[np.argsort(-P, 1, kind="stable")[:, :3]]
    return top[:, 0] == y, (top == y[:, None]).any(1), top


def bootstrap_ci(flags, n=2000):
    rng = np.random.default_rng(SEED)
    means = flags[rng.integers(0, len(flags), (n, len(flags)))].mean(1)
    return [float(np.percentile(means, 2.5) * 100), float(np.percentile(means, 97.5) * 100)]


def fit_temperature(z, y):
    """One temperature T for the softmax, minimising the negative log-likelihood of dev (a single
    scalar: it changes no ranking, so Hit@1/Hit@3 are unaffected; the dev calibration error after
    scaling is therefore optimistic, and the model card says so)."""
    nll = lambda t: -log_softmax(z / t, axis=1)[np.arange(len(y)), y].mean()
    return float(minimize_scalar(nll, bounds=(0.2, 5.0), method="bounded").x)


def scale_temperature(model, t):
    """softmax(z / T) is the same model with coefficients and intercepts divided by T, so it exports as is."""
    lr = model.named_steps["lr"]
    lr.coef_ = lr.coef_ / t
    lr.intercept_ = lr.intercept_ / t
    return model


def export_onnx(model):
    onx = convert_sklearn(model, name=MODEL_ID, target_opset=OPSET, initial_types=[("text", StringTensorType([None, 1]))],
                          options={id(model.named_steps["lr"]): {"zipmap": False},
                                   id(model.named_steps["features"].transformer_list[1][1]): {"tokenexp": WORD_PATTERN}})
    imports = sorted((o.domain, o.version) for o in onx.opset_import)
    del onx.opset_import[:]
    for domain, version in imports:
        onx.opset_import.add(domain=domain, version=version)
    onx.doc_string = ""
    return onx.SerializeToString()


def onnx_probabilities(onnx_bytes, texts):
    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["text"], sess.get_inputs()
    return sess.run(["probabilities"], {"text": np.array(texts, dtype=object).reshape(-1, 1)})[0]


def expected_calibration_error(P, classes, y, bins=10):
    conf, correct = P.max(1), classes[P.argmax(1)] == y
    edges = np.linspace(0, 1, bins + 1)
    return float(sum(abs(conf[m].mean() - correct[m].mean()) * m.mean()
                     for lo, hi in zip(edges[:-1], edges[1:]) if (m := (conf > lo) & (conf <= hi)).any()))


def band_of(p):
    return next(name for name, lower in BANDS if p >= lower)


def train(verbose=True):
    Xtr, ytr, _ = load("train")
    Xdv, ydv, idx = load("dev")
    titles = icd10_titles()
    model = make_pipeline().fit(Xtr, ytr)
    classes = model.classes_
    raw = model.predict_proba(Xdv)
    temperature = fit_temperature(model.decision_function(Xdv), np.searchsorted(classes, ydv))
    model = scale_temperature(model, temperature)
    P = model.predict_proba(Xdv)
    h1, h3, top = hits(P, classes, ydv)
    onnx_bytes = export_onnx(model)
    if len(onnx_bytes) > MAX_ONNX_BYTES:
        fail(f"the ONNX file is {len(onnx_bytes)} bytes, over {MAX_ONNX_BYTES}")
    parity_rows = np.sort(np.random.default_rng(SEED).choice(len(Xdv), N_PARITY, replace=False))
    parity_texts = [Xdv[i] for i in parity_rows]
    on = onnx_probabilities(onnx_bytes, parity_texts)
    delta = float(np.abs(on - P[parity_rows]).max())
    if delta > 1e-5:
        fail(f"onnxruntime and scikit-learn differ by {delta:.2e} on dev texts")
    top_p = P.max(1)
    low = top_p < LOW_CONFIDENCE_BELOW
    bands = {}
    for name, _ in BANDS:
        m = np.array([band_of(p) == name for p in top_p])
        bands[name] = {"share": float(m.mean()), "hit1": float(h1[m].mean()) if m.any() else None, "hit3": float(h3[m].mean()) if m.any() else None}
    meta = {
        "id": MODEL_ID, "version": VERSION, "task": "text-classification", "file": ONNX_PATH.name,
        "inputName": "text", "outputName": "probabilities",
        "normalization": "NFC, lower case, whitespace runs -> one space, trimmed (domain/cds/diagnosis.ts normalizeComplaints)",
        "sha256": hashlib.sha256(onnx_bytes).hexdigest(), "bytes": len(onnx_bytes),
        "family": "tfidf-char-word+logistic-regression",
        "settings": {"char": {**CHAR, "ngram_range": list(CHAR["ngram_range"])},
                     "word": {**WORD, "ngram_range": list(WORD["ngram_range"])}, "C": C, "temperature": temperature, "seed": SEED},
        "labels": [{"code": c, "title": titles[c]} for c in classes],
        "bands": [{"name": n, "from": lower} for n, lower in BANDS],
        "lowConfidenceBelow": LOW_CONFIDENCE_BELOW,
        "metrics": {
            "dev": {"n": len(ydv), "hit1": float(h1.mean() * 100), "hit1CI95": bootstrap_ci(h1),
                    "hit3": float(h3.mean() * 100), "hit3CI95": bootstrap_ci(h3),
                    "eceBeforeScaling": expected_calibration_error(raw, classes, ydv),
                    "eceAfterScaling": expected_calibration_error(P, classes, ydv),
                    "lowConfidenceShare": float(low.mean()),
                    "hit3WhenShown": float(h3[~low].mean() * 100), "hit3WhenLowConfidence": float(h3[low].mean() * 100) if low.any() else None,
                    "bands": bands},
            "onnxVsSklearnMaxAbs": delta,
        },
        "trainedOn": "RuMedTop3 train_v1 (4,690 complaints texts, 105 three-character ICD-10 codes)",
    }
    golden_top3 = {"modelId": MODEL_ID, "version": VERSION, "cases": [{"idx": i, "top3": list(t)} for i, t in zip(idx, top)]}
    golden_parity = {"modelId": MODEL_ID, "version": VERSION, "labels": list(classes),
                     "cases": [{"text": t, "sklearn": [round(float(v), 9) for v in P[r]]} for r, t in zip(parity_rows, parity_texts)]}
    if verbose:
        d = meta["metrics"]["dev"]
        print(f"dev Hit@1 {d['hit1']:.1f} {d['hit1CI95']}, Hit@3 {d['hit3']:.1f} {d['hit3CI95']}; T={temperature:.3f}; "
              f"ECE {d['eceBeforeScaling']:.3f} -> {d['eceAfterScaling']:.3f}; low-confidence {d['lowConfidenceShare']:.1%} "
              f"(Hit@3 {d['hit3WhenLowConfidence']}), bands {json.dumps(bands)}; ONNX {len(onnx_bytes) / 1e6:.1f} MB, |dP| {delta:.1e}")
    return onnx_bytes, meta, golden_top3, golden_parity


def check():
    onnx_bytes, meta, top3, parity = train(verbose=False)
    old_top3, old_parity = json.loads(GOLDEN_TOP3.read_text()), json.loads(GOLDEN_PARITY.read_text())
    same_top3 = old_top3["cases"] == top3["cases"]
    d_prob = float(np.abs(np.array([c["sklearn"] for c in old_parity["cases"]]) - np.array([c["sklearn"] for c in parity["cases"]])).max())
    committed = ONNX_PATH.read_bytes()
    texts = [c["text"] for c in old_parity["cases"]]
    d_onnx = float(np.abs(onnx_probabilities(committed, texts) - np.array([c["sklearn"] for c in old_parity["cases"]])).max())
    old_meta = json.loads(META_PATH.read_text())
    same_labels = old_meta["labels"] == meta["labels"] and old_parity["labels"] == parity["labels"]
    ok = same_top3 and same_labels and d_prob <= 1e-5 and d_onnx <= 1e-5 and hashlib.sha256(committed).hexdigest() == old_meta["sha256"]
    print(f"check {'OK' if ok else 'FAILED'}: dev top-3 identical={same_top3} ({len(top3['cases'])} texts), labels identical={same_labels}, "
          f"max|dP| sklearn={d_prob:.1e}, committed ONNX vs golden sklearn={d_onnx:.1e}, ONNX bytes identical={committed == onnx_bytes}")
    sys.exit(0 if ok else 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="retrain in memory and compare; write nothing")
    if ap.parse_args().check:
        return check()
    onnx_bytes, meta, top3, parity = train()
    ONNX_PATH.write_bytes(onnx_bytes)
    META_PATH.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    GOLDEN_TOP3.write_text(json.dumps(top3, ensure_ascii=False) + "\n")
    GOLDEN_PARITY.write_text(json.dumps(parity, ensure_ascii=False) + "\n")
    print(f"wrote {ONNX_PATH.name} ({len(onnx_bytes)} bytes), {META_PATH.name}, golden/{GOLDEN_TOP3.name}, golden/{GOLDEN_PARITY.name}")


if __name__ == "__main__":
    main()

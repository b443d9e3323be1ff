#!/usr/bin/env python3
"""Train, select and export the diabetes-progression CDS model.

    python3 models/train.py           # CV comparison, fit, export ONNX + metadata + golden cases
    python3 models/train.py --check   # retrain in memory, compare with the committed files, write nothing

Data: sklearn.datasets.load_diabetes(scaled=False), Efron et al. 2004, n=442, raw units.
"""
import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_diabetes
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import LassoCV, LinearRegression, RidgeCV
from sklearn.model_selection import KFold, RepeatedKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).resolve().parent
MODEL_ID, VERSION = "diabetes-progression", "1.0.0"
ONNX_PATH = HERE / f"{MODEL_ID}.onnx"
META_PATH = HERE / f"{MODEL_ID}.json"
GOLDEN_PATH = HERE / "golden" / f"{MODEL_ID}.json"
SEED = 42           # CV splits, ensembles
GOLDEN_SEED = 2024  # which dataset rows become golden cases
OPSET = {"": 17, "ai.onnx.ml": 3}  # fixed target; the file declares the (lower) opsets it really uses

# Feature order is the model's input contract. The dataset's s1..s6 are tc, ldl, hdl, tch, ltg, glu.
# "fromSI" = factor that turns the SI value (mmol/L) into the unit the model takes (before any log).
FEATURES = [
    dict(name="age", unit="years", loinc=None, source="patient",
         description="Age at baseline, years."),
    dict(name="sex", unit="code 1|2", loinc=None, source="patient",
         description="Sex as coded in the dataset (1 or 2; 235 vs 207 patients). The source does not "
                     "document which code is female and which male; the mapping is unknown."),
    dict(name="bmi", unit="kg/m2", loinc="39156-5", source="vital",
         description="Body mass index, kg/m2."),
    dict(name="bp", unit="mmHg", loinc="8478-0", source="vital",
         description="Average (mean arterial) blood pressure, mmHg. LOINC 8478-0 'Mean blood pressure'; "
                     "NOT systolic. If only systolic/diastolic are recorded, MAP ~ (SBP + 2*DBP)/3."),
    dict(name="tc", unit="mg/dL", loinc="2093-3", source="lab", fromSI=38.67,
         description="Total serum cholesterol, mg/dL (mmol/L x 38.67)."),
    dict(name="ldl", unit="mg/dL", loinc="13457-7", source="lab", fromSI=38.67,
         description="LDL cholesterol, mg/dL (mmol/L x 38.67). In the data it is Friedewald-calculated: "
                     "ldl = tc - hdl - triglycerides/5 (checked by this script)."),
    dict(name="hdl", unit="mg/dL", loinc="2085-9", source="lab", fromSI=38.67,
         description="HDL cholesterol, mg/dL (mmol/L x 38.67)."),
    dict(name="tch", unit="ratio", loinc=None, source="derived",
         description="Total cholesterol / HDL ratio, derived as tc / hdl (both in the same unit). In the "
                     "dataset 86% of values are rounded to an integer."),
    dict(name="ltg", unit="ln(mg/dL)", loinc="2571-8", source="lab", fromSI=88.57, transform="ln",
         description="Natural log of serum triglycerides in mg/dL: ltg = ln(TG mmol/L x 88.57). "
                     "exp(ltg) spans 26-449 mg/dL, and matches the Friedewald identity exactly."),
    dict(name="glu", unit="mg/dL", loinc="2345-7", source="lab", fromSI=18.0,
         description="Blood glucose, mg/dL (mmol/L x 18)."),
]
NAMES = [f["name"] for f in FEATURES]

# Candidate families, simplest first. Ridge/lasso pick alpha by an inner CV inside each outer
# training fold (nested CV); the ensembles use fixed, modest hyper-parameters (not tuned).
ALPHAS = np.logspace(-3, 3, 25)
FAMILIES = {
    "ols": (0, lambda: LinearRegression()),
    "ridge": (1, lambda: Pipeline([("scale", StandardScaler()), ("model", RidgeCV(alphas=ALPHAS))])),
    "lasso": (1, lambda: Pipeline([("scale", StandardScaler()),
                                   ("model", LassoCV(cv=KFold(5, shuffle=True, random_state=SEED),
                                                     max_iter=100_000))])),
    "gradient-boosting": (2, lambda: GradientBoostingRegressor(
        n_estimators=200, learning_rate=0.05, max_depth=2, subsample=0.8, random_state=SEED)),
    "random-forest": (2, lambda: RandomForestRegressor(
        n_estimators=300, min_samples_leaf=5, max_features=0.5, random_state=SEED)),
}
LINEAR = {"ols", "ridge", "lasso"}


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def load():
    d = load_diabetes(scaled=False)
    # s1..s6 = tc, ldl, hdl, tch, ltg, glu (see FEATURES)
    assert d.data.shape == (442, 10) and d.feature_names == ["age", "sex", "bmi", "bp"] + [f"s{i}" for i in range(1, 7)]
    return d.data.astype(np.float64), d.target.astype(np.float64)


def sanity_checks(X, verbose):
    """Check the unit reading of ltg and the meaning of ldl/tch against the data itself."""
    tc, ldl, hdl, tch, ltg = X[:, 4], X[:, 5], X[:, 6], X[:, 7], X[:, 8]
    tg = np.exp(ltg)  # natural log of mg/dL gives 26-449 mg/dL; log10 would give 1,800-1,280,000
    vldl = tc - hdl - ldl
    friedewald = np.abs(tg / 5 - vldl).max()  # Friedewald: LDL = TC - HDL - TG/5 (all mg/dL)
    if friedewald > 0.5:
        fail(f"ltg is not ln(TG mg/dL) or ldl is not Friedewald (max diff {friedewald})")
    if verbose:
        print(f"ltg: exp(ltg) = {tg.min():.0f}-{tg.max():.0f} mg/dL (median {np.median(tg):.0f}); "
              f"10**ltg would be {10**ltg.min():.0f}-{10**ltg.max():.0f} -> ltg = ln(TG mg/dL)")
        print(f"ldl: |(tc - hdl - ldl) - exp(ltg)/5| <= {friedewald:.3f} mg/dL -> Friedewald-calculated LDL")
        print(f"tch: corr(tch, tc/hdl) = {np.corrcoef(tch, tc / hdl)[0, 1]:.4f}; "
              f"{np.mean(tch == np.round(tch)):.0%} of tch values are integers (rounded in the source)")


def compare_families(X, y, verbose):
    cv = RepeatedKFold(n_splits=10, n_repeats=5, random_state=SEED)  # same 50 splits for every family
    scoring = {"rmse": "neg_root_mean_squared_error", "mae": "neg_mean_absolute_error", "r2": "r2"}
    metrics = {}
    for name, (_, make) in FAMILIES.items():
        r = cross_validate(make(), X, y, cv=cv, scoring=scoring)
        m = {}
        for k in scoring:
            s = r[f"test_{k}"] * (1 if k == "r2" else -1)
            m[k] = {"mean": float(s.mean()), "sd": float(s.std(ddof=1))}
        m["rmseSE"] = m["rmse"]["sd"] / np.sqrt(len(s))
        m["folds"] = len(s)
        metrics[name] = m
    # One-standard-error rule: among families whose mean CV RMSE <= best mean + best's SE
    # (SE = sd across the 50 folds / sqrt(50)), take the simplest (ols < ridge/lasso < ensembles);
    # ties in simplicity go to the lower mean RMSE. Folds overlap, so this SE is approximate.
    best = min(metrics, key=lambda n: metrics[n]["rmse"]["mean"])
    threshold = metrics[best]["rmse"]["mean"] + metrics[best]["rmseSE"]
    eligible = [n for n in metrics if metrics[n]["rmse"]["mean"] <= threshold]
    chosen = min(eligible, key=lambda n: (FAMILIES[n][0], metrics[n]["rmse"]["mean"]))
    selection = {"rule": "one-standard-error: simplest family (ols < ridge/lasso < ensembles) whose mean "
                         "10x5 repeated-CV RMSE is within one SE of the best family's",
                 "best": best, "threshold": threshold, "eligible": eligible, "chosen": chosen}
    if verbose:
        print("\n| family | RMSE | MAE | R2 |\n| --- | --- | --- | --- |")
        for n, m in metrics.items():
            cell = lambda k, f: f"{m[k]['mean']:{f}} ± {m[k]['sd']:{f}}"
            print(f"| {n} | {cell('rmse', '.2f')} | {cell('mae', '.2f')} | {cell('r2', '.3f')} |")
        print(f"\nbest = {best} (RMSE {metrics[best]['rmse']['mean']:.3f}, SE {metrics[best]['rmseSE']:.3f}); "
              f"threshold = {threshold:.3f}; eligible = {eligible}; chosen = {chosen}")
    return metrics, selection


def raw_linear(model):
    """Intercept and coefficients in raw feature units, so that score = b0 + sum(b_i * x_i)."""
    if isinstance(model, Pipeline):
        sc, lm = model.named_steps["scale"], model.named_steps["model"]
        coef = lm.coef_ / sc.scale_
        return float(lm.intercept_ - np.dot(coef, sc.mean_)), coef
    return float(model.intercept_), model.coef_.copy()


def export_onnx(model):
    onx = convert_sklearn(model, name=MODEL_ID, target_opset=OPSET,
                          initial_types=[("features", FloatTensorType([None, 10]))],
                          final_types=[("score", FloatTensorType([None, 1]))])
    # Determinism: skl2onnx declares the lowest opsets the graph needs (here below the target), in
    # set order that varies with Python's hash seed; sort them so the bytes are identical on every run.
    imports = sorted((o.domain, o.version) for o in onx.opset_import)
    del onx.opset_import[:]
    for domain, version in imports:
        onx.opset_import.add(domain=domain, version=version)
    onx.doc_string = ""
    return onx.SerializeToString()


def onnx_predict(onnx_bytes, X):
    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["features"]
    assert [o.name for o in sess.get_outputs()] == ["score"]
    return sess.run(["score"], {"features": X.astype(np.float32)})[0]


def golden_inputs(X):
    rows = np.sort(np.random.default_rng(GOLDEN_SEED).choice(len(X), 20, replace=False))
    edges = [X.min(0), X.max(0), X.mean(0), np.percentile(X, 5, axis=0), np.percentile(X, 95, axis=0)]
    return np.vstack([X[rows], *edges])  # edges are numeric edge cases, not real patients


def train(verbose=True):
    X, y = load()
    sanity_checks(X, verbose)
    metrics, selection = compare_families(X, y, verbose)
    family = selection["chosen"]
    model = FAMILIES[family][1]().fit(X, y)  # final fit on all 442 rows
    onnx_bytes = export_onnx(model)
    G = golden_inputs(X)
    sk = model.predict(G)
    on = onnx_predict(onnx_bytes, G)
    if on.shape != (len(G), 1) or np.abs(on[:, 0] - sk).max() > 1e-3:
        fail(f"onnxruntime vs sklearn differ by {np.abs(on[:, 0] - sk).max()}")
    mean = X.mean(0)
    if family in LINEAR:
        b0, coef = raw_linear(model)
        if np.abs(b0 + G @ coef - sk).max() > 1e-3 or np.abs(b0 + G @ coef - on[:, 0]).max() > 1e-3:
            fail("intercept + sum(coef * x) does not reproduce the predictions")
        explanation = {"method": "linear-contributions", "intercept": b0,
                       "baseline": float(b0 + coef @ mean), "coefficients": [float(c) for c in coef],
                       "description": "contribution_i = coefficients[i] * (x_i - features[i].mean); "
                                      "score = baseline + sum(contribution_i), exactly."}
        if family != "ols":
            explanation["alpha"] = float(model.named_steps["model"].alpha_)
    else:  # kept if the rule picks it, but no exact additive explanation is exported
        explanation = {"method": "none", "baseline": float(model.predict(mean[None])[0]),
                       "description": f"{family} is non-linear; per-feature contributions are not exact "
                                      "and are not provided by this model file."}
    meta = {
        "id": MODEL_ID, "version": VERSION, "file": ONNX_PATH.name, "inputName": "features",
        "outputName": "score", "family": family, "targetOpset": OPSET,
        "opsetImports": {o.domain or "ai.onnx": o.version for o in onnx.load_from_string(onnx_bytes).opset_import},
        "sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "features": [{**{k: f[k] for k in ("name", "unit")},
                      "min": float(X[:, i].min()), "max": float(X[:, i].max()), "mean": float(mean[i]),
                      **{k: v for k, v in f.items() if k not in ("name", "unit")}}
                     for i, f in enumerate(FEATURES)],
        "output": {"name": "score", "range": [float(y.min()), float(y.max())],
                   "meaning": "Predicted quantitative measure of diabetes disease progression one year after "
                              "baseline, on the study's own unitless scale (observed 25-346; higher = more "
                              "progression). Predictions are not clipped to that range."},
        "bands": [{"name": "low", "upTo": float(np.percentile(y, 33))},
                  {"name": "moderate", "upTo": float(np.percentile(y, 67))},
                  {"name": "high", "upTo": None}],
        "explanation": explanation,
        "metrics": metrics,
        "selection": selection,
        "trainedOn": "sklearn diabetes (Efron et al. 2004), n=442",
    }
    golden = {"modelId": MODEL_ID, "version": VERSION,
              "cases": [{"features": [float(v) for v in g], "score": float(o), "sklearnScore": float(s)}
                        for g, o, s in zip(G, on[:, 0], sk)]}
    if verbose and family in LINEAR:
        print(f"\nfinal {family}: intercept {b0:.6f}, baseline {explanation['baseline']:.6f}")
        for n, c in zip(NAMES, coef):
            print(f"  {n:4s} {c: .6f}")
        # Collinearity: ldl = tc - hdl - exp(ltg)/5 in this data, so the lipid coefficients offset each other.
        vif = np.diag(np.linalg.inv(np.corrcoef(X, rowvar=False)))
        print("VIF: " + ", ".join(f"{n} {v:.1f}" for n, v in zip(NAMES, vif)))
        print(f"bands: low <= {meta['bands'][0]['upTo']}, moderate <= {meta['bands'][1]['upTo']}")
        print(f"max |onnx - sklearn| on golden = {np.abs(on[:, 0] - sk).max():.2e}")
    return onnx_bytes, meta, golden


def check():
    onnx_bytes, meta, golden = train(verbose=False)
    old_meta, old_golden = json.loads(META_PATH.read_text()), json.loads(GOLDEN_PATH.read_text())
    G = np.array([c["features"] for c in old_golden["cases"]])
    ref = np.array([c["sklearnScore"] for c in old_golden["cases"]])
    new = np.array([c["sklearnScore"] for c in golden["cases"]])
    d_pred = np.abs(new - ref).max() if len(new) == len(ref) else np.inf
    oe, ne = old_meta["explanation"], meta["explanation"]
    d_coef = max(np.abs(np.subtract(oe.get("coefficients", []), ne.get("coefficients", []))).max(initial=0),
                 abs(oe.get("intercept", 0) - ne.get("intercept", 0)))
    committed = ONNX_PATH.read_bytes()
    d_onnx = np.abs(onnx_predict(committed, G)[:, 0] - np.array([c["score"] for c in old_golden["cases"]])).max()
    same_bytes = committed == onnx_bytes
    ok = (old_meta["family"] == meta["family"] and max(d_pred, d_coef, d_onnx) <= 1e-6 and same_bytes
          and np.allclose(G, np.array([c["features"] for c in golden["cases"]])))
    print(f"check {'OK' if ok else 'FAILED'}: family={meta['family']} golden={len(ref)} "
          f"max|dScore|={d_pred:.1e} max|dCoef|={d_coef:.1e} committedOnnxVsGolden={d_onnx:.1e} "
          f"onnxBytesIdentical={same_bytes}")
    sys.exit(0 if ok else 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="retrain in memory and compare; write nothing")
    if ap.parse_args().check:
        return check()
    onnx_bytes, meta, golden = train()
    if export_onnx(FAMILIES[meta["family"]][1]().fit(*load())) != onnx_bytes:
        fail("ONNX export is not deterministic")
    ONNX_PATH.write_bytes(onnx_bytes)
    META_PATH.write_text(json.dumps(meta, indent=2) + "\n")
    GOLDEN_PATH.parent.mkdir(exist_ok=True)
    GOLDEN_PATH.write_text(json.dumps(golden, indent=2) + "\n")
    print(f"\nwrote {ONNX_PATH.name} ({len(onnx_bytes)} bytes, sha256 {meta['sha256'][:12]}), "
          f"{META_PATH.name}, golden/{GOLDEN_PATH.name} ({len(golden['cases'])} cases)")


if __name__ == "__main__":
    main()

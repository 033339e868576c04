"""scikit-learn's numbers for test/reference/sklearn-metrics.test.ts.

Reads a JSON file (argv[1]) with
  cases:      [{labels, y_true, y_pred}]         label strings; labels = the model's labels in id order
  percentile: {values, q}                        numpy.percentile (linear)
  tfidf:      {train, test}                      TfidfVectorizer() defaults
  logreg:     [{name, train: {texts, y}, test: {texts, y}}]   TfidfVectorizer() + LogisticRegression()
and prints one JSON object with the same keys, holding what sklearn/numpy computes.
"""
import json
import sys
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

warnings.simplefilter("ignore", UndefinedMetricWarning)


def metrics(case):
    labels, y_true, y_pred = case["labels"], case["y_true"], case["y_pred"]
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "accuracy": accuracy_score(y_true, y_pred),
        # default labels: unique_labels(y_true, y_pred)
        "macro_f1": f1_score(y_true, y_pred, average="macro", zero_division=0),
        "per_class": {l: {"precision": p[i], "recall": r[i], "f1": f[i], "support": int(s[i])} for i, l in enumerate(labels)},
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def tfidf(fixture):
    v = TfidfVectorizer().fit(fixture["train"])
    x = v.transform(fixture["test"])
    names = v.get_feature_names_out()
    rows = []
    for i in range(x.shape[0]):
        row = x.getrow(i)
        rows.append({names[j]: float(val) for j, val in zip(row.indices, row.data)})
    return {"features": len(names), "rows": rows}


def logreg(case):
    v = TfidfVectorizer().fit(case["train"]["texts"])
    xtr, xte = v.transform(case["train"]["texts"]), v.transform(case["test"]["texts"])
    ytr, yte = case["train"]["y"], case["test"]["y"]
    out = {"name": case["name"]}
    # converged tightly (comparable to our optimizer run to its tolerance), and sklearn's defaults as a user runs it
    for key, model in [("tight", LogisticRegression(tol=1e-10, max_iter=10000)), ("default", LogisticRegression())]:
        model.fit(xtr, ytr)
        pred = model.predict(xte)
        out[key] = {
            "classes": [int(c) for c in model.classes_],
            "proba": model.predict_proba(xte).tolist(),
            "pred": [int(c) for c in pred],
            "accuracy": accuracy_score(yte, pred),
            "macro_f1": f1_score(yte, pred, average="macro", zero_division=0),
        }
    return out


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        fixture = json.load(f)
    pct = fixture["percentile"]
    result = {
        "sklearn": sklearn.__version__,
        "cases": [metrics(c) for c in fixture["cases"]],
        "percentile": [float(np.percentile(pct["values"], q)) for q in pct["q"]],
        "tfidf": tfidf(fixture["tfidf"]),
        "logreg": [logreg(c) for c in fixture["logreg"]],
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()

"""Writes examples/topk_predictions.ipynb from the cells below and executes it once, so that
the stored notebook shows its outputs: ``python examples/make_notebook.py``.

The test suite (tests/test_notebook.py) executes the notebook again; every cell that computes
something with fasttopk also checks it against NumPy, SciPy or scikit-learn."""
from __future__ import annotations

import os
import sys

import nbformat
from nbclient import NotebookClient

HERE = os.path.dirname(os.path.abspath(__file__))
NOTEBOOK = os.path.join(HERE, "topk_predictions.ipynb")

CELLS = [
    ("md", """# From logits to named top-k predictions with fasttopk

A classifier (or a language model) gives one row of logits per sample. The everyday jobs:

1. the **top-3 classes with their names and probabilities** for a batch,
2. the **predicted class name** of every sample (Keras's `predict_classes`),
3. **top-1 and top-5 accuracy** over an evaluation set that arrives in batches,
4. **per-class top-5 accuracy**, to see which classes the model gets wrong.

fasttopk does each in one call, without the n × C softmax in memory, and every cell below checks
its answer against NumPy, SciPy or scikit-learn."""),
    ("code", """import numpy as np
import scipy.special
import sklearn.metrics
import matplotlib.pyplot as plt
import fasttopk

print("fasttopk", fasttopk.__version__, "on", fasttopk.simd_arch())"""),
    ("md", """## The data: logits of a 30-class classifier

Synthetic logits for 20 000 samples: the true class gets a boost that differs from class to class,
so some classes are easy and others hard, as in real models."""),
    ("code", """classes = np.array([
    "aardvark", "badger", "camel", "dingo", "eagle", "ferret", "gecko", "heron", "ibis", "jackal",
    "koala", "lemur", "marmot", "narwhal", "ocelot", "panda", "quokka", "raven", "serval", "tapir",
    "urchin", "vole", "walrus", "xerus", "yak", "zebu", "alpaca", "bison", "cobra", "dugong",
])
n_samples, n_classes = 20_000, len(classes)
rng = np.random.default_rng(7)
y_true = rng.integers(0, n_classes, n_samples)
easiness = np.linspace(0.5, 4.0, n_classes)[rng.permutation(n_classes)]
logits = rng.standard_normal((n_samples, n_classes)).astype(np.float32) * 1.5
logits[np.arange(n_samples), y_true] += easiness[y_true].astype(np.float32)
logits.shape, logits.dtype"""),
    ("md", """## 1. Top-3 classes with names and probabilities

`topk_softmax` gives the k largest probabilities of `softmax(logits / temperature)` and their
indices; with `classes=` the result also carries the names. It still unpacks as
`probs, indices`."""),
    ("code", """batch = logits[:5]
top3 = fasttopk.topk_softmax(batch, 3, classes=classes)
for row, (names, probs) in enumerate(zip(top3.labels, top3.values)):
    print(f"sample {row}: " + ", ".join(f"{n} {p:.1%}" for n, p in zip(names, probs)))

# check: the same as SciPy's softmax followed by a full sort
probs_ref = scipy.special.softmax(batch, axis=1)
order_ref = np.argsort(-probs_ref, axis=1, kind="stable")[:, :3]
np.testing.assert_array_equal(top3.indices, order_ref)
np.testing.assert_allclose(top3.values, np.take_along_axis(probs_ref, order_ref, axis=1), rtol=1e-5)
np.testing.assert_array_equal(top3.labels, classes[order_ref])"""),
    ("md", """A temperature sharpens (< 1) or flattens (> 1) the distribution; `log=True` gives
log-probabilities. The selection is the same, only the values change."""),
    ("code", """for t in (0.5, 1.0, 2.0):
    p, i = fasttopk.topk_softmax(batch[:1], 3, temperature=t)
    np.testing.assert_allclose(p, np.take_along_axis(scipy.special.softmax(batch[:1] / t, axis=1), i, 1), rtol=1e-5)
    print(f"T={t}: " + ", ".join(f"{n} {q:.1%}" for n, q in zip(classes[i[0]], p[0])))"""),
    ("md", """## 2. Predicted class names (`predict_classes`)

`argmax` with `classes=` returns the names, exactly NumPy's argmax (first maximum wins)."""),
    ("code", """predicted = fasttopk.argmax(logits, classes=classes)
np.testing.assert_array_equal(predicted, classes[np.argmax(logits, axis=1)])
print(predicted[:8])
print("top-1 accuracy:", np.mean(predicted == classes[y_true]))"""),
    ("md", """## 3. Top-1 and top-5 accuracy over batches

`TopKAccuracy` accumulates over batches (as an evaluation loop sees them) and can be merged
across workers. It agrees with `sklearn.metrics.top_k_accuracy_score` on the whole set."""),
    ("code", """accuracy = fasttopk.TopKAccuracy(k=[1, 5], labels=np.arange(n_classes))
for start in range(0, n_samples, 4096):  # batches from a data loader
    accuracy.update(y_true[start:start + 4096], logits[start:start + 4096])
top1, top5 = accuracy.result()
print(f"top-1 {top1:.4f}   top-5 {top5:.4f}   ({accuracy.n_samples} samples)")

assert top1 == sklearn.metrics.top_k_accuracy_score(y_true, logits, k=1, labels=np.arange(n_classes))
assert top5 == sklearn.metrics.top_k_accuracy_score(y_true, logits, k=5, labels=np.arange(n_classes))"""),
    ("md", """## 4. Per-class top-5 accuracy, and the worst classes

`average=None` keeps one accuracy per true class (the top-5 recall of each class), in label order.
`top_k_accuracy_per_class` does the same in one call."""),
    ("code", """per_class = fasttopk.TopKAccuracy(k=5, labels=np.arange(n_classes), average=None)
for start in range(0, n_samples, 4096):
    per_class.update(y_true[start:start + 4096], logits[start:start + 4096])
acc5 = per_class.result()

# check against NumPy: a sample is a hit when its class is among the 5 largest logits
top5_idx = np.argsort(-logits, axis=1, kind="stable")[:, :5]
hit = np.any(top5_idx == y_true[:, None], axis=1)
reference = np.array([hit[y_true == c].mean() for c in range(n_classes)])
np.testing.assert_allclose(acc5, reference)
np.testing.assert_allclose(acc5, fasttopk.top_k_accuracy_per_class(y_true, logits, k=5))
macro = fasttopk.TopKAccuracy(k=5, labels=np.arange(n_classes), average="macro").update(y_true, logits).result()
print(f"macro top-5 accuracy {macro:.4f} (mean over classes), micro {top5:.4f}")"""),
    ("code", """worst = np.argsort(acc5)[:8]
fig, ax = plt.subplots(figsize=(6, 3))
ax.barh(classes[worst][::-1], acc5[worst][::-1], color="tab:red")
ax.axvline(top5, color="gray", linestyle="--", label=f"overall top-5 ({top5:.2f})")
ax.set_xlabel("top-5 accuracy")
ax.set_title("The 8 classes with the lowest top-5 accuracy")
ax.set_xlim(0, 1)
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()"""),
    ("md", """## Bonus: the cross-entropy loss with `logsumexp`

The mean negative log-likelihood is `logsumexp(logits) - logits[true class]`, without a softmax."""),
    ("code", """nll = fasttopk.logsumexp(logits) - logits[np.arange(n_samples), y_true]
ref = scipy.special.logsumexp(logits.astype(np.float64), axis=1) - logits[np.arange(n_samples), y_true]
np.testing.assert_allclose(nll, ref, rtol=1e-5, atol=1e-5)
print(f"cross-entropy {nll.mean():.4f} nats;", "sklearn log_loss",
      round(sklearn.metrics.log_loss(y_true, scipy.special.softmax(logits.astype(np.float64), axis=1),
                                     labels=np.arange(n_classes)), 4))
print("all checks passed")"""),
]


def build() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, text in CELLS:
        nb.cells.append(nbformat.v4.new_markdown_cell(text) if kind == "md" else nbformat.v4.new_code_cell(text))
    return nb


def execute(nb: nbformat.NotebookNode, timeout: int = 300) -> nbformat.NotebookNode:
    """Runs every cell in a fresh kernel (the interpreter running this script)."""
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": HERE}}).execute()
    return nb


if __name__ == "__main__":
    notebook = execute(build())
    nbformat.write(notebook, NOTEBOOK)
    print(f"wrote {os.path.relpath(NOTEBOOK)}", file=sys.stderr)

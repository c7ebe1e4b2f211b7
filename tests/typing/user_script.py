"""What a user of fasttopk writes, checked by ``mypy --strict`` (tests/test_typing.py).

It is type-checked, never run by the suite (tests/test_doctests.py and the other tests run
the same calls). Each line is one a user would write: if the package's annotations made any
of them an error under --strict (an untyped function, a missing name, a wrong argument type),
the test fails.
"""
from __future__ import annotations

import numpy as np
import numpy.typing as npt

import fasttopk

rng = np.random.default_rng(0)
logits: npt.NDArray[np.float32] = rng.standard_normal((80, 10)).astype(np.float32)
y_true: npt.NDArray[np.int64] = np.arange(80) % 10  # every class present
class_names = [f"class {i}" for i in range(10)]
class_ids = np.arange(10)

# top-k: a namedtuple that unpacks, with labels when classes= is given
values, indices = fasttopk.topk(logits, 3)
best = fasttopk.topk(logits, 3, axis=-1, largest=True, sorted=True)
print(best.values.shape, best.indices.dtype)
labelled = fasttopk.topk(logits, 3, classes=class_names)
print(labelled.labels)
smallest = fasttopk.argtopk(logits, 2, largest=False)

# argmax / argmin, NumPy's conventions
winners = fasttopk.argmax(logits)
names = fasttopk.argmax(logits, classes=class_names)
kept = fasttopk.argmin(logits, axis=0, keepdims=True)
into = np.empty(80, dtype=np.int64)
fasttopk.argmax(logits, out=into)

# softmax family, SciPy's conventions
probabilities = fasttopk.softmax(logits)
log_probabilities = fasttopk.log_softmax(logits, axis=(0, 1))
normaliser = fasttopk.logsumexp(logits, keepdims=True)
top = fasttopk.topk_softmax(logits, 5, temperature=0.7, log=False, sorted=True)
print(top.values, top.indices)

# metrics, scikit-learn's conventions
score = fasttopk.top_k_accuracy_score(y_true, logits, k=5, normalize=True, labels=np.arange(10))
scores = fasttopk.top_k_accuracy_score(y_true, logits, k=[1, 5], labels=range(10))
ranks = fasttopk.true_label_rank(y_true, logits, labels=class_ids)
per_class = fasttopk.top_k_accuracy_per_class(y_true, logits, k=3, sample_weight=np.ones(80), labels=class_ids)

# a streaming accumulator over batches
accuracy = fasttopk.TopKAccuracy(k=5, labels=np.arange(10), average="macro")
for start in range(0, 80, 40):
    accuracy.update(y_true[start : start + 40], logits[start : start + 40])
print(accuracy.result())
accuracy.merge(fasttopk.TopKAccuracy(k=5, labels=np.arange(10), average="macro")).reset()

# the runtime
fasttopk.set_num_threads(2)
threads: int = fasttopk.get_num_threads()
isa: str = fasttopk.simd_arch()
print(score, scores, ranks, per_class, winners, names, kept, probabilities, log_probabilities, normaliser)
print(values, indices, smallest, threads, isa, fasttopk.__version__)

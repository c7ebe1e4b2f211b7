"""The README's example runs and says what it claims."""
import pathlib
import re

import numpy as np

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs_and_agrees():
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[0]
    scope: dict = {}
    exec(compile(code, str(README), "exec"), scope)
    ftk, logits, labels = scope["ftk"], scope["logits"], scope["labels"]
    # log_softmax ran in place and keeps each row's order, so the scores below still hold.
    np.testing.assert_array_equal(scope["acc"].result(), ftk.top_k_accuracy_score(labels, logits, k=[1, 5]))
    assert scope["values"].shape == scope["indices"].shape == (10_000, 5)

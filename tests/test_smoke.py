"""The tutorial's first cell, checked against central differences."""
import numpy as np

import chainrule as cr
from conftest import check_grad


def test_tutorial_first_cell_gradients():
    F = cr.nn.functional
    x = np.ones(5)
    y = np.zeros(3)

    def loss(w, b):
        z = cr.matmul(cr.tensor(x), w) + b
        return F.binary_cross_entropy_with_logits(z, cr.tensor(y))

    rng = np.random.default_rng(0)
    check_grad(loss, rng.standard_normal((5, 3)), rng.standard_normal(3))


def test_chain_of_mul_add():
    check_grad(lambda x: (x * 1.5 + 0.25) * x, np.arange(4.0))

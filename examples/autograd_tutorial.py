"""PyTorch's "Automatic differentiation with torch.autograd" tutorial, run on chainrule.

Every cell of the tutorial, in order, with ``import chainrule as torch`` as the only change,
then its closing part (tensor gradients and Jacobian products), a frozen-parameter demo and
a picture of the graph of ``loss`` in ``examples/out/tutorial_graph.dot`` (and ``.svg`` when
Graphviz's ``dot`` is installed).

Run: ``make demo`` (or ``python examples/autograd_tutorial.py``).
"""
import os

import chainrule as torch
from chainrule.viz import save_graph

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")


def section(title: str) -> None:
    print(f"\n== {title} ==")


def main(out_dir: str = OUT_DIR) -> dict:
    """Run the walk-through; returns the tensors it made (the tests compare them with torch)."""
    torch.manual_seed(0)

    section("Automatic differentiation with torch.autograd")
    x = torch.ones(5)  # input tensor
    y = torch.zeros(3)  # expected output
    w = torch.randn(5, 3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    print(loss)

    section("Tensors, functions and computational graph")
    print(f"Gradient function for z = {z.grad_fn}")
    print(f"Gradient function for loss = {loss.grad_fn}")
    paths = save_graph(loss, os.path.join(out_dir, "tutorial_graph.dot"),
                       params={"w": w, "b": b, "z": z, "loss": loss})
    print("graph of loss written to " + ", ".join(os.path.relpath(p) for p in paths))

    section("Computing gradients")
    loss.backward()
    print(w.grad)
    print(b.grad)

    section("Disabling gradient tracking")
    z = torch.matmul(x, w) + b
    print(z.requires_grad)

    with torch.no_grad():
        z = torch.matmul(x, w) + b
    print(z.requires_grad)

    z = torch.matmul(x, w) + b
    z_det = z.detach()
    print(z_det.requires_grad)

    section("Frozen parameters")
    w.grad = b.grad = None
    w.requires_grad_(False)  # freeze w: only b is trained
    frozen_loss = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.matmul(x, w) + b, y)
    frozen_loss.backward()
    print(f"w.requires_grad = {w.requires_grad}, w.grad = {w.grad}")
    print(f"b.grad = {b.grad}")
    w.requires_grad_(True)

    section("Tensor gradients and Jacobian products")
    inp = torch.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    out.backward(torch.ones_like(out), retain_graph=True)
    first = inp.grad.clone()
    print(f"First call\n{inp.grad}")
    out.backward(torch.ones_like(out), retain_graph=True)
    second = inp.grad.clone()
    print(f"\nSecond call\n{inp.grad}")
    inp.grad.zero_()
    out.backward(torch.ones_like(out), retain_graph=True)
    print(f"\nCall after zeroing gradients\n{inp.grad}")

    return {"x": x, "y": y, "w": w, "b": b, "loss": loss, "z_det": z_det,
            "frozen_loss": frozen_loss, "inp": inp, "first": first, "second": second,
            "graph": paths}


if __name__ == "__main__":
    main()

"""Fold an eval-mode BatchNorm into the conv or linear layer before it (for inference).

y = gamma (W x + b - mean) / sqrt(var + eps) + beta is again a layer with weight
W * gamma / sqrt(var + eps) and bias (b - mean) * gamma / sqrt(var + eps) + beta.
"""
from __future__ import annotations

import copy

from ...autograd.grad_mode import no_grad

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights"]


def _cr():
    import chainrule

    return chainrule


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """(weight, bias) Parameters of the conv that computes conv followed by the BatchNorm."""
    cr = _cr()
    dtype = conv_w.dtype
    conv_b = cr.zeros_like(bn_rm) if conv_b is None else conv_b
    bn_w = cr.ones_like(bn_rm) if bn_w is None else bn_w
    bn_b = cr.zeros_like(bn_rm) if bn_b is None else bn_b
    bn_var_rsqrt = cr.rsqrt(bn_rv + bn_eps)
    shape = [1] * conv_w.dim()
    shape[1 if transpose else 0] = -1
    w = (conv_w * (bn_w * bn_var_rsqrt).reshape(shape)).to(dtype)
    b = ((conv_b - bn_rm) * bn_var_rsqrt * bn_w + bn_b).to(dtype)
    return (cr.nn.Parameter(w, conv_w.requires_grad), cr.nn.Parameter(b, conv_b.requires_grad))


def fuse_conv_bn_eval(conv, bn, transpose: bool = False):
    """A copy of ``conv`` with the eval-mode ``bn`` folded into its weight and bias."""
    assert not (conv.training or bn.training), "Fusion only for eval!"
    fused = copy.deepcopy(conv)
    assert bn.running_mean is not None and bn.running_var is not None
    with no_grad():
        fused.weight, fused.bias = fuse_conv_bn_weights(
            fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight,
            bn.bias, transpose)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """(weight, bias) Parameters of the linear layer that computes linear followed by BN."""
    cr = _cr()
    linear_b = cr.zeros_like(bn_rm) if linear_b is None else linear_b
    bn_scale = bn_w * cr.rsqrt(bn_rv + bn_eps)
    w = linear_w * bn_scale.unsqueeze(-1)
    b = (linear_b - bn_rm) * bn_scale + bn_b
    return (cr.nn.Parameter(w, linear_w.requires_grad),
            cr.nn.Parameter(b, linear_b.requires_grad))


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` with the eval-mode ``bn`` folded into its weight and bias."""
    assert not (linear.training or bn.training), "Fusion only for eval!"
    assert linear.out_features == bn.num_features or bn.num_features == 1, (
        "To fuse, linear.out_features must equal bn.num_features or bn.num_features must be 1")
    fused = copy.deepcopy(linear)
    with no_grad():
        fused.weight, fused.bias = fuse_linear_bn_weights(
            fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight,
            bn.bias)
    return fused

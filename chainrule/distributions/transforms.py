"""torch.distributions.transforms: the bijections TransformedDistribution uses most (Exp,
Affine, Abs, Power, Sigmoid, Softplus, Tanh, StickBreaking, Compose), each with ``inv`` and ``log_abs_det_jacobian``."""
from __future__ import annotations

import math

__all__ = ["AbsTransform", "AffineTransform", "ComposeTransform", "ExpTransform",
           "PowerTransform", "SigmoidTransform", "SoftplusTransform", "StickBreakingTransform",
           "TanhTransform", "Transform"]


def _cr():
    import chainrule

    return chainrule


def _sum_rightmost(value, dim: int):
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:value.dim() - dim]) + (-1,)).sum(-1)


class Transform:
    """Base class: ``t(x)``, ``t.inv(y)``, ``t.log_abs_det_jacobian(x, y)``."""

    bijective = True
    event_dim = 0
    sign = 1

    @property
    def inv(self) -> Transform:
        return _InverseTransform(self)

    def __call__(self, x):
        return self._call(x)

    def _inv_call(self, y):
        raise NotImplementedError

    def log_abs_det_jacobian(self, x, y):
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__ + "()"


class _InverseTransform(Transform):
    def __init__(self, transform: Transform):
        self._inv = transform

    @property
    def inv(self) -> Transform:
        return self._inv

    @property
    def event_dim(self):
        return self._inv.event_dim

    @property
    def sign(self):
        return self._inv.sign

    def _call(self, x):
        return self._inv._inv_call(x)

    def _inv_call(self, y):
        return self._inv._call(y)

    def log_abs_det_jacobian(self, x, y):
        return -self._inv.log_abs_det_jacobian(y, x)

    def __repr__(self) -> str:
        return f"_InverseTransform({self._inv!r})"


class ExpTransform(Transform):
    """y = exp(x)."""

    def _call(self, x):
        return x.exp()

    def _inv_call(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class AffineTransform(Transform):
    """y = loc + scale * x (``event_dim`` rightmost dims treated as one event)."""

    def __init__(self, loc, scale, event_dim: int = 0, cache_size: int = 0):
        self.loc, self.scale, self._event_dim = loc, scale, event_dim

    @property
    def event_dim(self):
        return self._event_dim

    @property
    def sign(self):
        if isinstance(self.scale, (int, float)):
            return 1 if float(self.scale) > 0 else -1 if float(self.scale) < 0 else 0
        return self.scale.sign()

    def _call(self, x):
        return self.loc + self.scale * x

    def _inv_call(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        cr = _cr()
        shape = tuple(x.shape)
        scale = self.scale
        if isinstance(scale, (int, float)):
            result = cr.full_like(x, math.log(abs(scale)))
        else:
            result = scale.abs().log()
        if self._event_dim:
            result = result.reshape(tuple(result.shape[:result.dim() - self._event_dim])
                                    + (-1,)).sum(-1)
            shape = shape[:len(shape) - self._event_dim]
        return result.expand(shape)


class AbsTransform(Transform):
    """y = |x|; not bijective: ``inv`` returns y itself (the nonnegative preimage)."""

    bijective = False

    @property
    def sign(self):
        raise NotImplementedError

    def _call(self, x):
        return x.abs()

    def _inv_call(self, y):
        return y


class PowerTransform(Transform):
    """y = x^exponent on x > 0."""

    def __init__(self, exponent, cache_size: int = 0):
        self.exponent = exponent

    @property
    def sign(self):
        e = self.exponent
        if isinstance(e, (int, float)):
            return 1 if e > 0 else -1 if e < 0 else 0
        return e.sign()

    def _call(self, x):
        return x.pow(self.exponent)

    def _inv_call(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        # |d x^e / dx| = |e x^(e - 1)| = |e y / x|
        return (self.exponent * y / x).abs().log()


class SigmoidTransform(Transform):
    """y = sigmoid(x), clamped into (0, 1) as torch does."""

    def _call(self, x):
        cr = _cr()
        finfo = cr.finfo(x.dtype)
        return cr.sigmoid(x).clamp(min=finfo.tiny, max=1.0 - finfo.eps)

    def _inv_call(self, y):
        cr = _cr()
        finfo = cr.finfo(y.dtype)
        y = y.clamp(min=finfo.tiny, max=1.0 - finfo.eps)
        return y.log() - cr.log1p(-y)

    def log_abs_det_jacobian(self, x, y):
        from ..nn.functional import softplus

        return -softplus(-x) - softplus(x)


class SoftplusTransform(Transform):
    """y = log(1 + exp(x)); inverse x = y + log(-expm1(-y))."""

    def _call(self, x):
        from ..nn.functional import softplus

        return softplus(x)

    def _inv_call(self, y):
        return y + (-_cr().expm1(-y)).log()

    def log_abs_det_jacobian(self, x, y):
        from ..nn.functional import softplus

        return -softplus(-x)  # log sigmoid(x)


class TanhTransform(Transform):
    """y = tanh(x)."""

    def _call(self, x):
        return x.tanh()

    def _inv_call(self, y):
        return _cr().atanh(y)

    def log_abs_det_jacobian(self, x, y):
        from ..nn.functional import softplus

        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class StickBreakingTransform(Transform):
    """R^(K-1) -> the K-simplex: z_i = sigmoid(x_i - log(K - 1 - i)), y_i = z_i prod_{j<i}
    (1 - z_j), the last entry takes what is left (x = 0 maps to the uniform point)."""

    event_dim = 1

    @staticmethod
    def _log_offset(n: int, like):
        cr = _cr()
        return cr.log(cr.arange(n, 0, -1, dtype=like.dtype))  # log(K-1), ..., log(1)

    def _call(self, x):
        cr = _cr()
        z = cr.sigmoid(x - self._log_offset(x.shape[-1], x))
        rest = (1 - z).cumprod(-1)  # what is left after each break
        ones = cr.ones_like(z[..., :1])
        return cr.cat([z, ones], -1) * cr.cat([ones, rest], -1)

    def _inv_call(self, y):
        cr = _cr()
        y_crop = y[..., :-1]
        left = (1 - y_crop.cumsum(-1)).clamp(min=cr.finfo(y.dtype).tiny)
        return y_crop.log() - left.log() + self._log_offset(y_crop.shape[-1], y)

    def log_abs_det_jacobian(self, x, y):
        # dy_i / dx_i = y_i (1 - z_i); log(1 - z_i) = logsigmoid(t) - t, t = x_i - log offset_i
        from ..nn.functional import logsigmoid

        t = x - self._log_offset(x.shape[-1], x)
        return (-t + logsigmoid(t) + y[..., :-1].log()).sum(-1)


class ComposeTransform(Transform):
    """Apply ``parts`` in order."""

    def __init__(self, parts, cache_size: int = 0):
        self.parts = list(parts)

    @property
    def event_dim(self):
        return max((p.event_dim for p in self.parts), default=0)

    @property
    def sign(self):
        s = 1
        for p in self.parts:
            s = s * p.sign
        return s

    @property
    def inv(self) -> Transform:
        return ComposeTransform([p.inv for p in reversed(self.parts)])

    def _call(self, x):
        for p in self.parts:
            x = p(x)
        return x

    def _inv_call(self, y):
        for p in reversed(self.parts):
            y = p.inv(y)
        return y

    def log_abs_det_jacobian(self, x, y):
        if not self.parts:
            return _cr().zeros_like(x)
        total = 0
        for p in self.parts:
            y = p(x)
            total = total + _sum_rightmost(p.log_abs_det_jacobian(x, y),
                                           self.event_dim - p.event_dim)
            x = y
        return total

    def __repr__(self) -> str:
        inner = ",\n    ".join(repr(p) for p in self.parts)
        return f"{type(self).__name__}(\n    {inner}\n)"

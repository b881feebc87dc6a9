"""L-BFGS (PyTorch's variant), with an optional strong-Wolfe line search."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..autograd.grad_mode import enable_grad
from .optimizer import Optimizer


class LBFGS(Optimizer):
    """Limited-memory BFGS over all parameters viewed as one vector; ``step`` needs a closure.

    >>> import chainrule as torch
    >>> x = torch.nn.Parameter(torch.tensor([3.0, -2.0], dtype=torch.float64))
    >>> opt = torch.optim.LBFGS([x], lr=1.0)
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = ((x - 1.0) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    >>> _ = opt.step(closure)
    >>> [round(v, 6) for v in x.tolist()]
    [1.0, 1.0]
    """

    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval=None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                        "tolerance_grad": tolerance_grad, "tolerance_change": tolerance_change,
                        "history_size": history_size, "line_search_fn": line_search_fn}
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _flat_grad(self) -> np.ndarray:
        return np.concatenate([
            (p._grad._data if p._grad is not None else np.zeros_like(p._data)).ravel()
            for p in self._params])

    def _add_grad(self, t: float, d: np.ndarray) -> None:
        offset = 0
        for p in self._params:
            n = p._data.size
            if not p._data.flags.writeable:
                p._data = p._data.copy()
            p._data += t * d[offset:offset + n].reshape(p._data.shape)
            p._bump()
            offset += n

    def _set_flat(self, x: list) -> None:
        for p, v in zip(self._params, x):
            p._data[...] = v
            p._bump()

    def _evaluate_at(self, closure, x: list, t: float, d: np.ndarray):
        """Loss and flat gradient at x + t d; the parameters are put back to x afterwards."""
        self._add_grad(t, d)
        with enable_grad():
            loss = float(closure())
        g = self._flat_grad()
        self._set_flat(x)
        return loss, g

    def step(self, closure):
        if closure is None:
            raise RuntimeError("LBFGS requires a closure that reevaluates the model and "
                               "returns the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= tol_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag = state.get("H_diag")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, h_diag = [], [], [], 1
            else:
                # curvature pair from the last step, kept only when y.s is positive
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y @ s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / float(y @ y)
                # two-loop recursion: d = -H g
                al = [0.0] * len(old_dirs)
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = float(old_stps[i] @ q) * ro[i]
                    q = q - al[i] * old_dirs[i]
                d = r = q * h_diag
                for i in range(len(old_dirs)):
                    be_i = float(old_dirs[i] @ r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            t = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr if state["n_iter"] == 1 \
                else lr
            gtd = float(flat_grad @ d)
            if gtd > -tol_change:  # not a descent direction
                break
            ls_func_evals = 0
            opt_cond = False
            if group["line_search_fn"] is not None:
                if group["line_search_fn"] != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x0 = [p._data.copy() for p in self._params]
                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    lambda step, x0=x0, d=d: self._evaluate_at(closure, x0, step, d), t, d, loss,
                    flat_grad, gtd, max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = np.abs(flat_grad).max() <= tol_grad
            elif n_iter != max_iter:
                self._add_grad(t, d)
                with enable_grad():
                    loss = float(closure())
                flat_grad = self._flat_grad()
                opt_cond = np.abs(flat_grad).max() <= tol_grad
                ls_func_evals = 1
            else:
                self._add_grad(t, d)
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tol_change or abs(loss - prev_loss) < tol_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss


# -- strong-Wolfe line search (Nocedal & Wright, algorithms 3.5 and 3.6) --------------------
@dataclass
class _Probe:
    """One evaluated step length: t, the loss, the flat gradient, the slope along d."""

    t: float
    f: float
    g: np.ndarray
    gtd: float


def _cubic_min(a: _Probe, b: _Probe, bounds=None) -> float:
    """Minimiser of the cubic through two probes (values and slopes), clipped to bounds."""
    lo, hi = bounds if bounds is not None else (min(a.t, b.t), max(a.t, b.t))
    d1 = a.gtd + b.gtd - 3 * (a.f - b.f) / (a.t - b.t)
    disc = d1 ** 2 - a.gtd * b.gtd
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = disc ** 0.5
    if a.t <= b.t:
        t = b.t - (b.t - a.t) * ((b.gtd + d2 - d1) / (b.gtd - a.gtd + 2 * d2))
    else:
        t = a.t - (a.t - b.t) * ((a.gtd + d2 - d1) / (a.gtd - b.gtd + 2 * d2))
    return min(max(t, lo), hi)


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """A step t with sufficient decrease (c1) and curvature (c2) conditions along d.

    ``evaluate(t)`` returns (loss, flat grad) at x + t d. Returns (loss, grad, t, evaluations).
    """
    d_norm = np.abs(d).max()

    def probe(step):
        f_t, g_t = evaluate(step)
        return _Probe(step, f_t, g_t, float(g_t @ d))

    start = _Probe(0, f, g.copy(), gtd)
    prev, cur = start, probe(t)
    evals, ls_iter = 1, 0
    bracket, done = None, False
    # Phase 1: grow the step until an interval is known to hold an acceptable one.
    while ls_iter < max_ls:
        if cur.f > f + c1 * cur.t * gtd or (ls_iter > 1 and cur.f >= prev.f):
            bracket = [prev, cur]
            break
        if abs(cur.gtd) <= -c2 * gtd:
            bracket, done = [cur], True
            break
        if cur.gtd >= 0:
            bracket = [prev, cur]
            break
        nxt = _cubic_min(prev, cur, bounds=(cur.t + 0.01 * (cur.t - prev.t), cur.t * 10))
        prev, cur = cur, probe(nxt)
        evals += 1
        ls_iter += 1
    if ls_iter == max_ls:
        bracket = [start, cur]
    # Phase 2 ("zoom"): shrink the interval around an acceptable step.
    low, high = (0, 1) if bracket[0].f <= bracket[-1].f else (1, 0)
    stalled = False
    while not done and ls_iter < max_ls:
        a, b = bracket
        if abs(b.t - a.t) * d_norm < tolerance_change:
            break
        t_new = _cubic_min(a, b)
        lo_t, hi_t = min(a.t, b.t), max(a.t, b.t)
        eps = 0.1 * (hi_t - lo_t)
        if min(hi_t - t_new, t_new - lo_t) < eps:  # too close to an end: move inside
            if stalled or t_new >= hi_t or t_new <= lo_t:
                t_new = hi_t - eps if abs(t_new - hi_t) < abs(t_new - lo_t) else lo_t + eps
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        new = probe(t_new)
        evals += 1
        ls_iter += 1
        if new.f > f + c1 * new.t * gtd or new.f >= bracket[low].f:
            bracket[high] = new
            low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
        else:
            if abs(new.gtd) <= -c2 * gtd:
                done = True
            elif new.gtd * (bracket[high].t - bracket[low].t) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = new
    best = bracket[low]
    return best.f, best.g, best.t, evals

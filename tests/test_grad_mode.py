"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode; thread-local state."""
import threading

import pytest

import chainrule as cr


@pytest.fixture(params=["chainrule", pytest.param("torch", marks=pytest.mark.torch)])
def lib(request):
    """Each test runs on chainrule and on torch: the same expectations hold for both."""
    if request.param == "chainrule":
        return cr
    import torch

    return torch


def _records(lib) -> bool:
    x = lib.ones(2, requires_grad=True)
    y = x * 2
    assert y.requires_grad == (y.grad_fn is not None)
    return y.requires_grad


def test_no_grad_context(lib):
    with lib.no_grad():
        assert not lib.is_grad_enabled()
        assert not _records(lib)
    assert lib.is_grad_enabled() and _records(lib)


def test_no_grad_decorator(lib):
    @lib.no_grad()
    def f():
        return _records(lib), lib.is_grad_enabled()

    assert f() == (False, False)
    assert lib.is_grad_enabled()


def test_no_grad_decorator_keeps_name_and_docstring():
    @cr.no_grad()
    def step(a, b=2):
        """Docs."""
        return a + b

    assert step.__name__ == "step" and step.__doc__ == "Docs." and step(1) == 3


def test_enable_grad_inside_no_grad(lib):
    with lib.no_grad():
        with lib.enable_grad():
            assert _records(lib)
        assert not _records(lib)

    @lib.enable_grad()
    def f():
        return _records(lib)

    with lib.no_grad():
        assert f()
        assert not lib.is_grad_enabled()


@pytest.mark.parametrize("mode", [True, False])
def test_set_grad_enabled_context(lib, mode):
    with lib.set_grad_enabled(mode):
        assert lib.is_grad_enabled() is mode
        assert _records(lib) is mode
    assert lib.is_grad_enabled()


def test_set_grad_enabled_as_function_takes_effect_immediately(lib):
    try:
        lib.set_grad_enabled(False)
        assert not lib.is_grad_enabled() and not _records(lib)
        lib.set_grad_enabled(True)
        assert _records(lib)
    finally:
        lib.set_grad_enabled(True)


def test_set_grad_enabled_decorator(lib):
    @lib.set_grad_enabled(False)
    def f():
        return lib.is_grad_enabled()

    # In torch, constructing set_grad_enabled(False) switches the mode at once;
    # the decorated function still runs with it off, and the mode is restored after.
    lib.set_grad_enabled(True)
    assert f() is False
    assert lib.is_grad_enabled()


def test_inference_mode_context_and_decorator(lib):
    with lib.inference_mode():
        assert not lib.is_grad_enabled()
        assert lib.is_inference_mode_enabled()
        assert not _records(lib)
    assert not lib.is_inference_mode_enabled() and lib.is_grad_enabled()
    with lib.inference_mode(False):
        assert lib.is_grad_enabled() and not lib.is_inference_mode_enabled()

    @lib.inference_mode()
    def f():
        return lib.is_inference_mode_enabled(), _records(lib)

    assert f() == (True, False)


def test_nesting_restores_on_exception(lib):
    with pytest.raises(ValueError), lib.no_grad():
        raise ValueError
    assert lib.is_grad_enabled()
    with pytest.raises(KeyError), lib.inference_mode():
        raise KeyError
    assert lib.is_grad_enabled() and not lib.is_inference_mode_enabled()


def test_no_grad_result_can_be_used_later(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    with lib.no_grad():
        c = w * 3
    (w * c).sum().backward()
    assert w.grad.tolist() == [3.0, 6.0]


def test_modes_are_thread_local(lib):
    seen = {}
    entered, release = threading.Event(), threading.Event()

    def worker():
        with lib.no_grad():
            entered.set()
            release.wait(5)
            seen["worker"] = lib.is_grad_enabled()

    t = threading.Thread(target=worker)
    t.start()
    entered.wait(5)
    seen["main"] = lib.is_grad_enabled()  # the worker's no_grad must not leak here
    seen["main_records"] = _records(lib)
    release.set()
    t.join()
    assert seen == {"worker": False, "main": True, "main_records": True}


def test_new_thread_starts_with_grad_enabled(lib):
    seen = []
    with lib.no_grad():
        t = threading.Thread(target=lambda: seen.append(lib.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_backward_in_threads_is_independent():
    results, errors = {}, []

    def worker(k):
        try:
            x = cr.tensor([float(k), 1.0], requires_grad=True)
            for _ in range(50):
                x.grad = None
                (x * x * k).sum().backward()
            results[k] = x.grad.tolist()
        except Exception as e:  # noqa: BLE001 - reported by the main thread below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(1, 5)]
    with cr.no_grad():  # the main thread's mode must not leak into the workers
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not cr.is_grad_enabled()
    assert not errors
    assert results == {k: [2.0 * k * k, 2.0 * k] for k in range(1, 5)}


def _both_libs():
    import torch

    return (cr, torch)


@pytest.mark.torch
def test_decorated_generator_runs_in_the_mode():
    for lib in _both_libs():
        @lib.no_grad()
        def gen(lib=lib):
            yield lib.is_grad_enabled()
            yield lib.is_grad_enabled()

        g = gen()
        assert next(g) is False
        assert lib.is_grad_enabled() is True  # the caller's mode between resumes
        assert next(g) is False


@pytest.mark.torch
def test_bare_decorators():
    for lib in _both_libs():
        @lib.no_grad
        def f(lib=lib):
            return lib.is_grad_enabled()

        @lib.inference_mode
        def g(lib=lib):
            return lib.is_inference_mode_enabled()

        with lib.no_grad():
            @lib.enable_grad
            def h(lib=lib):
                return lib.is_grad_enabled()

            assert h() is True
        assert f() is False and g() is True


@pytest.mark.torch
def test_inference_tensors():
    for lib in _both_libs():
        with lib.inference_mode():
            t = lib.ones(2)
        assert t.is_inference() and not lib.ones(2).is_inference()
        w = lib.ones(2, requires_grad=True)
        (w + t).sum().backward()  # nothing saved: allowed
        with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
            (w * t).sum().backward()
        with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside "
                                               "InferenceMode is not allowed"):
            t.add_(1)

"""``torch.overrides``: chainrule has no ``__torch_function__`` protocol, so nothing overrides."""


def has_torch_function(relevant_args) -> bool:
    return False


def has_torch_function_unary(arg) -> bool:
    return False


def has_torch_function_variadic(*args) -> bool:
    return False


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    return public_api(*args, **kwargs)


def is_tensor_like(inp) -> bool:
    from .tensor import Tensor

    return isinstance(inp, Tensor)

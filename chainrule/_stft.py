"""torch.stft / torch.istft: short-time Fourier transforms composed of differentiable ops.

stft pads the signal (``F.pad``, reflect by default), cuts it into frames (``Tensor.unfold``),
multiplies each by the window and takes ``fft.rfft`` (or ``fft.fft``) of every frame. istft
runs the same steps backwards: ``fft.irfft`` of every column, the window again, overlap-add
of the frames (``F.fold``, the adjoint of unfold) and division by the overlap-added squared
window. Every step is an existing op with its own derivative, so gradients reach the signal
and the window with no node of their own.

>>> import chainrule as torch
>>> spec = torch.stft(torch.ones(8), 4, window=torch.ones(4), return_complex=True)
>>> spec.shape
torch.Size([3, 9])
>>> torch.istft(spec, 4, window=torch.ones(4), length=8)
tensor([1., 1., 1., 1., 1., 1., 1., 1.])
"""
from __future__ import annotations

import warnings

from .tensor import Tensor

__all__ = ["istft", "stft"]


def _cr():
    import chainrule

    return chainrule


def _padded_window(window, win_length: int, n_fft: int, dtype):
    """The window (ones when None) centred in n_fft samples with zeros either side."""
    cr = _cr()
    if window is None:
        window = cr.ones(win_length, dtype=dtype)
    if win_length == n_fft:
        return window
    left = (n_fft - win_length) // 2
    right = n_fft - win_length - left
    return cr.cat([cr.zeros(left, dtype=window.dtype), window,
                   cr.zeros(right, dtype=window.dtype)])


def _pad(x: Tensor, half: int, mode: str) -> Tensor:
    """(B, T) -> (B, T + 2 half), padded at both ends with F.pad's ``mode``; a complex signal
    is padded as its (real, imaginary) channels."""
    pad = _cr().nn.functional.pad
    if not x.is_complex():
        return pad(x.unsqueeze(0), (half, half), mode=mode).squeeze(0)
    parts = _cr().view_as_real(x).transpose(-1, -2)  # (B, 2, T)
    parts = pad(parts, (half, half), mode=mode)
    return _cr().view_as_complex(parts.transpose(-1, -2).contiguous())


def _real_dtype(t: Tensor):
    return t.real.dtype if t.is_complex() else t.dtype


# ======================================================================================
# stft
# ======================================================================================
def stft(input: Tensor, n_fft: int, hop_length: int | None = None,
         win_length: int | None = None, window: Tensor | None = None, center: bool = True,
         pad_mode: str = "reflect", normalized: bool = False, onesided: bool | None = None,
         return_complex: bool | None = None, align_to_window: bool | None = None) -> Tensor:
    """Short-time Fourier transform of a (T,) or (B, T) signal: (B, freq, frames).

    >>> import chainrule as torch
    >>> x = torch.arange(16.)
    >>> torch.stft(x, 8, hop_length=4, window=torch.ones(8), return_complex=True).abs()[0]
    tensor([ 16.,  28.,  60.,  92., 104.])
    """
    cr = _cr()
    x = input
    complex_in = x.is_complex() or (window is not None and window.is_complex())
    if return_complex is None:
        if not complex_in:
            raise RuntimeError(
                "stft requires the return_complex parameter be given for real inputs, and "
                "will further require that return_complex=True in a future PyTorch release.")
        return_complex = True
    if center and align_to_window is not None:
        raise ValueError("stft align_to_window should only be set when center = false")
    hop = n_fft // 4 if hop_length is None else int(hop_length)
    win = n_fft if win_length is None else int(win_length)
    what = (f"stft(input of shape {list(x.shape)}, n_fft={n_fft}, hop_length={hop}, "
            f"win_length={win})")
    if not (x.is_floating_point() or x.is_complex()):
        raise RuntimeError(f"{what} : expected a tensor of floating point or complex values")
    if x.dim() not in (1, 2):
        raise RuntimeError(f"{what} : expected a 1D or 2D tensor")
    batched = x.dim() == 2
    if not batched:
        x = x.unsqueeze(0)
    if center:
        half = n_fft // 2
        if pad_mode not in ("reflect", "constant", "replicate", "circular"):
            raise NotImplementedError(f"Unrecognised padding mode {pad_mode}")
        x = _pad(x, half, pad_mode)
    elif align_to_window and win < n_fft:
        # frames start where the window starts: shift by the window's left zeros
        left = (n_fft - win) // 2
        x = cr.nn.functional.pad(x, (left, left))
    length = x.shape[-1]
    if not 0 < n_fft <= length:
        raise RuntimeError(f"{what} : expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop <= 0:
        raise RuntimeError(f"{what} : expected hop_length > 0, but got hop_length={hop}")
    if not 0 < win <= n_fft:
        raise RuntimeError(f"{what} : expected 0 < win_length <= n_fft, but got "
                           f"win_length={win}")
    if window is not None and (window.dim() != 1 or window.shape[0] != win):
        raise RuntimeError(f"{what} : expected a 1D window tensor of size equal to "
                           f"win_length={win}, but got window with size {list(window.shape)}")
    if onesided is None:
        onesided = not complex_in
    elif onesided and complex_in:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    if window is None:
        warnings.warn("A window was not provided. A rectangular window will be applied, which "
                      "is known to cause spectral leakage. Other windows such as "
                      "torch.hann_window or torch.hamming_window are recommended to reduce "
                      "spectral leakage. To suppress this warning and use a rectangular window, "
                      "explicitly set `window=torch.ones(n_fft, device=<device>)`.",
                      UserWarning, stacklevel=2)
    w = _padded_window(window, win, n_fft, _real_dtype(x))
    frames = x.unfold(-1, n_fft, hop) * w  # (B, frames, n_fft)
    if not onesided and not frames.is_complex():  # two-sided spectrum of a real signal
        # (view_as_complex: the real -> complex cast's backward warns about the discarded
        # imaginary part of the gradient)
        frames = cr.view_as_complex(cr.stack([frames, cr.zeros_like(frames)], -1))
    norm = "ortho" if normalized else "backward"
    spec = (cr.fft.rfft if onesided else cr.fft.fft)(frames, dim=-1, norm=norm)
    spec = spec.transpose(-1, -2)  # (B, freq, frames)
    if not batched:
        spec = spec.squeeze(0)
    if return_complex:
        return spec
    warnings.warn("stft with return_complex=False is deprecated: use return_complex=True "
                  "and torch.view_as_real", UserWarning, stacklevel=2)
    return cr.view_as_real(spec)


# ======================================================================================
# istft
# ======================================================================================
def _overlap_add(frames: Tensor, hop: int, total: int) -> Tensor:
    """(N, n_fft, frames) -> (N, total): frame t added in at sample t * hop."""
    n_fft = frames.shape[-2]
    out = _cr().nn.functional.fold(frames, (1, total), (1, n_fft), stride=(1, hop))
    return out.reshape(frames.shape[0], total)


def istft(input: Tensor, n_fft: int, hop_length: int | None = None,
          win_length: int | None = None, window: Tensor | None = None, center: bool = True,
          normalized: bool = False, onesided: bool | None = None, length: int | None = None,
          return_complex: bool = False) -> Tensor:
    """Inverse of stft: overlap-add of the inverse transforms of the frames, divided by
    the overlap-added squared window (which must stay above 1e-11 where kept).

    >>> import chainrule as torch
    >>> x = torch.arange(16.)
    >>> w = torch.hann_window(8)
    >>> y = torch.istft(torch.stft(x, 8, window=w, return_complex=True), 8, window=w,
    ...                 length=16)
    >>> torch.allclose(y, x, atol=1e-5)
    True
    """
    cr = _cr()
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    hop = n_fft // 4 if hop_length is None else int(hop_length)
    win = n_fft if win_length is None else int(win_length)
    what = (f"istft(input of shape {list(input.shape)}, n_fft={n_fft}, hop_length={hop}, "
            f"win_length={win}, center={center}, length={length})")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"{what} : expected a tensor with 3 or 4 dimensions, but got "
                           f"{input.dim() + 1}")
    if input.numel() == 0:
        raise RuntimeError(f"{what} : input tensor cannot be empty.")
    if not 0 < win <= n_fft:
        raise RuntimeError(f"{what} : expected 0 < win_length <= n_fft")
    if not 0 < hop <= win:
        raise RuntimeError(f"{what} : expected 0 < hop_length <= win_length")
    if window is not None and (window.dim() != 1 or window.shape[0] != win):
        raise RuntimeError(f"{what} : Invalid window shape. window has to be 1D and length of "
                           "`win_length`")
    batched = input.dim() == 3
    spec = input if batched else input.unsqueeze(0)
    fft_size, n_frames = spec.shape[-2], spec.shape[-1]
    if onesided is None:
        onesided = fft_size != n_fft
    if onesided:
        if fft_size != n_fft // 2 + 1:
            raise RuntimeError(f"{what} : expected the frequency dimension (3rd to the last) of "
                               "the input tensor to match n_fft / 2 + 1 when onesided=True, "
                               f"but got {fft_size}")
    elif fft_size != n_fft:
        raise RuntimeError(f"{what} : expected the frequency dimension (3rd to the last) of the "
                           f"input tensor to match n_fft when onesided=False, but got "
                           f"{fft_size}")
    if return_complex and onesided:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    if not return_complex and window is not None and window.is_complex():
        raise RuntimeError("Complex windows are incompatible with return_complex=False")
    norm = "ortho" if normalized else "backward"
    if return_complex:
        frames = cr.fft.ifft(spec, n=n_fft, dim=-2, norm=norm)  # (B, n_fft, frames)
    else:  # a real signal: only the first n_fft // 2 + 1 bins are read (as PyTorch)
        if not onesided:
            spec = spec[..., :n_fft // 2 + 1, :]
        frames = cr.fft.irfft(spec, n=n_fft, dim=-2, norm=norm)
    if window is None:
        warnings.warn("A window was not provided. A rectangular window will be applied. Please "
                      "provide the same window used by stft to make the inversion lossless. To "
                      "suppress this warning and use a rectangular window, explicitly set "
                      "`window=torch.ones(n_fft, device=<device>)`.", UserWarning, stacklevel=2)
    w = _padded_window(window, win, n_fft, _real_dtype(frames))
    frames = frames * w.unsqueeze(-1)
    total = n_fft + hop * (n_frames - 1)
    y = _overlap_add(frames, hop, total)
    w2 = (w * w).unsqueeze(-1).expand(n_fft, n_frames)
    envelope = _overlap_add(w2.unsqueeze(0), hop, total)[0]
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + int(length)
    else:
        end = total - n_fft // 2 if center else total
    stop = min(end, total)
    y = y[:, start:stop]
    envelope = envelope[start:stop]
    lowest = float(envelope.detach().abs().min()) if envelope.numel() else 1.0
    if lowest < 1e-11:
        raise RuntimeError(f"{what} window overlap add min: {lowest:.3g} (the squared window, "
                           "overlap-added, must stay above 1e-11 everywhere it is kept: use a "
                           "window nonzero where frames meet, a smaller hop, or center=True)")
    y = y / envelope
    if end > total:
        y = cr.nn.functional.pad(y, (0, end - total))
    return y if batched else y.squeeze(0)

"""The safetensors format: reading files built from the spec, writing files others can parse."""
import io
import json
import struct

import numpy as np
import pytest

import chainrule as cr
from chainrule.serialization import load_safetensors, save_safetensors

# The spec's dtype names and the NumPy dtype of their (little-endian) bytes.
SPEC_DTYPES = {"BOOL": "?", "U8": "u1", "I8": "i1", "I16": "<i2", "I32": "<i4", "I64": "<i8",
               "F16": "<f2", "F32": "<f4", "F64": "<f8"}


def build(tensors, metadata=None, pad=True):
    """A safetensors file assembled straight from the spec (independent of chainrule):
    ``tensors`` maps name -> (spec dtype, shape, raw bytes), stored in the given order."""
    header, blobs, pos = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dt, shape, raw) in tensors.items():
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [pos, pos + len(raw)]}
        blobs.append(raw)
        pos += len(raw)
    text = json.dumps(header).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def parse(blob):
    """The spec's reader, independent of chainrule: name -> (dtype, shape, raw), metadata."""
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", None)
    data = blob[8 + n:]
    return {k: (v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]])
            for k, v in header.items()}, meta, n


def _sample(dt, shape, seed=0):
    rng = np.random.default_rng(seed)
    if dt == "?":
        return rng.random(shape) > 0.5
    if np.dtype(dt).kind in "iu":
        info = np.iinfo(np.dtype(dt))
        return rng.integers(info.min, info.max, shape, dtype=np.dtype(dt), endpoint=True)
    return rng.standard_normal(shape).astype(dt)


def test_reads_every_dtype_of_a_file_built_from_the_spec():
    arrays = {f"t.{name}": _sample(dt, (2, 3), i) for i, (name, dt) in
              enumerate(SPEC_DTYPES.items())}
    arrays["scalar"] = np.array(2.5, "<f4")
    arrays["empty"] = np.zeros((0, 4), "<f8")
    spec = {k: ({"?": "BOOL"}.get(a.dtype.char, None) or
                next(n for n, d in SPEC_DTYPES.items() if np.dtype(d) == a.dtype),
                a.shape, a.tobytes()) for k, a in arrays.items()}
    for pad in (True, False):  # files need not pad their header
        got, meta = load_safetensors(build(spec, {"format": "pt"}, pad), with_metadata=True)
        assert list(got) == list(arrays) and meta == {"format": "pt"}
        for k, a in arrays.items():
            assert isinstance(got[k], cr.Tensor)
            assert got[k]._data.dtype == a.dtype.newbyteorder("=") and got[k].shape == a.shape
            np.testing.assert_array_equal(got[k].numpy(), a)
    # unsigned wider types are widened to a signed type that holds them
    u = np.array([0, 65535, 7], "<u2")
    got = load_safetensors(build({"u": ("U16", u.shape, u.tobytes())}))["u"]
    assert got.dtype == cr.int32 and got.tolist() == [0, 65535, 7]


def test_round_trip_and_layout_of_the_writer():
    tensors = {"b": cr.tensor([True, False]), "w": cr.randn(3, 4), "h": cr.ones(3).half(),
               "step": cr.tensor(7), "d": cr.randn(2, dtype=cr.float64), "z": cr.zeros(0, 2),
               "strided": cr.arange(10)[::3], "i8": cr.tensor([-1, 2], dtype=cr.int8),
               "u8": cr.tensor([255, 0], dtype=cr.uint8), "i16": cr.tensor([-300], dtype=cr.int16),
               "i32": cr.tensor([1 << 20], dtype=cr.int32)}
    blob = save_safetensors(tensors, metadata={"format": "pt", "note": "x"})
    entries, meta, n = parse(blob)
    assert meta == {"format": "pt", "note": "x"} and n % 8 == 0
    offsets = [json.loads(blob[8:8 + n])[k]["data_offsets"] for k in entries]
    sizes = [np.dtype(SPEC_DTYPES[entries[k][0]]).itemsize for k in entries]
    assert sizes == sorted(sizes, reverse=True)  # widest first: every tensor is aligned
    assert all(b % s == 0 for (b, _), s in zip(offsets, sizes))
    for k, t in tensors.items():
        dt, shape, raw = entries[k]
        assert shape == list(t.shape)
        np.testing.assert_array_equal(np.frombuffer(raw, SPEC_DTYPES[dt]).reshape(shape),
                                      t.numpy())
    back = load_safetensors(blob)
    for k, t in tensors.items():
        assert back[k].dtype == t.dtype and back[k].shape == t.shape
        np.testing.assert_array_equal(back[k].numpy(), t.numpy())


def test_chainrule_load_and_save_use_the_format_for_safetensors_paths(tmp_path):
    net = cr.nn.Sequential(cr.nn.Linear(4, 3), cr.nn.ReLU(), cr.nn.Linear(3, 2))
    path = tmp_path / "model.safetensors"
    cr.save(net.state_dict(), path)
    assert parse(path.read_bytes())[0].keys() == net.state_dict().keys()
    other = cr.nn.Sequential(cr.nn.Linear(4, 3), cr.nn.ReLU(), cr.nn.Linear(3, 2))
    other.load_state_dict(cr.load(str(path)))
    x = cr.randn(5, 4)
    np.testing.assert_array_equal(other(x).detach().numpy(), net(x).detach().numpy())
    # file objects are recognised by their content
    sd = cr.load(io.BytesIO(path.read_bytes()))
    assert sd.keys() == net.state_dict().keys()
    buf = io.BytesIO()
    save_safetensors({"a": cr.ones(2)}, buf)
    assert load_safetensors(buf.getvalue())["a"].tolist() == [1.0, 1.0]
    # the npz format is untouched
    buf = io.BytesIO()
    cr.save({"a": cr.ones(2), "n": 3}, buf)
    buf.seek(0)
    assert cr.load(buf)["n"] == 3
    # and loaded tensors are writable (an optimizer may update them in place)
    t = load_safetensors(save_safetensors({"a": cr.ones(2)}))["a"]
    t.add_(1)
    assert t.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("blob, match", [
    (b"\x01\x00", "shorter than the 8-byte header length"),
    (struct.pack("<Q", 1000) + b"{}", "does not fit"),
    (struct.pack("<Q", 4) + b"[1] ", "must be a JSON object"),
    (struct.pack("<Q", 3) + b"{x}", "not valid UTF-8 JSON"),
    (build({"a": ("F32", [2], b"\0" * 4)}), "needs 8 bytes"),
    (build({"a": ("F32", [1], b"\0" * 4)}) + b"\0", "the tensors cover 4"),
    (build({"a": ("F32", [-1], b"")}), "has shape"),
    (build({"a": ("F32", [1], b"\0" * 4)}, metadata={"k": 1}), "__metadata__ must map"),
])
def test_invalid_files_are_rejected(blob, match):
    with pytest.raises(ValueError, match=match):
        load_safetensors(blob)


def test_invalid_offsets_and_dtypes_are_rejected():
    def raw(header, data):
        text = json.dumps(header).encode()
        return struct.pack("<Q", len(text)) + text + data

    f32 = {"dtype": "F32", "shape": [1]}
    with pytest.raises(ValueError, match="gap or overlap"):
        load_safetensors(raw({"a": {**f32, "data_offsets": [0, 4]},
                              "b": {**f32, "data_offsets": [2, 6]}}, b"\0" * 6))
    with pytest.raises(ValueError, match="gap or overlap"):
        load_safetensors(raw({"a": {**f32, "data_offsets": [4, 8]}}, b"\0" * 8))
    with pytest.raises(ValueError, match="duplicate tensor names"):
        text = b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' \
               b'"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}'
        load_safetensors(struct.pack("<Q", len(text)) + text + b"\0" * 8)
    with pytest.raises(ValueError, match="F8_E4M3, which chainrule does not read"):
        load_safetensors(raw({"a": {"dtype": "F8_E4M3", "shape": [1],
                                    "data_offsets": [0, 1]}}, b"\0"))
    with pytest.raises(TypeError, match="cannot store tensor 'c' of dtype complex64"):
        save_safetensors({"c": cr.ones(2, dtype=cr.complex64)})
    with pytest.raises(TypeError, match="metadata must map strings to strings"):
        save_safetensors({"a": cr.ones(1)}, metadata={"k": 1})


@pytest.mark.torch
def test_torch_tensors_through_the_format_including_bf16():
    """Files holding torch's tensors (bytes laid out from the spec, as the safetensors package
    writes them) load with torch's values; chainrule's files parse back to torch's values."""
    import torch

    g = torch.Generator().manual_seed(0)
    state = {"w_bf16": torch.randn(4, 3, generator=g).to(torch.bfloat16),
             "w_f16": torch.randn(5, generator=g).half(),
             "w_f32": torch.randn(2, 3, generator=g),
             "w_f64": torch.randn(3, generator=g, dtype=torch.float64),
             "idx": torch.tensor([1, -2, 3]), "mask": torch.tensor([True, False]),
             "i8": torch.tensor([-128, 127], dtype=torch.int8),
             "u8": torch.tensor([0, 255], dtype=torch.uint8),
             "i16": torch.tensor([-3], dtype=torch.int16),
             "i32": torch.tensor([7, 8], dtype=torch.int32)}
    names = {torch.bfloat16: "BF16", torch.float16: "F16", torch.float32: "F32",
             torch.float64: "F64", torch.int64: "I64", torch.bool: "BOOL", torch.int8: "I8",
             torch.uint8: "U8", torch.int16: "I16", torch.int32: "I32"}

    def torch_bytes(t):
        return t.contiguous().view(torch.uint8).numpy().tobytes()

    order = sorted(state, key=lambda k: (-state[k].element_size(), k))
    blob = build({k: (names[state[k].dtype], list(state[k].shape), torch_bytes(state[k]))
                  for k in order}, {"format": "pt"})
    got = load_safetensors(blob)
    for k, t in state.items():
        want = t.float() if t.dtype == torch.bfloat16 else t  # BF16 widens to float32
        assert str(got[k].dtype) == str(want.dtype) and tuple(got[k].shape) == tuple(t.shape)
        np.testing.assert_array_equal(got[k].numpy(), want.numpy())
    # chainrule's writer -> bytes that torch reads back to the same values
    ours = save_safetensors({k: cr.tensor(v.float().numpy() if v.dtype == torch.bfloat16
                                          else v.numpy()) for k, v in state.items()})
    entries, _, _ = parse(ours)
    rev = {v: k for k, v in names.items()}
    for k, (dt, shape, raw) in entries.items():
        t = torch.frombuffer(bytearray(raw), dtype=rev[dt]).reshape(shape)
        want = state[k].float() if state[k].dtype == torch.bfloat16 else state[k]
        assert torch.equal(t, want), k
    # a torch model's weights, through a file, into the same chainrule model
    tm = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    blob = build({k: (names[v.dtype], list(v.shape), torch_bytes(v))
                  for k, v in tm.state_dict().items()})
    cm = cr.nn.Sequential(cr.nn.Linear(4, 3), cr.nn.Tanh(), cr.nn.Linear(3, 2))
    cm.load_state_dict(cr.load(io.BytesIO(blob)))
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(cm(cr.tensor(x)).detach().numpy(),
                               tm(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-6)


def test_round_trip_with_the_safetensors_package_if_installed(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1, 2], "i8"),
              "c": np.ones(3, np.float16), "m": np.array([True, False])}
    path = tmp_path / "x.safetensors"
    st.save_file(arrays, str(path), metadata={"format": "np"})
    got, meta = load_safetensors(path, with_metadata=True)
    assert meta == {"format": "np"}
    for k, a in arrays.items():
        np.testing.assert_array_equal(got[k].numpy(), a)
    ours = tmp_path / "y.safetensors"
    save_safetensors({k: cr.tensor(a) for k, a in arrays.items()}, ours, {"format": "np"})
    assert ours.read_bytes() == path.read_bytes()  # same layout as the reference writer
    for k, a in st.load_file(str(ours)).items():
        np.testing.assert_array_equal(a, arrays[k])

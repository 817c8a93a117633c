#!/usr/bin/env python3
"""Compares two FaceNet-512 ONNX files by their embeddings.

usage: compare.py CANDIDATE.onnx REFERENCE.onnx [--faces DIR] [--count 16] [--tolerance 1e-5]

Runs both files with onnxruntime on
  * a batch of real face photos: the first image of every Nth identity under DIR (default
    ../shared/faces/lfw-dev beside the repository), centre 176x176 of the 250x250 LFW image resized
    to 160x160, RGB, (x - 127.5) / 128, NHWC;
  * a batch of 8 random inputs (uniform in [-1, 1], fixed seed);
and prints the largest absolute difference between their embeddings. It also checks that the
candidate takes a dynamic batch: batch sizes 1 and 8 give [1,512] and [8,512], and each row equals
the same image's row in the larger batch. Exits 1 when a difference exceeds the tolerance or a check
fails, 2 on bad usage or missing inputs.

Needs numpy, onnxruntime and Pillow (convert.sh's check environment has them).
"""
import argparse
import hashlib
import os
import sys

import numpy as np

INPUT, OUTPUT, SIZE = "input:0", "embeddings:0", 160


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def face_batch(folder: str, count: int) -> tuple[np.ndarray, list[str]]:
    from PIL import Image

    identities = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
    if len(identities) < count:
        raise SystemExit(f"{folder}: {len(identities)} identities, need {count}")
    step = len(identities) // count
    paths = []
    for name in identities[::step][:count]:
        images = sorted(f for f in os.listdir(os.path.join(folder, name)) if f.lower().endswith((".jpg", ".png")))
        paths.append(os.path.join(folder, name, images[0]))
    batch = []
    for p in paths:
        img = Image.open(p).convert("RGB")
        w, h = img.size
        side = min(w, h) * 176 // 250  # LFW 250x250: the face fills about the centre 176 px
        left, top = (w - side) // 2, (h - side) // 2
        img = img.crop((left, top, left + side, top + side)).resize((SIZE, SIZE), Image.BILINEAR)
        batch.append((np.asarray(img, dtype=np.float32) - 127.5) / 128.0)
    return np.stack(batch), paths


def session(path: str):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(os.environ.get("FACENET_COMPARE_THREADS", "1"))
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    default_faces = os.path.normpath(os.path.join(here, "..", "..", "..", "shared", "faces", "lfw-dev"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("candidate")
    ap.add_argument("reference")
    ap.add_argument("--faces", default=default_faces, help="folder of <identity>/<image>.jpg (default: %(default)s)")
    ap.add_argument("--count", type=int, default=16, help="face photos in the batch (default 16)")
    ap.add_argument("--tolerance", type=float, default=1e-5, help="largest allowed absolute difference (default 1e-5)")
    args = ap.parse_args()
    for p in (args.candidate, args.reference):
        if not os.path.isfile(p):
            print(f"compare.py: no file {p}", file=sys.stderr)
            return 2
    if not os.path.isdir(args.faces):
        print(f"compare.py: no face folder {args.faces} (pass --faces DIR)", file=sys.stderr)
        return 2

    import onnxruntime as ort

    identical = sha256(args.candidate) == sha256(args.reference)
    print(f"onnxruntime {ort.__version__}, numpy {np.__version__}")
    print(f"candidate {args.candidate}: sha256 {sha256(args.candidate)}")
    print(f"reference {args.reference}: sha256 {sha256(args.reference)}")
    print("files are byte-identical" if identical else "files differ byte-wise; comparing embeddings")

    faces, paths = face_batch(args.faces, args.count)
    rng = np.random.default_rng(20180408)
    noise = rng.uniform(-1.0, 1.0, size=(8, SIZE, SIZE, 3)).astype(np.float32)
    cand, ref = session(args.candidate), session(args.reference)
    failures = []
    worst = 0.0

    full = None
    for label, batch in ((f"{len(paths)} face photos", faces), ("8 random inputs", noise)):
        try:
            a = cand.run([OUTPUT], {INPUT: batch})[0]
            b = ref.run([OUTPUT], {INPUT: batch})[0]
        except Exception as e:  # noqa: BLE001 - a file that cannot run this batch fails the check
            failures.append(f"{label}: {str(e).splitlines()[0]}")
            continue
        if a.shape != (len(batch), 512) or b.shape != a.shape:
            failures.append(f"{label}: shapes {a.shape} vs {b.shape}")
            continue
        diff = float(np.max(np.abs(a - b)))
        worst = max(worst, diff)
        norms = np.linalg.norm(a, axis=1)
        print(f"{label}: max |candidate - reference| = {diff:.3e} "
              f"(embedding norms {norms.min():.6f}..{norms.max():.6f})")
        if not diff <= args.tolerance:
            failures.append(f"{label}: difference {diff:.3e} > {args.tolerance:g}")
        if label.endswith("photos"):
            full = a

    # Dynamic batch: sizes 1 and 8 must work and agree with the same rows of the larger batch.
    for n in (1, 8) if full is not None else ():
        try:
            out = cand.run([OUTPUT], {INPUT: faces[:n]})[0]
        except Exception as e:  # noqa: BLE001 - report any runtime failure as a failed check
            failures.append(f"batch {n}: {str(e).splitlines()[0]}")
            continue
        if out.shape != (n, 512):
            failures.append(f"batch {n}: output shape {out.shape}, expected ({n}, 512)")
            continue
        diff = float(np.max(np.abs(out - full[:n])))
        print(f"candidate batch {n}: output {list(out.shape)}, max |batch {n} - batch {len(faces)}| = {diff:.3e}")
        if not diff <= args.tolerance:
            failures.append(f"batch {n}: rows differ from the batch of {len(faces)} by {diff:.3e}")

    # Different people should not look alike: a coarse sanity check that real faces went in.
    if full is not None:
        sims = full @ full.T
        off = sims[~np.eye(len(full), dtype=bool)]
        print(f"cosine similarity between different people: mean {off.mean():.3f}, max {off.max():.3f}")

    if failures:
        for f in failures:
            print("FAIL:", f)
        return 1
    print(f"OK: largest difference {worst:.3e} <= {args.tolerance:g}; batch sizes 1 and 8 work")
    return 0


if __name__ == "__main__":
    sys.exit(main())

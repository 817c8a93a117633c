#!/usr/bin/env python3
"""Proves the ONNX conversion against dlib itself (PyPI dlib-bin).

On 20 real faces (lfw-dev queries, that is photos of 20 different people, picked deterministically), dlib makes
its own face chip (frontal HOG detector, upsampled once as face_recognition does; the largest face;
shape_predictor_5_face_landmarks; get_face_chip(img, shape, 150, 0.25)), computes its descriptor, and the
converted ONNX model computes the descriptor of the SAME chip. Prints the cosine per face and the minimum;
exits 1 when any is below 0.999 (or fewer than 20 faces could be checked).

Informative, not checked: the cosine between dlib's descriptor of dlib's chip and the ONNX descriptor of a
FaceFind-style chip (YuNet landmarks, similarity warp onto ModelCatalog.dlibChipTemplate, read from the Swift
source).

    python3 verify.py --onnx ~/.facefind/models/dlib_resnet_v1.onnx --dlib-models /tmp/facefind-dlib/models
"""
import argparse
import os
import re
import sys

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import facechip as fc  # noqa: E402

THRESHOLD = 0.999
COUNT = 20


def swift_template():
    path = os.path.join(fc.ROOT, "Sources", "FaceFind", "Models", "ModelCatalog+Dlib.swift")
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    m = re.search(r"dlibChipTemplate: \[Point2\] = \[(.*?)\]", text, re.S)
    if not m:
        return None
    pts = re.findall(r"Point2\(\s*([-\d.]+)\s*,\s*([-\d.]+)\s*\)", m.group(1))
    return np.array(pts, np.float64) if len(pts) == 5 else None


def cosine(a, b):
    return float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", required=True, help="the converted model")
    ap.add_argument("--dlib-models", required=True,
                    help="folder with dlib_face_recognition_resnet_model_v1.dat and shape_predictor_5_face_landmarks.dat")
    ap.add_argument("--count", type=int, default=COUNT)
    a = ap.parse_args()

    import dlib
    import onnxruntime as ort

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(os.path.join(a.dlib_models, "shape_predictor_5_face_landmarks.dat"))
    recognizer = dlib.face_recognition_model_v1(os.path.join(a.dlib_models, "dlib_face_recognition_resnet_model_v1.dat"))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(a.onnx, options, providers=["CPUExecutionProvider"])
    template = swift_template()
    yunet = None
    if template is not None:
        try:
            yunet = fc.YuNet(fc.find_model("yunet_s_dynamic.onnx"))
        except SystemExit as e:
            print(f"(no FaceFind-chip comparison: {e})")

    def onnx_descriptor(chip):
        x = chip.transpose(2, 0, 1)[None].astype(np.float32)
        return session.run(["embedding"], {"input": x})[0][0]

    rows, informative = [], []
    print(f"{'photo':60s} {'dlib chip':>10s} {'FaceFind chip':>14s}")
    for path in fc.lfw_faces(4 * a.count):
        if len(rows) == a.count:
            break
        img = fc.load_rgb(path)
        dets = detector(img, 1)
        if not dets:
            print(f"{os.path.relpath(path, fc.FACES):60s} (dlib finds no face: skipped)")
            continue
        shape = predictor(img, max(dets, key=lambda r: r.area()))
        chip = dlib.get_face_chip(img, shape, size=fc.CHIP, padding=fc.PADDING)
        ref = np.array(recognizer.compute_face_descriptor(chip))
        c = cosine(ref, onnx_descriptor(chip))
        rows.append(c)
        extra = ""
        if yunet is not None:
            faces = yunet.detect(img)
            if faces:
                d = max(dets, key=lambda r: r.area())
                box = np.array([d.left(), d.top(), d.width(), d.height()], np.float64)
                landmarks = max(faces, key=lambda f: fc.iou(f[1], box))[2]
                ff_chip = fc.warp(img, fc.similarity(landmarks, template), fc.CHIP)
                informative.append(cosine(ref, onnx_descriptor(ff_chip)))
                extra = f"{informative[-1]:14.6f}"
        print(f"{os.path.relpath(path, fc.FACES):60s} {c:10.8f} {extra}")

    ok = len(rows) == a.count and min(rows) >= THRESHOLD
    print(f"faces: {len(rows)}; dlib vs ONNX on the same chip: min cosine {min(rows):.8f}, "
          f"mean {np.mean(rows):.8f} (threshold {THRESHOLD})")
    if informative:
        print(f"informative: dlib(dlib chip) vs ONNX(FaceFind chip): min {min(informative):.4f}, "
              f"mean {np.mean(informative):.4f}")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

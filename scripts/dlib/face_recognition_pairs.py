"""face_recognition 1.3.0 (PyPI, with dlib-bin) on a pairs file by the LFW protocol, as FaceFind's
`evaluate --pairs` runs it: the reference figure README sets beside FaceFind's dlib protocol.

    scripts/dlib/face_recognition_pairs.sh PAIRS_FILE IMAGES_DIR [--json OUT]

Each photo: face_recognition.face_locations (dlib's HOG detector, upsampled once, its default), of several faces
the one with the largest area minus twice the squared offset of its centre from the photo's centre (the face
choice of facenet's alignment and of FaceFind's `--query-face prominent`), face_recognition.face_encodings for that
box (its default: dlib's 5-point shape predictor, 150 px chip with 0.25 padding, one jitter). A photo with no face
found matches nothing (its pairs count as "different"). Pairs are scored by minus the euclidean distance; for each
fold the threshold best on the other nine (the middle of equally good ones, as FaceFind) is applied to it.
"""
import json
import sys

import face_recognition
import numpy as np


def read_pairs(path):
    with open(path) as f:
        lines = [l.split() for l in f.read().splitlines() if l.strip()]
    folds, n = int(lines[0][0]), int(lines[0][1])
    pairs = []
    for k, fields in enumerate(lines[1:]):
        fold = k // (2 * n)
        if len(fields) == 3:
            pairs.append(((fields[0], int(fields[1])), (fields[0], int(fields[2])), True, fold))
        else:
            pairs.append(((fields[0], int(fields[1])), (fields[2], int(fields[3])), False, fold))
    return folds, pairs


def photo_path(images, photo):
    name, number = photo
    return f"{images}/{name}/{name}_{number:04d}.jpg"


def encode(path):
    image = face_recognition.load_image_file(path)
    boxes = face_recognition.face_locations(image)
    if not boxes:
        return None
    h, w = image.shape[:2]

    def prominence(box):
        top, right, bottom, left = box
        cx, cy = (left + right) / 2, (top + bottom) / 2
        return (right - left) * (bottom - top) - 2 * ((cx - w / 2) ** 2 + (cy - h / 2) ** 2)

    box = max(boxes, key=prominence)
    return face_recognition.face_encodings(image, known_face_locations=[box])[0]


def best_threshold(scores, same):
    order = np.argsort(scores, kind="stable")
    s, t = scores[order], same[order]
    correct = int(t.sum())
    best, candidates = correct, [s[0] - 1]
    i = 0
    while i < len(s):
        score = s[i]
        while i < len(s) and s[i] == score:
            correct += -1 if t[i] else 1
            i += 1
        threshold = (score + s[i]) / 2 if i < len(s) else score + 1
        if correct > best:
            best, candidates = correct, [threshold]
        elif correct == best:
            candidates.append(threshold)
    return candidates[len(candidates) // 2]


def main():
    pairs_file, images = sys.argv[1], sys.argv[2]
    out = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
    folds, pairs = read_pairs(pairs_file)
    photos = sorted({p for a, b, _, _ in pairs for p in (a, b)})
    encodings = {}
    for k, photo in enumerate(photos):
        encodings[photo] = encode(photo_path(images, photo))
        if k % 200 == 0:
            print(f"{k}/{len(photos)} photos", file=sys.stderr, flush=True)
    scores = np.array([-np.linalg.norm(encodings[a] - encodings[b]) if encodings[a] is not None and encodings[b] is not None
                       else -np.inf for a, b, _, _ in pairs])
    same = np.array([s for _, _, s, _ in pairs])
    fold = np.array([f for _, _, _, f in pairs])
    accuracies = []
    for f in range(folds):
        threshold = best_threshold(scores[fold != f], same[fold != f])
        test = fold == f
        accuracies.append(float(np.mean((scores[test] > threshold) == same[test])))
    result = {"mean_accuracy": float(np.mean(accuracies)), "std": float(np.std(accuracies)),
              "fold_accuracies": accuracies, "photos": len(photos),
              "no_face": sum(1 for e in encodings.values() if e is None), "pairs": len(pairs)}
    print(json.dumps(result, indent=1))
    if out:
        with open(out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()

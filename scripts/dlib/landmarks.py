"""dlib's own landmarks and descriptors for FaceFind's dlib-protocol proof (DlibProtocolTests):

    /tmp/facefind-dlib/venv/bin/python scripts/dlib/landmarks.py --dlib-models /tmp/facefind-dlib/models \
        --count 200 --out landmarks.json

For `count` lfw-dev photos (facechip.lfw_faces: the split's queries, every 7th, so of different people; then its
gallery when more are asked for), dlib-bin runs what face_recognition runs: the HOG frontal face detector
upsampled once, of several faces the most prominent one (largest area minus twice the squared offset of its
centre), `shape_predictor_5_face_landmarks.dat` on that box, and `compute_face_descriptor` (its 150 px chip with
padding 0.25, one jitter). Writes, per photo: path, the box (left, top, right, bottom), the five parts and the
128-d descriptor; photos where HOG finds nothing are left out.
"""
import argparse
import json
import os

import dlib
import numpy as np

import facechip


def prominent(rects, width, height):
    def score(r):
        cx, cy = (r.left() + r.right()) / 2, (r.top() + r.bottom()) / 2
        return r.width() * r.height() - 2 * ((cx - width / 2) ** 2 + (cy - height / 2) ** 2)
    return max(rects, key=score)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dlib-models", required=True, help="folder with dlib's .dat files (install.sh's models)")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(os.path.join(args.dlib_models, "shape_predictor_5_face_landmarks.dat"))
    encoder = dlib.face_recognition_model_v1(os.path.join(args.dlib_models, "dlib_face_recognition_resnet_model_v1.dat"))
    paths = facechip.lfw_faces(args.count)
    if len(paths) < args.count:
        paths += facechip.lfw_faces(args.count - len(paths), part="gallery")
    records = []
    for path in paths:
        image = facechip.load_rgb(path)
        rects = detector(image, 1)
        if not rects:
            continue
        rect = prominent(rects, image.shape[1], image.shape[0])
        shape = predictor(image, rect)
        descriptor = np.array(encoder.compute_face_descriptor(image, shape, 1))
        records.append({
            "path": os.path.relpath(path, facechip.FACES),
            "box": [rect.left(), rect.top(), rect.right(), rect.bottom()],
            "parts": [[shape.part(i).x, shape.part(i).y] for i in range(shape.num_parts)],
            "descriptor": [float(v) for v in descriptor],
        })
    with open(args.out, "w") as f:
        json.dump(records, f)
    print(f"{len(records)} of {len(paths)} photos with a face")


if __name__ == "__main__":
    main()

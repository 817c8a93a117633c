"""The clustering centre of an embedder: the mean of its unit embeddings over lfw-dev (one face per photo, the
prominent one, as anchors.py takes them), and the clustering threshold in the centred space (the similarity at a
false-accept rate of 1e-5 over every different-person pair, after each vector becomes normalise(normalise(e) - mean)).

usage: centre.py FACES.ndjson EMBEDDINGS.npy NAME   (the venv of scripts/people/requirements.txt)

  facefind embed ../shared/faces/lfw-dev --embedder NAME --precision fp32 --format npy --output E.npy > F.ndjson

Prints the thresholds, and the Swift literal of Sources/FaceFind/Models/ModelCatalog+Centres.swift's NAME entry.
"""
import json
import os
import sys

import numpy as np

from anchors import chosen_faces


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    faces, embeddings, name = sys.argv[1:]
    rows = chosen_faces([json.loads(line) for line in open(faces)])
    paths = sorted(rows)
    vectors = np.load(embeddings)[[rows[p] for p in paths]].astype(np.float64)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = np.array([os.path.basename(os.path.dirname(p)) for p in paths])
    mean = vectors.mean(axis=0).astype(np.float32)
    upper = np.triu_indices(len(paths), 1)
    different = (labels[:, None] != labels[None, :])[upper]
    for title, space in (("as they are", vectors), ("centred", vectors - mean)):
        unit = space / np.linalg.norm(space, axis=1, keepdims=True)
        negatives = np.sort((unit @ unit.T)[upper][different])[::-1]
        at = " / ".join(f"{negatives[int(rate * len(negatives))]:.4f}" for rate in (1e-3, 1e-4, 1e-5))
        print(f"// {name} {title}: similarity at FAR 1e-3 / 1e-4 / 1e-5 {at} ({len(negatives)} pairs)")
    print(f"// {len(paths)} photos, mean's norm {np.linalg.norm(mean):.4f}")
    values = [f"{v:.6f}" for v in mean]
    print(f"static let {name.replace('-', '')}: [Float] = [")
    for i in range(0, len(values), 8):
        print("    " + ", ".join(values[i:i + 8]) + ",")
    print("]")


if __name__ == "__main__":
    main()

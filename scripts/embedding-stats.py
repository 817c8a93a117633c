#!/usr/bin/env python3
"""Statistics of the embeddings in a FaceFind SQLite index, the figures SyntheticGallery imitates.

    scripts/embedding-stats.py lfw.sqlite        (an index of a folder with one sub-folder per person)

Prints, over faces that are not whole-image fallbacks: the cosine similarity of same-person and
different-person pairs (mean, standard deviation), and the participation ratio of the variance spectrum
((sum of eigenvalues)^2 / sum of squares: the number of dimensions the variance effectively spreads over)
with the number of principal directions that hold 50% and 90% of it. Needs numpy.
"""
import collections
import sqlite3
import sys

import numpy as np

db = sqlite3.connect(sys.argv[1])
rows = db.execute(
    "SELECT i.path, e.vector FROM embeddings e JOIN faces f ON f.id = e.face_id "
    "JOIN images i ON i.id = f.image_id WHERE f.whole_image = 0").fetchall()
vectors = np.stack([np.frombuffer(blob, dtype=np.float32) for _, blob in rows]).astype(np.float64)
vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
people = np.array([path.split("/")[-2] for path, _ in rows])
print(f"{len(vectors)} faces, {vectors.shape[1]} dimensions, {len(set(people))} people")

similarity = vectors @ vectors.T
upper = np.triu_indices(len(vectors), 1)
pairs, same = similarity[upper], (people[:, None] == people[None, :])[upper]
print(f"same person:      cosine mean {pairs[same].mean():.3f}, std {pairs[same].std():.3f} ({same.sum()} pairs)")
print(f"different people: cosine mean {pairs[~same].mean():.3f}, std {pairs[~same].std():.3f} ({(~same).sum()} pairs)")

groups = collections.defaultdict(list)
for index, person in enumerate(people):
    groups[person].append(index)
centres = np.stack([vectors[members].mean(0) for members in groups.values()])
for name, matrix in (("all faces", vectors), ("person centres", centres)):
    matrix = matrix - matrix.mean(0)
    spectrum = np.linalg.svd(matrix, compute_uv=False) ** 2
    spectrum /= spectrum.sum()
    cumulative = np.cumsum(spectrum)
    print(f"{name}: participation ratio {1 / np.sum(spectrum ** 2):.1f}; 50% of the variance in "
          f"{np.searchsorted(cumulative, 0.5) + 1} directions, 90% in {np.searchsorted(cumulative, 0.9) + 1}")

"""Why FaceFind's clustering centres FaceNet-512's and MobileFaceNet's vectors on a stored mean face, and not dlib's
(docs/People.md, "Centring"). Emulates `people cluster` exactly (each face linked to its 20 nearest from the
threshold, Chinese Whispers in FaceFind's node order: its labels equal `facefind evaluate --clusters`'s on lfw-dev).

usage: centring.py FACES.ndjson EMBEDDINGS.npy   (the venv of scripts/people/requirements.txt)

  facefind embed ../shared/faces/lfw-dev --embedder NAME --precision fp32 --format npy --output E.npy > F.ndjson

Prints:
1. verification: the true-accept rate at a false-accept rate of 1e-5 over every pair of lfw-dev's photos, the
   vectors as they are and centred (normalise(v - mean)), and in how many of 10 nine-fold training sets centring wins;
2. cross-validation over 10 identity-disjoint folds: the mean and both thresholds (FAR 1e-5) taken from nine folds,
   the held-out fold's photos clustered alone as a new gallery, as they are and centred on that stored mean;
3. galleries unlike lfw-dev (subsets of its identities): the stored mean against each gallery's own mean.
"""
import collections
import json
import os
import sys

import numpy as np

from anchors import bcubed, chosen_faces

MASK = (1 << 64) - 1


def normalise(v):
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def threshold_at(sim, labels, rate, keep=None):
    """The similarity at false-accept rate `rate` over the different-person pairs of the faces `keep`, and the
    rate of same-person pairs it accepts."""
    idx = np.flatnonzero(keep) if keep is not None else np.arange(len(labels))
    s, lab = sim[np.ix_(idx, idx)], labels[idx]
    upper = np.triu_indices(len(idx), 1)
    same = lab[upper[0]] == lab[upper[1]]
    negatives = np.sort(s[upper][~same])[::-1]
    t = negatives[int(rate * len(negatives))]
    return float(t), float((s[upper][same] >= t).mean())


def facefind_clusters(v, threshold, k=20, iterations=100):
    """`PeopleClustering.cluster` on one face per photo: the k-nearest graph from `threshold`, then Chinese
    Whispers with SplitMix64 from seed 1, ties to the lower label."""
    sim = v @ v.T
    np.fill_diagonal(sim, -np.inf)
    n = len(v)
    near = np.argpartition(-sim, min(k, n - 1) - 1, axis=1)[:, :min(k, n - 1)]
    adjacency = [dict() for _ in range(n)]
    for i in range(n):
        for j in near[i]:
            w = float(np.float32(sim[i, j]))
            if w >= threshold and adjacency[i].get(j, -9) < w:
                adjacency[i][j] = adjacency[j][i] = w
    lists = [sorted(a.items()) for a in adjacency]
    labels, state = list(range(n)), 1
    for _ in range(iterations * n):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        node = (z ^ (z >> 31)) % n
        if not lists[node]:
            continue
        weights = collections.defaultdict(float)
        for j, w in lists[node]:
            weights[labels[j]] += w
        labels[node] = min(weights, key=lambda label: (-weights[label], label))
    return labels


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    rows = chosen_faces([json.loads(line) for line in open(sys.argv[1])])
    paths = sorted(rows)
    v = normalise(np.load(sys.argv[2])[[rows[p] for p in paths]].astype(np.float64))
    labels = np.array([os.path.basename(os.path.dirname(p)) for p in paths])
    identities = sorted(set(labels))
    fold = np.array([identities.index(label) % 10 for label in labels])
    centred = normalise(v - v.mean(0))

    _, tar = threshold_at(v @ v.T, labels, 1e-5)
    _, tar_centred = threshold_at(centred @ centred.T, labels, 1e-5)
    wins = sum(threshold_at(centred @ centred.T, labels, 1e-5, fold != f)[1]
               > threshold_at(v @ v.T, labels, 1e-5, fold != f)[1] for f in range(10))
    print(f"1. TAR at FAR 1e-5: as they are {tar:.4f}, centred {tar_centred:.4f}; centring wins in {wins} of 10 "
          f"nine-fold training sets")

    scores = {"as they are": [], "centred (stored mean)": []}
    for f in range(10):
        train, test = fold != f, fold == f
        mean = v[train].mean(0)
        t_raw, _ = threshold_at(v @ v.T, labels, 1e-5, train)
        c = normalise(v - mean)
        t_centred, _ = threshold_at(c @ c.T, labels, 1e-5, train)
        for name, x, t in (("as they are", v[test], t_raw), ("centred (stored mean)", c[test], t_centred)):
            scores[name].append((test.sum(),) + bcubed(facefind_clusters(x, t), list(labels[test])))
    base = np.array([s[3] for s in scores["as they are"]])
    for name, per in scores.items():
        n = sum(s[0] for s in per)
        p, r = sum(s[0] * s[1] for s in per) / n, sum(s[0] * s[2] for s in per) / n
        d = np.array([s[3] for s in per]) - base
        print(f"2. held-out folds clustered alone, {name}: BCubed P / R / F {p:.4f} / {r:.4f} / {2 * p * r / (p + r):.4f}; "
              f"folds better / worse than as they are: {(d > 0).sum()} / {(d < 0).sum()}")

    mean = v.mean(0)
    t_raw, _ = threshold_at(v @ v.T, labels, 1e-5)
    c = normalise(v - mean)
    t_centred, _ = threshold_at(c @ c.T, labels, 1e-5)
    count = collections.Counter(labels)
    rng = np.random.default_rng(7)
    galleries = {
        "identities with 10 photos or more": np.array([count[label] >= 10 for label in labels]),
        "identities with one photo": np.array([count[label] == 1 for label in labels]),
        "a random fifth of the identities": np.isin(labels, rng.choice(identities, len(identities) // 5, replace=False)),
        "the largest identity and 30 random ones": np.isin(
            labels, [max(count, key=count.get)] + list(rng.choice(identities, 30, replace=False))),
    }
    for name, m in galleries.items():
        g, lab = v[m], list(labels[m])
        f_raw = bcubed(facefind_clusters(g, t_raw), lab)[2]
        f_stored = bcubed(facefind_clusters(normalise(g - mean), t_centred), lab)[2]
        f_own = bcubed(facefind_clusters(normalise(g - g.mean(0)), t_centred), lab)[2]
        print(f"3. {name} ({m.sum()} photos): BCubed F as they are {f_raw:.4f}, centred on the stored mean "
              f"{f_stored:.4f}, on the gallery's own mean {f_own:.4f}")


if __name__ == "__main__":
    main()

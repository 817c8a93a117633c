"""The clustering anchors of issue 13, on FaceFind's own embeddings: dlib's Chinese Whispers, scikit-learn's DBSCAN
and average-linkage agglomerative clustering, each with its threshold tuned on the very photos it is scored on (the
anchors' best case), scored by BCubed F as `facefind evaluate --clusters` scores.

usage: anchors.py FACES.ndjson EMBEDDINGS.npy [--grid LOW,HIGH] [--centred] [--facefind EVALUATION.json] [--json]
       (the venv of scripts/people/requirements.txt)

  facefind embed ../shared/faces/lfw-dev --embedder NAME --format npy --output E.npy > F.ndjson

One face per photo, as `evaluate --clusters` takes it: the prominent one (area minus twice the squared offset of
its centre from the photo's centre); the identity is the photo's folder. Thresholds are cosine similarities from
0.30 to 0.80 in steps of 0.025 unless --grid says otherwise (dlib's is the matching euclidean distance of unit vectors, sqrt(2 - 2 cos)). Also
prints the similarity at false-accept rates 1e-3, 1e-4 and 1e-5 over all different-person pairs: the 1e-5 one is
the clustering threshold in FaceFind's catalog.

Each F comes with a 95% interval by bootstrap over identities (identities drawn with replacement, each bringing its
photos with the BCubed precision and recall they have in the clustering), as FaceFind's ClusteringScores does.
With --facefind (the output of `facefind evaluate --clusters --json` on the same photos), FaceFind's clustering is
compared with each anchor's best on the same draws: the paired interval of F(FaceFind) - F(anchor).
"""
import argparse
import collections
import json
import os

import dlib
import numpy as np
from sklearn.cluster import DBSCAN, AgglomerativeClustering


def bcubed(clusters, labels):
    """BCubed precision, recall and F (the formula of FaceFind's ClusteringScores)."""
    cluster_size = collections.Counter(clusters)
    label_size = collections.Counter(labels)
    cells = collections.Counter(zip(clusters, labels))
    n = len(labels)
    precision = sum(k * k / cluster_size[c] for (c, _), k in cells.items()) / n
    recall = sum(k * k / label_size[l] for (_, l), k in cells.items()) / n
    return precision, recall, 2 * precision * recall / (precision + recall)


def chosen_faces(lines):
    """Per photo, the row of its prominent face."""
    best = {}
    for line in lines:
        if "row" not in line:
            continue
        box = line["box"]
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        dx, dy = cx - line["width"] / 2, cy - line["height"] / 2
        prominence = box["width"] * box["height"] - 2 * (dx * dx + dy * dy)
        if line["path"] not in best or prominence > best[line["path"]][0]:
            best[line["path"]] = (prominence, line["row"])
    return {path: row for path, (_, row) in best.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("faces")
    parser.add_argument("embeddings")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--facefind", help="`facefind evaluate --clusters --json` output on the same photos (its first row)")
    parser.add_argument("--centred", action="store_true",
                        help="give the anchors the vectors centred as FaceFind's clustering centres them: "
                        "normalise(v - mean), the mean of these unit vectors (what scripts/people/centre.py stores)")
    parser.add_argument("--grid", default="0.30,0.80",
                        help="lowest and highest cosine threshold tried, 21 steps (dlib's similarities sit near 0.9)")
    args = parser.parse_args()
    lines = [json.loads(line) for line in open(args.faces)]
    rows = chosen_faces(lines)
    paths = sorted(rows)
    vectors = np.load(args.embeddings)[[rows[p] for p in paths]].astype(np.float64)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    if args.centred:
        vectors -= vectors.mean(axis=0)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = [os.path.basename(os.path.dirname(p)) for p in paths]
    low, high = (float(x) for x in args.grid.split(","))
    thresholds = [round(low + (high - low) * i / 20, 4) for i in range(21)]

    methods = {
        "dlib chinese_whispers": lambda t: dlib.chinese_whispers_clustering(
            [dlib.vector(v.tolist()) for v in vectors], float(np.sqrt(2 - 2 * t))),
        "sklearn DBSCAN (min_samples 2, noise as singletons)": lambda t: noise_apart(
            DBSCAN(eps=1 - t, min_samples=2, metric="cosine").fit_predict(vectors)),
        "sklearn agglomerative, average linkage": lambda t: AgglomerativeClustering(
            n_clusters=None, metric="cosine", linkage="average", distance_threshold=1 - t).fit_predict(vectors),
    }
    report = []
    for name, run in methods.items():
        scored = []
        for t in thresholds:
            clusters = list(run(t))
            p, r, f = bcubed(clusters, labels)
            scored.append({"threshold": t, "precision": p, "recall": r, "f": f, "clusters": len(set(clusters))})
        best = max(scored, key=lambda s: s["f"])
        report.append({"method": name, "best": best, "photos": len(paths), "identities": len(set(labels)),
                       "clusters": list(run(best["threshold"]))})
    theirs = facefind_clusters(args.facefind, paths) if args.facefind else None
    samples = bootstrap([r["clusters"] for r in report] + ([theirs] if theirs else []), labels)
    for r, f in zip(report, samples):
        r["best"]["interval"] = [float(np.percentile(f, 2.5)), float(np.percentile(f, 97.5))]
        if theirs:
            d = samples[-1] - f
            r["facefindMinusThis"] = {"difference": bcubed(theirs, labels)[2] - r["best"]["f"],
                                      "interval": [float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))]}
        del r["clusters"]
    # The clustering threshold of FaceFind's catalog: the similarity at a false-accept rate of 1e-5 over every
    # different-person pair (and 1e-3, the match threshold, for comparison).
    similarities = vectors @ vectors.T
    upper = np.triu_indices(len(paths), 1)
    different = np.array(labels)[:, None] != np.array(labels)[None, :]
    negatives = np.sort(similarities[upper][different[upper]])[::-1]
    far = {str(rate): float(negatives[int(rate * len(negatives))]) for rate in (1e-3, 1e-4, 1e-5)}
    if args.json:
        print(json.dumps({"anchors": report, "similarityAtFAR": far, "differentPersonPairs": len(negatives)}, indent=2))
    else:
        for r in report:
            b = r["best"]
            lo, hi = b["interval"]
            line = (f"| {r['method']} | {b['threshold']:.3f} | {b['clusters']} | "
                    f"{b['precision']:.4f} / {b['recall']:.4f} / **{b['f']:.4f}** ({lo:.4f}-{hi:.4f}) |")
            if "facefindMinusThis" in r:
                d = r["facefindMinusThis"]
                line += f" {d['difference']:+.4f} ({d['interval'][0]:+.4f} to {d['interval'][1]:+.4f}) |"
            print(line)
        if theirs:
            print(f"FaceFind ({args.facefind}): BCubed F {bcubed(theirs, labels)[2]:.4f}; the last column is "
                  f"F(FaceFind) - F(anchor) with its paired 95% interval")
        print(f"similarity at a false-accept rate of 1e-3 / 1e-4 / 1e-5 over {len(negatives)} different-person "
              f"pairs: " + " / ".join(f"{far[str(r)]:.3f}" for r in (1e-3, 1e-4, 1e-5)))


def facefind_clusters(path, paths):
    """FaceFind's cluster of each photo of `paths` (matched by folder and file name), from its evaluation JSON."""
    row = json.load(open(path))[0]
    key = lambda p: "/".join(p.split("/")[-2:])
    theirs = dict(zip(map(key, row["photoPaths"]), row["photoClusters"]))
    missing = [p for p in paths if key(p) not in theirs]
    if missing:
        raise SystemExit(f"{path} has no cluster for {len(missing)} of the photos, such as {missing[0]}")
    return [theirs[key(p)] for p in paths]


def bootstrap(clusterings, labels, resamples=2000, seed=1):
    """BCubed F of each clustering over `resamples` draws of the identities with replacement (the same draws for
    every clustering, so that differences are paired)."""
    identities = sorted(set(labels))
    index = {l: i for i, l in enumerate(identities)}
    draws = np.random.default_rng(seed).integers(0, len(identities), size=(resamples, len(identities)))
    out = []
    for clusters in clusterings:
        cluster_size = collections.Counter(clusters)
        label_size = collections.Counter(labels)
        cells = collections.Counter(zip(clusters, labels))
        sums = np.zeros((len(identities), 3))
        for c, l in zip(clusters, labels):
            k = cells[(c, l)]
            sums[index[l]] += (k / cluster_size[c], k / label_size[l], 1)
        total = sums[draws].sum(axis=1)
        p, r = total[:, 0] / total[:, 2], total[:, 1] / total[:, 2]
        out.append(2 * p * r / (p + r))
    return out


def noise_apart(assigned):
    """DBSCAN's noise (-1) as one singleton cluster per point."""
    next_label = max(assigned) + 1
    out = []
    for a in assigned:
        if a < 0:
            out.append(next_label)
            next_label += 1
        else:
            out.append(a)
    return out


if __name__ == "__main__":
    main()

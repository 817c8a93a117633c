#!/usr/bin/env python3
"""Gives tf2onnx's FaceNet-512 conversion the exact layout of the published file.

tf2onnx 1.16.1 is not deterministic run to run on this graph: when it merges the equal constants of a
repeated block (the residual scales `Repeat*/block*/mul/x`) it keeps whichever it meets first, and the
order it meets them in changes between runs, even with PYTHONHASHSEED fixed; its generated names
(`new_shape__500`, `const_fold_opt__502`, `FusedBatchNorm_1__281`, ...) take counter values that shift
with that order. The graph itself (every operator, attribute, edge and weight) is the same in every run.

This tool pins those arbitrary choices:
  record REFERENCE.onnx LAYOUT.json   writes, for every name that is generated or merged, the name the
                                      reference uses, keyed by a content id: a hash of the tensor's
                                      bytes (constants) or of the operator, its attributes and its
                                      inputs' ids (computed values), so no name enters an id.
  apply IN.onnx LAYOUT.json OUT.onnx  renames IN's generated and merged names to the pinned ones, then
                                      orders nodes and initializers as tf2onnx's own final topological
                                      sort does (sorted by name, depth first), and writes OUT.
  digest FILE.onnx                    prints the name- and order-independent digest of the graph.
`apply` only renames, reorders and names symbolic dimensions (input batch `unk__507`, output batch
`N`): if IN's graph differs from the reference's in any operator, attribute, edge or weight, the
digest differs (or some id has no pinned name) and it fails without writing anything.
"""
import hashlib
import json
import re
import sys

import onnx

GENERATED = re.compile(r"__\d+")


def content_ids(model: onnx.ModelProto):
    """Maps every tensor name to a content id, and every node name to its node id."""
    g = model.graph
    tid, nid = {}, {}
    for i in g.input:
        tid[i.name] = "input:" + i.name  # graph inputs keep their names (input:0)
    for t in g.initializer:
        bare = onnx.TensorProto()
        bare.CopyFrom(t)
        bare.name = ""
        tid[t.name] = "const:" + hashlib.sha256(bare.SerializeToString()).hexdigest()
    # nodes are stored in topological order
    for n in g.node:
        attrs = sorted(a.SerializeToString() for a in n.attribute)
        key = repr((n.op_type, n.domain, [tid[x] if x else "" for x in n.input], attrs)).encode()
        h = hashlib.sha256(key).hexdigest()
        if h in nid.values():
            raise SystemExit(f"two nodes compute the same thing ({n.name}); content ids are not unique")
        nid[n.name] = "node:" + h
        for k, o in enumerate(n.output):
            tid[o] = f"value:{h}:{k}"
    return tid, nid


def digest(model: onnx.ModelProto) -> str:
    tid, nid = content_ids(model)
    g = model.graph
    parts = sorted(nid.values()) + sorted(v for k, v in tid.items() if v.startswith("const:"))
    parts += ["out:" + tid[o.name] for o in g.output]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def pinned_names(model: onnx.ModelProto):
    """The names whose spelling tf2onnx chooses arbitrarily: generated ones, and merged constants
    (an initializer read by several nodes was kept in place of equal ones)."""
    g = model.graph
    readers = {}
    for n in g.node:
        for x in n.input:
            readers[x] = readers.get(x, 0) + 1
    tensors = {t.name for t in g.initializer if GENERATED.search(t.name) or readers.get(t.name, 0) > 1}
    for n in g.node:
        tensors |= {o for o in n.output if GENERATED.search(o)}
    nodes = {n.name for n in g.node if GENERATED.search(n.name)}
    return tensors, nodes


def dims_of(vi):
    return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]


def record(reference: str, out: str) -> None:
    model = onnx.load(reference)
    tid, nid = content_ids(model)
    tensors, nodes = pinned_names(model)
    layout = {
        "reference": reference.rsplit("/", 1)[-1],
        "digest": digest(model),
        "tensors": {tid[name]: name for name in sorted(tensors)},
        "nodes": {nid[name]: name for name in sorted(nodes)},
        "inputs": {i.name: dims_of(i) for i in model.graph.input},
        "outputs": {o.name: dims_of(o) for o in model.graph.output},
    }
    with open(out, "w") as f:
        json.dump(layout, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"recorded {len(layout['tensors'])} tensor and {len(layout['nodes'])} node names; digest {layout['digest']}")


def const_node_name(tensor_name: str) -> str:
    # tf2onnx names a constant's output NODE:0 when it came from TensorFlow and NODE when it made it.
    return tensor_name[:-2] if tensor_name.endswith(":0") else tensor_name


def tf2onnx_order(model: onnx.ModelProto):
    """tf2onnx Graph.topological_sort over inputs, constants and nodes; returns the sorted entries."""
    g = model.graph
    ops = [("input", const_node_name(i.name), [], [i.name], i) for i in g.input]
    ops += [("const", const_node_name(t.name), [], [t.name], t) for t in g.initializer]
    ops += [("node", n.name, list(n.input), list(n.output), n) for n in g.node]
    ops.sort(key=lambda op: op[1])
    index = {op[1]: i for i, op in enumerate(ops)}
    producer = {o: op[1] for op in ops for o in op[3]}
    children = [[] for _ in ops]
    for i, op in enumerate(ops):
        for inp in sorted(set(x for x in op[2] if x)):
            children[index[producer[inp]]].append(i)
    label = [-1] * len(ops)
    not_visited = dict.fromkeys(range(len(ops)))
    counter = len(ops) - 1
    stack, in_stack = [], set()
    while not_visited:
        start = next(iter(not_visited))
        stack.append(start)
        in_stack.add(start)
        while stack:
            child = next((c for c in children[stack[-1]] if c in not_visited), -1)
            if child != -1:
                if child in in_stack:
                    raise SystemExit("graph has a cycle")
                stack.append(child)
                in_stack.add(child)
            else:
                node = stack.pop()
                in_stack.discard(node)
                not_visited.pop(node)
                label[node] = counter
                counter -= 1
    return [ops[i] for _, i in sorted(zip(label, range(len(ops))))]


def apply(source: str, layout_file: str, out: str) -> None:
    with open(layout_file) as f:
        layout = json.load(f)
    model = onnx.load(source)
    g = model.graph
    have = digest(model)
    if have != layout["digest"]:
        raise SystemExit(f"graph digest {have} differs from the reference's {layout['digest']}: "
                         "the conversion computes something else; not renaming")
    tid, nid = content_ids(model)
    tensors, nodes = pinned_names(model)
    rename = {}
    for name in tensors:
        want = layout["tensors"].get(tid[name])
        if want is None:
            raise SystemExit(f"no pinned name for {name}")
        rename[name] = want
    node_rename = {}
    for name in nodes:
        want = layout["nodes"].get(nid[name])
        if want is None:
            raise SystemExit(f"no pinned name for node {name}")
        node_rename[name] = want
    for t in g.initializer:
        t.name = rename.get(t.name, t.name)
    for n in g.node:
        n.name = node_rename.get(n.name, n.name)
        for k, x in enumerate(n.input):
            n.input[k] = rename.get(x, x)
        for k, x in enumerate(n.output):
            n.output[k] = rename.get(x, x)
    for vi in list(g.input) + list(g.output):
        want = layout["inputs"].get(vi.name) or layout["outputs"].get(vi.name)
        if want is None or len(want) != len(vi.type.tensor_type.shape.dim):
            raise SystemExit(f"unexpected graph input/output {vi.name}")
        for d, w in zip(vi.type.tensor_type.shape.dim, want):
            if isinstance(w, str):
                if d.HasField("dim_value") and not d.dim_param:
                    raise SystemExit(f"{vi.name}: a fixed dimension where the reference has {w}")
                d.Clear()
                d.dim_param = w
    order = tf2onnx_order(model)
    nodes_sorted = [op[4] for op in order if op[0] == "node"]
    inits_sorted = [op[4] for op in order if op[0] == "const"]
    new_nodes = [onnx.NodeProto() for _ in nodes_sorted]
    for dst, src in zip(new_nodes, nodes_sorted):
        dst.CopyFrom(src)
    new_inits = [onnx.TensorProto() for _ in inits_sorted]
    for dst, src in zip(new_inits, inits_sorted):
        dst.CopyFrom(src)
    del g.node[:]
    g.node.extend(new_nodes)
    del g.initializer[:]
    g.initializer.extend(new_inits)
    if digest(model) != layout["digest"]:
        raise SystemExit("renaming changed the graph digest (bug)")
    onnx.save(model, out)
    print(f"renamed {sum(1 for k, v in rename.items() if k != v)} tensors and "
          f"{sum(1 for k, v in node_rename.items() if k != v)} nodes to the pinned layout")


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["record"] and len(args) == 3:
        record(args[1], args[2])
    elif args[:1] == ["apply"] and len(args) == 4:
        apply(args[1], args[2], args[3])
    elif args[:1] == ["digest"] and len(args) == 2:
        print(digest(onnx.load(args[1])))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()

"""Quantizes a float ONNX model to int8 with ONNX Runtime's own tool (static, QDQ format).

usage: quantize.py FLOAT.onnx INPUTS.npy OUTPUT.onnx [--method minmax|entropy|percentile] [--exclude OP_TYPE|NODE,...]

INPUTS.npy holds the calibration inputs exactly as FaceFind feeds the network: for an embedder one row per face
(`facefind embed --network-inputs`), reshaped here to the model's input shape; for a detector one N x C x H x W
tensor per photo (`facefind embed --detector-inputs`), whose H and W fill the model's dynamic dimensions. Per-channel int8 weights,
uint8 activations, after onnxruntime's `quant_pre_process` (shape inference and graph optimisation), as
measured in issue 11. Every choice is fixed, so that the same inputs give the same bytes.
"""
import argparse
import hashlib
import os
import shutil
import sys
import tempfile

import numpy as np
import onnx
from onnx import version_converter
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                      quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process

METHODS = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
           "percentile": CalibrationMethod.Percentile}


class Inputs(CalibrationDataReader):
    """One face at a time, in the file's order."""

    def __init__(self, name, shape, rows):
        self.items = iter([{name: row.reshape(shape)} for row in rows])

    def get_next(self):
        return next(self.items, None)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("inputs")
    parser.add_argument("output")
    parser.add_argument("--method", choices=sorted(METHODS), default="minmax")
    parser.add_argument("--exclude", default="", help="operator types or node names kept in float, comma-separated")
    args = parser.parse_args()

    graph = onnx.load(args.model).graph
    initializers = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if len(inputs) != 1:
        sys.exit(f"{args.model}: expected one input, found {[i.name for i in inputs]}")
    dims = [d.dim_value if d.dim_value > 0 else 1 for d in inputs[0].type.tensor_type.shape.dim]
    dims[0] = 1
    rows = np.load(args.inputs).astype(np.float32)
    if rows.ndim == len(dims) and all(d in (1, r) for d, r in zip(dims[1:], rows.shape[1:])):
        dims = [1] + list(rows.shape[1:])
    elif rows.ndim != 2 or rows.shape[1] != int(np.prod(dims)):
        sys.exit(f"{args.inputs}: shape {rows.shape}, expected N x {int(np.prod(dims))} for input {dims}")

    with tempfile.TemporaryDirectory() as work:
        source = args.model
        opset = next(o.version for o in onnx.load(args.model).opset_import if o.domain in ("", "ai.onnx"))
        if opset < 13:
            # Per-channel DequantizeLinear needs its `axis` attribute, which exists from opset 13 on
            # (MobileFaceNet and YuNet are opset 11).
            source = os.path.join(work, "opset13.onnx")
            onnx.save(version_converter.convert_version(onnx.load(args.model), 13), source)
        prepared = os.path.join(work, "prepared.onnx")
        quant_pre_process(source, prepared)
        excluded = set(filter(None, args.exclude.split(",")))
        nodes = [n.name for n in onnx.load(prepared).graph.node if n.op_type in excluded or n.name in excluded]
        staged = os.path.join(work, "int8.onnx")
        quantize_static(prepared, staged, Inputs(inputs[0].name, dims, rows), quant_format=QuantFormat.QDQ,
                        per_channel=True, weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8,
                        calibrate_method=METHODS[args.method], nodes_to_exclude=nodes)
        shutil.move(staged, args.output)
    digest = hashlib.sha256(open(args.output, "rb").read()).hexdigest()
    print(f"{digest} {args.output} ({len(rows)} calibration inputs, {args.method}, {len(nodes)} nodes in float)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Converts dlib's face recognition ResNet (`dlib_face_recognition_resnet_model_v1.dat`, CC0) to ONNX.

    python3 convert.py dlib_face_recognition_resnet_model_v1.dat dlib_resnet_v1.onnx

The .dat file is dlib's binary serialization of its `anet_type` (dnn_face_recognition_ex.cpp):

    loss_metric<fc_no_bias<128,avg_pool_everything<
        alevel0<alevel1<alevel2<alevel3<alevel4<
        max_pool<3,3,2,2,relu<affine<con<32,7,7,2,2,input_rgb_image_sized<150>>>>>>>>>>>>
    ares<N>      = relu<add_prev1<block<N,1,tag1<S>>>>
    ares_down<N> = relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,2,tag1<S>>>>>>>
    block<N,st>  = affine<con<N,3,3,1,1,relu<affine<con<N,3,3,st,st,S>>>>>
    alevel0 = ares_down<256>;  alevel1 = ares<256>,ares<256>,ares_down<256>;
    alevel2 = ares<128>,ares<128>,ares_down<128>;  alevel3 = ares<64>x3,ares_down<64>;  alevel4 = ares<32>x3

How dlib writes it (dlib/serialize.h, dlib/dnn/core.h, layers.h, input.h, tensor.h):
  - integers: one byte (low 4 bits: count of magnitude bytes, bit 7: negative), then the magnitude, little
    endian; bools: the character '0' or '1'; strings: length (integer) then bytes; float/double: an integer
    mantissa and an integer exponent (value = mantissa * 2**exponent).
  - tensors: version (1: dlib floats, 2: little-endian float32), num_samples, k, nr, nc, then the values;
    alias tensors: version 1 and the four dimensions.
  - a layer is written outermost first: each wrapper writes its version, then its sub-network, then its own
    fields. So the file holds the version numbers of all wrappers from the top down, the input layer, then each
    layer's details from the bottom up.
  - affine_ (dlib's inference form of batch norm): params = [gamma | beta], per channel (mode 0 = CONV_MODE).
  - con_4: params = [filters (num_filters, k, nr, nc) | biases], strides and paddings.
  - fc_2 without bias: params (num_inputs, num_outputs); output = input @ params.
  - add_prev: output size is the element-wise max of both inputs' sizes, each input zero-padded at the end
    (channels, rows, columns); the residual_down blocks depend on it (e.g. 3x3 + 4x4 -> 4x4, 128 + 256 channels).
  - input_rgb_image_sized: (pixel - mean[c]) / 256 with means stored in the file; baked into the graph here so that
    the ONNX input is raw RGB 0..255, NCHW float32.

The output is the un-normalised 128-d descriptor dlib returns (FaceFind L2-normalises it). The conversion uses
nothing but the file: shapes, strides, paddings and means are read from it and checked against the architecture
above. It is deterministic: the same input gives the same bytes (no timestamps; fixed IR version and producer).
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 7  # the IR of opset 13 (onnx 1.8); fixed so that the bytes don't depend on the onnx package


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def byte(self):
        b = self.data[self.pos]
        self.pos += 1
        return b

    def int(self):
        head = self.byte()
        size = head & 0x0F
        if size > 8 or head & 0x70:
            raise ValueError(f"bad integer header 0x{head:02x} at {self.pos - 1}")
        value = int.from_bytes(self.data[self.pos:self.pos + size], "little")
        self.pos += size
        return -value if head & 0x80 else value

    def bool(self):
        c = self.byte()
        if c not in (ord("0"), ord("1")):
            raise ValueError(f"bad bool {c!r} at {self.pos - 1}")
        return c == ord("1")

    def string(self):
        n = self.int()
        s = self.data[self.pos:self.pos + n].decode("ascii")
        self.pos += n
        return s

    def float(self):
        mantissa = self.int()
        exponent = self.int()
        if exponent >= 32000:  # float_details::is_inf / is_ninf / is_nan
            return {32000: float("inf"), 32001: float("-inf")}.get(exponent, float("nan"))
        return float(np.ldexp(np.float64(mantissa), exponent))

    def expect_string(self, want):
        got = self.string()
        if got != want:
            raise ValueError(f"expected {want!r}, found {got!r} at {self.pos}")

    def expect_int(self, want, what):
        got = self.int()
        if got != want:
            raise ValueError(f"{what}: expected {want}, found {got} at {self.pos}")

    def tensor(self):
        version = self.int()
        shape = tuple(self.int() for _ in range(4))
        n = int(np.prod(shape))
        if version == 2:
            values = np.frombuffer(self.data, dtype="<f4", count=n, offset=self.pos).astype(np.float32)
            self.pos += 4 * n
        elif version == 1:
            values = np.array([self.float() for _ in range(n)], dtype=np.float32)
        else:
            raise ValueError(f"unknown tensor version {version}")
        return values.reshape(shape)

    def alias_tensor(self):
        self.expect_int(1, "alias_tensor version")
        return tuple(self.int() for _ in range(4))


# The architecture, top (under the loss) to bottom (above the input), as wrapper tokens.
def ares(n):
    return [("relu",), ("add_prev", 1), ("affine",), ("con", n, 3, 1), ("relu",), ("affine",), ("con", n, 3, 1),
            ("tag", 1)]


def ares_down(n):
    return [("relu",), ("add_prev", 2), ("avg_pool", 2, 2), ("skip", 1), ("tag", 2), ("affine",), ("con", n, 3, 1),
            ("relu",), ("affine",), ("con", n, 3, 2), ("tag", 1)]


ARCHITECTURE = (
    [("fc", 128), ("avg_pool_everything",)]
    + ares_down(256)
    + ares(256) + ares(256) + ares_down(256)
    + ares(128) + ares(128) + ares_down(128)
    + ares(64) + ares(64) + ares(64) + ares_down(64)
    + ares(32) + ares(32) + ares(32)
    + [("max_pool", 3, 2), ("relu",), ("affine",), ("con", 32, 7, 2)]
)


def read_layer_details(r, token):
    """Reads one add_layer's details; returns a dict describing the computation."""
    kind = token[0]
    if kind == "con":
        r.expect_string("con_4")
        params = r.tensor()
        num_filters, nr, nc = r.int(), r.int(), r.int()
        stride_y, stride_x, pad_y, pad_x = r.int(), r.int(), r.int(), r.int()
        filters = r.alias_tensor()
        biases = r.alias_tensor()
        for _ in range(4):  # learning-rate and weight-decay multipliers
            r.float()
        _, n, k, size = token[0], token[1], token[2], token[3]
        if (num_filters, nr, nc, stride_y, stride_x) != (n, k, k, size, size):
            raise ValueError(f"con: found {num_filters} {nr}x{nc}/{stride_y},{stride_x}, expected {token}")
        flat = params.reshape(-1)
        nw = int(np.prod(filters))
        if flat.size != nw + int(np.prod(biases)) or biases != (1, num_filters, 1, 1):
            raise ValueError("con: parameter sizes do not match")
        return {"op": "con", "w": flat[:nw].reshape(filters), "b": flat[nw:].copy(),
                "stride": (stride_y, stride_x), "pad": (pad_y, pad_x)}
    if kind == "affine":
        r.expect_string("affine_")
        params = r.tensor().reshape(-1)
        gamma = r.alias_tensor()
        beta = r.alias_tensor()
        mode = r.int()
        if mode != 0 or gamma != beta or gamma[0] != 1 or gamma[2:] != (1, 1):
            raise ValueError(f"affine: unexpected mode {mode} or shape {gamma}")
        c = gamma[1]
        return {"op": "affine", "gamma": params[:c].copy(), "beta": params[c:2 * c].copy()}
    if kind == "relu":
        r.expect_string("relu_")
        return {"op": "relu"}
    if kind == "add_prev":
        r.expect_string("add_prev_")
        return {"op": "add_prev", "tag": token[1]}
    if kind in ("max_pool", "avg_pool", "avg_pool_everything"):
        r.expect_string(("max_pool_2" if kind == "max_pool" else "avg_pool_2"))
        nr, nc, sy, sx, py, px = (r.int() for _ in range(6))
        if kind == "avg_pool_everything":
            if (nr, nc) != (0, 0):
                raise ValueError(f"avg_pool_everything: window {nr}x{nc}")
            return {"op": "global_avg"}
        if (nr, nc, sy, sx) != (token[1], token[1], token[2], token[2]):
            raise ValueError(f"{kind}: found {nr}x{nc}/{sy},{sx}, expected {token}")
        return {"op": kind, "k": (nr, nc), "stride": (sy, sx), "pad": (py, px)}
    if kind == "fc":
        r.expect_string("fc_2")
        num_outputs, num_inputs = r.int(), r.int()
        params = r.tensor()
        weights = r.alias_tensor()
        biases = r.alias_tensor()
        bias_mode = r.int()
        for _ in range(4):
            r.float()
        if num_outputs != token[1] or bias_mode != 1 or weights != (num_inputs, num_outputs, 1, 1):
            raise ValueError(f"fc: {num_outputs} outputs, bias mode {bias_mode}, weights {weights}")
        return {"op": "fc", "w": params.reshape(-1)[:num_inputs * num_outputs].reshape(num_inputs, num_outputs)}
    raise ValueError(f"no details for {token}")


def read_network(data):
    r = Reader(data)
    r.expect_int(1, "add_loss_layer version")
    r.expect_string("loss_metric_2")
    r.float()  # margin
    r.float()  # distance threshold
    # Versions, top down: add_layer 2, tag/skip 1; the add_layer over the input has 2 or 3.
    for i, token in enumerate(ARCHITECTURE):
        want = (2, 3) if i == len(ARCHITECTURE) - 1 else ((1,) if token[0] in ("tag", "skip") else (2,))
        version = r.int()
        if version not in want:
            raise ValueError(f"layer {i} {token}: version {version}, expected {want}")
        if i == len(ARCHITECTURE) - 1:
            bottom_version = version
    r.expect_string("input_rgb_image_sized")
    means = [r.float() for _ in range(3)]
    nr, nc = r.int(), r.int()
    if (nr, nc) != (150, 150):
        raise ValueError(f"input size {nr}x{nc}")
    # Details, bottom up.
    layers = []
    for i, token in reversed(list(enumerate(ARCHITECTURE))):
        if token[0] in ("tag", "skip"):
            layers.append({"op": token[0], "tag": token[1]})
            continue
        layer = read_layer_details(r, token)
        for _ in range(3):  # this_layer_setup_called, gradient_input_is_stale, get_output..._disabled
            r.bool()
        r.tensor()  # x_grad
        r.tensor()  # cached_output
        if i == len(ARCHITECTURE) - 1:
            r.tensor()  # grad_final
            if bottom_version >= 3:
                r.int()  # _sample_expansion_factor
        else:
            r.tensor()  # params_grad
        layers.append(layer)
    if r.pos != len(data):
        raise ValueError(f"{len(data) - r.pos} bytes left after the network")
    return means, layers


def build_onnx(means, layers):
    nodes, inits = [], []
    counter = [0]

    def name(prefix):
        counter[0] += 1
        return f"{prefix}_{counter[0]}"

    def const(prefix, array):
        n = name(prefix)
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), n))
        return n

    def node(op, inputs, **attrs):
        out = name(op.lower())
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    # Input normalisation: (x - mean) / 256, computed as x * (1/256) + (-mean/256) (1/256 is exact).
    means32 = np.array(means, dtype=np.float32).reshape(1, 3, 1, 1)
    x = node("Mul", ["input", const("scale", np.full((1, 1, 1, 1), 1 / 256, np.float32))])
    x = node("Add", [x, const("shift", (-means32 / np.float32(256)).astype(np.float32))])
    shape = (3, 150, 150)  # (channels, rows, columns) of x, for add_prev's padding
    tags = {}

    def out_size(n, k, s, p):
        return 1 + (n + 2 * p - k) // s

    for layer in layers:
        op = layer["op"]
        if op == "con":
            (sy, sx), (py, px) = layer["stride"], layer["pad"]
            w = layer["w"]
            x = node("Conv", [x, const("w", w), const("b", layer["b"])], kernel_shape=list(w.shape[2:]),
                     strides=[sy, sx], pads=[py, px, py, px])
            shape = (w.shape[0], out_size(shape[1], w.shape[2], sy, py), out_size(shape[2], w.shape[3], sx, px))
        elif op == "affine":
            c = layer["gamma"].size
            x = node("Mul", [x, const("gamma", layer["gamma"].reshape(1, c, 1, 1))])
            x = node("Add", [x, const("beta", layer["beta"].reshape(1, c, 1, 1))])
        elif op == "relu":
            x = node("Relu", [x])
        elif op in ("max_pool", "avg_pool"):
            (ky, kx), (sy, sx), (py, px) = layer["k"], layer["stride"], layer["pad"]
            if op == "avg_pool" and (py or px):
                raise ValueError("avg_pool with padding is not handled")  # not in this network
            x = node("MaxPool" if op == "max_pool" else "AveragePool", [x], kernel_shape=[ky, kx],
                     strides=[sy, sx], pads=[py, px, py, px])
            shape = (shape[0], out_size(shape[1], ky, sy, py), out_size(shape[2], kx, sx, px))
        elif op == "tag":
            tags[layer["tag"]] = (x, shape)
        elif op == "skip":
            x, shape = tags[layer["tag"]]
        elif op == "add_prev":
            y, yshape = tags[layer["tag"]]
            target = tuple(max(a, b) for a, b in zip(shape, yshape))

            def padded(t, s):
                if s == target:
                    return t
                ends = [0, target[0] - s[0], target[1] - s[1], target[2] - s[2]]
                return node("Pad", [t, const("pads", np.array([0, 0, 0, 0] + ends, np.int64))])

            x = node("Add", [padded(x, shape), padded(y, yshape)])
            shape = target
        elif op == "global_avg":
            x = node("GlobalAveragePool", [x])
            x = node("Flatten", [x], axis=1)
            shape = (shape[0],)
        elif op == "fc":
            if layer["w"].shape[0] != shape[0]:
                raise ValueError(f"fc input {layer['w'].shape[0]} != {shape[0]}")
            x = node("MatMul", [x, const("fc", layer["w"])])
        else:
            raise ValueError(op)
    nodes[-1].output[0] = "embedding"
    graph = helper.make_graph(
        nodes, "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 150, 150])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 128])], inits)
    model = helper.make_model(graph, producer_name="facefind scripts/dlib/convert.py", producer_version="1",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    model.doc_string = ("dlib face recognition ResNet v1 (dlib-models, CC0). Input: RGB 0..255, NCHW, 150x150 "
                        "dlib face chip. Output: dlib's 128-d descriptor (not normalised).")
    onnx.checker.check_model(model)
    return model


def main(argv):
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        data = f.read()
    means, layers = read_network(data)
    model = build_onnx(means, layers)
    with open(argv[2], "wb") as f:
        f.write(model.SerializeToString(deterministic=True))
    convs = sum(1 for layer in layers if layer["op"] == "con")
    print(f"converted {convs} conv layers, means {[round(m, 3) for m in means]} -> {argv[2]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Does int8 pay for a detector? Quantizes a detector the way quantize.py quantizes the embedders (opset 13,
quant_pre_process, static QDQ, per-channel int8 weights, MinMax) and times both files on one thread.

usage: detector_speed.py DETECTOR.onnx PHOTO... [--side 448] [--nhwc] [--batch N]   (the venv of quantize.sh,
       plus pillow)

Calibration and timing inputs: the photos resized to SIDE x SIDE, BGR, 0...255, NCHW (YuNet's input as FaceFind
feeds it at the default detection size of 448 px). Prints milliseconds per inference for each file.
"""
import argparse
import os
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import version_converter
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                      quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process
from PIL import Image


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("photos", nargs="+")
    parser.add_argument("--side", type=int, default=448)
    parser.add_argument("--nhwc", action="store_true", help="NHWC input, RGB scaled to -1...1 (MTCNN's nets)")
    parser.add_argument("--batch", type=int, default=1, help="inputs per inference (MTCNN's R-Net and O-Net "
                        "take a batch of candidate boxes)")
    args = parser.parse_args()

    def tensor(path):
        image = np.asarray(Image.open(path).convert("RGB").resize((args.side, args.side), Image.BILINEAR), np.float32)
        if args.nhwc:
            return ((image - 127.5) / 128)[None]
        return image[:, :, ::-1].transpose(2, 0, 1)[None].copy()

    model = onnx.load(args.model)
    name = model.graph.input[0].name
    single = [tensor(p) for p in args.photos]
    inputs = [np.concatenate([single[(i + k) % len(single)] for k in range(args.batch)])
              for i in range(len(single))]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{name: x} for x in inputs])

        def get_next(self):
            return next(self.items, None)

    with tempfile.TemporaryDirectory() as work:
        upgraded, prepared, int8 = (os.path.join(work, f) for f in ("opset13.onnx", "prepared.onnx", "int8.onnx"))
        onnx.save(version_converter.convert_version(model, 13), upgraded)
        # YuNet's dynamic input defeats symbolic shape inference; ONNX's own inference is enough here.
        quant_pre_process(upgraded, prepared, skip_symbolic_shape=True)
        quantize_static(prepared, int8, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8,
                        calibrate_method=CalibrationMethod.MinMax)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        for label, path in (("float32", args.model), ("int8", int8)):
            session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
            for x in inputs[:5]:
                session.run(None, {name: x})
            start = time.perf_counter()
            for x in inputs:
                session.run(None, {name: x})
            print(f"{label}: {(time.perf_counter() - start) / len(inputs) * 1000:.2f} ms per {args.batch} x "
                  f"{args.side}x{args.side} inference")


if __name__ == "__main__":
    main()

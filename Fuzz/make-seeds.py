#!/usr/bin/env python3
"""Writes the small hand-made seed files in Fuzz/Corpus/<Target>/ (committed; run again only to change them).

Needs Pillow (with WebP) for the image seeds and heif-enc (Debian package libheif-examples) for the HEIC/AVIF
ones: python3 -m pip install --target /tmp/pylibs pillow, then
PYTHONPATH=/tmp/pylibs python3 Fuzz/make-seeds.py. Every file is a few hundred bytes at most and made here from
scratch: no photo from ../shared is ever copied into the repository (scripts/fuzz.sh adds some at run time).
"""
import io
import os
import shutil
import struct
import zipfile
import zlib

from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Corpus")


def put(target, name, data):
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def gradient(mode, w=8, h=6):
    img = Image.new("RGB", (w, h))
    img.putdata([(x * 30, y * 40, (x + y) * 15) for y in range(h) for x in range(w)])
    return img.convert(mode)


def save(img, fmt, **kw):
    out = io.BytesIO()
    img.save(out, fmt, **kw)
    return out.getvalue()


def tiff_orientation(value, little=True, typ=3, ifd_offset=8, count=1):
    e = "<" if little else ">"
    head = (b"II" if little else b"MM") + struct.pack(e + "HI", 42, ifd_offset)
    pad = b"\0" * (ifd_offset - 8)
    if typ == 3:
        field = struct.pack(e + "HH", value, 0)
    else:
        field = struct.pack(e + "I", value)
    entry = struct.pack(e + "HHI", 0x0112, typ, 1) + field
    return head + pad + struct.pack(e + "H", count) + entry + struct.pack(e + "I", 0)


def app1(tiff):
    payload = b"Exif\0\0" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def image_seeds():
    t = "FuzzImageDecoder"
    rgb = gradient("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    jpeg6 = save(rgb, "JPEG", quality=50, exif=exif.tobytes())
    put(t, "jpeg-exif-orientation-6.jpg", jpeg6)
    put(t, "jpeg-grey.jpg", save(gradient("L"), "JPEG", quality=50))
    put(t, "jpeg-progressive.jpg", save(rgb, "JPEG", quality=50, progressive=True))
    put(t, "jpeg-cmyk-adobe.jpg", save(gradient("CMYK", 4, 4), "JPEG", quality=50))
    put(t, "jpeg-truncated.jpg", jpeg6[: len(jpeg6) * 2 // 3])
    # SOF0 patched to claim 60000 x 60000 pixels: refused from the header.
    plain = save(rgb, "JPEG", quality=50)
    sof = plain.index(b"\xff\xc0")
    huge = bytearray(plain)
    huge[sof + 5:sof + 9] = struct.pack(">HH", 60000, 60000)
    put(t, "jpeg-huge-header.jpg", bytes(huge))
    put(t, "png-rgb.png", save(rgb, "PNG"))
    put(t, "png-palette-trns.png", save(gradient("RGB").convert("P"), "PNG", transparency=0))
    put(t, "png-grey-alpha.png", save(gradient("LA"), "PNG"))
    img16 = Image.new("I;16", (4, 3))
    img16.putdata([i * 5000 for i in range(12)])
    put(t, "png-16bit-grey.png", save(img16, "PNG"))
    png = save(rgb, "PNG")
    put(t, "png-truncated.png", png[: len(png) - 20])
    ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    put(t, "png-huge-ihdr.png", b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IEND", b""))
    put(t, "webp-lossy.webp", save(rgb, "WEBP", quality=50))
    put(t, "webp-lossless-alpha.webp", save(gradient("RGBA"), "WEBP", lossless=True))
    lossy = save(rgb, "WEBP", quality=50)
    put(t, "webp-truncated.webp", lossy[: len(lossy) // 2])
    frames = [gradient("RGB", 4, 4), gradient("RGB", 4, 4).transpose(Image.FLIP_LEFT_RIGHT)]
    put(t, "webp-animated.webp", save(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100))
    # VP8X header claiming a 16384 x 16384 canvas (the format's maximum) without image data.
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\0\0\0\0" + (16383).to_bytes(3, "little") + (16383).to_bytes(3, "little")
    put(t, "webp-huge-vp8x.webp", b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x)
    put(t, "gif-header.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
    put(t, "empty", b"")
    return jpeg6


def heif_seeds():
    """HEIC and AVIF seeds from heif-enc (Debian package libheif-examples) on tiny Pillow PNGs."""
    import subprocess
    import tempfile
    t = "FuzzImageDecoder"
    with tempfile.TemporaryDirectory() as tmp:
        def enc(img, name, *options):
            src = os.path.join(tmp, name + ".png")
            img.save(src, "PNG")
            out = os.path.join(tmp, name)
            subprocess.run(["heif-enc", *options, "-o", out, src], check=True, stdout=subprocess.DEVNULL)
            with open(out, "rb") as f:
                return f.read()
        heic = enc(gradient("RGB", 8, 8), "heic-8bit.heic", "-q", "30")
        put(t, "heic-8bit.heic", heic)
        put(t, "avif-8bit.avif", enc(gradient("RGB", 8, 8), "avif-8bit.avif", "-A", "-q", "30"))
        put(t, "heic-alpha.heic", enc(gradient("RGBA", 8, 8), "heic-alpha.heic", "-q", "30"))
        put(t, "avif-grey.avif", enc(gradient("L", 8, 8), "avif-grey.avif", "-A", "-q", "30"))
        img16 = Image.new("I;16", (8, 8))
        img16.putdata([i * 1000 for i in range(64)])
        put(t, "heic-10bit-grey.heic", enc(img16, "heic-10bit-grey.heic", "-b", "10", "-q", "30"))
    put(t, "heic-truncated.heic", heic[: len(heic) // 2])
    # The primary image's ispe property patched to claim 100000 x 100000: refused while the container is read.
    at = heic.index(b"ispe")
    huge = bytearray(heic)
    huge[at + 8:at + 16] = struct.pack(">II", 100000, 100000)
    put(t, "heic-huge-ispe.heic", bytes(huge))


def exif_seeds(jpeg6):
    t = "FuzzEXIF"
    # Odd first byte: the rest is a TIFF structure (the target wraps it in an APP1 segment).
    for o in (1, 3, 6, 8):
        put(t, f"tiff-le-orientation-{o}", b"\x01" + tiff_orientation(o, True))
    put(t, "tiff-be-orientation-5", b"\x01" + tiff_orientation(5, False))
    put(t, "tiff-be-long-orientation-7", b"\x01" + tiff_orientation(7, False, typ=4))
    put(t, "tiff-orientation-9-invalid", b"\x01" + tiff_orientation(9, True))
    put(t, "tiff-ifd-offset-past-end", b"\x01" + tiff_orientation(6, True, ifd_offset=8)[:8] + b"\xff\xff")
    put(t, "tiff-huge-entry-count", b"\x01" + tiff_orientation(6, True, count=0xFFFF))
    put(t, "tiff-ifd-at-offset-16", b"\x01" + tiff_orientation(2, True, ifd_offset=16))
    put(t, "tiff-bad-magic", b"\x01II\x2b\x00\x08\x00\x00\x00")
    # Even first byte: a JPEG as is (header part of a real encoder's output, and hand-made marker sequences).
    sos = jpeg6.index(b"\xff\xda")
    put(t, "jpeg-header-exif-6", jpeg6[:sos])
    xmp = b"http://ns.adobe.com/xap/1.0/\0<x/>"
    xmp_app1 = b"\xff\xe1" + struct.pack(">H", len(xmp) + 2) + xmp
    put(t, "jpeg-xmp-then-exif-3", b"\xff\xd8" + xmp_app1 + app1(tiff_orientation(3)) + b"\xff\xd9")
    put(t, "jpeg-fill-bytes-rst", b"\xff\xd8\xff\xff\xd0" + app1(tiff_orientation(8, False)) + b"\xff\xda")
    put(t, "jpeg-bad-length", b"\xff\xd8\xff\xe1\x00\x01Exif\0\0II")


def multipart_seeds():
    t = "FuzzMultipart"
    ct = "multipart/form-data; boundary=XyZ\n"
    part = lambda headers, body: "--XyZ\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n" + body + "\r\n"
    put(t, "two-parts", ct + part(['Content-Disposition: form-data; name="k"'], "5")
        + part(['Content-Disposition: form-data; name="image"; filename="a.jpg"', "Content-Type: image/jpeg"],
               "\xff\xd8\xff") + "--XyZ--\r\n")
    put(t, "quoted-boundary-filename-star", 'multipart/form-data; boundary="a:b c"\n--a:b c\r\n'
        "Content-Disposition: form-data; name=\"f\"; filename=\"x.jpg\"; filename*=UTF-8''%C3%A9t%C3%A9.jpg\r\n"
        "\r\ndata\r\n--a:b c--")
    put(t, "padding-preamble-epilogue", ct + "preamble\r\n--XyZ \t\r\nContent-Disposition: form-data; name=a\r\n\r\n"
        "x\r\n--XyZ--\r\nepilogue")
    put(t, "no-disposition", ct + "--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--")
    put(t, "not-form-data-part", ct + part(["Content-Disposition: attachment; name=x"], "y") + "--XyZ--")
    put(t, "truncated", ct + "--XyZ\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nunterminated")
    put(t, "headers-without-end", ct + "--XyZ\r\nContent-Disposition: form-data")
    put(t, "empty-closed", ct + "--XyZ--\r\n")
    put(t, "escaped-quotes", ct + part(['Content-Disposition: form-data; name="a\\"b\\\\c"; filename="q\\"'], "z")
        + "--XyZ--")
    put(t, "no-content-type-line", "--b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--b--")
    put(t, "many-parts", ct + "".join(part([f'Content-Disposition: form-data; name="p{i}"'], str(i)) for i in range(10))
        + "--XyZ--")
    put(t, "wrong-type", "text/plain; boundary=XyZ\n--XyZ--")


def split_seeds():
    t = "FuzzSplit"
    put(t, "valid.json", '{"query": [{"path": "lfw-dev/A/A_0001.jpg", "id": "A"}], '
        '"gallery": [{"path": "lfw-dev/A/A_0002.jpg", "id": "A"}, {"path": "x/../y.jpg", "id": "B"}]}')
    put(t, "empty.json", '{"query": [], "gallery": []}')
    put(t, "missing-gallery.json", '{"query": []}')
    put(t, "wrong-types.json", '{"query": [{"path": 1, "id": null}], "gallery": {}}')
    put(t, "absolute-and-unicode.json", '{"query": [{"path": "/abs/Zo\\u00eb.jpg", "id": "\\ud83d\\ude00"}], '
        '"gallery": [{"path": "", "id": ""}], "extra": [1, 2.5e300, true]}')
    put(t, "not-json.txt", "query gallery")
    put(t, "deep.json", "[" * 50 + "]" * 50)


def pairs_seeds():
    t = "FuzzPairs"
    put(t, "two-folds.txt", "2\t1\nAnn_Lee\t1\t2\nAnn_Lee\t3\tBob_Roe\t12\nCy_Dee 4 5\nCy_Dee 1 Ed_Fox 1\n")
    put(t, "lfw-header-crlf.txt", "1 2\r\nA 1 2\r\nB 1 3\r\nA 1 B 1\r\nA 2 C 4\r\n")
    put(t, "single-fold-header.txt", "1\nA 1 2\nA 1 B 1")
    put(t, "huge-counts.txt", "1000 1000000\nA 1 2\n")
    put(t, "overflow.txt", "99999999999999999999 1\n")
    put(t, "negative.txt", "1 1\nA -1 2\nA 1 B 1\n")
    put(t, "dotdot-name.txt", "1 1\n../etc 1 2\n.. 1 B 1\n")
    put(t, "wrong-field-counts.txt", "1 1\nA 1 B 2\nA 1 2\n")
    put(t, "too-many-lines.txt", "1 1\nA 1 2\nA 1 B 1\nC 1 2\n")


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(number, wire, payload):
    key = varint(number << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    if isinstance(payload, str):
        payload = payload.encode()
    return key + varint(len(payload)) + payload


def value_info(name, elem_type, dims):
    shape = b"".join(field(1, 2, field(2, 2, d) if isinstance(d, str) else field(1, 0, d)) for d in dims)
    tensor = field(1, 0, elem_type) + field(2, 2, shape)
    return field(1, 2, name) + field(2, 2, field(1, 2, tensor))


def onnx_model(inputs, outputs, nodes, opset=13):
    graph = b"".join(field(1, 2, b"".join(field(1, 2, i) for i in ins) + b"".join(field(2, 2, o) for o in outs)
                           + field(4, 2, op)) for op, ins, outs in nodes)
    graph += field(2, 2, "g")
    graph += b"".join(field(11, 2, value_info(*i)) for i in inputs)
    graph += b"".join(field(12, 2, value_info(*o)) for o in outputs)
    return field(1, 0, 8) + field(8, 2, field(1, 2, "") + field(2, 0, opset)) + field(7, 2, graph)


def onnx_seeds():
    t = "FuzzONNX"
    put(t, "identity-nchw.onnx", onnx_model([("input", 1, [1, 3, 8, 8])], [("output", 1, [1, 3, 8, 8])],
                                             [("Identity", ["input"], ["output"])]))
    put(t, "identity-dynamic.onnx", onnx_model([("x", 1, ["N", 3, "H", "W"])], [("y", 1, ["N", 3, "H", "W"])],
                                               [("Identity", ["x"], ["y"])]))
    put(t, "two-outputs.onnx", onnx_model([("data", 1, [1, 112, 112, 3])],
                                          [("a", 1, [1, 112, 112, 3]), ("b", 1, [1, 112, 112, 3])],
                                          [("Identity", ["data"], ["a"]), ("Relu", ["data"], ["b"])]))
    put(t, "int64-input.onnx", onnx_model([("i", 7, [2])], [("o", 7, [2])], [("Identity", ["i"], ["o"])]))
    put(t, "embedder-like.onnx", onnx_model([("input_1", 1, [1, 160, 160, 3])], [("Bottleneck", 1, [1, 160, 160, 3])],
                                            [("Identity", ["input_1"], ["Bottleneck"])]))
    put(t, "bad-op.onnx", onnx_model([("x", 1, [1])], [("y", 1, [1])], [("NoSuchOp", ["x"], ["y"])]))
    put(t, "not-protobuf", b"\xff\xff\xff\xff not a model")
    put(t, "empty", b"")


def install_seeds():
    t = "FuzzModelInstall"
    put(t, "plain-file.onnx", b"\x08\x08 a small model file")
    put(t, "empty", b"")
    for name, members in [("zip-with-member.zip", {"yunet_s_dynamic.onnx": b"\x08\x08model"}),
                          ("zip-member-in-folder.zip", {"pack/yunet_s_dynamic.onnx": b"\x08\x08model"}),
                          ("zip-without-member.zip", {"other.onnx": b"x"}),
                          ("zip-empty-member.zip", {"yunet_s_dynamic.onnx": b""})]:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for member, data in members.items():
                z.writestr(member, data)
        put(t, name, out.getvalue())
    put(t, "zip-magic-only", b"PK\x03\x04")


if __name__ == "__main__":
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    jpeg6 = image_seeds()
    heif_seeds()
    exif_seeds(jpeg6)
    multipart_seeds()
    split_seeds()
    pairs_seeds()
    onnx_seeds()
    install_seeds()
    for target in sorted(os.listdir(ROOT)):
        files = os.listdir(os.path.join(ROOT, target))
        size = sum(os.path.getsize(os.path.join(ROOT, target, f)) for f in files)
        print(f"{target}: {len(files)} files, {size} bytes")

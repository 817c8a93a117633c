#!/usr/bin/env python3
"""Makes test video clips from the labelled scene photos with the real encoders (ffmpeg: libx264, libx265,
libvpx-vp9), and a manifest of who is on screen when.

    scripts/video/make-clips.py OUT [--clips 20] [--seconds 6] [--size 1280x720] [--faces ../shared/faces]

Each clip is two or three shots cut together; each shot is one gallery photo of scenes-split.json (never a query
photo) filling a 16:9 frame, moving: a slow zoom in, a pan, or a zoom out. Codecs cycle H.264, H.265, VP9.
OUT/manifest.json lists, per clip, its codec and shots: start and end in seconds, the photo, the identity.
Deterministic: the same arguments give the same shots (the encoders' bytes may differ between versions).
"""
import argparse, json, os, subprocess, sys

CODECS = [
    ("h264", "mp4", ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23"]),
    ("hevc", "mp4", ["-c:v", "libx265", "-preset", "ultrafast", "-crf", "26", "-tag:v", "hvc1", "-x265-params", "log-level=error"]),
    ("vp9", "webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "2M"]),
]
MOTIONS = ["zoom-in", "pan", "zoom-out"]


def shot_filter(index, motion, frames, width, height, fps):
    # zoompan turns one still into `frames` frames; the still is first fitted into a frame twice the output size
    # (so that zooming stays sharp), padded to 16:9 with black.
    big_w, big_h = 2 * width, 2 * height
    fit = (f"[{index}:v]scale={big_w}:{big_h}:force_original_aspect_ratio=decrease,"
           f"pad={big_w}:{big_h}:(ow-iw)/2:(oh-ih)/2,setsar=1")
    if motion == "zoom-in":
        z, x, y = f"1+0.25*on/{frames}", "iw/2-(iw/zoom/2)", "ih/2-(ih/zoom/2)"
    elif motion == "zoom-out":
        z, x, y = f"1.25-0.25*on/{frames}", "iw/2-(iw/zoom/2)", "ih/2-(ih/zoom/2)"
    else:  # pan left to right at zoom 1.15
        z, x, y = "1.15", f"(iw-iw/zoom)*on/{frames}", "ih/2-(ih/zoom/2)"
    return (f"{fit},zoompan=z='{z}':x='{x}':y='{y}':d={frames}:s={width}x{height}:fps={fps}"
            f",format=yuv420p[s{index}]")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--faces", default=os.path.join(os.path.dirname(__file__), "../../../shared/faces"))
    parser.add_argument("--codecs", default="h264,hevc,vp9", help="which codecs to cycle through")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    split = json.load(open(os.path.join(args.faces, "scenes-split.json")))
    # Round-robin over identities, so that the shots of a clip show different people.
    by_identity = {}
    for entry in sorted(split["gallery"], key=lambda e: e["path"]):
        by_identity.setdefault(entry["id"], []).append(entry["path"])
    gallery, round_ = [], 0
    while len(gallery) < len(split["gallery"]):
        gallery += [paths[round_] for _, paths in sorted(by_identity.items()) if round_ < len(paths)]
        round_ += 1
    codecs = [c for c in CODECS if c[0] in args.codecs.split(",")]
    os.makedirs(args.out, exist_ok=True)
    manifest = []
    cursor = 0
    for clip in range(args.clips):
        shots = 3 if clip % 3 == 2 else 2
        codec, extension, codec_args = codecs[clip % len(codecs)]
        frames_total = int(round(args.seconds * args.fps))
        per_shot = [frames_total // shots + (1 if s < frames_total % shots else 0) for s in range(shots)]
        photos = []
        for _ in range(shots):
            photos.append(gallery[cursor % len(gallery)])
            cursor += 1
        inputs, filters, entries, t = [], [], [], 0.0
        for s, (photo, frames) in enumerate(zip(photos, per_shot)):
            motion = MOTIONS[(clip + s) % len(MOTIONS)]
            inputs += ["-i", os.path.join(args.faces, photo)]
            filters.append(shot_filter(s, motion, frames, width, height, args.fps))
            entries.append({"photo": photo, "identity": photo.split("/")[1], "motion": motion,
                            "start": round(t, 4), "end": round(t + frames / args.fps, 4)})
            t += frames / args.fps
        concat = "".join(f"[s{s}]" for s in range(shots)) + f"concat=n={shots}:v=1:a=0[v]"
        name = f"clip{clip + 1:02d}-{codec}.{extension}"
        command = ["ffmpeg", "-nostdin", "-y", "-loglevel", "error", *inputs, "-filter_complex",
                   ";".join(filters + [concat]), "-map", "[v]", "-r", str(args.fps), *codec_args,
                   os.path.join(args.out, name)]
        subprocess.run(command, check=True)
        manifest.append({"clip": name, "codec": codec, "seconds": round(t, 4), "shots": entries})
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump({"size": args.size, "fps": args.fps, "clips": manifest}, f, indent=1)
    print(f"{len(manifest)} clips, {sum(c['seconds'] for c in manifest):.1f} s, in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

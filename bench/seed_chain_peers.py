"""The peers of bench/seed_chain_vs_peers.sh, all made from bench/seed_chain.toml:

  plan SESSION PLAN             the C floor's plan (../shared/yardsticks/chainfloor.c)
  ffmpeg SESSION OUT.wav        prints ffmpeg's arguments: the same chain in one graph
  pedalboard SESSION OUT.wav    renders the chain with pedalboard (run in its own venv)

Track gains follow docs/session-format.md: mono tracks by the -3 dB pan law, stereo tracks
and buses by the balance law, clip gain in dB.
"""
import math
import os
import sys
import tomllib
import struct

BUSES = ["drums", "bass", "guitars", "keys", "vocals"]


def track_tables(text):
    # The [[track]] tables only: the chains above them use TOML 1.1's multi-line inline
    # tables, which tomllib (TOML 1.0) does not read.
    chunks = text.split("\n[[track]]")[1:]
    return [tomllib.loads(c.split("\n[")[0]) for c in chunks]


def wav_shape(path):
    # Channels and frames from the RIFF chunks (the stems are WAVE_FORMAT_EXTENSIBLE, which
    # Python's wave module reads only from 3.12).
    with open(path, "rb") as f:
        riff = f.read(12)
        assert riff[:4] == b"RIFF" and riff[8:12] == b"WAVE", path
        ch = align = None
        while True:
            head = f.read(8)
            if len(head) < 8:
                raise ValueError(f"{path}: no data chunk")
            cid, size = head[:4], struct.unpack("<I", head[4:])[0]
            if cid == b"fmt ":
                fmt = f.read(size + (size & 1))
                ch, align = struct.unpack("<H", fmt[2:4])[0], struct.unpack("<H", fmt[12:14])[0]
            elif cid == b"data":
                return ch, size // align
            else:
                f.seek(size + (size & 1), 1)


def tracks(path):
    base = os.path.dirname(os.path.abspath(path))
    out = []
    for t in track_tables(open(path).read()):
        f = os.path.normpath(os.path.join(base, t["file"]))
        ch, frames = wav_shape(f)
        g = 10 ** (t.get("gain_db", 0.0) / 20)
        p = max(-1.0, min(1.0, t.get("pan", 0.0)))
        if ch == 1:
            th = (p + 1) * math.pi / 4
            gl, gr = math.cos(th), math.sin(th)
        else:
            gl, gr = (1 - p if p > 0 else 1.0), (1 + p if p < 0 else 1.0)
        out.append(dict(file=f, channels=ch, frames=frames, bus=t["bus"], gl=g * gl, gr=g * gr))
    return out


def plan(session, out):
    ts = tracks(session)
    with open(out, "w") as f:
        f.write(f"frames {max(t['frames'] for t in ts)}\n")
        for t in ts:
            f.write(f"{t['file']} {t['channels']} {BUSES.index(t['bus'])} {t['gl']:.6f} {t['gr']:.6f}\n")


# The seed chain in ffmpeg's filters (issue #16's list): acompressor, equalizer, highpass,
# deesser, asoftclip, extrastereo; the mix-bus EQ as firequalizer; alimiter.
BUS_CHAINS = {
    "drums": "acompressor=threshold=-20dB:ratio=3:attack=10:release=100:knee=2dB:makeup=2dB,"
    "equalizer=f=400:t=q:w=1:g=-3,asoftclip=type=tanh",
    "bass": "anull",
    "guitars": "highpass=f=80:poles=2,equalizer=f=3000:t=q:w=0.8:g=1,extrastereo=m=1.1",
    "keys": "equalizer=f=390:t=q:w=1.95:g=-3",
    "vocals": "deesser,acompressor=threshold=-22dB:ratio=2.5:attack=5:release=80:knee=2.8dB:"
    "makeup=2dB,asoftclip=type=tanh",
}
MASTER = ("firequalizer=gain='if(lt(f,25),-24*log(25/max(f,1))/log(2),0)"
          "+1*exp(-pow(log(f/10000)/0.7,2))',"
          "acompressor=threshold=-16dB:ratio=2:attack=10:release=120:knee=2dB:makeup=1.5dB,"
          "asoftclip=type=tanh,alimiter=limit=0.891:level=disabled")


def ffmpeg(session, out):
    ts = tracks(session)
    args = ["-hide_banner", "-loglevel", "error", "-y"]
    for t in ts:
        args += ["-i", t["file"]]
    graph = []
    for i, t in enumerate(ts):
        src = "c0" if t["channels"] == 1 else "c1"
        graph.append(f"[{i}:a]pan=stereo|c0={t['gl']:.6f}*c0|c1={t['gr']:.6f}*{src}[t{i}]")
    for b in BUSES:
        ins = "".join(f"[t{i}]" for i, t in enumerate(ts) if t["bus"] == b)
        n = ins.count("[")
        mix = f"{ins}amix=inputs={n}:normalize=0," if n > 1 else f"{ins}"
        graph.append(f"{mix}{BUS_CHAINS[b]}[{b}]")
    graph.append("".join(f"[{b}]" for b in BUSES) + f"amix=inputs={len(BUSES)}:normalize=0,{MASTER}[out]")
    args += ["-filter_complex", ";".join(graph), "-map", "[out]", "-c:a", "pcm_s24le", out]
    print("\n".join(args))


def pedalboard(session, out):
    import numpy as np
    from pedalboard import (Compressor, Distortion, Gain, HighpassFilter, Limiter, PeakFilter,
                            Pedalboard)
    from pedalboard.io import AudioFile

    ts = tracks(session)
    frames = max(t["frames"] for t in ts)
    buses = {b: np.zeros((2, frames), dtype=np.float32) for b in BUSES}
    for t in ts:
        with AudioFile(t["file"]) as f:
            x = f.read(f.frames)
        left = x[0]
        right = x[1] if x.shape[0] > 1 else x[0]
        buses[t["bus"]][0, : left.shape[0]] += t["gl"] * left
        buses[t["bus"]][1, : right.shape[0]] += t["gr"] * right
    rate = 48000
    chains = {
        "drums": Pedalboard([Compressor(threshold_db=-20, ratio=3, attack_ms=10, release_ms=100),
                             Gain(2), PeakFilter(400, -3, 1), Distortion(3)]),
        "bass": Pedalboard([]),
        "guitars": Pedalboard([HighpassFilter(80), PeakFilter(3000, 1, 0.8)]),
        "keys": Pedalboard([PeakFilter(390, -3, 1.95)]),
        "vocals": Pedalboard([Compressor(threshold_db=-22, ratio=2.5, attack_ms=5, release_ms=80),
                              Gain(2), Distortion(2)]),
    }
    mix = np.zeros((2, frames), dtype=np.float32)
    for b in BUSES:
        mix += chains[b](buses[b], rate)
    master = Pedalboard([HighpassFilter(25), PeakFilter(10000, 1, 0.7),
                         Compressor(threshold_db=-16, ratio=2, attack_ms=10, release_ms=120),
                         Gain(1.5), Distortion(2), Limiter(threshold_db=-1)])
    y = master(mix, rate)
    with AudioFile(out, "w", rate, 2, bit_depth=24) as f:
        f.write(y)


if __name__ == "__main__":
    {"plan": plan, "ffmpeg": ffmpeg, "pedalboard": pedalboard}[sys.argv[1]](*sys.argv[2:])

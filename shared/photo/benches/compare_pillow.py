#!/usr/bin/env python3
"""The Pillow half of `cargo bench -p photo`: the same renditions made the way a Python Lambda would make them.

benches/render.rs drives it, so that both sides run on the same machine in the same run, interleaved:

  compare_pillow.py generate PHOTO            make the 12 MP test photo (EXIF orientation 6), deterministically
  compare_pillow.py time PHOTO RUNS           time RUNS Pillow renders in this process; prints a JSON list of ms
  compare_pillow.py once PHOTO OUT_DIR        one render, renditions written to OUT_DIR; prints the peak RSS
  compare_pillow.py psnr PHOTO RUST PILLOW    PSNR of both sets of renditions against a float Lanczos reference

The Pillow pipeline is the natural one, given every advantage it can take: `draft` with the largest rendition's
box in the stored orientation (so libjpeg-turbo decodes at 1/2 scale, like the Rust side), `exif_transpose`,
`resize(LANCZOS)` for each rendition from the drafted image, `save(quality=85)`.

Needs Pillow (`pip install pillow`); `generate` and `psnr` also need numpy. `time` and `once` never import numpy,
so the measured process is what a Lambda would load.
"""

import io
import json
import os
import sys
import time

from PIL import Image, ImageOps

RENDITIONS = [("thumbnail", 200), ("medium", 800), ("large", 1600)]
QUALITY = 85


def fit(width, height, long_edge):
    """The rendition size: same rule as the Rust side (long edge fitted, short edge rounded, never enlarged)."""
    long = max(width, height)
    if long <= long_edge:
        return width, height
    scale = lambda side: max(1, (side * long_edge + long // 2) // long)
    return (long_edge, scale(height)) if width >= height else (scale(width), long_edge)


def render(data):
    """Pillow's renditions of the JPEG bytes `data`: a list of (name, JPEG bytes)."""
    image = Image.open(io.BytesIO(data))
    largest = max(edge for _, edge in RENDITIONS)
    image.draft("RGB", fit(*image.size, largest))
    image = ImageOps.exif_transpose(image)
    out = []
    for name, edge in RENDITIONS:
        resized = image.resize(fit(*image.size, edge), Image.LANCZOS)
        buffer = io.BytesIO()
        resized.save(buffer, "JPEG", quality=QUALITY)
        out.append((name, buffer.getvalue()))
    return out


def peak_rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def generate(path):
    """A 4000 × 3000 photo-like picture, stored sideways with EXIF orientation 6, as a phone held upright writes it:
    smooth gradients, textures at several scales, sharp-edged shapes, a fine pattern and sensor noise."""
    import numpy as np
    from PIL import ImageDraw

    rng = np.random.default_rng(12)
    width, height = 4000, 3000

    def value_noise(cell):
        grid = rng.random((height // cell + 2, width // cell + 2)).astype(np.float32)
        big = Image.fromarray(grid, "F").resize((width + 2 * cell, height + 2 * cell), Image.BICUBIC)
        return np.asarray(big)[:height, :width]

    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    pixels = np.stack([x / width, y / height, 1 - x / width], -1) * 110 + 50
    texture = sum(value_noise(cell) * weight for cell, weight in [(400, 60), (80, 30), (16, 16), (4, 8)])
    pixels += texture[..., None] * np.array([1.0, 0.85, 0.6], dtype=np.float32)
    pixels[:, width // 2 :] += (np.sin(x / 3.1) * np.sin(y / 2.7) * 10)[:, width // 2 :, None]
    picture = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(picture)
    for _ in range(120):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = x0 + int(rng.integers(20, 500)), y0 + int(rng.integers(20, 500))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x0, y0, x1, y1), fill=colour, outline=(0, 0, 0), width=int(rng.integers(1, 6)))
    for _ in range(60):
        points = [(int(rng.integers(0, width)), int(rng.integers(0, height))) for _ in range(2)]
        draw.line(points, fill=tuple(int(c) for c in rng.integers(0, 256, 3)), width=int(rng.integers(1, 4)))
    noisy = np.asarray(picture).astype(np.float32) + rng.normal(0, 3, (height, width, 3))
    picture = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    picture.save(path, "JPEG", quality=92, exif=exif.tobytes())


def psnr(photo, rust_dir, pillow_dir):
    """PSNR (dB) of each rendition against Lanczos3 computed in floating point from the full-resolution, upright
    photo, for both sets of renditions."""
    import numpy as np

    upright = ImageOps.exif_transpose(Image.open(photo).convert("RGB"))
    planes = [plane.convert("F") for plane in upright.split()]
    result = {}
    for name, edge in RENDITIONS:
        size = fit(*upright.size, edge)
        reference = np.stack([np.asarray(p.resize(size, Image.LANCZOS)) for p in planes], -1).astype(np.float64)
        reference = np.clip(reference, 0, 255)
        scores = {}
        for side, directory in (("rust", rust_dir), ("pillow", pillow_dir)):
            rendition = Image.open(os.path.join(directory, name + ".jpg")).convert("RGB")
            if rendition.size != size:
                raise SystemExit(f"{side} {name} is {rendition.size}, expected {size}")
            mse = np.mean((np.asarray(rendition).astype(np.float64) - reference) ** 2)
            scores[side] = float(10 * np.log10(255.0**2 / mse))
        result[name] = scores
    return result


def main(argv):
    command = argv[1] if len(argv) > 1 else ""
    if command == "generate" and len(argv) == 3:
        generate(argv[2])
    elif command == "time" and len(argv) == 4:
        data = open(argv[2], "rb").read()
        render(data)  # warm-up: the first run pays for imports and page faults
        times = []
        for _ in range(int(argv[3])):
            start = time.perf_counter()
            render(data)
            times.append((time.perf_counter() - start) * 1000)
        print(json.dumps(times))
    elif command == "once" and len(argv) == 4:
        data = open(argv[2], "rb").read()
        os.makedirs(argv[3], exist_ok=True)
        for name, jpeg in render(data):
            with open(os.path.join(argv[3], name + ".jpg"), "wb") as out:
                out.write(jpeg)
        print(json.dumps({"peak_rss_kib": peak_rss_kib()}))
    elif command == "psnr" and len(argv) == 5:
        print(json.dumps(psnr(argv[2], argv[3], argv[4])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)

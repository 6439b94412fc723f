#!/usr/bin/env python3
"""The pypdf half of `cargo bench -p invoice-pdf`: the text of the same PDFs read the way a Python Lambda would
read it, with pypdf's `extract_text` on every page.

benches/parse.rs drives it, so that both sides run on the same machine in the same run, interleaved:

  compare_pypdf.py time RUNS PDF...    time RUNS extractions of each PDF in this process; prints
                                       {"name": [ms, ...], ...}
  compare_pypdf.py once PDF...         extract each PDF once in a fresh process; prints the peak RSS

pypdf is the natural choice (pure Python, no native wheels to build for Lambda) and is given every advantage:
the file is already in memory, the reader is built from bytes, only the text is extracted (no field finding,
which the Rust side also does), and the first extraction of each file is a warm-up outside the timing.

Needs pypdf (`pip install pypdf`).
"""

import io
import json
import os
import sys
import time

from pypdf import PdfReader


def extract(data):
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def peak_rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def name(path):
    return os.path.splitext(os.path.basename(path))[0]


def main(argv):
    command = argv[1] if len(argv) > 1 else ""
    if command == "time" and len(argv) > 3:
        runs = int(argv[2])
        out = {}
        for path in argv[3:]:
            data = open(path, "rb").read()
            extract(data)  # warm-up: imports, caches and page faults are not what is measured
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                extract(data)
                times.append((time.perf_counter() - start) * 1000)
            out[name(path)] = times
        print(json.dumps(out))
    elif command == "version":
        import pypdf
        print(f"{sys.version.split()[0]}, pypdf {pypdf.__version__}")
    elif command == "once" and len(argv) > 2:
        for path in argv[2:]:
            extract(open(path, "rb").read())
        print(json.dumps({"peak_rss_kib": peak_rss_kib()}))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)

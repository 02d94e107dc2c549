"""What a page load and an entry switch cost the server: a real app server in this process, a
gradio_client calling ``/start`` (a page load) and ``/open`` (the picker), each from a new
session.

Run: `python bench/page_open.py [--calls 16]` (ANNY_CACHE_DIR set as in the Makefile). Prints
the median and worst wall time and CPU time of this process per call: the server's work plus
the client's, which is small (its TLS context is made once, as a browser's would be).
"""

from __future__ import annotations

import argparse
import os
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANNY_CACHE_DIR", str(ROOT / ".cache" / "anny"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=16)
    args = parser.parse_args()
    os.environ["SEMANTIFY_CACHE_DIR"] = tempfile.mkdtemp(prefix="semantify-bench-")
    import gradio_client

    from semantify.app import AppConfig, build_app
    from semantify.app.blocks import launch

    demo = build_app(AppConfig.create([str(ROOT / "sliders" / "anny-body-metric")],
                                      public=True))
    launch(demo, port=None, prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
    context = ssl.create_default_context()

    def client():
        return gradio_client.Client(demo.local_url, verbose=False, ssl_verify=context)

    client().predict(api_name="/start")  # warm up
    calls = {"/start (page load)": lambda c: c.predict(api_name="/start"),
             "/open raw anny-body": lambda c: c.predict("raw-anny-body", api_name="/open")}
    try:
        for label, call in calls.items():
            walls, cpus = [], []
            for _ in range(args.calls):
                c = client()
                if label.startswith("/open"):
                    c.predict(api_name="/start")
                wall, cpu = time.perf_counter(), time.process_time()
                call(c)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
            print(f"{label:<22} wall {1000 * statistics.median(walls):6.1f} ms median "
                  f"{1000 * max(walls):6.1f} max   CPU {1000 * statistics.median(cpus):6.1f} ms "
                  f"median {1000 * max(cpus):6.1f} max  ({args.calls} calls)")
    finally:
        demo.close()


if __name__ == "__main__":
    main()

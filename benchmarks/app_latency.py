"""Latency of the running Gradio app per endpoint, and its overhead over the bare pipeline call.

Run: ``python benchmarks/app_latency.py [--repeats 20] [--threads 2]``. Starts ``app.demo``
on 127.0.0.1, calls each endpoint through ``gradio_client`` with fresh prompts (one
request at a time), times the same work done by the pipelines directly in this process,
and prints p50 and p95 of both and their ratio (the app's overhead: queueing, HTTP,
image encoding). Then a burst of concurrent requests gives the latency under load.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import median_and  # noqa: E402


def summary(values: list[float]) -> str:
    return median_and(values, 0.95, width=7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients in the load burst")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from gradio_client import Client

    import app
    from t2i_core.app.dates import attention_figure
    from t2i_core.app.pictures import EXAMPLES_DIR
    from t2i_core.app.shipped import available, shipped

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{port}/"
    client = Client(url, verbose=False, download_files=False)

    def prompt(i: int) -> str:
        colours = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "white"]
        return f"a {colours[i % 8]} flower with a {colours[(i + 3) % 8]} stem, number {i}"

    endpoints = {
        "/text_to_image (both encoders, 8 images)": (
            lambda i: client.predict(prompt(i), "both", 8, i, False, api_name="/text_to_image"),
            lambda i: [shipped("text2image", name)(prompt(i + 1000), num_images=8, seed=i) for name in available("text2image")],
        ),
        "/swap_colours (both encoders, 4 images)": (
            lambda i: client.predict(prompt(i + 2000), 4, i, api_name="/swap_colours"),
            lambda i: [shipped("text2image", name)([prompt(i + 3000), prompt(i + 3000)], num_images=4, seed=i) for name in available("text2image")],
        ),
        "/interpolate (use, 8 steps)": (
            lambda i: client.predict(prompt(i + 4000), prompt(i + 4001), "use", 8, i, api_name="/interpolate"),
            lambda i: shipped("text2image", "use").interpolate(prompt(i + 5000), prompt(i + 5001), steps=8, seed=i),
        ),
    }
    dates = ["5 April 09", "Tuesday, March 3, 2020", "03/04/2021", "17.10.2008", "the 1st of may 1999", "2020.12.31"]
    if available("dates"):
        score = available("dates")[0]
        endpoints[f"/translate_date ({score})"] = (
            lambda i: client.predict(dates[i % len(dates)], score, api_name="/translate_date"),
            lambda i: attention_figure(shipped("dates", score)(dates[i % len(dates)])),
        )
    if "show-attend-tell" in available("caption"):
        from gradio_client import handle_file

        from t2i_core.data import load_world

        scenes = load_world("scenes", "test", size=args.repeats + 1, seed=0)
        folder = EXAMPLES_DIR / "benchmark"
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for i in range(len(scenes)):
            paths.append(folder / f"scene-{i}.png")
            scenes.sample(i).image.save(paths[-1])
        endpoints["/caption (show-attend-tell, beam 3)"] = (
            lambda i: client.predict(handle_file(str(paths[i])), "show-attend-tell", 3, api_name="/caption"),
            lambda i: (lambda r: (r.overlay(0), r.strip()))(shipped("caption", "show-attend-tell")(paths[i], beam_size=3)),
        )
        if "use" in available("text2image"):
            endpoints["/round_trip"] = (
                lambda i: client.predict(prompt(i + 7000), i, api_name="/round_trip"),
                lambda i: shipped("caption", "show-attend-tell")(
                    shipped("text2image", "use")(prompt(i + 8000), num_images=1, seed=i).images[0][0], beam_size=3),
            )
    print(f"{args.repeats} requests per endpoint, one at a time, torch threads {args.threads}")
    for name, (through_app, bare) in endpoints.items():
        through_app(0), bare(0)  # warm-up
        app_times, bare_times = [], []
        for i in range(1, args.repeats + 1):
            start = time.perf_counter()
            through_app(i)
            app_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            bare(i)
            bare_times.append(time.perf_counter() - start)
        ratio = statistics.median(app_times) / statistics.median(bare_times)
        print(f"{name}\n  app:      {summary(app_times)}\n  pipeline: {summary(bare_times)}\n  overhead: x{ratio:.2f} (median app / median pipeline)")

    def one_client(k: int) -> list[float]:
        own = Client(url, verbose=False, download_files=False)
        times = []
        for j in range(5):
            start = time.perf_counter()
            own.predict(prompt(6000 + 10 * k + j), "both", 4, j, False, api_name="/text_to_image")
            times.append(time.perf_counter() - start)
        return times

    start = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        burst = [t for times in pool.map(one_client, range(args.clients)) for t in times]
    wall = time.perf_counter() - start
    print(f"load: {len(burst)} requests from {args.clients} clients in {wall:.1f} s "
          f"({len(burst) / wall:.1f} requests/s); latency {summary(burst)}")
    app.demo.close()


if __name__ == "__main__":
    main()

"""Latency of the running Gradio app per endpoint: the framework's floor, the app's own share, the bare pipeline.

Run: ``python benchmarks/app_latency.py [--repeats 20] [--threads 2] [--json out.json]``.
Starts ``app.demo`` on 127.0.0.1 and, beside it in the same process, a one-line Gradio
echo app (a string in, the same string out): the floor any Gradio endpoint pays for
HTTP, the queue and the event stream. Requests go through Gradio's HTTP API (``POST
/gradio_api/call/<name>``, then its event stream read as it arrives, as the browser and
``curl`` read it; an image is first uploaded to ``/gradio_api/upload``). Not through
``gradio_client``: it polls its queue of received events every 50 ms, which puts 0-100 ms
of waiting on every request (an echo takes ~20 ms over HTTP and 90-160 ms through it) and
made the floor bimodal; one line of the output still shows that client's echo, for scale.
For each endpoint it then calls, one request at a time and interleaved, the app with fresh inputs, the echo,
and the same work done by the pipelines directly in this process (the work the endpoint
exists for: for ``/text_to_image`` the generators and the judge's verdicts, for ``/caption``
the caption with its heatmap and strip). It prints the medians and p95 of the three, the
app's own share (app minus floor, in trimmed means) and that share over the pipeline: what the app adds
beyond the framework (encoding images, building figures, repeated work), which should stay
near 1x. Then a burst of concurrent requests gives the latency under load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import median_and  # noqa: E402


def summary(values: list[float]) -> str:
    return median_and(values, 0.95, width=7)


def trimmed_mean(values: list[float], cut: float = 0.1) -> float:
    """The mean of ``values`` without the slowest ``cut`` share of them."""
    kept = sorted(values)[: max(1, round(len(values) * (1 - cut)))]
    return statistics.fmean(kept)


class GradioHTTP:
    """Calls a Gradio app's named endpoints over its HTTP API and waits for each answer on the event stream.

    Every call carries the client's one session id, as a browser tab's calls do (without one,
    Gradio starts a session per call and builds its copy of the page's configuration, a cost
    that grows with the page and that a visitor pays once).
    """

    def __init__(self, url: str):
        import uuid

        import httpx

        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=120)
        self.session = uuid.uuid4().hex[:11]

    def upload(self, path: str | Path) -> dict:
        """Upload a file; the payload a file input takes."""
        with open(path, "rb") as handle:
            response = self.http.post("/gradio_api/upload", files={"files": (Path(path).name, handle)})
        response.raise_for_status()
        return {"path": response.json()[0], "meta": {"_type": "gradio.FileData"}}

    def predict(self, *data, api_name: str):
        """The endpoint's outputs for ``data``; raises on an error event."""
        name = api_name.lstrip("/")
        response = self.http.post(f"/gradio_api/call/{name}", json={"data": list(data), "session_hash": self.session})
        response.raise_for_status()
        event = None
        with self.http.stream("GET", f"/gradio_api/call/{name}/{response.json()['event_id']}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line[len("event:"):].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    if event == "error":
                        raise RuntimeError(f"{api_name} answered an error: {line[len('data:'):].strip()}")
                    return json.loads(line[len("data:"):])
        raise RuntimeError(f"{api_name}: the event stream ended without an answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients in the load burst")
    parser.add_argument("--json", type=Path, help="also write every endpoint's figures here")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    import gradio as gr
    from gradio_client import Client

    import app
    from t2i_core.app.dates import attention_figure
    from t2i_core.app.pictures import EXAMPLES_DIR
    from t2i_core.app.shipped import available, shipped
    from t2i_core.text_encoders.base import cosine_similarity

    # Gradio picks a free port of its range when none is given, and says which on the Blocks.
    app.demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{app.demo.server_port}/"
    client = GradioHTTP(url)
    with gr.Blocks() as echo_demo:  # the framework's floor: endpoints that do nothing
        text, picture, path = gr.Textbox(), gr.Image(type="filepath"), gr.Textbox()
        text.submit(lambda value: value, text, text, api_name="echo")
        picture.upload(lambda value: str(value), picture, path, api_name="echo_image")  # the floor of a request that uploads an image
    echo_demo.queue().launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    echo_url = f"http://127.0.0.1:{echo_demo.server_port}/"
    echo_client = GradioHTTP(echo_url)

    def prompt(i: int) -> str:
        colours = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "white"]
        return f"a {colours[i % 8]} flower with a {colours[(i + 3) % 8]} stem, number {i}"

    endpoints = {
        "/text_to_image (both encoders, 8 images)": (
            lambda i: client.predict(prompt(i), "both", 8, i, False, api_name="/text_to_image"),
            lambda i: [shipped("flower-attributes").check(shipped("text2image", name)(prompt(i + 1000), num_images=8, seed=i).images[0], prompt(i + 1000))
                       for name in available("text2image")],
        ),
        "/swap_colours (both encoders, 4 images)": (
            lambda i: client.predict(prompt(i + 2000), 4, i, api_name="/swap_colours"),
            lambda i: [[shipped("flower-attributes").check(images, prompt(i + 3000)) for images in
                        shipped("text2image", name)([prompt(i + 3000), prompt(i + 3000)], num_images=4, seed=i).images] for name in available("text2image")],
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
        from t2i_core.data import load_world

        scenes = load_world("scenes", "test", size=args.repeats + 1, seed=0)
        folder = EXAMPLES_DIR / "benchmark"
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for i in range(len(scenes)):
            paths.append(folder / f"scene-{i}.png")
            scenes.sample(i).image.save(paths[-1])
        endpoints["/caption (show-attend-tell, beam 3)"] = (
            lambda i: client.predict(client.upload(paths[i]), "show-attend-tell", 3, api_name="/caption"),
            lambda i: (lambda r: (r.overlay(0), r.strip()))(shipped("caption", "show-attend-tell")(paths[i], beam_size=3)),
        )
        def round_trip_work(sentence: str, seed: int):
            """What /round_trip exists for: the flower, its caption with every word's map, and the two sentences' cosine."""
            generator = shipped("text2image", "use")
            result = shipped("caption", "show-attend-tell")(generator(sentence, num_images=1, seed=seed).images[0][0], beam_size=3)
            vectors = generator.encoder.encode([sentence, result.captions[0]])
            return result.strip(), cosine_similarity(vectors[:1], vectors[1:])

        if "use" in available("text2image"):
            endpoints["/round_trip"] = (
                lambda i: client.predict(prompt(i + 7000), i, api_name="/round_trip"),
                lambda i: round_trip_work(prompt(i + 8000), i),
            )
    print(f"{args.repeats} requests per endpoint, one at a time, over Gradio's HTTP API, torch threads {args.threads}; "
          "floor: a Gradio echo endpoint (text in, text out; for /caption an uploaded image in, its path out); own share: app minus floor")
    polling = Client(echo_url, verbose=False, download_files=False)
    polled = []
    for i in range(args.repeats + 1):
        start = time.perf_counter()
        polling.predict(f"polled {i}", api_name="/echo")
        polled.append(time.perf_counter() - start)
    print(f"for scale, the echo through gradio_client (it polls its events every 50 ms): {summary(polled[1:])}")
    figures = {}
    for name, (through_app, bare) in endpoints.items():
        through_app(0), bare(0), echo_client.predict("warm-up", api_name="/echo")  # warm-up
        if name.startswith("/caption"):
            echo_client.predict(echo_client.upload(paths[0]), api_name="/echo_image")
        times = {"app": [], "floor": [], "pipeline": []}
        for i in range(1, args.repeats + 1):
            if name.startswith("/caption"):
                echo = lambda k: echo_client.predict(echo_client.upload(paths[k]), api_name="/echo_image")  # noqa: E731
            else:
                echo = lambda k: echo_client.predict(f"echo {k}", api_name="/echo")  # noqa: E731
            for kind, call in (("app", through_app), ("floor", echo), ("pipeline", bare)):
                start = time.perf_counter()
                call(i)
                times[kind].append(time.perf_counter() - start)
        # The shares use trimmed means (the slowest 10% of each left out, for the machine's own hiccups).
        mean = {kind: trimmed_mean(values) for kind, values in times.items()}
        own = mean["app"] - mean["floor"]
        figures[name] = {**{f"{kind}_median_s": statistics.median(values) for kind, values in times.items()},
                         **{f"{kind}_trimmed_mean_s": value for kind, value in mean.items()}, "own_share_s": own,
                         "own_share_over_pipeline": own / mean["pipeline"], "overhead": mean["app"] / mean["pipeline"]}
        print(f"{name}\n  app:       {summary(times['app'])}, mean {mean['app'] * 1000:.0f} ms\n"
              f"  floor:     {summary(times['floor'])}, mean {mean['floor'] * 1000:.0f} ms\n"
              f"  pipeline:  {summary(times['pipeline'])}, mean {mean['pipeline'] * 1000:.0f} ms\n"
              f"  own share: {own * 1000:7.0f} ms = x{own / mean['pipeline']:.2f} the pipeline (app alone x{mean['app'] / mean['pipeline']:.2f})")

    def one_client(k: int) -> list[float]:
        own = GradioHTTP(url)
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
    if args.json:
        args.json.write_text(json.dumps({"repeats": args.repeats, "threads": args.threads, "client": "Gradio's HTTP API",
                                         "gradio_client_echo_median_s": statistics.median(polled[1:]), "endpoints": figures,
                                         "load": {"requests": len(burst), "clients": args.clients, "wall_s": wall}}, indent=2))
    echo_demo.close()
    app.demo.close()


if __name__ == "__main__":
    main()

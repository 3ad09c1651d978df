"""Soak test of the running app: many clients, every named endpoint, identical, different and hostile inputs.

Run: ``python benchmarks/soak.py [--requests 1000] [--clients 8] [--json soak.json]``.

Starts ``app.py`` in a server process of its own on 127.0.0.1, warms every endpoint once
(models load on first use), then ``--clients`` threads, each with its own
``gradio_client.Client``, send ``--requests`` requests in all, drawn with a fixed seed
from a mix: about 40% identical (the examples a crowd presses: the rose prompt with seed
0, the same test scene, the same date), 50% different (fresh prompts, seeds, scenes,
dates, questions) and 10% hostile (empty or 10,000-character prompts, control
characters, a text file named .png, a date that is no date, a question with unknown
words, an out-of-range slider). Every file an answer points to is downloaded and decoded,
so a truncated image counts as a failure.

A failure is a request that should have been answered and was not, or whose files were
not whole, or a hostile request that got anything but the app's clear message (an
``AppError``). Prints the failures (target 0), latency p50/p95 overall and per endpoint,
and the server's resident memory after the warm-up and at the end (target: within 15%).
Exit code 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from timing import median_and  # noqa: E402

MEMORY_GROWTH_LIMIT = 0.15
REQUEST_TIMEOUT_S = 120  # a request not answered by then is a failure (TimeoutError), not a hang
COLOURS = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "white"]
ROSE = "a red flower with a yellow stem"


def resident_mib(pid: int) -> float:
    """The process's resident set size (VmRSS), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def start_server(port: int, log: Path) -> subprocess.Popen:
    """``app.py``'s demo in a process of its own; its output goes to ``log`` (a pipe nobody reads would fill and stall it)."""
    code = f"import app; app.demo.launch(server_name='127.0.0.1', server_port={port}, quiet=True)"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    with open(log, "wb") as output:
        return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)


def file_urls(value: Any) -> list[str]:
    """Every file URL in an endpoint's answer (galleries, images, nested updates)."""
    if isinstance(value, dict):
        found = [value["url"]] if isinstance(value.get("url"), str) and value.get("path") else []
        return found + [u for v in value.values() if isinstance(v, dict | list | tuple) for u in file_urls(v)]
    if isinstance(value, list | tuple):
        return [u for v in value for u in file_urls(v)]
    return []


class Inputs:
    """The requests, by endpoint: (identical, different, hostile) makers of argument tuples."""

    def __init__(self, folder: Path):
        from gradio_client import handle_file
        from PIL import Image

        from t2i_core.data import load_world

        scenes = load_world("scenes", "test", size=40, seed=3)
        self.scenes = []
        for i in range(len(scenes)):
            path = folder / f"scene-{i}.png"
            scenes.sample(i).image.save(path)
            self.scenes.append(handle_file(str(path)))
        (folder / "notes.png").write_bytes(b"a text file with an image's name")
        Image.new("RGB", (300, 200), (90, 120, 60)).save(folder / "photo.jpg")
        self.not_an_image, self.photo = handle_file(str(folder / "notes.png")), handle_file(str(folder / "photo.jpg"))

    def make(self, endpoint: str, kind: str, rng: random.Random) -> tuple:
        petal, stem = rng.sample(COLOURS, 2)
        fresh = f"a {petal} flower with a {stem} stem"
        scene = self.scenes[0] if kind == "identical" else rng.choice(self.scenes)
        hostile = {
            "text_to_image": [("", "use", 4, 0, False), ("a red flower " * 770, "use", 4, 0, False), ("a red\x07 flower", "both", 4, 0, False)],
            "swap_colours": [("a flower", 4, 0), ("", 4, 0)],
            "interpolate": [("", ROSE, "use", 8, 0), (ROSE, "x" * 10000, "glove-avg", 8, 0)],
            "render_scene": [(-5,)],
            "caption": [(self.not_an_image, "show-attend-tell", 3)],
            "round_trip": [("", 0), ("\x1b\x07", 0)],
            "translate_date": [("hello", "dot"), ("5 April 09" * 20, "additive")],
            "answer_question": [(scene, "what hue is the blob?", "attention"), (self.not_an_image, "how many objects are there?", "attention"),
                                (scene, "", "baseline")],
            "world_preview": [("scenes", "heldout-pairs", 8, 0)],
        }
        if kind == "hostile":
            return rng.choice(hostile[endpoint])
        same = kind == "identical"
        seed = 0 if same else rng.randrange(10_000)
        return {
            "text_to_image": (ROSE if same else fresh, "both" if same else rng.choice(["use", "glove-avg", "both"]), 4, seed, rng.random() < 0.3),
            "swap_colours": (ROSE if same else fresh, 4, seed),
            "interpolate": (ROSE, "a yellow flower with a red stem" if same else fresh, "use" if same else "glove-avg", 6, seed),
            "render_scene": (seed,),
            "caption": (self.photo if not same and rng.random() < 0.2 else scene,
                        "show-attend-tell" if same else rng.choice(["show-attend-tell", "show-and-tell"]), 3),
            "round_trip": (ROSE if same else fresh, seed),
            "translate_date": ("5 April 09" if same else f"{rng.randrange(1, 29)} {rng.choice(['May', 'June', 'March'])} {rng.randrange(1950, 2030)}", "dot"),
            "answer_question": (scene, "how many objects are there?" if same else rng.choice(
                ["what color is the circle?", "is there a red square?", "how many shapes are there?", "what shape is the blue object?"]),
                "attention"),
            "world_preview": ("flowers", "train", 8, seed) if same else (rng.choice(["flowers", "scenes"]), "test", 8, seed),
        }[endpoint]


    def warm_up(self) -> list[tuple[str, tuple]]:
        """One request per model the app can load (both encoders with masks, both captioners, the detector, both VQA
        models, every date translator, both worlds), so that memory after the warm-up holds every model."""
        return [("text_to_image", (ROSE, "both", 4, 0, True)), ("swap_colours", (ROSE, 4, 0)),
                ("interpolate", (ROSE, "a white flower with a blue stem", "use", 6, 0)),
                ("interpolate", (ROSE, "a white flower with a blue stem", "glove-avg", 6, 0)), ("render_scene", (0,)),
                *[("caption", (image, model, 3)) for image in (self.scenes[0], self.photo) for model in ("show-attend-tell", "show-and-tell")],
                ("round_trip", (ROSE, 0)), *[("translate_date", ("5 April 09", score)) for score in ("additive", "dot", "general")],
                *[("answer_question", (self.scenes[0], "how many objects are there?", model)) for model in ("attention", "baseline")],
                *[("world_preview", (world, "test", 8, 0)) for world in ("flowers", "scenes")]]


ENDPOINTS = ["text_to_image", "swap_colours", "interpolate", "render_scene", "caption", "round_trip", "translate_date", "answer_question", "world_preview"]


def plan(requests: int, seed: int, endpoints: list[str] = ENDPOINTS) -> list[tuple[str, str]]:
    """(endpoint, kind) of every request, in order: each endpoint about equally often; 40/50/10 identical/different/hostile."""
    rng = random.Random(seed)
    return [(endpoints[i % len(endpoints)], rng.choices(["identical", "different", "hostile"], [0.4, 0.5, 0.1])[0]) for i in range(requests)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--endpoints", nargs="+", choices=ENDPOINTS, default=ENDPOINTS, help="only these endpoints (default: all)")
    parser.add_argument("--json", default=None, metavar="FILE", help="also write the figures here")
    parser.add_argument("--server-log", default="soak-server.log", metavar="FILE", help="the server's output (default soak-server.log)")
    args = parser.parse_args(argv)

    from gradio_client import Client
    from gradio_client.exceptions import AppError
    from PIL import Image

    from servers import free_loopback_port, wait_until_answering

    port = free_loopback_port()
    server = start_server(port, Path(args.server_log))
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_answering(url, server, seconds=180)
        cold = resident_mib(server.pid)
        with tempfile.TemporaryDirectory() as folder:
            inputs = Inputs(Path(folder))
            http = httpx.Client(timeout=60)

            def call(client: Client, endpoint: str, kind: str, rng: random.Random, arguments: tuple | None = None) -> tuple[str, float, str | None]:
                arguments = arguments or inputs.make(endpoint, kind, rng)
                start = time.perf_counter()
                try:
                    answer = client.submit(*arguments, api_name=f"/{endpoint}").result(timeout=REQUEST_TIMEOUT_S)
                except AppError as error:  # the app's clear message (gr.Error): right for hostile input only
                    seconds = time.perf_counter() - start
                    return endpoint, seconds, None if kind == "hostile" else f"{endpoint} {kind}: AppError {error}"
                except Exception as error:  # noqa: BLE001 - every other outcome is a failure, counted and shown
                    return endpoint, time.perf_counter() - start, f"{endpoint} {kind}: {type(error).__name__}: {error}"
                for link in file_urls(answer):
                    body = http.get(link).content
                    try:
                        Image.open(io.BytesIO(body)).load()
                    except Exception as error:  # noqa: BLE001
                        return endpoint, time.perf_counter() - start, f"{endpoint} {kind}: file not whole ({len(body)} bytes): {error}"
                # A hostile input may also be answered (a date that is no date is called invalid in the answer).
                return endpoint, time.perf_counter() - start, None

            warm = Client(url, verbose=False, download_files=False)
            warm_failures = [f for e, arguments in inputs.warm_up() for *_, f in [call(warm, e, "warm-up", random.Random(0), arguments)] if f]
            warmed = resident_mib(server.pid)
            requests = plan(args.requests, args.seed, args.endpoints)
            shares = [requests[k::args.clients] for k in range(args.clients)]

            def client_run(k: int) -> list[tuple[str, float, str | None]]:
                own, rng = Client(url, verbose=False, download_files=False), random.Random(args.seed * 1000 + k)
                done = []
                for endpoint, kind in shares[k]:
                    done.append(call(own, endpoint, kind, rng))
                    if k == 0 and len(done) % 10 == 0:
                        print(f"client 0: {len(done)} of {len(shares[0])} requests, {time.perf_counter() - started:.0f} s", flush=True)
                return done

            samples, running = [], threading.Event()
            running.set()

            def sample_memory() -> None:  # the server's memory every 5 s: does it level off?
                while running.is_set():
                    samples.append(round(resident_mib(server.pid)))
                    time.sleep(5)

            sampler = threading.Thread(target=sample_memory, daemon=True)
            sampler.start()
            started = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                results = [r for batch in pool.map(client_run, range(args.clients)) for r in batch]
            wall = time.perf_counter() - started
            running.clear()
            end = resident_mib(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()

    failures = warm_failures + [f for *_, f in results if f]
    latency = [s for _, s, _ in results]
    by_endpoint = defaultdict(list)
    for endpoint, seconds, _ in results:
        by_endpoint[endpoint].append(seconds)
    growth = end / warmed - 1
    kinds = Counter(kind for _, kind in requests)
    print(f"{len(results)} requests ({kinds['identical']} identical, {kinds['different']} different, {kinds['hostile']} hostile) "
          f"from {args.clients} clients in {wall:.0f} s ({len(results) / wall:.1f} requests/s)")
    print(f"failures: {len(failures)} (target 0)")
    for failure in failures[:20]:
        print("  ", failure)
    print(f"latency: {median_and(latency, 0.95)}")
    for endpoint in args.endpoints:
        print(f"  /{endpoint:<16} {median_and(by_endpoint[endpoint], 0.95)}  ({len(by_endpoint[endpoint])} requests)")
    print(f"server memory: {cold:.0f} MiB started, {warmed:.0f} MiB after the warm-up, {end:.0f} MiB at the end "
          f"({growth:+.1%} since the warm-up; target within {MEMORY_GROWTH_LIMIT:.0%})")
    print(f"server memory every 5 s, MiB: {' '.join(map(str, samples))}")
    figures = {"requests": len(results), "clients": args.clients, "kinds": dict(kinds), "wall_s": round(wall, 1), "failures": failures,
               "latency_s": {"p50": sorted(latency)[len(latency) // 2], "p95": sorted(latency)[int(0.95 * (len(latency) - 1))]},
               "memory_mib": {"started": round(cold), "warmed": round(warmed), "end": round(end), "growth": round(growth, 4),
                              "every_5_s": samples}}
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 1 if failures or abs(growth) > MEMORY_GROWTH_LIMIT else 0


if __name__ == "__main__":
    sys.exit(main())

"""The dashboard's Docker Space image, built and run for real, and driven in headless Chromium.

``dashboard/space/build_image.py`` builds ``dashboard/space/Dockerfile`` on a stand-in base
(Docker Hub cannot be reached here); the container then runs the Dockerfile's own command as the
uid 1000 user, and the browser walks the same path as the local server's test, the shipped
benchmark results included. The test uses the Docker engine that answers, or, as root with
dockerd installed (``apt-get install docker.io debootstrap``), starts a private one for itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard_browser import drive_the_dashboard, skip_without_a_browser
from servers import free_loopback_port, stop, wait_until_answering

ROOT = Path(__file__).resolve().parents[1]
TAG = "t2i-dashboard-test"


def engine_answers(env: dict[str, str]) -> bool:
    return subprocess.run(["docker", "info"], env=env, capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def docker_env() -> Iterator[dict[str, str]]:
    """The environment in which `docker` talks to a working engine: the one that answers, or a private one."""
    # What the test needs besides an engine, checked first: no daemon is started for a test that would skip.
    skip_without_a_browser()
    if shutil.which("debootstrap") is None:
        pytest.skip("debootstrap is not installed (apt-get install debootstrap)")
    if shutil.which("docker") is None:
        pytest.skip("no docker command (apt-get install docker.io)")
    env = dict(os.environ)
    if engine_answers(env):
        yield env
        return
    if shutil.which("dockerd") is None or os.geteuid() != 0:
        pytest.skip("no Docker engine answers, and none can be started here (dockerd, as root)")
    # A short folder: the engine's sockets live under it, and a socket's path has a length limit.
    folder = Path(tempfile.mkdtemp(prefix="t2i-docker-", dir="/tmp"))
    socket = f"unix://{folder}/docker.sock"
    log = (folder / "dockerd.log").open("wb")
    daemon = subprocess.Popen(
        ["dockerd", "--data-root", str(folder / "data"), "--exec-root", str(folder / "exec"),
         "--pidfile", str(folder / "dockerd.pid"), "-H", socket],
        stdout=log, stderr=subprocess.STDOUT,
    )
    env["DOCKER_HOST"] = socket
    try:
        deadline = time.monotonic() + 60
        while not engine_answers(env):
            if daemon.poll() is not None or time.monotonic() > deadline:
                pytest.skip(f"dockerd did not start: {(folder / 'dockerd.log').read_text(errors='replace')[-500:]}")
            time.sleep(0.5)
        yield env
    finally:
        stop(daemon)  # it unmounts its layers on the way out, but leaves its network namespace mounted
        log.close()
        for mount in mounts_under(folder):
            subprocess.run(["umount", "--lazy", mount], check=False)
        shutil.rmtree(folder, ignore_errors=True)


def mounts_under(folder: Path) -> list[str]:
    """Mount points inside `folder`, deepest first."""
    points = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    return sorted((point for point in points if point.startswith(f"{folder}/")), key=len, reverse=True)


def test_the_space_image_builds_and_serves_the_dashboard_as_uid_1000(docker_env, tmp_path):
    build = subprocess.run([sys.executable, "dashboard/space/build_image.py", "--tag", TAG], cwd=ROOT, env=docker_env,
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]

    name, port = f"t2i-dashboard-test-{os.getpid()}", free_loopback_port()
    log = (tmp_path / "container.log").open("wb")
    # In the foreground: `docker run` passes the stop signal on to Streamlit, and --rm removes the container.
    container = subprocess.Popen(["docker", "run", "--rm", "--name", name, "-p", f"127.0.0.1:{port}:8501", TAG],
                                 env=docker_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/_stcore/health", container)
        whoami = subprocess.run(["docker", "exec", name, "id", "-u"], env=docker_env, capture_output=True, text=True, check=True)
        assert whoami.stdout.strip() == "1000"  # Spaces run the container as uid 1000
        drive_the_dashboard(f"http://127.0.0.1:{port}/", tmp_path, benchmark_results=True)
    finally:
        stop(container)
        subprocess.run(["docker", "rm", "-f", name], env=docker_env, capture_output=True)
        subprocess.run(["docker", "rmi", TAG], env=docker_env, capture_output=True)
        log.close()
    served = (tmp_path / "container.log").read_text(errors="replace")
    assert "You can now view your Streamlit app" in served and "Traceback" not in served

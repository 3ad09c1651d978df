"""Build the dashboard's Space image from ``dashboard/space/Dockerfile`` without Docker Hub.

The Space builds the Dockerfile as it is: ``FROM python:3.11-slim``, torch from PyTorch's CPU
index. The project's own machines reach only PyPI and Debian's archive, so this script supplies
those two things locally and builds the same Dockerfile with its own build arguments:

- **base** (``BASE_IMAGE``): Debian bookworm, bootstrapped with ``debootstrap --variant=minbase``,
  plus Debian's Python 3.11 and pip, tagged ``t2i-local/python:3.11-slim``. It stands in for
  ``python:3.11-slim`` and is not that image: Python is Debian's 3.11.2 in ``/usr/bin`` (linked
  from ``/usr/local/bin``, as the official image puts it), and pip may install with ``--user``.
  It trusts this machine's CA bundle, so pip in the build reaches PyPI the way this machine does.
- **torch** (``PIP_EXTRA_INDEX_URL``): the pinned CPU wheel from a local file, served on loopback
  as a one-package index for the length of the build.

Everything after ``FROM`` is the Dockerfile's own: the uid 1000 user, requirements.txt from
PyPI, the copied project, the port and the command. Run as root (debootstrap), from anywhere:

    python dashboard/space/build_image.py --tag t2i-dashboard
    docker run -p 8501:8501 t2i-dashboard

The stand-in base is built once and kept (``--rebuild-base`` makes it again). ``DOCKER_HOST``
chooses the Docker engine, as for the docker command itself. The browser test of the image is
``tests/test_dashboard_image.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "dashboard" / "space" / "Dockerfile"
BASE_TAG = "t2i-local/python:3.11-slim"
DEBIAN = ("bookworm", "http://deb.debian.org/debian")  # bookworm's Python is 3.11, the wheels' cp311
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

# The layer that turns a bare Debian into the stand-in: Python 3.11 and pip, `python` and `pip` on
# /usr/local/bin as in the official image, no PEP 668 marker (the official image has none either).
BASE_DOCKERFILE = """\
FROM {rootfs_tag}
ENV LANG=C.UTF-8
RUN apt-get update \\
 && apt-get install -y --no-install-recommends python3 python3-pip ca-certificates \\
 && rm -f /usr/lib/python3.11/EXTERNALLY-MANAGED \\
 && ln -s /usr/bin/python3 /usr/local/bin/python && ln -s /usr/bin/pip3 /usr/local/bin/pip \\
 && rm -rf /var/lib/apt/lists/*
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
"""


def docker(*args: str) -> None:
    """Run the docker command, its output going to this process's; a failure raises."""
    subprocess.run(["docker", *args], check=True)


def image_exists(tag: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", tag], capture_output=True).returncode == 0


def build_base(tag: str = BASE_TAG, ca_bundle: Path = HOST_CA_BUNDLE) -> None:
    """Bootstrap Debian into a folder, import it into Docker, and add Python: the stand-in base image."""
    suite, mirror = DEBIAN
    rootfs_tag = f"t2i-local/debian:{suite}-minbase"
    with tempfile.TemporaryDirectory(prefix="t2i-base-") as work:
        rootfs = Path(work) / "rootfs"
        subprocess.run(["debootstrap", "--variant=minbase", suite, str(rootfs), mirror], check=True,
                       stdout=subprocess.DEVNULL)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(["docker", "import", "-", rootfs_tag], stdin=tar.stdout, check=True, stdout=subprocess.DEVNULL)
        tar.stdout.close()
        if tar.wait() != 0:
            raise RuntimeError(f"tar of {rootfs} failed with code {tar.returncode}")
        context = Path(work) / "context"
        context.mkdir()
        shutil.copyfile(ca_bundle, context / "ca-certificates.crt")
        (context / "Dockerfile").write_text(BASE_DOCKERFILE.format(rootfs_tag=rootfs_tag), encoding="utf-8")
        docker("build", "--network", "host", "-t", tag, str(context))


def pinned_torch() -> str:
    """The torch version requirements.txt pins (torch==X)."""
    text = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    found = re.search(r"^torch==(\S+)", text, flags=re.MULTILINE)
    if not found:
        raise SystemExit("requirements.txt does not pin torch==X")
    return found.group(1)


def find_torch_wheel(version: str) -> Path:
    """The CPU wheel of torch `version` for CPython 3.11 in one of pip's find-links folders."""
    folders = [Path(entry) for entry in os.environ.get("PIP_FIND_LINKS", "").split() if Path(entry).is_dir()]
    for folder in folders:
        found = sorted(folder.glob(f"torch-{version}+cpu-cp311-cp311-*.whl"))
        if found:
            return found[0]
    raise SystemExit(f"no torch-{version}+cpu cp311 wheel in PIP_FIND_LINKS ({folders}); pass --torch-wheel")


@contextlib.contextmanager
def one_wheel_index(wheel: Path) -> Iterator[str]:
    """A PEP 503 simple index on loopback that offers only this wheel; yields its URL."""
    project = wheel.name.split("-", 1)[0].lower()
    with tempfile.TemporaryDirectory(prefix="t2i-index-") as folder:
        page = Path(folder) / project
        page.mkdir()
        (page / wheel.name).symlink_to(wheel.resolve())
        (page / "index.html").write_text(f'<html><body><a href="{wheel.name}">{wheel.name}</a></body></html>\n', encoding="utf-8")
        handler = functools.partial(QuietHandler, directory=folder)
        with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                yield f"http://127.0.0.1:{server.server_address[1]}/"
            finally:
                server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging every request (pip asks the index for every package)."""

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the signature http.server calls
        pass


def build_image(tag: str, base: str, wheel: Path) -> None:
    """docker build of the Space's Dockerfile, with the project's root as the context (as in the Space)."""
    with one_wheel_index(wheel) as index:
        # The build runs on the host's network: the loopback index and this machine's route to PyPI.
        docker("build", "--network", "host", "-f", str(DOCKERFILE), "-t", tag,
               "--build-arg", f"BASE_IMAGE={base}", "--build-arg", f"PIP_EXTRA_INDEX_URL={index}", str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tag", default="t2i-dashboard", help="the image's tag (default: %(default)s)")
    parser.add_argument("--torch-wheel", type=Path, help="the pinned torch's CPU wheel (default: found in PIP_FIND_LINKS)")
    parser.add_argument("--rebuild-base", action="store_true", help=f"make {BASE_TAG} again even if Docker has it")
    args = parser.parse_args(argv)
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        raise SystemExit("no Docker engine answers (start dockerd, or set DOCKER_HOST)")
    wheel = args.torch_wheel or find_torch_wheel(pinned_torch())
    if not wheel.is_file():
        raise SystemExit(f"no file at {wheel}")
    if args.rebuild_base or not image_exists(BASE_TAG):
        if shutil.which("debootstrap") is None:
            raise SystemExit("debootstrap is not installed (apt-get install debootstrap)")
        build_base()
    build_image(args.tag, BASE_TAG, wheel)
    print(f"built {args.tag}; run it with: docker run -p 8501:8501 {args.tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

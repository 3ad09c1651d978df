"""Where tensors live: CUDA when there is a GPU, then Apple's MPS, else the CPU.

Set ``T2I_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``) to override the choice, for
example to keep a GPU free or to compare CPU timings on a GPU machine.
"""

from __future__ import annotations

import os
import platform

import torch

DEVICE_ENV = "T2I_DEVICE"


def _available(device: torch.device) -> bool:
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        return torch.cuda.is_available() and (device.index is None or device.index < torch.cuda.device_count())
    if device.type == "mps":
        return torch.backends.mps.is_available()
    return False


def select_device(preference: str | torch.device | None = None) -> torch.device:
    """The device to run on.

    Args:
        preference: a device name to use instead of the automatic choice. When None,
            ``$T2I_DEVICE`` is used if set, else CUDA, then MPS, then CPU.

    Raises:
        ValueError: the named device is not a device name or is not available here.
    """
    name = preference if preference is not None else os.environ.get(DEVICE_ENV, "").strip() or None
    if name is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError) as error:
        raise ValueError(f"{name!r} is not a device name (try cpu, cuda, cuda:0 or mps): {error}") from None
    if not _available(device):
        source = f" (from ${DEVICE_ENV})" if preference is None else ""
        raise ValueError(f"device {str(device)!r}{source} is not available on this machine; use cpu")
    return device


def describe_machine(device: torch.device, processes: int = 1) -> str:
    """What a run trained on, for its records: ``"cpu: 2 cores, 1 torch thread x 1 process, x86_64"``
    or ``"cuda: NVIDIA H200 x 2 processes"``."""
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)} x {processes} process{'es' if processes > 1 else ''}"
    threads = torch.get_num_threads()
    return (f"{device.type}: {os.cpu_count()} cores, {threads} torch thread{'s' if threads > 1 else ''} "
            f"x {processes} process{'es' if processes > 1 else ''}, {platform.machine()}")

"""One GPU per job (issue 9, item 10): the device pool, without a GPU.

The number of visible GPUs is mocked (``torch.cuda.device_count``); the locks
are real files in a temporary folder, taken by threads of this process (each
lease opens its own file, and :func:`fcntl.flock` locks belong to the open
file, so two leases in one process exclude each other like two jobs do) and
by a separate process that is killed while it holds a GPU.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from spectral_attribution.models import devices

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def gpu_machine(monkeypatch, tmp_path):
    """Two visible GPUs (mocked), a private lock folder, no SLURM job, no CUDA_VISIBLE_DEVICES."""
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv(devices.LOCK_DIR_ENV, str(tmp_path / "locks"))
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return tmp_path / "locks"


def test_concurrent_jobs_get_different_gpus_and_a_third_waits():
    first = devices.acquire("cuda")
    second = devices.acquire("cuda")
    assert (first.device, second.device) == ("cuda:0", "cuda:1")
    assert first.how == second.how == "pool"
    with pytest.raises(RuntimeError, match=r"all 2 visible GPU\(s\) \['0', '1'\] stayed held"):
        devices.acquire("cuda", timeout_s=0.2, poll_s=0.05)
    devices.release(first)
    third = devices.acquire("cuda", timeout_s=0.2, poll_s=0.05)
    assert third.device == "cuda:0"  # the GPU the first job gave back
    devices.release(second)
    devices.release(third)


def test_a_waiting_job_gets_the_gpu_a_finished_job_releases():
    held = [devices.acquire("cuda"), devices.acquire("cuda")]
    got = {}

    def job():
        with devices.lease("cuda", timeout_s=10, poll_s=0.02) as lease:
            got["device"] = lease.device

    waiter = threading.Thread(target=job)
    waiter.start()
    time.sleep(0.3)
    assert "device" not in got  # both GPUs are busy: it waits
    devices.release(held[1])
    waiter.join(timeout=10)
    assert got == {"device": "cuda:1"}
    devices.release(held[0])


def test_a_gpu_is_released_when_the_job_fails():
    with pytest.raises(ZeroDivisionError):
        with devices.lease("cuda") as lease:
            assert lease.device == "cuda:0"
            1 / 0
    with devices.lease("cuda") as again:
        assert again.device == "cuda:0"


def test_a_gpu_is_released_when_the_job_is_killed(gpu_machine):
    """SIGKILL leaves no chance to clean up: the operating system drops the lock."""
    code = ("import sys, time, torch\n"
            "torch.cuda.device_count = lambda: 2\n"
            "from spectral_attribution.models import devices\n"
            "lease = devices.acquire('cuda')\n"
            "print(lease.device, flush=True)\n"
            "time.sleep(600)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "cuda:0"
        mine = devices.acquire("cuda")
        assert mine.device == "cuda:1"  # the other process holds cuda:0
        with pytest.raises(RuntimeError, match="stayed held"):
            devices.acquire("cuda", timeout_s=0.1, poll_s=0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        freed = devices.acquire("cuda", timeout_s=5, poll_s=0.05)
        assert freed.device == "cuda:0"
        devices.release(freed)
        devices.release(mine)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert sorted(p.name for p in gpu_machine.iterdir()) == ["cuda-0.lock", "cuda-1.lock"]


def test_explicit_devices_are_used_as_given_without_a_lock(gpu_machine):
    for device in ("cpu", "cuda:1", "mps", None):
        lease = devices.acquire(device)
        assert lease.device == (device or "cpu") and lease.how == "explicit"
        assert lease.lock_file is None
    assert not gpu_machine.exists()


def test_visible_devices_name_the_locks(monkeypatch, gpu_machine):
    """With CUDA_VISIBLE_DEVICES=3,5 torch sees cuda:0 and cuda:1; the locks name GPUs 3 and 5."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    a, b = devices.acquire("cuda"), devices.acquire("cuda")
    assert (a.device, a.gpu_id, b.device, b.gpu_id) == ("cuda:0", "3", "cuda:1", "5")
    assert Path(b.lock_file) == gpu_machine / "cuda-5.lock"
    record = b.as_dict()
    assert record["device"] == "cuda:1" and record["cuda_visible_devices"] == "3,5"
    devices.release(a)
    devices.release(b)


def test_under_slurm_each_allocation_has_its_own_pool(monkeypatch, gpu_machine):
    """Two SLURM jobs on one node, each allocated one GPU (CUDA_VISIBLE_DEVICES=0 in both, the
    cgroup hides the other GPU): both run at once, on their own allocation's device."""
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    monkeypatch.setenv("SLURM_JOB_ID", "101")
    first = devices.acquire("cuda")
    monkeypatch.setenv("SLURM_JOB_ID", "102")
    second = devices.acquire("cuda", timeout_s=0.1, poll_s=0.05)
    assert first.device == second.device == "cuda:0"
    assert Path(first.lock_file).parent.name == "slurm-101"
    assert Path(second.lock_file).parent.name == "slurm-102"
    devices.release(first)
    devices.release(second)


def test_cuda_without_a_gpu_is_refused_naming_the_key(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    with pytest.raises(RuntimeError, match="no CUDA device is visible.*'device'"):
        devices.acquire("cuda")

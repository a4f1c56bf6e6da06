"""The thread policy: torch's intra-op threads follow the CPUs that other, real processes leave free."""

import os
import subprocess
import sys
import time

import pytest
import torch

from erniem.threads import PROC_STAT, ThreadPolicy

pytestmark = pytest.mark.skipif(
    not PROC_STAT.exists() or len(os.sched_getaffinity(0)) < 2, reason="needs Linux /proc/stat and 2 CPUs"
)
CPUS = len(os.sched_getaffinity(0))


@pytest.fixture
def all_threads(monkeypatch):
    """Torch at one thread per CPU, restored afterwards; OMP_NUM_THREADS unset."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(CPUS)
    yield
    torch.set_num_threads(before)


def spinners(count: int) -> list[subprocess.Popen]:
    spin = "import time\nend = time.monotonic() + 60\nwhile time.monotonic() < end: pass"
    return [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(count)]


def settled(policy: ThreadPolicy, seconds: float = 0.5) -> int | None:
    policy.read()  # a reading that starts now
    time.sleep(seconds)
    return policy.apply()


def test_other_processes_take_cpus_away_and_give_them_back(all_threads):
    policy = ThreadPolicy()
    assert settled(policy) == CPUS
    busy = spinners(CPUS - 1)
    try:
        time.sleep(0.2)  # the spinners are running
        assert settled(policy) == 1
        assert torch.get_num_threads() == 1
    finally:
        for process in busy:
            process.kill()
            process.wait()
    assert settled(policy) == CPUS
    assert torch.get_num_threads() == CPUS


def test_this_process_own_work_is_not_counted_as_others(all_threads):
    policy = ThreadPolicy()
    policy.read()
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        pass
    assert policy.apply() == CPUS


def test_a_count_set_by_someone_else_is_the_ceiling(all_threads):
    policy = ThreadPolicy()
    assert settled(policy) == CPUS
    torch.set_num_threads(1)
    assert settled(policy) == 1
    assert torch.get_num_threads() == 1


def test_omp_num_threads_turns_the_policy_off(all_threads, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    policy = ThreadPolicy()
    busy = spinners(CPUS - 1)
    try:
        time.sleep(0.2)
        assert settled(policy) is None
        assert torch.get_num_threads() == CPUS
    finally:
        for process in busy:
            process.kill()
            process.wait()

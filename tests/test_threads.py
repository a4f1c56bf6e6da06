"""The thread policy: torch's intra-op threads follow the CPUs that other, real processes leave free."""

import os
import subprocess
import sys
import time

import pytest
import torch

from erniem.tasks.batching import run_batches
from erniem.threads import PROC_STAT, ThreadPolicy, thread_policy

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


class ThreadCounter(torch.nn.Module):
    """A model that answers each row with the intra-op thread count torch had when the pass ran."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def forward(self, input_ids):
        return torch.full((len(input_ids),), torch.get_num_threads())


def test_task_batches_run_on_the_cpus_left_free(all_threads):
    policy = thread_policy()
    assert settled(policy) == CPUS
    busy = spinners(CPUS - 1)
    try:
        time.sleep(0.5)
        counts = run_batches(
            ThreadCounter(),
            [[1, 2], [3]],
            lambda batch: {"input_ids": torch.tensor([row[:1] for row in batch])},
            lambda output, position, row: int(output[position]),
            batch_size=1,
        )
    finally:
        for process in busy:
            process.kill()
            process.wait()
    assert counts == [1, 1]


def test_passes_off_the_cpu_leave_the_threads_alone(all_threads):
    policy = ThreadPolicy()
    torch.set_num_threads(1)
    assert policy.apply("meta") is None
    assert torch.get_num_threads() == 1
    assert policy.apply(torch.device("cpu")) == 1

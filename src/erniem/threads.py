"""Intra-op threads from the CPUs that are actually free.

Torch's intra-op threads meet at a barrier after every operator. When another process keeps one of our CPUs
busy, the thread that shares its CPU arrives late at every barrier, and the whole pass runs at the pace of a
fraction of a core: on 2 cores with one busy process, a UIE-M pipeline kept 39% of its quiet throughput with
2 threads and 55% with 1 (bf16; fp32: 47% and 55%).

`ThreadPolicy.apply()` is called before each forward pass. It reads how much CPU time other processes took
on this process's CPUs since its last reading (Linux `/proc/stat`, minus this process's own CPU time) and
sets torch's intra-op threads to the CPUs left free, never above the ceiling: the count torch had when the
policy first ran, or whatever count was set since by anyone else. It changes nothing where `/proc/stat` is
missing, or where `OMP_NUM_THREADS` is set (the user's choice).
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path

PROC_STAT = Path("/proc/stat")
SHORTEST_READING = 0.05  # seconds: shorter intervals are a few clock ticks, too coarse to tell anything
IDLE_FIELDS = (3, 4)  # idle, iowait in a /proc/stat cpu line (after its name)


def _busy_seconds(cpus: set[int]) -> float | None:
    """CPU time spent busy on `cpus` since boot (all processes), or None without /proc/stat."""
    try:
        lines = PROC_STAT.read_text().splitlines()
    except OSError:
        return None
    ticks = 0
    for line in lines:
        name, *fields = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
            values = [int(value) for value in fields[:8]]  # user .. steal; guest time is counted in user
            ticks += sum(values) - sum(values[i] for i in IDLE_FIELDS)
    return ticks / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    times = os.times()
    return times.user + times.system


class ThreadPolicy:
    """Sets torch's intra-op threads to the CPUs other processes leave free (see the module docstring)."""

    def __init__(self):
        self.cpus = set(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else set()
        self.enabled = bool(self.cpus) and "OMP_NUM_THREADS" not in os.environ and PROC_STAT.exists()
        self.ceiling: int | None = None
        self.chosen: int | None = None
        self.reading: tuple[float, float, float] | None = None  # (wall, busy, own) seconds
        self.read()

    def read(self) -> float | None:
        """Other processes' CPU use on our CPUs (in CPUs) since the last reading, or None when there is no
        reading yet or it is too recent; starts a new reading."""
        if not self.enabled:
            return None
        now = time.monotonic()
        if self.reading is not None and now - self.reading[0] < SHORTEST_READING:
            return None
        busy, own = _busy_seconds(self.cpus), _own_seconds()
        if busy is None:
            self.enabled = False
            return None
        others = None
        if self.reading is not None:
            wall, before, before_own = self.reading
            others = max(0.0, (busy - before) - (own - before_own)) / (now - wall)
        self.reading = (now, busy, own)
        return others

    def apply(self, device=None) -> int | None:
        """Set torch's threads for a pass on `device` (default: the CPU); returns the count, or None when the
        policy is off or the pass does not run on the CPU."""
        import torch

        if not self.enabled or (device is not None and torch.device(device).type != "cpu"):
            return None
        current = torch.get_num_threads()
        if self.ceiling is None or current != self.chosen:  # first use, or someone else set a count since
            self.ceiling = current
            self.chosen = current
        others = self.read()
        if others is not None:
            free = round(len(self.cpus) - others)
            self.chosen = max(1, min(self.ceiling, free))
            if self.chosen != current:
                torch.set_num_threads(self.chosen)
        return self.chosen


@functools.cache
def thread_policy() -> ThreadPolicy:
    """The process's one policy (one reading history for every pipeline)."""
    return ThreadPolicy()

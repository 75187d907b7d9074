"""What the benchmarks read of other processes from Linux's /proc: every process's stat fields (CPU
time, parent, process group) and a process's peak memory. psutil has no peak resident set size, so
/proc is read directly."""

from __future__ import annotations

import os
from collections.abc import Iterator


def stats() -> Iterator[tuple[int, list[str]]]:
    """(pid, the fields of /proc/<pid>/stat after the command name: state ppid pgrp … utime(11)
    stime(12) …) for every process that can be read."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                yield int(entry), fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM), 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0

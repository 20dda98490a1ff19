"""Process CPU and memory from /proc, for the benchmarks: one process, or a process and every
descendant (PostgreSQL's server, a daemon's forked workers)."""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command: [0] is field 3 of proc(5) (state), [1] the ppid."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2 :].split()


def own_ticks(pid: int) -> int:
    """utime + stime of the process (every thread), in ticks."""
    fields = stat_fields(pid)
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)


def cpu_seconds(pid: int) -> float:
    return own_ticks(pid) / TICKS


def tree_ticks(root: int) -> dict[tuple[int, int], int]:
    """utime + stime in ticks of `root` and every descendant (one pass over /proc), keyed by
    (pid, start time) so that a reused pid is a new process."""
    parents: dict[int, int] = {}
    ticks: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError, IndexError, ValueError):  # gone meanwhile
            fields = stat_fields(int(entry.name))
            parents[int(entry.name)] = int(fields[1])
            ticks[int(entry.name)] = (int(fields[19]), int(fields[11]) + int(fields[12]))
    found = {root}
    for _ in range(64):  # depth bound: descendants of descendants
        more = {pid for pid, ppid in parents.items() if ppid in found} - found
        if not more:
            break
        found |= more
    return {(pid, ticks[pid][0]): ticks[pid][1] for pid in found if pid in ticks}


def tree_cpu_seconds(
    before: dict[tuple[int, int], int], after: dict[tuple[int, int], int]
) -> float:
    """CPU of a process tree between two `tree_ticks`: a process new in `after` counts from 0."""
    return sum(t - before.get(key, 0) for key, t in after.items()) / TICKS


def ticks_of(pids: list[int], tree: bool) -> dict[tuple[int, int], int]:
    """Ticks of `pids` for `tree_cpu_seconds`: each process alone, or with `tree` each with its
    whole process tree (a daemon's forked workers)."""
    found: dict[tuple[int, int], int] = {}
    for pid in pids:
        found |= tree_ticks(pid) if tree else {(pid, 0): own_ticks(pid)}
    return found


def hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def tree_hwm_kib(pid: int, tree: bool) -> int:
    """Peak RSS of a daemon: its process alone, or with `tree` summed over its process tree."""
    if not tree:
        return hwm_kib(pid)
    total = 0
    for member, _ in tree_ticks(pid):
        with suppress(OSError):  # gone meanwhile
            total += hwm_kib(member)
    return total

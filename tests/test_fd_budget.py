"""The file descriptor budget: the soft limit raised at start, and split so probes keep a share."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from upwatch.runtime.fd_budget import MAX_HTTP_CONNECTIONS, RESERVED, plan


@pytest.mark.parametrize(
    ("limit", "http_connections"),
    [
        (1_048_576, MAX_HTTP_CONNECTIONS),  # Docker's usual hard limit: the cap's ceiling
        (4096, MAX_HTTP_CONNECTIONS),
        (2048, 2048 - RESERVED - 500 * 2),  # what 500 probes x 2 and the reserve leave
        (1024, (1024 - RESERVED) // 3),  # too little for 500 probes: HTTP keeps a third
        (256, (256 - RESERVED) // 3),
        (100, 16),  # the floor: /healthz still gets in
    ],
)
def test_http_connections_are_capped_below_what_probes_and_the_reserve_leave(
    limit: int, http_connections: int
) -> None:
    budget = plan(limit, probe_concurrency=500)

    assert budget.http_connections == http_connections
    assert budget.probes == max(0, limit - RESERVED - http_connections)


def test_with_room_to_spare_probes_get_two_descriptors_each_and_http_the_rest() -> None:
    budget = plan(1200, probe_concurrency=100)

    assert budget.http_connections == 1200 - RESERVED - 200
    assert budget.probes == 200


@pytest.mark.skipif(sys.platform == "win32", reason="no RLIMIT_NOFILE")
def test_the_soft_limit_is_raised_to_the_hard_limit() -> None:
    script = textwrap.dedent(
        """
        import resource
        from upwatch.runtime.fd_budget import raise_soft_limit
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 512))
        print(*raise_soft_limit(), *resource.getrlimit(resource.RLIMIT_NOFILE))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )

    assert done.stdout.split() == ["256", "512", "512", "512"]

"""The probe slot timer: each key at start + k * every, late slots once, plans replaced lazily."""

from __future__ import annotations

import asyncio

from upwatch.runtime.slot_timer import SLACK, TICK, SlotTimer


class Wall:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def timer_at(now: float) -> tuple[SlotTimer, Wall, list[str]]:
    wall, fired = Wall(now), list[str]()
    return SlotTimer(fired.append, wall), wall, fired


def test_keys_fire_at_their_slots_in_time_order() -> None:
    timer, wall, fired = timer_at(100.0)
    timer.plan("slow", 105.0, 10.0)
    timer.plan("fast", 101.0, 2.0)

    for wall.now in (101.0, 103.0, 105.0, 107.0):
        timer._on_time()

    assert fired == ["fast", "fast", "slow", "fast", "fast"]


def test_a_late_wake_up_fires_each_key_once_and_keeps_the_grid() -> None:
    timer, wall, fired = timer_at(100.0)
    timer.plan("api", 101.0, 2.0)

    wall.now = 108.5  # four slots late: one probe now, the next on the grid at 109
    timer._on_time()
    wall.now = 109.0
    timer._on_time()

    assert fired == ["api", "api"]
    assert timer._heap[0][0] == 111.0


def test_a_cancelled_key_stops_and_a_new_plan_replaces_the_old() -> None:
    timer, wall, fired = timer_at(100.0)
    timer.plan("gone", 101.0, 1.0)
    timer.plan("moved", 101.0, 1.0)
    timer.cancel("gone")
    timer.plan("moved", 101.5, 5.0)

    for wall.now in (101.0, 101.5, 102.0, 106.5):
        timer._on_time()

    assert fired == ["moved", "moved"]


async def test_on_the_running_loop_a_due_key_fires_without_being_driven() -> None:
    loop = asyncio.get_running_loop()
    fired = asyncio.Event()
    timer = SlotTimer(lambda key: fired.set(), loop.time)
    timer.start()
    timer.plan("api", loop.time() + 0.05, 60.0)

    await asyncio.wait_for(fired.wait(), timeout=5)
    timer.stop()
    assert not timer.running


async def test_slots_close_together_share_one_wake_up_and_none_fires_early() -> None:
    # 10,000 monitors put a slot every 3 ms; waking for each cost a third of the daemon's CPU.
    loop = asyncio.get_running_loop()
    fired: dict[str, tuple[float, int]] = {}
    wake_ups = 0

    def fire(key: str) -> None:
        fired[key] = (loop.time(), wake_ups)

    timer = SlotTimer(fire, loop.time)
    original = timer._on_time

    def counting() -> None:
        nonlocal wake_ups
        wake_ups += 1
        original()

    timer._on_time = counting  # type: ignore[method-assign]
    grid = (int(loop.time() / TICK) + 10) * TICK  # a grid point 0.18-0.2 s ahead
    dues = {f"m{i}": grid + 0.001 + i * 0.003 for i in range(5)}  # all within one tick
    timer.start()
    for key, due in dues.items():
        timer.plan(key, due, 60.0)

    deadline = loop.time() + 5
    while len(fired) < len(dues) and loop.time() < deadline:
        await asyncio.sleep(0.01)
    timer.stop()

    assert fired.keys() == dues.keys()
    assert len({wake for _, wake in fired.values()}) == 1, "one wake-up for all five slots"
    assert all(fired[key][0] >= due - SLACK for key, due in dues.items()), "none before its slot"

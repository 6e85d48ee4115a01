"""The reorder window puts caller frames back in sequence order, within a bound."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adapters.telnyx.reorder import ReorderWindow


def test_frames_in_order_pass_straight_through() -> None:
    window: ReorderWindow[str] = ReorderWindow(3, first=2)
    assert [window.push(n, f"f{n}") for n in (2, 3, 4)] == [["f2"], ["f3"], ["f4"]]


def test_a_frame_that_arrives_early_waits_for_the_one_before_it() -> None:
    window: ReorderWindow[str] = ReorderWindow(3, first=2)
    assert window.push(3, "b") == []
    assert window.push(2, "a") == ["a", "b"]


def test_a_frame_older_than_what_was_delivered_is_dropped_and_counted() -> None:
    window: ReorderWindow[str] = ReorderWindow(2, first=1)
    window.push(2, "b")
    assert window.push(3, "c") == ["b", "c"]  # gave up on 1
    assert window.gaps_skipped == 1
    assert window.push(1, "a") == []
    assert window.late_dropped == 1


def test_a_gap_is_waited_for_at_most_the_window() -> None:
    window: ReorderWindow[str] = ReorderWindow(3, first=1)
    assert window.push(2, "b") == []
    assert window.push(3, "c") == []
    assert window.push(4, "d") == ["b", "c", "d"]
    assert (window.gaps_skipped, window.held) == (1, 0)


def test_numbers_taken_by_other_messages_are_not_waited_for() -> None:
    window: ReorderWindow[str] = ReorderWindow(3, first=1)
    assert window.push(2, "b") == []
    assert window.skip(1) == ["b"]
    assert window.push(4, "d") == []
    assert window.skip(3) == ["d"]
    assert window.gaps_skipped == 0


def test_duplicates_are_dropped() -> None:
    window: ReorderWindow[str] = ReorderWindow(3, first=1)
    window.push(2, "b")
    assert window.push(2, "b again") == []
    assert window.duplicates_dropped == 1


def test_flush_releases_everything_held_in_order() -> None:
    window: ReorderWindow[str] = ReorderWindow(5, first=1)
    window.push(4, "d")
    window.push(3, "c")
    assert window.flush() == ["c", "d"]
    assert window.push(5, "e") == ["e"]


@given(st.permutations(range(1, 30)), st.integers(1, 6))
def test_delivered_frames_are_always_in_increasing_order(order: list[int], max_held: int) -> None:
    window: ReorderWindow[int] = ReorderWindow(max_held, first=1)
    delivered: list[int] = []
    for n in order:
        delivered += window.push(n, n)
    delivered += window.flush()
    assert delivered == sorted(delivered)
    assert len(delivered) + window.late_dropped == len(order)


@given(st.lists(st.integers(1, 40), max_size=60), st.integers(1, 4))
def test_no_more_than_the_window_is_ever_held(numbers: list[int], max_held: int) -> None:
    window: ReorderWindow[int] = ReorderWindow(max_held, first=1)
    for n in numbers:
        window.push(n, n)
        assert window.held < max_held

"""The batcher with a recording model: coalescing, the token budget, the wait, groups, the bounded queue, errors,
and items whose request went away."""

from __future__ import annotations

import asyncio
import threading

import pytest

pytest.importorskip("fastapi")  # the serve extra

from erniem.serve.batching import Batcher, QueueFull  # noqa: E402


class Recorder:
    """A model that answers each value with (group, value) and records every batch; `gate` holds it back."""

    def __init__(self):
        self.batches: list[tuple] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, group, values: list) -> list:
        self.gate.wait(timeout=30)
        self.batches.append((group, list(values)))
        if "boom" in values:
            raise RuntimeError("the model failed")
        return [(group, value) for value in values]


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 30))


async def started(recorder: Recorder, **settings) -> Batcher:
    batcher = Batcher(recorder, **settings)
    batcher.start()
    return batcher


def test_concurrent_requests_share_batches_and_get_their_own_answers():
    recorder = Recorder()

    async def scenario():
        batcher = await started(recorder, max_batch_tokens=1000, max_wait=0.2)
        answers = await asyncio.gather(*(batcher.submit("g", [f"t{i}", f"u{i}"], [1, 1]) for i in range(10)))
        await batcher.stop()
        return answers

    answers = run(scenario())
    assert answers == [[("g", f"t{i}"), ("g", f"u{i}")] for i in range(10)]
    assert len(recorder.batches) == 1 and len(recorder.batches[0][1]) == 20


def test_the_token_budget_closes_a_batch_without_waiting():
    recorder = Recorder()

    async def scenario():
        batcher = await started(recorder, max_batch_tokens=10, max_wait=60)  # the wait would outlast the test
        answers = await batcher.submit("g", list("abcdef"), [5] * 6)
        await batcher.stop()
        return answers

    assert run(scenario()) == [("g", value) for value in "abcdef"]
    assert [values for _, values in recorder.batches] == [["a", "b"], ["c", "d"], ["e", "f"]]


def test_a_lone_item_goes_after_the_wait():
    recorder = Recorder()

    async def scenario():
        batcher = await started(recorder, max_batch_tokens=1000, max_wait=0.05)
        answer = await batcher.submit("g", ["alone"], [1])
        await batcher.stop()
        return answer

    assert run(scenario()) == [("g", "alone")]


def test_batches_hold_one_group_each_oldest_first():
    recorder = Recorder()

    async def scenario():
        batcher = await started(recorder, max_batch_tokens=1000, max_wait=0.1)
        submissions = [batcher.submit(group, [f"{group}{i}"], [1]) for i in range(3) for group in ("A", "B")]
        answers = await asyncio.gather(*submissions)
        await batcher.stop()
        return answers

    answers = run(scenario())
    assert answers == [[(group, f"{group}{i}")] for i in range(3) for group in ("A", "B")]
    assert recorder.batches == [("A", ["A0", "A1", "A2"]), ("B", ["B0", "B1", "B2"])]


def test_a_full_queue_refuses_a_whole_submission():
    recorder = Recorder()
    recorder.gate.clear()  # the model is busy

    async def scenario():
        batcher = await started(recorder, max_batch_tokens=1, max_wait=0, max_queue=3)
        first = asyncio.create_task(batcher.submit("g", ["a"], [1]))
        await asyncio.sleep(0.1)  # "a" is in the model now
        waiting = asyncio.create_task(batcher.submit("g", ["b", "c"], [1, 1]))
        await asyncio.sleep(0)
        with pytest.raises(QueueFull):
            await batcher.submit("g", ["d", "e"], [1, 1])  # 2 waiting + 2 > 3
        recorder.gate.set()
        answers = await asyncio.gather(first, waiting)
        await batcher.stop()
        return answers

    assert run(scenario()) == [[("g", "a")], [("g", "b"), ("g", "c")]]
    assert "d" not in {value for _, values in recorder.batches for value in values}


def test_items_of_a_request_that_went_away_never_reach_the_model():
    recorder = Recorder()
    recorder.gate.clear()

    async def scenario():
        batcher = await started(recorder, max_batch_tokens=1, max_wait=0)
        busy = asyncio.create_task(batcher.submit("g", ["first"], [1]))
        await asyncio.sleep(0.1)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(batcher.submit("g", ["gone"], [1]), 0.05)  # the client's timeout
        kept = asyncio.create_task(batcher.submit("g", ["kept"], [1]))
        await asyncio.sleep(0)
        recorder.gate.set()
        answers = await asyncio.gather(busy, kept)
        await batcher.stop()
        return answers

    assert run(scenario()) == [[("g", "first")], [("g", "kept")]]
    assert [values for _, values in recorder.batches] == [["first"], ["kept"]]


def test_a_failing_batch_fails_its_requests_and_the_batcher_goes_on():
    recorder = Recorder()

    async def scenario():
        batcher = await started(recorder, max_batch_tokens=1, max_wait=0)
        with pytest.raises(RuntimeError, match="the model failed"):
            await batcher.submit("g", ["boom"], [1])
        answer = await batcher.submit("g", ["fine"], [1])
        await batcher.stop()
        return answer

    assert run(scenario()) == [("g", "fine")]

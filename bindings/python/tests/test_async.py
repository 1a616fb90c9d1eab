"""asyncio: send_async/recv_async over loop.add_reader/add_writer on the descriptor."""
import asyncio

import pytest

import ipcbroker


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_many_concurrent_receivers(broker):
    """40 coroutines receive on one handle and 10 on handles of their own: each message exactly once."""

    async def main():
        with ipcbroker.open("fanout", recv=True) as shared, ipcbroker.open("fanout", send=True) as tx:
            own = [ipcbroker.open("fanout", recv=True) for _ in range(10)]
            got = []

            async def receive(ch):
                while True:
                    data, _ = await ch.recv_async()
                    if data == b"end":
                        return
                    got.append(data)

            tasks = [asyncio.create_task(receive(shared)) for _ in range(40)]
            tasks += [asyncio.create_task(receive(ch)) for ch in own]
            await asyncio.sleep(0.05)  # every receiver is waiting now
            messages = [b"%d" % i for i in range(1000)]
            for m in messages:
                await tx.send_async(m)  # waits whenever the 10 slots are full
            for _ in tasks:
                await tx.send_async(b"end")
            await asyncio.gather(*tasks)
            for ch in own:
                ch.close()
            return sorted(got), sorted(messages)

    got, sent = run(main())
    assert got == sent


def test_send_async_waits_for_room(broker):
    async def main():
        with ipcbroker.open("tiny", send=True, recv=True) as ch:
            sent = asyncio.ensure_future(asyncio.gather(*(ch.send_async(b"%d" % i, i) for i in range(6))))
            await asyncio.sleep(0.05)
            assert not sent.done() and ch.attrs.depth == 2
            got = []
            while len(got) < 6:
                got.append(await ch.recv_async())
            await sent
            return got

    got = run(main())
    assert sorted(got) == [(b"%d" % i, i) for i in range(6)]


def test_cancelled_receivers_lose_nothing(broker):
    async def main():
        with ipcbroker.open("jobs", recv=True) as rx, ipcbroker.open("jobs", send=True) as tx:
            tasks = [asyncio.create_task(rx.recv_async()) for _ in range(6)]
            await asyncio.sleep(0.02)
            for t in tasks[:3]:
                t.cancel()
            for i in range(3):
                tx.send(b"%d" % i)
            got = await asyncio.gather(*tasks[3:])
            assert all(t.cancelled() for t in tasks[:3])
            return sorted(m for m, _ in got), rx.attrs.depth

    got, left = run(main())
    assert got == [b"0", b"1", b"2"] and left == 0


def test_timeout_with_wait_for(broker):
    async def main():
        with ipcbroker.open("jobs", recv=True) as ch:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(ch.recv_async(), 0.1)
            # the cancelled wait left nothing registered behind
            assert not getattr(ch, "_waiters", {})

    run(main())


def test_fifo_and_batch_fifo(broker):
    """Held messages of a batch FIFO reach every waiter, though the descriptor does not show them."""

    # the packet FIFO's pipe holds 16 packets: 12 fit without waiting; the batch FIFO takes 20 in one packet
    counts = {"pipe": 12, "batched": 20}

    async def main():
        results = {}
        for name, n in counts.items():
            with ipcbroker.open(name, recv=True) as rx, ipcbroker.open(name, send=True) as tx:
                tasks = [asyncio.create_task(rx.recv_async()) for _ in range(n)]
                await asyncio.sleep(0.02)
                tx.send_many([b"%02d" % i for i in range(n)])
                results[name] = sorted(m for m, _ in await asyncio.gather(*tasks))
        return results

    results = run(main())
    for name, n in counts.items():
        assert results[name] == [b"%02d" % i for i in range(n)], name


def test_close_wakes_waiters(broker):
    async def main():
        ch = ipcbroker.open("jobs", recv=True)
        task = asyncio.create_task(ch.recv_async())
        await asyncio.sleep(0.02)
        ch.close()
        with pytest.raises(ValueError, match="closed"):
            await task

    run(main())

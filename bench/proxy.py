#!/usr/bin/env python3
"""Counting TCP proxy for bench/etcd.sh: forwards 127.0.0.1:LISTEN to TARGET_PORT on
loopback and counts the bytes in each direction, so kubectl and kubectl-apidiag are
measured the same way: bytes on the wire (TLS, after gzip), whatever the client does
inside.

    proxy.py LISTEN_PORT TARGET_PORT STATS_FILE
    kill -USR1 <pid>   write {"down": .., "up": .., "connections": ..} to STATS_FILE
    kill -USR2 <pid>   reset the counters
    kill -TERM <pid>   write the stats and stop
"""
import asyncio
import json
import signal
import sys

listen_port, target_port, stats_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
stats = {"down": 0, "up": 0, "connections": 0}


async def pipe(reader, writer, key):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            stats[key] += len(data)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(client_reader, client_writer):
    stats["connections"] += 1
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(
        pipe(client_reader, server_writer, "up"),
        pipe(server_reader, client_writer, "down"),
    )


def dump():
    with open(stats_file, "w") as f:
        json.dump(stats, f)


def reset():
    stats.update(down=0, up=0, connections=0)
    dump()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGUSR1, dump)
    loop.add_signal_handler(signal.SIGUSR2, reset)
    loop.add_signal_handler(signal.SIGTERM, lambda: stop.done() or stop.set_result(None))
    dump()
    async with server:
        await stop
    dump()


asyncio.run(main())

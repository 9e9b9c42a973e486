#!/usr/bin/python3
"""A Modbus TCP server from pymodbus (Debian's python3-pymodbus 3.0.0rc1), for integration tests:
a peer we did not write, serving register values from a JSON file.

    /usr/bin/python3 scripts/pymodbus-server.py --port 0 --registers regs.json [--host 127.0.0.1]

regs.json: { "<unit>": { "holding": { "<address>": <uint16 word>, ... }, "input": { ... } } }
Addresses are 0-based protocol addresses (register 0 = reference 40001/30001). Only the listed
registers exist: reading any other answers exception 02 (illegal data address). A unit id not in
the file gets no answer (pymodbus 3.0.0rc1's framer drops frames for unit ids it does not serve, so
its ignore_missing_slaves=False / exception 0x0B path is never reached). Prints "ready <port>" on
stdout once listening; exits 0 on SIGTERM/SIGINT.
"""
import argparse
import asyncio
import json
import logging
import signal
import sys

from pymodbus.datastore import ModbusServerContext, ModbusSlaveContext, ModbusSparseDataBlock
from pymodbus.server.async_io import ModbusTcpServer


def fail(message):
    print(f"pymodbus-server: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def load_registers(path):
    try:
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
    except (OSError, ValueError) as exc:
        fail(f"--registers {path}: {exc}")
    if not isinstance(spec, dict) or not spec:
        fail(f"--registers {path}: expected an object of unit ids, got {type(spec).__name__}")
    slaves = {}
    for unit_text, tables in spec.items():
        if not unit_text.isdigit() or not 0 <= int(unit_text) <= 255:
            fail(f'--registers {path}: unit "{unit_text}" is not a unit id 0..255')
        if not isinstance(tables, dict) or set(tables) - {"holding", "input"}:
            fail(f'--registers {path}: unit {unit_text} must be an object with "holding" and/or "input"')
        blocks = {}
        for table in ("holding", "input"):
            words = {}
            for addr_text, word in (tables.get(table) or {}).items():
                if not addr_text.isdigit() or int(addr_text) > 65535:
                    fail(f'--registers {path}: unit {unit_text} {table} address "{addr_text}" is not 0..65535')
                if not isinstance(word, int) or isinstance(word, bool) or not 0 <= word <= 0xFFFF:
                    fail(f"--registers {path}: unit {unit_text} {table} {addr_text} = {word!r} is not a uint16 word")
                words[int(addr_text)] = word
            # A sparse block: only the listed addresses validate, the rest answer exception 02.
            # (An empty dict would fall back to a full 0..65535 block in pymodbus, so give it an empty sparse block.)
            blocks[table] = ModbusSparseDataBlock(words)
        # zero_mode=True: protocol address N reads block address N. pymodbus' default (False) adds 1.
        slaves[int(unit_text)] = ModbusSlaveContext(
            hr=blocks["holding"], ir=blocks["input"],
            di=ModbusSparseDataBlock({}), co=ModbusSparseDataBlock({}), zero_mode=True,
        )
    return ModbusServerContext(slaves=slaves, single=False)


async def main():
    parser = argparse.ArgumentParser(description="pymodbus Modbus TCP server for tests")
    parser.add_argument("--port", type=int, default=0, help="TCP port (0 = a free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--registers", required=True, help="JSON file of register values per unit")
    parser.add_argument("--verbose", action="store_true", help="pymodbus debug log on stderr")
    args = parser.parse_args()
    if not 0 <= args.port <= 65535:
        fail(f"--port {args.port} is not 0..65535")
    # pymodbus.constants calls logging.basicConfig(level=WARNING) on import and logs every exception
    # response and every client disconnect at ERROR; set the level on the root logger instead.
    logging.getLogger().setLevel(logging.DEBUG if args.verbose else logging.CRITICAL)
    context = load_registers(args.registers)

    server = ModbusTcpServer(context, address=(args.host, args.port), allow_reuse_address=True)
    task = asyncio.create_task(server.serve_forever())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # serve_forever resolves server.serving once the socket is bound (or fails: then the task ends).
    done, _ = await asyncio.wait({server.serving, task}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        exc = task.exception()
        fail(f"cannot listen on {args.host}:{args.port}: {exc}")
    port = server.server.sockets[0].getsockname()[1]
    print(f"ready {port}", flush=True)
    await stop.wait()
    await server.shutdown()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except OSError as exc:
        fail(str(exc))

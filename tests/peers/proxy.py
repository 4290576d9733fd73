"""A `pproxy` proxy server for the async client's tests.

Usage: `proxy.py <uri>`, e.g. `socks5://127.0.0.1:0` or `http://127.0.0.1:0#user:pass`.
Listens on a free loopback port (port 0 in the URI), prints `PORT <n>`, then serves
until killed.
"""

import asyncio
import sys

import pproxy


async def main(uri):
    server = pproxy.Server(uri)
    handler = await server.start_server({"rserver": [], "verbose": lambda *_: None})
    print("PORT", handler.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))

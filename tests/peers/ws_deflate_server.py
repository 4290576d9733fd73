"""The Python `websockets` peer with permessage-deflate, for the compression tests.

Listens on a free loopback port, prints `PORT <n>`, then serves until killed with
`websockets`' default compression settings (permessage-deflate with 12-bit windows when
the client allows them, context takeover unless the client asks otherwise):
- `/extensions`: sends the `Sec-WebSocket-Extensions` header it answered with, then echoes;
- any other path: echoes every text and binary message back.
"""

import sys

from websockets.sync.server import serve


def handler(ws):
    if ws.request.path.startswith("/extensions"):
        ws.send(ws.response.headers.get("Sec-WebSocket-Extensions", ""))
    for message in ws:
        ws.send(message)


def main():
    with serve(handler, "127.0.0.1", 0, max_size=None, compression="deflate") as server:
        print("PORT", server.socket.getsockname()[1], flush=True)
        server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())

"""The Python `websockets` peer of the integration tests.

Listens on a free loopback port, prints `PORT <n>`, then serves until killed:
- any path: echoes every text and binary message back (subprotocol "chat" if offered);
- `/close`: closes at once with code 4000 and reason "python says bye";
- `/fragments`: sends the text message "fragmented message" in three fragments, then echoes.
"""

import sys

from websockets.sync.server import serve


def handler(ws):
    path = ws.request.path
    if path.startswith("/close"):
        ws.close(4000, "python says bye")
        return
    if path.startswith("/fragments"):
        ws.send(iter(["fragmented", " ", "message"]))
    for message in ws:
        ws.send(message)


def select_subprotocol(connection, subprotocols):
    return "chat" if "chat" in subprotocols else None


def main():
    with serve(
        handler,
        "127.0.0.1",
        0,
        select_subprotocol=select_subprotocol,
        max_size=None,
        compression=None,
    ) as server:
        print("PORT", server.socket.getsockname()[1], flush=True)
        server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())

// The Node `ws` peer of the integration tests (`npm install` in tests/peers, as .ci/run
// does). Listens on a free loopback port, prints `PORT <n>`, then serves until killed:
// - any path: echoes every text and binary message back (permessage-deflate accepted
//   when offered, subprotocol "chat" if offered);
// - `/close`: closes at once with code 4001 and reason "node says bye".
const { WebSocketServer } = require("ws");

const server = new WebSocketServer({
  host: "127.0.0.1",
  port: 0,
  perMessageDeflate: true,
  maxPayload: 0,
  handleProtocols: (protocols) => (protocols.has("chat") ? "chat" : false),
});
server.on("listening", () => console.log(`PORT ${server.address().port}`));
server.on("connection", (ws, request) => {
  if (request.url.startsWith("/close")) {
    ws.close(4001, "node says bye");
    return;
  }
  ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
});

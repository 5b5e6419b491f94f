// Socket.IO 4.8 peer for atrium-loadtest: the same fan-out semantics as an Atrium channel,
// with nothing else in the way (no auth, no persistence).
//
//   join(room, ack)          -> socket.join(room); ack()
//   pub(room, payload, ack)  -> io.to(room).emit("msg", payload); ack()
//
// WebSocket transport only (no long-polling upgrade dance), no per-message compression.
// Listens on 127.0.0.1 only; PORT (default 3100) chooses the port.
"use strict";

const http = require("http");
const { Server } = require("socket.io");

const port = Number(process.env.PORT || 3100);
const host = "127.0.0.1";

const httpServer = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
const io = new Server(httpServer, {
  transports: ["websocket"],
  serveClient: false,
  perMessageDeflate: false,
  httpCompression: false,
  maxHttpBufferSize: 1e6,
});

io.on("connection", (socket) => {
  socket.on("join", (room, ack) => {
    if (typeof room === "string") socket.join(room);
    if (typeof ack === "function") ack();
  });
  socket.on("pub", (room, payload, ack) => {
    if (typeof room === "string") io.to(room).emit("msg", payload);
    if (typeof ack === "function") ack();
  });
});

httpServer.listen(port, host, () => {
  console.log(`socket.io peer listening on ws://${host}:${port}/socket.io/`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    io.close();
    process.exit(0);
  });
}

// The end-to-end check the headless-browser test runs inside the page: one user on
// WebTransport, one on WebSocket, in the same channel; presence, typing and messages both ways;
// then datagram echoes, timed.

import { WebSocketConnection, WebTransportConnection } from "./atrium.js";

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * @param {object} params
 * @param {string} params.api   the node's HTTP base, e.g. `http://127.0.0.1:8080`
 * @param {{id: string, token: string}} params.wt  the user who connects over WebTransport
 * @param {{id: string, token: string}} params.ws  the user who connects over WebSocket
 * @param {string} params.channel  a channel both are members of
 * @param {number} params.echoes   datagram echoes to time
 */
export async function runScenario({ api, wt, ws, channel, echoes = 200 }) {
  const report = { steps: [] };
  const step = (name, detail = {}) => report.steps.push({ name, ...detail });

  const info = await (await fetch(`${api}/api/v1/webtransport`)).json();
  step("webtransport info", { url: info.url, hashBytes: info.cert_sha256.length / 2 });

  // WebSocket user first, so it sees the WebTransport user come online.
  const bob = await WebSocketConnection.open({ url: `${api.replace(/^http/, "ws")}/ws` });
  const bobWelcome = await bob.hello(ws.token, "atrium-web-test/ws");
  step("ws welcome", { user: bobWelcome.user });
  const bobSub = await bob.request({ t: "sub", ch: channel });
  step("ws sub", { lastSeq: bobSub.last_seq });

  const ann = await WebTransportConnection.open({ url: info.url, certSha256: info.cert_sha256 });
  const annWelcome = await ann.hello(wt.token, "atrium-web-test/wt");
  step("wt welcome", { user: annWelcome.user, heartbeatMs: annWelcome.heartbeat_ms });
  const annSub = await ann.request({ t: "sub", ch: channel });
  step("wt sub", { lastSeq: annSub.last_seq });

  const online = await bob.nextPush((f) => f.t === "presence" && f.user === wt.id);
  step("ws sees wt presence", { status: online.status });

  await ann.request({ t: "typing", ch: channel, on: true });
  const typing = await bob.nextPush((f) => f.t === "typing" && f.user === wt.id);
  step("ws sees wt typing", { on: typing.on });
  await bob.request({ t: "typing", ch: channel, on: true });
  const typingBack = await ann.nextPush((f) => f.t === "typing" && f.user === ws.id);
  step("wt sees ws typing", { on: typingBack.on });

  const sent = await ann.request({ t: "msg.send", ch: channel, body: "hello from WebTransport" });
  const atBob = await bob.nextPush((f) => f.t === "msg" && f.id === sent.id);
  step("wt → ws message", { seq: sent.seq, body: atBob.body, from: atBob.from });
  const reply = await bob.request({ t: "msg.send", ch: channel, body: "hello from WebSocket" });
  const atAnn = await ann.nextPush((f) => f.t === "msg" && f.id === reply.id);
  step("ws → wt message", { seq: reply.seq, body: atAnn.body, from: atAnn.from });
  const ownEcho = await ann.nextPush((f) => f.t === "msg" && f.id === sent.id);
  step("wt sees its own message", { seq: ownEcho.seq });

  // Datagrams: one echo at a time, each timed; a lost one is counted, not waited for forever.
  const rtts = [];
  let lost = 0;
  for (let n = 0; n < echoes; n++) {
    const started = performance.now();
    await ann.sendDatagram(["echo", n]);
    try {
      for (;;) {
        const answer = await ann.nextDatagram(1000);
        if (answer[0] === "echo" && answer[1] === n) break;
      }
      rtts.push(performance.now() - started);
    } catch {
      lost += 1;
    }
  }
  rtts.sort((a, b) => a - b);
  step("datagram echo", {
    count: rtts.length,
    lost,
    p50: percentile(rtts, 50),
    p90: percentile(rtts, 90),
    p99: percentile(rtts, 99),
    maxDatagramSize: ann.maxDatagramSize,
    api: typeof ann.session.datagrams.createWritable === "function" ? "createWritable" : "writable",
  });

  // The same ping over both control channels, for comparison.
  const pings = { wt: [], ws: [] };
  for (let i = 0; i < 50; i++) {
    for (const [name, conn] of [["wt", ann], ["ws", bob]]) {
      const started = performance.now();
      await conn.request({ t: "ping" });
      pings[name].push(performance.now() - started);
    }
  }
  for (const name of ["wt", "ws"]) pings[name].sort((a, b) => a - b);
  step("ping", { wtP50: percentile(pings.wt, 50), wsP50: percentile(pings.ws, 50) });

  ann.close();
  bob.close();
  return report;
}

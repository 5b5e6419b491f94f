// The page: connect with an access token (WebTransport when available, WebSocket otherwise),
// subscribe to a channel, send and show messages. `window.atrium` exposes the end-to-end
// scenario to the headless-browser test.

import { connect } from "./atrium.js";
import { runScenario } from "./scenario.js";

const $ = (id) => document.getElementById(id);
const log = (line) => {
  $("log").textContent += `${new Date().toISOString().slice(11, 23)} ${line}\n`;
};

let connection = null;

$("connect").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    connection = await connect({ api: $("api").value.replace(/\/$/, ""), token: $("token").value });
    log(`connected over ${connection.transport}`);
    const ok = await connection.request({ t: "sub", ch: $("channel").value });
    log(`subscribed; last seq ${ok.last_seq}`);
    (async () => {
      for (;;) {
        const frame = await connection.nextPush((f) => f.t === "msg", 2 ** 31 - 1);
        log(`#${frame.seq} ${frame.from.slice(-4)}: ${frame.body}`);
      }
    })().catch((error) => log(`stopped: ${error.message}`));
  } catch (error) {
    log(`failed: ${error.message}`);
  }
});

$("send").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!connection) return log("connect first");
  try {
    const body = $("body").value;
    $("body").value = "";
    await connection.request({ t: "msg.send", ch: $("channel").value, body });
  } catch (error) {
    log(`send failed: ${error.message}`);
  }
});

window.atrium = { runScenario };
window.atriumReady = true;

// Headless Chromium against a real node: the test starts the cargo-built `atrium` binary on free
// ports, serves this package's page, and runs `src/scenario.js` inside the browser — a
// WebTransport user and a WebSocket user chatting in one channel, then timed datagram echoes.
//
// Needs: the binary (`cargo build -p atrium`; found through ATRIUM_BIN, else
// $CARGO_TARGET_DIR/debug/atrium, else ../../target/debug/atrium) and Chromium (CHROMIUM_PATH,
// default /usr/bin/chromium). Run: `npm test` in clients/web.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, resolve, sep } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const webRoot = resolve(fileURLToPath(new URL("..", import.meta.url)));
const repoRoot = resolve(webRoot, "..", "..");
const STARTUP_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const ECHOES = 1000;

function atriumBinary() {
  const candidates = [
    process.env.ATRIUM_BIN,
    process.env.CARGO_TARGET_DIR && join(process.env.CARGO_TARGET_DIR, "debug", "atrium"),
    join(repoRoot, "target", "debug", "atrium"),
  ].filter(Boolean);
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new Error(`no atrium binary (tried ${candidates.join(", ")}); run \`cargo build -p atrium\``);
  }
  return found;
}

const CONTENT_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".map": "application/json",
};

/** Serves this package's files (page, sources, node_modules) on 127.0.0.1:<free port>. */
async function servePage() {
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
    const file = resolve(webRoot, `.${path === "/" ? "/index.html" : path}`);
    if (!file.startsWith(webRoot + sep)) {
      response.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      response
        .writeHead(200, { "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream" })
        .end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((ready) => server.listen(0, "127.0.0.1", ready));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/** Starts the node; resolves once its JSON log says where HTTP listens. */
async function startNode(dir, pageOrigin) {
  const config = join(dir, "atrium.toml");
  await writeFile(
    config,
    [
      'http_addr = "127.0.0.1:0"',
      `database_url = "sqlite://${join(dir, "atrium.db")}"`,
      "[log]",
      'format = "json"',
      "[http]",
      `cors_origins = ["${pageOrigin}"]`,
      // The test's echo loop runs far above a client's normal datagram rate.
      "[webtransport]",
      'addr = "127.0.0.1:0"',
      "datagram_rate_per_second = 1000000.0",
      "datagram_burst = 1000000.0",
      "",
    ].join("\n"),
  );
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("ATRIUM_")));
  const child = spawn(atriumBinary(), ["--config", config, "serve"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = [];
  child.stderr.on("data", (chunk) => output.push(chunk.toString()));
  const exited = new Promise((done) => child.on("exit", (code, signal) => done({ code, signal })));
  let timer;
  const listening = new Promise((found, failed) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      output.push(line);
      if (!line.startsWith("{")) return;
      const event = JSON.parse(line);
      if (event.message === "atrium node listening") found(`http://${event.http_addr}`);
    });
    exited.then(({ code }) => failed(new Error(`atrium exited (${code}) before listening:\n${output.join("\n")}`)));
    timer = setTimeout(
      () => failed(new Error(`atrium did not start in time:\n${output.join("\n")}`)),
      STARTUP_TIMEOUT_MS,
    );
  });
  try {
    return { child, exited, api: await listening, output };
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function stopNode(node) {
  node.child.kill("SIGTERM");
  const timer = setTimeout(() => node.child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  const result = await node.exited;
  clearTimeout(timer);
  return result;
}

async function post(api, path, body, token) {
  const response = await fetch(`${api}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  assert.ok(response.ok, `${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function register(api, username) {
  const body = await post(api, "/api/v1/auth/register", {
    username,
    email: `${username}@example.com`,
    password: "correct horse battery staple",
  });
  return { id: body.user.id, token: body.access_token };
}

test("a browser chats over WebTransport with a WebSocket user, and datagrams echo", { timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "atrium-browser-"));
  const page = await servePage();
  const node = await startNode(dir, page.origin);
  let context;
  try {
    const ann = await register(node.api, "ann");
    const bob = await register(node.api, "bob");
    const channel = await post(node.api, "/api/v1/channels", { name: "browser-test", kind: "group" }, ann.token);
    await post(node.api, `/api/v1/channels/${channel.id}/members`, { user_id: bob.id }, ann.token);

    context = await chromium.launchPersistentContext(join(dir, "chromium-profile"), {
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
      // `--headless=new` is passed explicitly, as a person would start it.
      headless: false,
      args: [
        "--headless=new",
        "--no-sandbox",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    const tab = context.pages()[0] ?? (await context.newPage());
    const problems = [];
    tab.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    tab.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    await tab.goto(`${page.origin}/`);
    await tab.waitForFunction(() => window.atriumReady === true, null, { timeout: 30_000 });
    const version = context.browser()?.version() ?? (await tab.evaluate(() => navigator.userAgent));

    const report = await tab.evaluate(
      (params) => window.atrium.runScenario(params),
      { api: node.api, wt: ann, ws: bob, channel: channel.id, echoes: ECHOES },
    );
    const steps = Object.fromEntries(report.steps.map((s) => [s.name, s]));

    assert.equal(steps["webtransport info"].hashBytes, 32);
    assert.equal(steps["wt welcome"].user, ann.id);
    assert.equal(steps["ws welcome"].user, bob.id);
    assert.equal(steps["ws sees wt presence"].status, "online");
    assert.equal(steps["ws sees wt typing"].on, true);
    assert.equal(steps["wt sees ws typing"].on, true);
    assert.deepEqual(
      [steps["wt → ws message"].seq, steps["wt → ws message"].body, steps["wt → ws message"].from],
      [1, "hello from WebTransport", ann.id],
    );
    assert.deepEqual(
      [steps["ws → wt message"].seq, steps["ws → wt message"].body, steps["ws → wt message"].from],
      [2, "hello from WebSocket", bob.id],
    );
    assert.equal(steps["wt sees its own message"].seq, 1);
    const echo = steps["datagram echo"];
    assert.ok(echo.count >= ECHOES * 0.99, `datagram echoes came back: ${echo.count}/${ECHOES} (${echo.lost} lost)`);
    assert.deepEqual(problems, []);

    const ms = (x) => x.toFixed(3);
    t.diagnostic(`browser: ${version}; datagram API: ${echo.api}; max datagram ${echo.maxDatagramSize} B`);
    t.diagnostic(
      `datagram echo round trip, browser → engine → browser, n=${echo.count}, lost ${echo.lost}: ` +
        `p50 ${ms(echo.p50)} ms, p90 ${ms(echo.p90)} ms, p99 ${ms(echo.p99)} ms`,
    );
    t.diagnostic(`ping round trip p50: WebTransport ${ms(steps.ping.wtP50)} ms, WebSocket ${ms(steps.ping.wsP50)} ms`);
  } finally {
    await context?.close();
    const stopped = await stopNode(node);
    page.server.close();
    await rm(dir, { recursive: true, force: true });
    assert.deepEqual(stopped, { code: 0, signal: null }, `atrium stopped cleanly:\n${node.output.slice(-20).join("\n")}`);
  }
});

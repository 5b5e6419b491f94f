// The Atrium browser client: `atrium.v1` frames (MessagePack maps) over WebTransport, or over
// WebSocket where WebTransport is unavailable. docs/protocol.md is the specification.
//
// Both transports end in the same `Connection`: `request(frame)` resolves with the reply that
// echoes the frame's `rid`; pushes (frames without `rid`) are queued for `nextPush(predicate)`.

import { decode, encode } from "@msgpack/msgpack";

export const SUBPROTOCOL = "atrium.v1";
/** Bytes of the control stream's length prefix (unsigned 32-bit, big-endian). */
export const PREFIX_BYTES = 4;
/** The server's default frame limit; larger replies are refused rather than buffered. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** How long a request or an awaited push may take before it fails. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** `"a1b2…"` (64 hex digits) → the 32 bytes `serverCertificateHashes` wants. */
export function hexToBytes(hex) {
  if (!/^([0-9a-f]{2})+$/i.test(hex)) throw new Error(`not hex: ${hex}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** One frame with its length prefix, ready for the control stream. */
export function framed(frame) {
  const body = encode(frame);
  const out = new Uint8Array(PREFIX_BYTES + body.length);
  new DataView(out.buffer).setUint32(0, body.length, false);
  out.set(body, PREFIX_BYTES);
  return out;
}

/**
 * Splits a byte stream into length-prefixed frames. Feed it chunks as they arrive; it returns
 * every frame completed so far (a chunk may end mid-prefix or mid-frame).
 */
export class FrameSplitter {
  constructor(maxFrameBytes = MAX_FRAME_BYTES) {
    this.max = maxFrameBytes;
    this.buffer = new Uint8Array(0);
  }

  push(chunk) {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    const frames = [];
    let at = 0;
    while (joined.length - at >= PREFIX_BYTES) {
      const len = new DataView(joined.buffer, at, PREFIX_BYTES).getUint32(0, false);
      if (len > this.max) throw new Error(`the server announced a ${len}-byte frame`);
      if (joined.length - at - PREFIX_BYTES < len) break;
      frames.push(joined.subarray(at + PREFIX_BYTES, at + PREFIX_BYTES + len));
      at += PREFIX_BYTES + len;
    }
    this.buffer = joined.slice(at);
    return frames;
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What both transports share: request/reply matching and the push queue. */
export class Connection {
  constructor(transport) {
    this.transport = transport;
    this.nextRid = 0;
    this.replies = new Map();
    this.pushes = [];
    this.pushWaiters = [];
    this.closed = false;
    this.closeReason = null;
  }

  /** Sends `frame` (its `rid` is filled in) and resolves with the reply; `err` rejects. */
  async request(frame, timeoutMs = DEFAULT_TIMEOUT_MS) {
    this.nextRid = (this.nextRid + 1) >>> 0;
    const rid = this.nextRid;
    const reply = new Promise((resolve) => this.replies.set(rid, resolve));
    await this.sendFrame({ ...frame, rid });
    const answer = await withTimeout(reply, timeoutMs, `reply to ${frame.t}`);
    if (answer.t === "err") {
      const error = new Error(`${frame.t}: ${answer.code}: ${answer.message}`);
      error.code = answer.code;
      throw error;
    }
    return answer;
  }

  /** `hello`: resolves with `welcome`. */
  hello(token, client = "atrium-web/0.1") {
    return this.request({ t: "hello", token, client });
  }

  /** The first queued or future push that `want` accepts (others stay queued). */
  nextPush(want, timeoutMs = DEFAULT_TIMEOUT_MS) {
    const index = this.pushes.findIndex(want);
    if (index >= 0) return Promise.resolve(this.pushes.splice(index, 1)[0]);
    const found = new Promise((resolve) => this.pushWaiters.push({ want, resolve }));
    return withTimeout(found, timeoutMs, "a push");
  }

  /** Called by the transport for each decoded frame. */
  onFrame(frame) {
    if (frame.rid !== undefined && this.replies.has(frame.rid)) {
      const resolve = this.replies.get(frame.rid);
      this.replies.delete(frame.rid);
      resolve(frame);
      return;
    }
    if (frame.t === "bye") this.closeReason = frame.code;
    const waiter = this.pushWaiters.findIndex((w) => w.want(frame));
    if (waiter >= 0) {
      this.pushWaiters.splice(waiter, 1)[0].resolve(frame);
    } else {
      this.pushes.push(frame);
    }
  }

  onClosed() {
    this.closed = true;
  }
}

/** A WebTransport session: control stream for frames, datagrams beside it. */
export class WebTransportConnection extends Connection {
  static async open({ url, certSha256, timeoutMs = DEFAULT_TIMEOUT_MS }) {
    if (typeof WebTransport === "undefined") throw new Error("this browser has no WebTransport");
    const options = certSha256
      ? { serverCertificateHashes: [{ algorithm: "sha-256", value: hexToBytes(certSha256) }] }
      : {};
    const transport = new WebTransport(url, options);
    await withTimeout(transport.ready, timeoutMs, `WebTransport session to ${url}`);
    const stream = await transport.createBidirectionalStream();
    const connection = new WebTransportConnection(transport, stream);
    connection.readLoop();
    return connection;
  }

  constructor(transport, stream) {
    super("webtransport");
    this.session = transport;
    this.writer = stream.writable.getWriter();
    this.reader = stream.readable.getReader();
    // Chromium 156 exposes `datagrams.writable`; the current spec has `createWritable()`.
    const datagrams = transport.datagrams;
    const writable =
      typeof datagrams.createWritable === "function" ? datagrams.createWritable() : datagrams.writable;
    this.datagramWriter = writable.getWriter();
    this.datagramReader = datagrams.readable.getReader();
    this.maxDatagramSize = datagrams.maxDatagramSize;
  }

  async readLoop() {
    const splitter = new FrameSplitter();
    try {
      for (;;) {
        const { value, done } = await this.reader.read();
        if (done) break;
        for (const bytes of splitter.push(value)) this.onFrame(decode(bytes));
      }
    } catch {
      // The session ended; `closed` says so.
    }
    this.onClosed();
  }

  sendFrame(frame) {
    return this.writer.write(framed(frame));
  }

  sendDatagram(value) {
    return this.datagramWriter.write(encode(value));
  }

  /** The next datagram from the server, decoded. */
  async nextDatagram(timeoutMs = DEFAULT_TIMEOUT_MS) {
    const { value, done } = await withTimeout(this.datagramReader.read(), timeoutMs, "a datagram");
    if (done) throw new Error("datagrams closed");
    return decode(value);
  }

  close() {
    this.session.close();
  }
}

/** The fallback: one binary WebSocket message per frame. */
export class WebSocketConnection extends Connection {
  static async open({ url, timeoutMs = DEFAULT_TIMEOUT_MS }) {
    const socket = new WebSocket(url, SUBPROTOCOL);
    socket.binaryType = "arraybuffer";
    await withTimeout(
      new Promise((resolve, reject) => {
        socket.onopen = resolve;
        socket.onerror = () => reject(new Error(`WebSocket to ${url} failed`));
      }),
      timeoutMs,
      `WebSocket to ${url}`,
    );
    return new WebSocketConnection(socket);
  }

  constructor(socket) {
    super("websocket");
    this.socket = socket;
    socket.onmessage = (event) => this.onFrame(decode(new Uint8Array(event.data)));
    socket.onclose = () => this.onClosed();
  }

  async sendFrame(frame) {
    this.socket.send(encode(frame));
  }

  close() {
    this.socket.close();
  }
}

/**
 * Connects the way a real client would: WebTransport when the browser has it and the node
 * announces it (`GET /api/v1/webtransport`), WebSocket otherwise.
 */
export async function connect({ api, token }) {
  if (typeof WebTransport !== "undefined") {
    const response = await fetch(`${api}/api/v1/webtransport`);
    if (response.ok) {
      const { url, cert_sha256: certSha256 } = await response.json();
      const connection = await WebTransportConnection.open({ url, certSha256 });
      await connection.hello(token);
      return connection;
    }
  }
  const ws = `${api.replace(/^http/, "ws")}/ws`;
  const connection = await WebSocketConnection.open({ url: ws });
  await connection.hello(token);
  return connection;
}

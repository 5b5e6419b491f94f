// The control-stream framing of src/atrium.js, without a browser: the bytes match
// docs/protocol.md, and frames survive any chunking.

import assert from "node:assert/strict";
import { test } from "node:test";

import { decode } from "@msgpack/msgpack";

import { FrameSplitter, framed, hexToBytes } from "../src/atrium.js";

test("a framed ping is the documented bytes", () => {
  const bytes = framed({ t: "ping", rid: 2 });
  assert.deepEqual(
    [...bytes],
    [0x00, 0x00, 0x00, 0x0d, 0x82, 0xa1, 0x74, 0xa4, 0x70, 0x69, 0x6e, 0x67, 0xa3, 0x72, 0x69, 0x64, 0x02],
  );
});

test("frames are recovered whatever the chunking", () => {
  const frames = [{ t: "pong", rid: 1 }, { t: "ok", rid: 2, last_seq: 40 }, { t: "bye", code: "timeout", message: "x".repeat(300) }];
  const stream = Uint8Array.from(frames.flatMap((f) => [...framed(f)]));
  for (const size of [1, 2, 3, 5, 17, stream.length]) {
    const splitter = new FrameSplitter();
    const seen = [];
    for (let at = 0; at < stream.length; at += size) {
      for (const bytes of splitter.push(stream.subarray(at, at + size))) seen.push(decode(bytes));
    }
    assert.deepEqual(seen, frames, `chunks of ${size}`);
  }
});

test("an announced frame over the limit is refused before it is buffered", () => {
  const splitter = new FrameSplitter(16);
  assert.throws(() => splitter.push(Uint8Array.from([0, 0, 0, 17])), /17-byte frame/);
});

test("hex hashes become bytes", () => {
  assert.deepEqual([...hexToBytes("00ff10")], [0, 255, 16]);
  assert.throws(() => hexToBytes("xyz"));
});

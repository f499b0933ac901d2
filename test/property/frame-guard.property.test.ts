// The frame guard reads MQTT headers from arbitrarily split TCP chunks: generated packet streams,
// cut anywhere, must pass untouched (and topics be seen); any packet over the limit is refused
// on its header; arbitrary bytes never throw.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { createFrameGuard } from '../../src/broker/frame-guard.js';
import { fuzzParams } from '../helpers/fuzz.js';

const packet = fc.oneof(
  fc.record({ topic: fc.stringMatching(/^[a-z/]{1,20}$/), payload: fc.uint8Array({ maxLength: 300 }), qos: fc.constantFrom(0, 1, 2) }).map(
    (p) => ({ bytes: mqttPacket.generate({ cmd: 'publish', topic: p.topic, payload: Buffer.from(p.payload), qos: p.qos as 0 | 1 | 2, messageId: p.qos ? 1 : undefined, dup: false, retain: false } as mqttPacket.IPublishPacket), topic: p.topic }),
  ),
  fc.constant({ bytes: mqttPacket.generate({ cmd: 'pingreq' }), topic: undefined }),
  fc.integer({ min: 1, max: 65535 }).map((id) => ({ bytes: mqttPacket.generate({ cmd: 'pubrel', messageId: id }), topic: undefined })),
);

/** Cuts `bytes` at the given fractions. */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...at, bytes.length]) {
    if (p > prev) out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

describe('property: MQTT frame guard', () => {
  it('valid packet streams, split anywhere, pass; every topic in the header chunk is seen', () => {
    fc.assert(
      fc.property(fc.array(packet, { minLength: 1, maxLength: 30 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }), (packets, cuts) => {
        const seen: string[] = [];
        const g = createFrameGuard({ maxPacketBytes: 1024, onPublishTopic: (t) => seen.push(t) });
        for (const chunk of split(Buffer.concat(packets.map((p) => p.bytes)), cuts)) expect(g.feed(chunk)).toBeUndefined();
        const topics = packets.flatMap((p) => (p.topic === undefined ? [] : [p.topic]));
        // A topic split from its header is not reported; none is reported wrongly.
        for (const t of seen) expect(topics).toContain(t);
        if (cuts.length === 0) expect(seen).toEqual(topics);
      }),
      fuzzParams(300),
    );
  });
  it('a packet over the limit is refused on its header, whatever came before', () => {
    fc.assert(
      fc.property(fc.array(packet, { maxLength: 5 }), fc.integer({ min: 2000, max: 268_435_455 }), (before, declared) => {
        const g = createFrameGuard({ maxPacketBytes: 1024 });
        let len = declared;
        const varint: number[] = [];
        do {
          let b = len % 128;
          len = Math.floor(len / 128);
          if (len > 0) b |= 0x80;
          varint.push(b);
        } while (len > 0);
        const verdicts = [Buffer.concat(before.map((p) => p.bytes)), Buffer.from([0x30, ...varint])].map((c) => g.feed(c));
        expect(verdicts[0]).toBeUndefined();
        expect(verdicts[1]).toEqual({ reason: 'packet-too-large', declared: declared + 1 + varint.length });
      }),
      fuzzParams(300),
    );
  });
  it('arbitrary bytes never throw', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
        const g = createFrameGuard({ maxPacketBytes: 4096, onPublishTopic: () => undefined, onPubrel: () => undefined });
        for (const c of chunks) if (g.feed(c)) break;
      }),
      fuzzParams(300),
    );
  });
});

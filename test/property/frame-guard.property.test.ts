// The frame guard reads MQTT headers from arbitrarily split TCP chunks: generated packet streams,
// cut anywhere, must pass untouched, with every forbidden topic and every PUBREL id seen however
// the bytes were split; any packet over the limit is refused on its header, at the right offset;
// arbitrary bytes never throw.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { createFrameGuard } from '../../src/broker/frame-guard.js';
import { fuzzParams } from '../helpers/fuzz.js';

interface Gen {
  bytes: Buffer;
  badTopic?: string;
  pubrel?: number;
}

const publish = (topic: string, payload: Uint8Array, qos: 0 | 1 | 2) =>
  mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.from(payload), qos, messageId: qos ? 1 : undefined, dup: false, retain: false } as mqttPacket.IPublishPacket);

const packet: fc.Arbitrary<Gen> = fc.oneof(
  fc.record({ topic: fc.stringMatching(/^[a-z/]{1,20}$/), payload: fc.uint8Array({ maxLength: 300 }), qos: fc.constantFrom<0 | 1 | 2>(0, 1, 2) }).map((p) => ({ bytes: publish(p.topic, p.payload, p.qos) })),
  fc.record({ topic: fc.constantFrom('a/+/b', 'sensors/#', '+', 'x/'.repeat(120) + 'y'), payload: fc.uint8Array({ maxLength: 50 }) }).map((p) => ({ bytes: publish(p.topic, p.payload, 1), badTopic: p.topic })),
  fc.constant({ bytes: mqttPacket.generate({ cmd: 'pingreq' }) }),
  fc.integer({ min: 1, max: 65535 }).map((id) => ({ bytes: mqttPacket.generate({ cmd: 'pubrel', messageId: id }), pubrel: id })),
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
  it('valid packet streams, split anywhere, pass; every forbidden topic and PUBREL id is seen', () => {
    fc.assert(
      fc.property(fc.array(packet, { minLength: 1, maxLength: 30 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 }), (packets, cuts) => {
        const bad: string[] = [];
        const pubrels: number[] = [];
        const g = createFrameGuard({ maxPacketBytes: 1024, onBadTopic: (t) => bad.push(t), onPubrel: (id) => pubrels.push(id) });
        for (const chunk of split(Buffer.concat(packets.map((p) => p.bytes)), cuts)) expect(g.feed(chunk)).toBeUndefined();
        expect(bad).toEqual(packets.flatMap((p) => (p.badTopic === undefined ? [] : [p.badTopic])));
        expect(pubrels).toEqual(packets.flatMap((p) => (p.pubrel === undefined ? [] : [p.pubrel])));
      }),
      fuzzParams(300),
    );
  });
  it('a packet over the limit is refused on its header, at its offset, whatever came before', () => {
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
        const prefix = Buffer.concat(before.map((p) => p.bytes));
        const v = g.feed(Buffer.concat([prefix, Buffer.from([0x30, ...varint])]));
        expect(v).toEqual({ reason: 'packet-too-large', declared: declared + 1 + varint.length, type: 3, offset: prefix.length });
      }),
      fuzzParams(300),
    );
  });
  it('arbitrary bytes never throw', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
        const g = createFrameGuard({ maxPacketBytes: 4096, onBadTopic: () => undefined, onPubrel: () => undefined });
        for (const c of chunks) if (g.feed(c)) break;
      }),
      fuzzParams(300),
    );
  });
});

// Reads MQTT frame headers as bytes arrive, before any packet is buffered: a packet declaring
// more than the limit is refused on its first bytes (aedes' parser would otherwise buffer up to
// 256 MB of it). Pure and incremental: chunks in, a verdict out. Only fixed headers (and a
// PUBLISH topic, when it lies in the chunk) are looked at; bodies are skipped by count.

export type FrameVerdict =
  | { reason: 'packet-too-large'; declared: number }
  | { reason: 'malformed'; detail: string };

export interface FrameGuard {
  /** undefined: carry on; a verdict: close the connection. */
  feed(chunk: Uint8Array): FrameVerdict | undefined;
}

/** MQTT's own limit on a remaining length (4 length bytes). */
const MAX_REMAINING = 268_435_455;
const PUBLISH = 3;
const PUBREL = 6;

export interface FrameGuardOptions {
  /** Largest whole packet (fixed header included) in bytes. */
  maxPacketBytes: number;
  /** Each PUBLISH topic whose bytes arrived in the same chunk as its header. */
  onPublishTopic?: (topic: string) => void;
  /** Each PUBREL's message id (a QoS 2 exchange ends; the id may be used again). */
  onPubrel?: (messageId: number) => void;
}

export function createFrameGuard(o: FrameGuardOptions): FrameGuard {
  let skip = 0; // body bytes of the current packet still to pass
  const header: number[] = [];
  return {
    feed(chunk) {
      let i = 0;
      while (i < chunk.length) {
        if (skip > 0) {
          const n = Math.min(skip, chunk.length - i);
          i += n;
          skip -= n;
          continue;
        }
        header.push(chunk[i++]!);
        if (header.length === 1) continue;
        if (header[header.length - 1]! & 0x80) {
          if (header.length === 5) return { reason: 'malformed', detail: 'remaining length longer than 4 bytes' };
          continue;
        }
        let length = 0;
        for (let k = header.length - 1; k >= 1; k--) length = length * 128 + (header[k]! & 0x7f);
        if (length > MAX_REMAINING) return { reason: 'malformed', detail: 'remaining length out of range' };
        if (length + header.length > o.maxPacketBytes) return { reason: 'packet-too-large', declared: length + header.length };
        if (o.onPublishTopic && header[0]! >> 4 === PUBLISH && i + 2 <= chunk.length) {
          const topicLength = (chunk[i]! << 8) | chunk[i + 1]!;
          if (topicLength <= length - 2 && i + 2 + topicLength <= chunk.length) o.onPublishTopic(Buffer.from(chunk.buffer, chunk.byteOffset + i + 2, topicLength).toString('utf8'));
        }
        if (o.onPubrel && header[0]! >> 4 === PUBREL && i + 2 <= chunk.length) o.onPubrel((chunk[i]! << 8) | chunk[i + 1]!);
        skip = length;
        header.length = 0;
      }
      return undefined;
    },
  };
}

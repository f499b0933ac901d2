// Reads MQTT frame headers as bytes arrive, before any packet is buffered: a packet declaring
// more than the limit is refused on its first bytes (aedes' parser would otherwise buffer up to
// 256 MB of it). Pure and incremental: chunks in, a verdict out. Only fixed headers, a PUBLISH's
// topic and a PUBREL's message id are looked at (collected across chunks when split, bounded by
// the packet size limit); bodies are skipped by count.

export type FrameVerdict =
  | { reason: 'packet-too-large'; declared: number; type: number; offset: number }
  | { reason: 'malformed'; detail: string; offset: number };

export interface FrameGuard {
  /**
   * undefined: pass the whole chunk on. A verdict: close the connection; `offset` is where the
   * offending packet starts in this chunk (the whole packets before it may still be read).
   */
  feed(chunk: Uint8Array): FrameVerdict | undefined;
}

/** MQTT's own limit on a remaining length (4 length bytes). */
const MAX_REMAINING = 268_435_455;
const PUBLISH = 3;
const PUBREL = 6;
const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;
/** aedes (and its topic matcher) refuse more levels than this. */
const MAX_LEVELS = 100;

export interface FrameGuardOptions {
  /** Largest whole packet (fixed header included) in bytes. */
  maxPacketBytes: number;
  /** A PUBLISH topic MQTT forbids (a wildcard, too many levels), and why. */
  onBadTopic?: (topic: string, problem: string) => void;
  /** Each PUBREL's message id (a QoS 2 exchange ends; the id may be used again). */
  onPubrel?: (messageId: number) => void;
}

/** Why MQTT forbids a PUBLISH topic given as bytes, or undefined. No allocation when fine. */
export function topicBytesProblem(b: Uint8Array, from: number, to: number): string | undefined {
  if (to <= from) return 'empty topic';
  let levels = 1;
  for (let k = from; k < to; k++) {
    const c = b[k]!;
    if (c === SLASH) levels++;
    else if (c === PLUS || c === HASH) return 'wildcard (+ or #) in a PUBLISH topic';
  }
  return levels > MAX_LEVELS ? `topic has ${levels} levels (at most ${MAX_LEVELS})` : undefined;
}

export function createFrameGuard(o: FrameGuardOptions): FrameGuard {
  let skip = 0; // body bytes of the current packet still to pass
  const header: number[] = [];
  // Leading body bytes of the current packet to look at: a PUBREL's id (2 bytes), or a
  // PUBLISH's topic length (2) and then its topic.
  let what: 'none' | 'pubrel' | 'topic-length' | 'topic' = 'none';
  let want = 0;
  let got: number[] = [];

  const looked = (bytes: Uint8Array, from: number, to: number) => {
    if (what === 'pubrel') o.onPubrel?.((bytes[from]! << 8) | bytes[from + 1]!);
    else if (what === 'topic-length') {
      // Now the topic itself (within the packet's remaining bytes).
      want = Math.min((bytes[from]! << 8) | bytes[from + 1]!, skip);
      what = 'topic';
      if (want > 0) return;
      o.onBadTopic?.('', 'empty topic');
    } else {
      const problem = topicBytesProblem(bytes, from, to);
      if (problem) o.onBadTopic?.(Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('utf8'), problem);
    }
    what = 'none';
    want = 0;
  };

  return {
    feed(chunk) {
      let i = 0;
      let start = 0; // where the current packet began in this chunk
      while (i < chunk.length) {
        if (skip > 0) {
          if (what !== 'none' && want > 0) {
            const need = want - got.length;
            if (got.length === 0 && need <= Math.min(skip, chunk.length - i)) {
              // All in this chunk (the common case): look in place.
              const from = i;
              i += need;
              skip -= need;
              looked(chunk, from, i);
            } else {
              const n = Math.min(need, skip, chunk.length - i);
              for (let k = 0; k < n; k++) got.push(chunk[i + k]!);
              i += n;
              skip -= n;
              if (got.length === want) {
                const bytes = Uint8Array.from(got);
                got = [];
                looked(bytes, 0, bytes.length);
              }
            }
            if (skip === 0) what = 'none';
            continue;
          }
          const n = Math.min(skip, chunk.length - i);
          i += n;
          skip -= n;
          continue;
        }
        if (header.length === 0) start = i;
        header.push(chunk[i++]!);
        if (header.length === 1) continue;
        if (header[header.length - 1]! & 0x80) {
          if (header.length === 5) return { reason: 'malformed', detail: 'remaining length longer than 4 bytes', offset: start };
          continue;
        }
        let length = 0;
        for (let k = header.length - 1; k >= 1; k--) length = length * 128 + (header[k]! & 0x7f);
        const type = header[0]! >> 4;
        if (length > MAX_REMAINING) return { reason: 'malformed', detail: 'remaining length out of range', offset: start };
        if (length + header.length > o.maxPacketBytes) return { reason: 'packet-too-large', declared: length + header.length, type, offset: start };
        header.length = 0;
        skip = length;
        got = [];
        want = 2;
        what = length < 2 ? 'none' : type === PUBLISH && o.onBadTopic ? 'topic-length' : type === PUBREL && o.onPubrel ? 'pubrel' : 'none';
      }
      return undefined;
    },
  };
}

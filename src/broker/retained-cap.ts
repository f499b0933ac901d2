// Retained messages kept by the local broker, bounded in count and bytes: past either bound a
// new retained topic is passed on as an ordinary message (not kept), so 10,000 retained topics
// cannot grow memory without limit or make each new subscription scan them all.

export interface RetainedCap {
  /** Whether a retained publish of `bytes` on `topic` may be kept; an empty one clears the topic. */
  admit(topic: string, bytes: number): boolean;
  readonly count: number;
  readonly bytes: number;
}

export function createRetainedCap(maxCount: number, maxBytes: number): RetainedCap {
  const kept = new Map<string, number>();
  let total = 0;
  return {
    admit(topic, bytes) {
      const before = kept.get(topic);
      if (bytes === 0) {
        if (before !== undefined) total -= before;
        kept.delete(topic);
        return true;
      }
      const next = total - (before ?? 0) + bytes;
      if ((before === undefined && kept.size >= maxCount) || next > maxBytes) return false;
      kept.set(topic, bytes);
      total = next;
      return true;
    },
    get count() {
      return kept.size;
    },
    get bytes() {
      return total;
    },
  };
}

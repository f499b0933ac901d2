// Detector warm-up for health: how many detectors learn, how many still warm up, and the
// `limit` least advanced. Runs with every health report: no allocation per detector, the least
// advanced kept in a small sorted list (ties: sensor, then detector type).

export interface Learning {
  detectors: number;
  learning: number;
  least: Array<{ sensor: string; detector: string; progress: number }>;
}

type Item = Learning['least'][number];

const before = (a: Item, b: Item) => a.progress < b.progress || (a.progress === b.progress && (a.sensor < b.sensor || (a.sensor === b.sensor && a.detector < b.detector)));

export function learningReport(limit: number): { consider(sensor: string, detector: string, learned: number): void; result(): Learning } {
  let detectors = 0;
  let learning = 0;
  const least: Item[] = [];
  return {
    consider(sensor, detector, learned) {
      detectors++;
      if (learned >= 1) return;
      learning++;
      if (limit <= 0) return;
      const progress = Math.floor(learned * 100) / 100;
      if (least.length >= limit && !before({ sensor, detector, progress }, least[least.length - 1]!)) return;
      const item = { sensor, detector, progress };
      let i = least.length;
      while (i > 0 && before(item, least[i - 1]!)) i--;
      least.splice(i, 0, item);
      if (least.length > limit) least.pop();
    },
    result: () => ({ detectors, learning, least }),
  };
}

// Novelty: how rare a reading is in the sensor's own history, and how far it is from the
// sensor's usual value at that time of day; the benchmark-scored default detector.
// - value rarity: the share p of all earlier readings at or beyond this one (whichever tail is
//   smaller), from fixed log bins (tail-counter.ts); a value past everything seen has p ~ 0;
// - daily rarity: the same for |value - usual value at this time of day| (daily-profile.ts),
//   among earlier such differences (one-sided), once they have two `learnFor` of history of
//   their own (the profile must settle first);
// - score = max(s_value, 0.9 s_daily) / 6, with s = -log10(p) (0.5 means one in a thousand).
//   Past everything seen, p = 1 / (10 n) for a leap, 1 / n_eff for a value edging past (n_eff:
//   what n readings that follow each other closely are worth; serial-correlation.ts).
// Causal, fixed memory (about 10 KB a sensor), O(log bins) per reading. No global min or max
// is needed in advance: history is the only reference.
import { round, WARMING_UP, type ScoreCore } from './detector.js';
import { binOf, createTailCounter, surprise, type SavedTailCounter } from './tail-counter.js';
import { createDailyProfile } from './daily-profile.js';
import { createSerialCorrelation, type SavedSerialCorrelation } from './serial-correlation.js';

export interface NoveltyOptions {
  /** Readings before the first verdict. */
  minSamples: number;
  /** ms of history (event time) before the first verdict: a day shows a daily signal's range. */
  learnFor: number;
  /** Also compare with the usual value at this time of day. */
  daily: boolean;
  /** Readings after which a reading's weight in history has halved (0: history never fades). */
  halfLife: number;
  /** Weight with which a reading at or above `threshold` joins history (1: like any other). */
  rareWeight: number;
  /** The score that makes a reading anomalous (the gate's threshold). */
  threshold: number;
  /**
   * How far past the extremes seen (as a share of their range) a value must be to count as the
   * rarest there is, one in 10 n; just past them it counts as one in n_eff (n, or fewer when
   * readings follow each other closely), and never less rare than the outermost bin.
   */
  extremeMargin: number;
}

const DAILY_WEIGHT = 0.9;
const SCALE = 6; // log10 units for score 1
const PROFILE_ALPHA = 0.2; // weight of each new day in the daily profile
const RESIDUAL_LEARN_DAYS = 2;
const DAY_MS = 86_400_000; // the distances from the daily profile learn for two days at least, whatever learnFor says

interface Saved {
  since: number | null;
  /** Readings seen (older checkpoints: the count in `values`). */
  seen?: number;
  /** The lowest and highest readings ever (exact; older checkpoints lack them). */
  lo?: number | null;
  hi?: number | null;
  /** The latest reading's time (older checkpoints lack it). */
  latest?: number;
  residualsSince: number | null;
  values: SavedTailCounter | Array<[number, number]>;
  residuals: SavedTailCounter | Array<[number, number]>;
  profile: number[];
  /** How closely readings follow each other (older checkpoints lack it: learned afresh). */
  serial?: SavedSerialCorrelation;
}

export function noveltyCore({ minSamples, learnFor, daily, halfLife, rareWeight, threshold, extremeMargin }: NoveltyOptions, saved?: unknown): ScoreCore {
  const st = saved as Saved | undefined;
  let since = st?.since ?? null;
  let residualsSince = st?.residualsSince ?? null;
  const decay = halfLife > 0 ? 2 ** (-1 / halfLife) : 1;
  const values = createTailCounter(st?.values, decay);
  const residuals = createTailCounter(st?.residuals, decay);
  let seen = st?.seen ?? values.n;
  let lo = st?.lo ?? null;
  let hi = st?.hi ?? null;
  const profile = createDailyProfile(PROFILE_ALPHA, st?.profile);
  const serial = createSerialCorrelation(st?.serial);
  const last = { value: 0, n: 0, share: 1, above: true, usual: NaN, residualShare: 1, byTime: false };
  let latest = st?.latest ?? since ?? 0;
  return {
    save: (): Saved => ({ since, seen, lo, hi, residualsSince, latest, values: values.save(), residuals: residuals.save(), profile: profile.save(), serial: serial.save() }),
    // Both the samples and the event time of history count: the slower one says how far it is.
    learned: () => Math.min(1, seen / minSamples, learnFor <= 0 ? 1 : since === null ? 0 : (latest - since) / learnFor),
    assess(ts, value) {
      latest = ts;
      const n = values.n;
      seen++;
      since ??= ts;
      const [low, high] = [lo ?? value, hi ?? value];
      const usual = daily ? profile.expect(ts) : undefined;
      let sDaily = 0;
      let residualShare = 1;
      if (usual !== undefined) {
        const r = Math.abs(value - usual);
        residualsSince ??= ts;
        // Differences from the daily profile need their own day of history before they count.
        if (residuals.n >= minSamples && ts - residualsSince >= RESIDUAL_LEARN_DAYS * Math.max(learnFor, DAY_MS)) {
          residualShare = residuals.upperShare(binOf(r));
          sDaily = surprise(residualShare, residuals.n);
        }
        residuals.add(r);
      }
      if (seen <= minSamples || ts - since < learnFor) {
        lo = Math.min(low, value);
        hi = Math.max(high, value);
        values.add(value);
        serial.add(value);
        if (daily) profile.add(ts, value);
        return WARMING_UP;
      }
      const bin = binOf(value);
      const upper = values.upperShare(bin);
      const lower = values.lowerShare(bin);
      const share = Math.min(upper, lower);
      // Past everything seen: never less rare than a value in the outermost bin (the score grows
      // with the distance, whatever the bins' edges), more as it leaps (pastExtremes).
      const edge = share > 0 ? 0 : value > high ? values.upperShare(binOf(high)) : values.lowerShare(binOf(low));
      const sValue = share > 0 ? surprise(share, n) : Math.max(edge > 0 ? surprise(edge, n) : 0, pastExtremes(n, serial.effective(n), value > high ? value - high : low - value, high - low, extremeMargin));
      const score = Math.min(1, Math.max(sValue, DAILY_WEIGHT * sDaily) / SCALE);
      // What was anomalous joins history lightly: a fault that comes back still looks rare, while
      // a level that stays becomes usual after a while (about rareWeight^-1 times longer).
      values.add(value, score >= threshold ? rareWeight : 1);
      // The extremes and the serial correlation are of what was usual: a glitch judged anomalous
      // does not stretch the range the next leap is measured against, nor make the sensor look
      // smooth (or jumpy) for days.
      if (score < threshold) {
        lo = Math.min(low, value);
        hi = Math.max(high, value);
        serial.add(value);
      }
      if (daily) profile.add(ts, value);
      last.value = value;
      last.n = seen - 1;
      last.share = share;
      last.above = upper <= lower;
      last.usual = usual ?? NaN;
      last.residualShare = residualShare;
      last.byTime = DAILY_WEIGHT * sDaily > sValue;
      return score;
    },
    explain() {
      const { value, n, share, above, usual, residualShare, byTime } = last;
      return {
        message: byTime
          ? `value ${value} is unusually far from the usual ${round(usual)} at this time of day (${residualShare === 0 ? 'farther than ever before' : `only ${pct(residualShare)} of earlier readings were that far off`})`
          : share === 0
            ? `value ${value} is ${above ? 'above' : 'below'} every one of the ${n} earlier readings`
            : `value ${value} is rare: only ${pct(share)} of the ${n} earlier readings were as ${above ? 'high' : 'low'}`,
        evidence: { share: round(share), readings: n, ...(!Number.isNaN(usual) && { usual: round(usual), dailyShare: round(residualShare) }) },
      };
    },
  };
}

/**
 * Surprise of a value no history bin reaches: -log10(1 / nEff) just past the extremes, rising to
 * -log10(1 / (10 n)) at `margin` of their range beyond. A drifting sensor edges past its extremes
 * all the time, and n readings that follow each other closely are worth nEff <= n independent
 * ones (serial-correlation.ts); a fault leaps. Within the range (faded bins) it counts as just
 * past them.
 */
function pastExtremes(n: number, nEff: number, beyond: number, range: number, margin: number): number {
  const far = range > 0 && margin > 0 ? Math.min(1, Math.max(0, beyond) / (margin * range)) : 1;
  const near = Math.log10(Math.max(1, Math.min(n, nEff)));
  return near + far * (Math.log10(10 * Math.max(1, n)) - near);
}

const pct = (p: number) => `${Number((p * 100).toPrecision(2))}%`;

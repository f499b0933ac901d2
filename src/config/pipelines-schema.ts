// The config of pipelines: which sensors, which window, which aggregates and detectors.
import { z } from 'zod';
import { duration, sensorId } from './fields.js';
import { AGGREGATES } from '../stream/aggregate-names.js';
import { MAX_HALF_LIFE } from '../stream/detectors/tail-counter.js';

const severity = z.enum(['info', 'warning', 'critical']);
const minSamples = (n: number) => z.number().int().min(2).max(1_000_000).default(n).describe('no verdicts before this many readings (warm-up)');
const cooldown = (n: number) =>
  z.number().int().min(1).max(1_000_000).default(n).describe('readings after an anomalous one before the next event; extended while it lasts (one fault, one event)');
const alpha = z.number().gt(0).max(1).default(0.01).describe('weight of each reading in the slow baseline (about 2 / (N + 1) for N readings)');

const thresholdDetector = z
  .strictObject({
    type: z.literal('threshold'),
    min: z.number().optional(),
    max: z.number().optional(),
    hysteresis: z.number().min(0).default(0).describe('how far back inside a value must come before the next event'),
    severity: severity.default('critical'),
  })
  .refine((d) => d.min !== undefined || d.max !== undefined, { message: 'needs min, max or both' })
  .refine((d) => d.min === undefined || d.max === undefined || d.min < d.max, { message: 'min must be below max' });

const zscoreDetector = z.strictObject({
  type: z.literal('zscore'),
  threshold: z.number().positive().default(4).describe('|z| at or above this is an anomaly'),
  window: z.number().int().min(2).max(100_000).default(60).describe('readings in the rolling baseline'),
  minSamples: minSamples(10),
  cooldown: cooldown(1),
  severity: severity.default('warning'),
});

const ewmaDetector = z.strictObject({
  type: z.literal('ewma'),
  lambda: z.number().gt(0).max(1).default(0.1).describe('weight of each reading in the charted average (small: small sustained shifts)'),
  limit: z.number().positive().default(4.5).describe('control limit, in deviations of the residuals (L): 4.5 keeps noise under one false alarm a day at 1 Hz'),
  alpha,
  detrend: z.boolean().default(true).describe('the baseline follows a drift (level and trend), not a level alone'),
  minSamples: minSamples(30),
  cooldown: cooldown(10),
  severity: severity.default('warning'),
});

const cusumDetector = z.strictObject({
  type: z.literal('cusum'),
  k: z.number().min(0).default(0.5).describe('allowance: drift smaller than this many deviations is ignored'),
  h: z.number().positive().default(13).describe('decision interval, in deviations of the residuals: 13 keeps noise under one false alarm a day at 1 Hz'),
  alpha,
  detrend: z.boolean().default(true).describe('the baseline follows a drift (level and trend), not a level alone'),
  minSamples: minSamples(30),
  cooldown: cooldown(10),
  severity: severity.default('warning'),
});

const madDetector = z.strictObject({
  type: z.literal('mad'),
  threshold: z.number().positive().default(5).describe('robust |z| at or above this is an anomaly'),
  window: z.number().int().min(3).max(10_000).default(60).describe('readings in the rolling baseline'),
  minSamples: minSamples(10),
  cooldown: cooldown(1),
  severity: severity.default('warning'),
});

const varianceDetector = z.strictObject({
  type: z.literal('variance'),
  window: z.number().int().min(3).max(10_000).default(30).describe('readings in the recent memory of the reading-to-reading movement'),
  ratio: z.number().gt(1).default(2.5).describe('recent movement this many times the usual scores 0.5 (an event)'),
  alpha: z.number().gt(0).max(1).default(0.005).describe('weight of each reading in the usual movement (about 2 / (N + 1) for N readings)'),
  minSamples: minSamples(100),
  cooldown: cooldown(60),
  severity: severity.default('warning'),
});

const multivariateDetector = z.strictObject({
  type: z.literal('multivariate'),
  group: z.string().min(1).describe('sensor glob of one device\'s sensors, e.g. "pump1/*": their joint behaviour is modelled'),
  id: sensorId.optional().describe('the sensor id its events go on (default: the group\'s literal prefix + "/joint", e.g. pump1/joint)'),
  every: duration('10s').default(10_000).describe('the common cadence the group\'s readings are aligned on (event time)'),
  alpha: z.number().gt(0).max(1).default(0.002).describe('weight of each row in the model: history fades (about 350 rows half-life)'),
  minRows: z.number().int().min(10).max(1_000_000).default(60).describe('rows before the first verdict (10 minutes at 10 s)'),
  maxSensors: z.number().int().min(2).max(16).default(8).describe('members at most (the first in id order)'),
  regimes: z.number().int().min(1).max(4).default(1).describe('operating states remembered (running, idle, ...), each with its own mean and covariance; a state that lasts minRows rows unexplained becomes one'),
  threshold: z.number().gt(0).max(1).default(0.5).describe('score at or above this is an event: -log10(p) / 12 (0.5: one row in a million)'),
  cooldown: cooldown(30).describe('rows after an event before the next (extended while anomalous)'),
  severity: severity.default('warning'),
});

const rateDetector = z.strictObject({
  type: z.literal('rate'),
  maxPerSecond: z.number().positive().describe('largest believable change per second, in the sensor\'s unit'),
  cooldown: cooldown(1),
  severity: severity.default('warning'),
});

const flatlineDetector = z.strictObject({
  type: z.literal('flatline'),
  duration: duration('10m').default(600_000).describe('a value that has not moved for this long is stuck'),
  tolerance: z.number().min(0).default(0).describe('movement within this is not movement'),
  cooldown: cooldown(1),
  severity: severity.default('warning'),
});

const gapDetector = z.strictObject({
  type: z.literal('gap'),
  duration: duration('5m').default(300_000).describe('no reading for this long (wall clock) is an event'),
  severity: severity.default('warning'),
});

const noveltyDetector = z.strictObject({
  type: z.literal('novelty'),
  threshold: z.number().gt(0).max(1).default(0.5).describe('score at or above this is an anomaly: -log10(p) / 6 for a value as rare as a share p of history (0.5: one in a thousand)'),
  minSamples: minSamples(150).describe('readings before the first verdict: 150 s at 1 Hz, about 12.5 h at one reading every 5 minutes'),
  learnFor: duration('1d').default(0).describe('history (event time) also needed before the first verdict (0: the readings alone decide; 1d waits for a daily signal\'s range)'),
  daily: z.boolean().default(true).describe('also compare with the usual value at this time of day'),
  halfLife: z.number().int().refine((v) => v === 0 || (v >= 1000 && v <= MAX_HALF_LIFE), { message: 'must be 0 (never fades) or 1000 to 10000000 readings' }).default(86_400).describe('readings after which a reading counts half in history: a day at 1 Hz, 60 days at one a minute (0: history never fades)'),
  extremeMargin: z.number().min(0).max(100).default(0.2).describe('how far past the lowest or highest reading seen, as a share of their range, a value is the rarest there is (one in 10 n); just past them one in n, or fewer when readings follow each other closely'),
  rareWeight: z.number().min(0).max(1).refine((w) => w === 0 || w >= 0.01, { message: 'must be 0 or 0.01 to 1' }).default(1).describe('weight with which an anomalous reading joins history: below 1, a fault that comes back still looks rare'),
  cooldown: cooldown(20),
  severity: severity.default('warning'),
});

const DETECTORS = [thresholdDetector, zscoreDetector, ewmaDetector, cusumDetector, madDetector, varianceDetector, multivariateDetector, rateDetector, flatlineDetector, gapDetector, noveltyDetector] as const;

export const detector = z.discriminatedUnion('type', DETECTORS, {
  error: 'each detector needs a type: threshold, zscore, ewma, cusum, mad, variance, multivariate, rate, flatline, gap or novelty',
});

export const pipeline = z.strictObject({
  name: z.string().optional(),
  staleAfter: z
    .union([z.enum(['auto', 'off']), duration('10m')])
    .refine((v) => typeof v !== 'number' || v >= 1000, { message: 'must be at least 1s (or auto, or off)' })
    .default('auto')
    .describe('a silent sensor is stale (an event upstream) after: auto = 3 x its median interval, at least 1 minute, once 8 intervals are known; a duration; or off'),
  match: z.array(z.string().min(1)).min(1).describe('sensor id globs: * within a level, ** across levels'),
  window: z.discriminatedUnion(
    'type',
    [
      z.strictObject({ type: z.literal('tumbling'), size: duration('60s'), lateness: duration('5s').default(0) }),
      z
        .strictObject({
          type: z.literal('hopping'),
          size: duration('5m').describe('each window covers this long'),
          step: duration('1m').describe('a window starts (and one is reported) this often'),
          lateness: duration('5s').default(0),
        })
        .refine((w) => w.step <= w.size, { message: 'step must not exceed size (windows would leave gaps)', path: ['step'] }),
      z
        .strictObject({
          type: z.literal('count'),
          size: z.number().int().min(1).max(100_000).describe('readings per window'),
          step: z.number().int().min(1).max(100_000).optional().describe('report the last `size` readings every `step` readings (default: size)'),
        })
        .refine((w) => w.step === undefined || w.step <= w.size, { message: 'step must not exceed size', path: ['step'] }),
      z.strictObject({
        type: z.literal('session'),
        gap: duration('5m').describe('a pause this long ends the session'),
        lateness: duration('5s').default(0),
      }),
    ],
    { error: 'window.type must be tumbling, hopping, count or session' },
  ),
  aggregates: z.array(z.enum(AGGREGATES)).min(1).default(['count', 'min', 'max', 'mean', 'stddev', 'first', 'last']),
  detectors: z.array(detector).default([]),
});

// The config of pipelines: which sensors, which window, which aggregates and detectors.
import { z } from 'zod';
import { duration } from './fields.js';
import { AGGREGATES } from '../stream/aggregate-names.js';

const severity = z.enum(['info', 'warning', 'critical']);

const thresholdDetector = z
  .strictObject({
    type: z.literal('threshold'),
    min: z.number().optional(),
    max: z.number().optional(),
    severity: severity.default('critical'),
  })
  .refine((d) => d.min !== undefined || d.max !== undefined, { message: 'needs min, max or both' })
  .refine((d) => d.min === undefined || d.max === undefined || d.min < d.max, { message: 'min must be below max' });

const zscoreDetector = z.strictObject({
  type: z.literal('zscore'),
  threshold: z.number().positive().default(4).describe('|z| at or above this is an anomaly'),
  window: z.number().int().min(2).max(100_000).default(60).describe('readings in the rolling baseline'),
  minSamples: z.number().int().min(2).default(10).describe('no verdicts before this many readings'),
  severity: severity.default('warning'),
});

const detector = z.discriminatedUnion('type', [thresholdDetector, zscoreDetector], {
  error: 'each detector needs a type: threshold or zscore',
});

export const pipeline = z.strictObject({
  name: z.string().optional(),
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

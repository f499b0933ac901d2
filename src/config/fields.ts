// Field types shared by the config's parts: durations and sizes written as text, cron
// expressions, ports, sensor ids and topic filters.
import { z } from 'zod';
import cron from 'node-cron';
import { parseDuration, parseSize } from './units.js';
import { sensorIdProblem } from '../stream/sensor-id.js';
import { topicFilterProblem } from '../stream/topic-filter.js';

export const duration = (example: string) =>
  z
    .string()
    .describe(`duration such as 500ms, 5s, 10m, 1h (e.g. ${example})`)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration; write e.g. 500ms, 5s, 10m, 1h` });
        return z.NEVER;
      }
      return ms;
    });

export const size = (example: string) =>
  z
    .string()
    .describe(`size such as 64KiB, 256MB, 1GB (e.g. ${example})`)
    .transform((text, ctx) => {
      const bytes = parseSize(text);
      if (bytes === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a size; write e.g. 64KiB, 256MB, 1GB` });
        return z.NEVER;
      }
      return bytes;
    });

export const cronExpression = z
  .string()
  .describe('cron expression with an optional seconds field, e.g. "*/15 * * * * *"')
  .refine((expr) => cron.validate(expr), { message: 'is not a valid cron expression' });

export const port = z.number().int().min(0).max(65535).describe('TCP port; 0 picks a free one');

export const sensorId = z.string().superRefine((id, ctx) => {
  const problem = sensorIdProblem(id);
  if (problem) ctx.addIssue({ code: 'custom', message: `sensor id ${problem}` });
});

export const topicFilter = z
  .string()
  .min(1)
  .superRefine((f, ctx) => {
    const problem = topicFilterProblem(f);
    if (problem) ctx.addIssue({ code: 'custom', message: `not an MQTT topic filter: ${problem}` });
  })
  .describe('MQTT topic filter, + and # allowed');

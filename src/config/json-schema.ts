import { z } from 'zod';
import { configSchema } from './schema.js';

/** JSON Schema of the config file as users write it (durations and sizes as strings). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://outpost.invalid/outpost.schema.json',
    title: 'Outpost configuration',
  };
}

// The config of sources: MQTT, GPIO and simulated sensors.
import { z } from 'zod';
import { duration, sensorId, topicFilter } from './fields.js';

const mqttSource = z.strictObject({
  type: z.literal('mqtt'),
  topic: topicFilter.default('sensors/#').describe('sensor id = topic minus the filter\'s literal prefix'),
  format: z.enum(['auto', 'number', 'json', 'senml']).default('auto'),
  url: z
    .string()
    .regex(/^(mqtts?|tcp|ssl):\/\//, 'must start with mqtt:// or mqtts://')
    .optional()
    .describe('attach to an existing broker instead of the embedded one'),
  username: z.string().optional(),
  password: z.string().optional(),
  clientId: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe('with url: the persistent session\'s client id (default outpost-<device.id>-<hash of topic>); keep it stable, or readings sent while Outpost was down are lost'),
  retained: z
    .enum(['skip', 'ingest'])
    .default('skip')
    .describe('with url: retained messages are old state the broker kept; ingest takes them as readings when a session starts'),
});

const gpioSource = z.strictObject({
  type: z.literal('gpio'),
  pin: z.number().int().min(0).max(53).describe('BCM pin number'),
  sensor: sensorId,
  edge: z.enum(['none', 'rising', 'falling', 'both']).default('both'),
  debounceMs: z.number().int().min(0).max(10_000).default(20),
  mode: z.enum(['state', 'counter']).default('state').describe('state: 0/1 per edge; counter: pulses per interval and a rate'),
  interval: duration('10s').default(10_000).describe('counter: how often the pulse count goes out'),
  scale: z.number().positive().default(1).describe('counter: units per pulse (e.g. 0.2794 mm of rain per tip)'),
  activeLow: z.boolean().default(false),
  simulate: z.boolean().default(false).describe('drive the pin from a simulated signal (laptops); gpio.simulate does it for all'),
});

const simAnomaly = z.strictObject({
  type: z.enum(['spike', 'drift', 'stuck', 'dropout']),
  at: duration('30s').describe('first occurrence, after the simulator starts'),
  every: duration('60s').optional().describe('repeat period; once when absent'),
  duration: duration('5s').default(0).describe('how long it lasts (spike: one reading when 0)'),
  magnitude: z.number().default(10).describe('spike height, or drift per second'),
});

export const simulatedSensor = z.strictObject({
  id: sensorId,
  rateHz: z.number().positive().max(10_000).default(1),
  shape: z.enum(['sine', 'random-walk', 'step']).default('sine'),
  base: z.number().default(20),
  amplitude: z.number().min(0).default(2),
  period: duration('60s').default(60_000),
  noise: z.number().min(0).default(0.1).describe('standard deviation of added gaussian noise'),
  anomalies: z.array(simAnomaly).default([]),
});

const simulatedSource = z.strictObject({
  type: z.literal('simulated'),
  seed: z.number().int().default(1),
  sensors: z.array(simulatedSensor).min(1),
});

export const source = z.discriminatedUnion('type', [mqttSource, gpioSource, simulatedSource], {
  error: 'type must be one of mqtt, gpio, simulated',
});

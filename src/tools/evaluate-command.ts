// `outpost evaluate --corpus DIR`: any corpus in NAB layout (data/<category>/*.csv, labels/),
// run through detectors at their shipped defaults, as a device would (causal, one reading at a
// time). Prints the NAB standard score at the default threshold, and event-level figures per
// sensor and, when the corpus has a devices.json ({ device: { files: [...] } }), per device:
// faults caught, false alarms per hour, detection delay, and recall within 60 s against chance.
// No tuning happens here: what it prints for a corpus nobody tuned on is out-of-sample.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCorpus, type NabFile } from './nab/corpus.js';
import { runDetector } from './nab/run-detector.js';
import { PROFILES, scoreCorpus } from './nab/scorer.js';
import { deviceFigures, deviceUnit, figures, sensorFigures, unitOf, type EventFigures } from './nab/event-metrics.js';
import { createDeviceGroup, type GroupSpec } from '../stream/detectors/device-group.js';
import { createDetector, type SensorDetectorSpec, type DetectorType } from '../stream/detectors/create-detector.js';
import { detector as detectorSchema } from '../config/pipelines-schema.js';
import { DEFAULT_NAB_DIR } from './nab-command.js';
import type { Io } from '../cli/io.js';

/** Per-sensor detectors that need no limits only the user knows. */
export const EVALUATED: DetectorType[] = ['novelty', 'zscore', 'ewma', 'cusum', 'mad', 'variance', 'flatline'];

export interface DetectorResult {
  detector: string;
  nabStandard: number;
  sensors: EventFigures;
  devices?: EventFigures;
  cpuMicrosPerReading: number;
}

export function evaluateCorpus(files: readonly NabFile[], devices: ReadonlyMap<string, readonly string[]> | undefined, types: readonly DetectorType[]): DetectorResult[] {
  return types.map((type) => {
    const spec = detectorSchema.parse({ type }) as SensorDetectorSpec;
    const run = runDetector(files, () => createDetector(spec));
    const series = files.map((f, i) => ({ name: f.name, ts: f.ts, windows: f.windows, alarms: run.alarms[i]! }));
    const threshold = spec.type === 'novelty' ? spec.threshold : 0.5;
    return {
      detector: type,
      nabStandard: scoreCorpus(run.scored, threshold, PROFILES[0]!).normalized,
      sensors: sensorFigures(series),
      ...(devices && { devices: deviceFigures(series, devices) }),
      cpuMicrosPerReading: run.cpuMicrosPerReading,
    };
  });
}

/**
 * The multivariate detector per device: the device's files (one time base) interleaved in time
 * order into one group detector at its shipped defaults (every 10 s); its events are the
 * device's alarms. Per device only.
 */
export function evaluateMultivariate(files: readonly NabFile[], devices: ReadonlyMap<string, readonly string[]>): DetectorResult {
  const spec = detectorSchema.parse({ type: 'multivariate', group: '*' }) as GroupSpec;
  const byName = new Map(files.map((f) => [f.name, f]));
  const units = [];
  let rows = 0;
  const before = process.cpuUsage();
  for (const names of devices.values()) {
    const parts = names.map((n) => byName.get(n)).filter((f): f is NabFile => f !== undefined);
    if (parts.length === 0) continue;
    const group = createDeviceGroup(spec);
    const readings = parts.flatMap((f) => Array.from(f.ts, (ts, i) => ({ sensor: f.name, ts, value: f.values[i]! }))).sort((a, b) => a.ts - b.ts || (a.sensor < b.sensor ? -1 : 1));
    const alarms: number[] = [];
    for (const r of readings) {
      const e = group.observe(r.sensor, r.ts, r.value);
      if (e) alarms.push(e.ts);
    }
    rows += readings.length;
    units.push(deviceUnit(parts.map((f) => unitOf({ name: f.name, ts: f.ts, windows: f.windows, alarms: [] })), alarms));
  }
  const used = process.cpuUsage(before);
  const v = figures(units);
  return { detector: 'multivariate', nabStandard: NaN, sensors: v, devices: v, cpuMicrosPerReading: (used.user + used.system) / Math.max(1, rows) };
}

/** devices.json beside data/: device -> its files (names as in the labels). */
export function readDevices(dir: string): Map<string, string[]> | undefined {
  const path = join(dir, 'devices.json');
  if (!existsSync(path)) return undefined;
  const doc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, { files?: unknown }>;
  return new Map(Object.entries(doc).filter(([, d]) => Array.isArray(d.files)).map(([name, d]) => [name, d.files as string[]]));
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');

function row(r: DetectorResult, v: EventFigures): string {
  return `| ${r.detector} | ${f1(r.nabStandard)} | ${v.caught}/${v.faults} (${f2(v.recall)}) | ${v.falseAlarms} in ${f1(v.normalHours)} h: ${f3(v.falseAlarmsPerHour)}/h | ${f1(v.delayMedianS)} / ${f1(v.delayP90S)} s | ${f2(v.recall60)} vs chance ${f3(v.chance60)} | ${r.cpuMicrosPerReading.toFixed(2)} |`;
}

export async function evaluateCommand(o: { corpus?: string; detector?: string[]; labels?: string; json?: boolean }, io: Io): Promise<number> {
  const dir = o.corpus ?? DEFAULT_NAB_DIR;
  const labels = o.labels ?? 'combined_windows.json';
  if (!existsSync(join(dir, 'labels', labels)) || !existsSync(join(dir, 'data'))) {
    io.err(`outpost evaluate: ${dir} is not a corpus in NAB layout (data/<category>/*.csv, labels/${labels})`);
    return 2;
  }
  const asked = (o.detector?.length ? o.detector : [...EVALUATED, 'multivariate']) as DetectorType[];
  const types = asked.filter((t) => t !== 'multivariate');
  for (const t of types) {
    if (!EVALUATED.includes(t)) {
      io.err(`outpost evaluate: ${t} is not evaluated this way (one of ${EVALUATED.join(', ')}; threshold, rate and gap need limits only you know)`);
      return 2;
    }
  }
  const files = loadCorpus(dir, labels);
  const devices = readDevices(dir);
  const results = evaluateCorpus(files, devices, types);
  const joint = devices && asked.includes('multivariate') ? evaluateMultivariate(files, devices) : undefined;
  if (o.json) {
    io.out(JSON.stringify({ corpus: dir, labels, files: files.length, devices: devices?.size ?? null, results: joint ? [...results, joint] : results }, null, 2));
    return 0;
  }
  const rows = files.reduce((n, f) => n + f.values.length, 0);
  io.out(`corpus: ${dir} (${labels}): ${files.length} files, ${rows.toLocaleString('en')} rows, ${files.reduce((n, f) => n + f.windows.length, 0)} windows${devices ? `, ${devices.size} devices` : ''}; every detector at its shipped defaults`);
  const header = '| detector | NAB standard (default threshold) | faults caught | false alarms | delay median / p90 | recall within 60 s | CPU us/reading |\n|---|---|---|---|---|---|---|';
  io.out('\nper sensor (each file a sensor; an event inside its window catches the fault)');
  io.out(header);
  for (const r of results) io.out(row(r, r.sensors));
  if (devices) {
    io.out('\nper device (devices.json: an event on any of its sensors is the device\'s; events within 60 s are one)');
    io.out(header);
    for (const r of results) io.out(row(r, r.devices!));
    if (joint) io.out(row(joint, joint.devices!));
  }
  return 0;
}

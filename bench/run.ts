// `npm run bench`: prints the figures recorded in docs/benchmarks.md.
import { cpus, totalmem } from 'node:os';
import { benchIngest } from './ingest.js';
import { benchQos1, type Qos1Result } from './qos1.js';
import { benchRules, benchStream } from './stream.js';
import { benchRestart } from './restart.js';
import { benchOutboxAppend, benchDrain } from './outbox.js';
import { benchDiskWrites } from './disk-writes.js';
import { benchIdle, UNIT_FLAGS } from './idle.js';
import { benchPeers } from './peers.js';
import { benchDetector, benchMultivariate } from './detectors.js';
import { benchFields } from './fields.js';
import { benchFleet } from './fleet.js';
import { benchFleetScale } from './fleet-scale.js';
import { benchProfile } from './profile.js';
import { benchCommands } from './commands.js';

const only = process.argv[2];
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);

if (!only || only === 'stream') {
  const rows = [
    benchStream(),
    benchStream({ detectors: [{ type: 'threshold', min: -1, max: 100, severity: 'critical' }, { type: 'zscore', threshold: 6, window: 60, minSamples: 10, cooldown: 1, severity: 'warning' }] }),
    benchStream({ quantiles: true }),
    benchStream({ detectors: [{ type: 'novelty', threshold: 0.5, minSamples: 100, learnFor: 86_400_000, daily: true, halfLife: 86_400, rareWeight: 1, extremeMargin: 0.2, cooldown: 20, severity: 'warning' }] }),
  ];
  // 100 rules over the 1,000 sensors, alternated with the same stream without them (medians of 3):
  // every sensor read by a rule of 10 (heavy), and rules of 2 sensors (a fifth of them read).
  const heavy = benchRules(1000, 100, 10);
  const typical = benchRules(1000, 100, 2);
  const runs: Record<'without' | 'heavy' | 'typical', number[]> = { without: [], heavy: [], typical: [] };
  for (let i = 0; i < 3; i++) {
    runs.without.push(benchStream({ readings: 2_000_000 }).readingsPerS);
    runs.heavy.push(benchStream({ readings: 2_000_000, rules: heavy }).readingsPerS);
    runs.typical.push(benchStream({ readings: 2_000_000, rules: typical }).readingsPerS);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
  rows.push({ ...rows[0]!, readings: 2_000_000, rules: 100, readingsPerS: median(runs.typical) });
  console.log('\nstream stage alone (one core, parse excluded)');
  console.log('| sensors | readings | detectors | quantiles | rules | readings/s |\n|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.sensors} | ${r.readings} | ${r.detectors} | ${r.quantiles ? 'p50-p99' : 'no'} | ${r.rules} | ${r.readingsPerS.toLocaleString('en')} |`);
  const base = median(runs.without);
  for (const [name, xs, what] of [['typical', runs.typical, 'rules of 2 sensors, 200 of the 1,000 read'], ['heavy', runs.heavy, 'rules of 10 sensors, every sensor read']] as const) {
    const m = median(xs);
    console.log(`100 rules over 1,000 sensors, ${what} (alternating runs, medians of 3): ${m.toLocaleString('en')} vs ${base.toLocaleString('en')} readings/s without = ${(m / base).toFixed(3)} of the throughput (cost ${((1 - m / base) * 100).toFixed(1)}%; ${name})`);
  }
}

if (!only || only === 'fields') {
  const runs = [benchFields(), benchFields(), benchFields()].sort((a, b) => a.messagesPerS - b.messagesPerS);
  const m = runs[1]!;
  console.log('\nformat: fields, zigbee2mqtt preset + stream stage (one core, no I/O; median of 3)');
  console.log(`| devices | fields/message | messages/s | readings/s |\n|---|---|---|---|\n| ${m.devices} | 5 (+ linkquality, left out) | ${m.messagesPerS.toLocaleString('en')} | ${m.readingsPerS.toLocaleString('en')} |`);
}

if (only === 'peers') {
  // npm run bench -- peers [rounds]: Outpost, Node-RED (installed into .tmp/peers once) and the hand-written ceiling
  await benchPeers(Number(process.argv[3] ?? 3));
}

if (only === 'idle') {
  // npm run bench -- idle [minutes] [arena]: the unit's flags (and then with MALLOC_ARENA_MAX=2)
  const minutes = Number(process.argv[3] ?? 10);
  const runs = [await benchIdle({ label: `systemd unit's flags (${UNIT_FLAGS.join(' ')})`, minutes })];
  if (process.argv[4] === 'arena') runs.push(await benchIdle({ label: 'the same, MALLOC_ARENA_MAX=2', minutes, env: { MALLOC_ARENA_MAX: '2' } }));
  console.log(`\nidle: 10 simulated sensors at 1 Hz, 1 s windows, defaults, ${minutes} minutes after a 20 s warm-up (samples every 10 s)`);
  console.log('| run | CPU % of a core | CPU % per minute | RSS MB first / median / last / max | writes MB/h |\n|---|---|---|---|---|');
  for (const r of runs) console.log(`| ${r.label} | ${r.cpuPercent} | ${r.cpuPerMinute.join(', ')} | ${r.rssMB.first} / ${r.rssMB.median} / ${r.rssMB.last} / ${r.rssMB.max} | ${r.writeMBPerHour} |`);
}

if (only === 'soak') {
  // npm run bench -- soak [minutes]: 1,000 readings/s (100 simulated sensors at 10 Hz) for an hour by default: is RSS flat?
  const minutes = Number(process.argv[3] ?? 60);
  const r = await benchIdle({ label: 'soak: 100 sensors x 10 Hz', minutes, sensors: 100, rateHz: 10 });
  console.log(`\nsoak: 100 simulated sensors at 10 Hz (1,000 readings/s), 1 s windows, defaults, ${minutes} minutes after a 20 s warm-up`);
  console.log(`CPU ${r.cpuPercent}% of a core (per minute: ${r.cpuPerMinute.join(', ')}); RSS MB first ${r.rssMB.first}, median ${r.rssMB.median}, last ${r.rssMB.last}, max ${r.rssMB.max}; writes ${r.writeMBPerHour} MB/h`);
  console.log(`RSS per 10 s sample: ${r.rss.join(' ')}`);
}

if (only === 'profile') {
  const r = await benchProfile();
  console.log(`\nCPU profile of the agent: ${r.file} (summary beside it: summary.md)`);
  console.log(r.summary);
}

if (only === 'fleet-scale') {
  const devices = Number(process.argv[3] ?? 10_000);
  const r = await benchFleetScale(devices);
  console.log(`\nfleet at scale: ${devices.toLocaleString('en')} simulated devices x 10 sensors (1-minute summaries, health every 15 s, anomalies, gaps, duplicates, backfills) -> Mosquitto -> outpost fleet on a shared subscription -> PostgreSQL`);
  console.log('| instances | messages | seconds | messages/s projected |\n|---|---|---|---|');
  for (const x of r.flat) console.log(`| ${x.instances} | ${x.messages.toLocaleString('en')} | ${x.seconds.toFixed(1)} | ${x.perS.toLocaleString('en')} |`);
  console.log(`two instances / one: ${(r.flat[1]!.perS / r.flat[0]!.perS).toFixed(2)}x`);
  console.log(`at the design rate (${r.latency.rate.toLocaleString('en')} messages/s, two instances): publish -> committed in the read model p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms (${r.latency.samples} sampled ids)`);
  console.log(`exact: ${r.exact}`);
}

if (only === 'fleet') {
  // FLEET_BROKER=mosquitto (Debian's defaults) or mosquitto-1000 (max_inflight_messages 1000).
  const which = process.env.FLEET_BROKER;
  const r = await benchFleet(which === 'mosquitto' ? { mosquitto: [] } : which === 'mosquitto-1000' ? { mosquitto: ['max_inflight_messages 1000'] } : {});
  if (which) console.log(`fleet broker: ${which}`);
  console.log('\nfleet service (1,000 devices x 10 sensors, 50,000 summaries at QoS 1 through its MQTT feed; the store alone; a device page with 24 h of 1-minute summaries for 10 sensors, median of 5)');
  console.log(`| through MQTT | store alone | RSS after 1,000 x 10 | device page |\n|---|---|---|---|\n| ${r.mqttMessagesPerS.toLocaleString('en')} msg/s | ${r.storeMessagesPerS.toLocaleString('en')} msg/s | ${r.rssMB} MB | ${r.devicePageMs} ms |`);
}

if (only === 'commands') {
  const r = await benchCommands({ devices: Number(process.env.COMMAND_DEVICES ?? 100), pings: 50 });
  console.log('\nremote commands through Mosquitto (fleet service and agents in one process): ping round trip POST -> reply projected, sequential; then one ping to every device at once');
  console.log(`| ping median | ping p95 | devices at once | replied | time to the last reply |\n|---|---|---|---|---|\n| ${r.pingMedianMs} ms | ${r.pingP95Ms} ms | ${r.devices} | ${r.replied} | ${r.allRepliedMs} ms |`);
}

if (only === 'fields-ingest') {
  // End to end with the zigbee2mqtt preset: 20 devices x 5 fields over MQTT into the agent, flat out.
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await benchIngest({ sensors: 100, seconds: 10, preset: 'zigbee2mqtt' }));
  const rates = runs.map((r) => r.ratePerS).sort((a, b) => a - b);
  console.log('\nend-to-end ingest, zigbee2mqtt preset (20 devices x 5 fields, QoS 0, flat out; 3 runs)');
  console.log(`readings/s: ${rates.map((r) => r.toLocaleString('en')).join(', ')} (median ${rates[1]!.toLocaleString('en')}, ${Math.round(rates[1]! / 5).toLocaleString('en')} messages/s); ingested ${runs.map((r) => `${r.ingested}/${r.published}`).join(', ')}`);
}

if (!only || only === 'sensors') {
  // A child with --expose-gc, so the heap is measured after collection.
  const { execFileSync } = await import('node:child_process');
  const rows = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/sensor-cost.ts', 'child'], { encoding: 'utf8' }).trim().split('\n').pop()!) as Array<{ setup: string; bytesPerSensor: number }>;
  console.log('\nstate per sensor (heap after GC, 10,000 sensors, 60 s windows, two minutes of 1 Hz readings; stream + admission)');
  console.log('| pipeline | bytes per sensor | x maxSensors 1,000 |\n|---|---|---|');
  for (const r of rows) console.log(`| ${r.setup} | ${r.bytesPerSensor.toLocaleString('en')} | ${(r.bytesPerSensor / 1000).toFixed(1)} MB |`);
}

if (!only || only === 'detectors') {
  console.log('\ndetectors, shipped defaults, 1,000 sensors interleaved, 2,000 readings each after two days of history (median of 3 runs)');
  console.log('| detector | ns/reading |\n|---|---|');
  for (const type of ['novelty', 'threshold', 'zscore', 'ewma', 'cusum', 'mad', 'variance', 'rate', 'flatline', 'gap'] as const) {
    const runs = [benchDetector(type), benchDetector(type), benchDetector(type)].map((r) => r.nsPerReading).sort((a, b) => a - b);
    console.log(`| ${type} | ${runs[1]} |`);
  }
  for (const [k, regimes] of [[2, 1], [8, 1], [16, 1], [8, 4]] as const) {
    const runs = [benchMultivariate(k, regimes), benchMultivariate(k, regimes), benchMultivariate(k, regimes)].map((r) => r.usPerRow).sort((a, b) => a - b);
    console.log(`| multivariate, ${k} sensors${regimes > 1 ? `, ${regimes} operating states` : ''} | ${Math.round(runs[1]! * 1000)} per row (${k} readings) |`);
  }
}

if (!only || only === 'ingest') {
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await benchIngest({ sensors: 100, seconds: 10 }));
  const paced = await benchIngest({ sensors: 100, seconds: 20, targetPerS: 30_000 });
  // the flag systemd/outpost.service runs the agent with (a smaller V8 young generation)
  const pacedPi = await benchIngest({ sensors: 100, seconds: 20, targetPerS: 30_000, nodeFlags: ['--max-semi-space-size=2'] });
  console.log('\nend-to-end ingest: 1 publisher process (QoS 0, JSON) -> embedded broker -> stream -> outbox -> fleet broker');
  console.log('| run | sensors | target/s | published | ingested | summarized | late | mean readings/s | median readings/s (0.5 s samples) | RSS max MB | RSS end MB |\n|---|---|---|---|---|---|---|---|---|---|---|');
  [...runs, paced, pacedPi].forEach((r, i) =>
    console.log(`| ${i + 1}${i === 4 ? ' (--max-semi-space-size=2)' : ''} | ${r.sensors} | ${r.targetPerS || 'max'} | ${r.published} | ${r.ingested} | ${r.summarizedReadings} | ${r.late} | ${r.ratePerS.toLocaleString('en')} | ${r.medianRatePerS.toLocaleString('en')} | ${r.rssMaxMB} | ${r.rssEndMB} |`),
  );
  const med = [...runs].sort((a, b) => a.ratePerS - b.ratePerS)[1]!;
  console.log(`flat out, median of 3 runs: ${med.ratePerS.toLocaleString('en')} readings/s, RSS max ${Math.max(...runs.map((r) => r.rssMaxMB))} MB`);
  console.log(`paced at 30,000/s: ${paced.ratePerS.toLocaleString('en')} readings/s sustained, RSS max ${paced.rssMaxMB} MB (default flags), ${pacedPi.rssMaxMB} MB with --max-semi-space-size=2`);
}
if (!only || only === 'qos1') {
  // Acknowledgement after commit: one publisher with 100 in flight, 20 publishers together,
  // and one publisher with acknowledgement on receipt for comparison. Median of 3 runs each.
  const median3 = async (f: () => Promise<Qos1Result>) => [await f(), await f(), await f()].sort((a, b) => a.ratePerS - b.ratePerS)[1]!;
  const rows = [
    await median3(() => benchQos1({ publishers: 1, inflight: 100 })),
    await median3(() => benchQos1({ publishers: 20, inflight: 100 })),
    await median3(() => benchQos1({ publishers: 1, inflight: 100, ackAfterCommit: false })),
    await median3(() => benchQos1({ publishers: 20, inflight: 100, ackAfterCommit: false })),
  ];
  console.log('\nQoS 1 ingest (PUBACKs a second; latency from publish to PUBACK; median run of 3, 8 s each)');
  console.log('| publishers | in flight each | ackAfterCommit | PUBACKs/s | latency median ms | latency p99 ms |\n|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.publishers} | ${r.inflight} | ${r.ackAfterCommit} | ${r.ratePerS.toLocaleString('en')} | ${r.latencyMedianMs} | ${r.latencyP99Ms} |`);
}
if (only === 'ab') {
  // This build against another (OUTPOST_BASELINE=<its dist/cli/main.js>), flat out, alternating
  // so drift on a shared machine hits both alike: what a change costs in ingest throughput.
  const baseline = process.env.OUTPOST_BASELINE;
  if (!baseline) throw new Error('npm run bench -- ab needs OUTPOST_BASELINE=<path to the other build\'s dist/cli/main.js>');
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < 5; i++) {
    b.push((await benchIngest({ sensors: 100, seconds: 8, main: baseline })).ratePerS);
    a.push((await benchIngest({ sensors: 100, seconds: 8 })).ratePerS);
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[2]!;
  console.log('\nend-to-end ingest, this build vs baseline (flat out, 5 alternating runs each)');
  console.log(`baseline:   ${b.map((x) => x.toLocaleString('en')).join(', ')} readings/s (median ${median(b).toLocaleString('en')})`);
  console.log(`this build: ${a.map((x) => x.toLocaleString('en')).join(', ')} readings/s (median ${median(a).toLocaleString('en')})`);
  console.log(`ratio this/baseline (medians): ${(median(a) / median(b)).toFixed(3)}`);
}
if (!only || only === 'journal') {
  // Alternate journal on and off so drift on a shared machine hits both alike.
  const on: number[] = [];
  const off: number[] = [];
  for (let i = 0; i < 3; i++) {
    on.push((await benchIngest({ sensors: 100, seconds: 8, journal: true })).ratePerS);
    off.push((await benchIngest({ sensors: 100, seconds: 8, journal: false })).ratePerS);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
  console.log('\nend-to-end ingest, journal on vs off (flat out, 3 alternating runs each)');
  console.log(`journal on:  ${on.map((x) => x.toLocaleString('en')).join(', ')} readings/s (median ${median(on).toLocaleString('en')})`);
  console.log(`journal off: ${off.map((x) => x.toLocaleString('en')).join(', ')} readings/s (median ${median(off).toLocaleString('en')})`);
  console.log(`ratio on/off (medians): ${(median(on) / median(off)).toFixed(2)}`);
}

if (!only || only === 'restart') {
  const runs = [await benchRestart(), await benchRestart(), await benchRestart()];
  const ms = runs.map((r) => r.readyMs).sort((a, b) => a - b);
  console.log(`\nrestart: ${runs[0]!.openWindows.toLocaleString('en')} open windows, ${runs[0]!.journalRows.toLocaleString('en')} journal rows to replay: ready in ${ms.join(', ')} ms (median ${ms[1]} ms)`);
}
if (!only || only === 'outbox') {
  const appends = [await benchOutboxAppend(), await benchOutboxAppend(), await benchOutboxAppend()].map((r) => r.perS).sort((a, b) => a - b);
  console.log(`\noutbox append (1,000,000 messages, 2,000 per transaction, synchronous=FULL): ${appends.map((x) => x.toLocaleString('en')).join(', ')} messages/s (median ${appends[1]!.toLocaleString('en')})`);
  const drains = [await benchDrain(200_000, false), await benchDrain(200_000, false), await benchDrain(200_000, false)].sort((a, b) => a.perS - b.perS);
  console.log(`drain to Mosquitto at QoS 1 (200,000 messages, maxInflight 100): ${drains.map((d) => d.perS.toLocaleString('en')).join(', ')} messages/s (median ${drains[1]!.perS.toLocaleString('en')})`);
  const small = await benchDrain(100_000, true);
  const big = await benchDrain(1_000_000, true);
  console.log('| backlog | drain messages/s | live anomalies | anomaly latency median / max ms | RSS MB at start / max / end |\n|---|---|---|---|---|');
  for (const d of [small, big]) console.log(`| ${d.backlog.toLocaleString('en')} | ${d.perS.toLocaleString('en')} | ${d.anomalies} | ${d.anomalyLatencyMs.median} / ${d.anomalyLatencyMs.max} | ${d.rssMB.atStart} / ${d.rssMB.max} / ${d.rssMB.end} |`);
}

if (!only || only === 'disk') {
  // Agent process with --max-semi-space-size=2 (as systemd/outpost.service), simulated sensors (no acknowledgements), z-score.
  const rows = [
    await benchDiskWrites({ label: 'idle: 10 sensors at 1 Hz, 1 s windows, defaults (quietCommitInterval 5s)', sensors: 10, rateHz: 1, window: '1s', measureS: 60 }),
    await benchDiskWrites({ label: 'idle: 10 sensors at 1 Hz, 1 s windows, quietCommitInterval 100ms (as before)', sensors: 10, rateHz: 1, window: '1s', measureS: 60, storage: 'quietCommitInterval: 100ms' }),
    await benchDiskWrites({ label: 'idle: 10 sensors at 1 Hz, 60 s windows, defaults', sensors: 10, rateHz: 1, measureS: 60 }),
    await benchDiskWrites({ label: '10 sensors at 1 Hz, 60 s windows, quietCommitInterval 100ms (as before)', sensors: 10, rateHz: 1, measureS: 60, storage: 'quietCommitInterval: 100ms' }),
    await benchDiskWrites({ label: '100 sensors at 10 Hz, defaults', sensors: 100, rateHz: 10 }),
    await benchDiskWrites({ label: '100 sensors at 10 Hz, quietCommitInterval 100ms (as before)', sensors: 100, rateHz: 10, storage: 'quietCommitInterval: 100ms' }),
    await benchDiskWrites({ label: '100 sensors at 10 Hz, synchronous normal', sensors: 100, rateHz: 10, storage: 'synchronous: normal' }),
    await benchDiskWrites({ label: '100 sensors at 10 Hz, journal off', sensors: 100, rateHz: 10, storage: 'journal: { enabled: false }' }),
  ];
  console.log('\nagent process: disk bytes written (/proc/<pid>/io write_bytes), CPU and RSS');
  console.log('| load and knobs | readings/s | written MB/hour | CPU % of one core | RSS MB |\n|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.label} | ${r.readingsPerS} | ${r.writeMBPerHour} | ${r.cpuPercent} | ${r.rssMB} |`);
}

process.exit(0);

// QoS 1 ingest with acknowledgement after commit: `publishers` MQTT clients (in this process),
// each keeping `inflight` QoS 1 messages outstanding, against the agent as its own process
// (the built CLI, storage.synchronous full, the default ackAfterCommit). Reports the rate of
// PUBACKs received and the PUBACK latency (time from publish to PUBACK) median and p99.
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort } from '../test/helpers/ports.js';
import { startEmbeddedBroker } from '../src/broker/embedded-broker.js';
import { silentLogger } from '../src/ops/logger.js';

export interface Qos1Result {
  publishers: number;
  inflight: number;
  ackAfterCommit: boolean;
  acked: number;
  ratePerS: number;
  latencyMedianMs: number;
  latencyP99Ms: number;
}

export async function benchQos1({ publishers = 1, inflight = 100, seconds = 8, ackAfterCommit = true } = {}): Promise<Qos1Result> {
  const fleet = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, log: silentLogger(), allowAnonymousWildcards: true });
  const [brokerPort, httpPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'outpost-bench-qos1-'));
  writeFileSync(join(dir, 'bench.yaml'), `
device: { id: bench }
broker: { host: 127.0.0.1, port: ${brokerPort}, maxMessageRate: 0 }
sources: [ { type: mqtt, topic: "sensors/#" } ]
pipelines:
  - match: ["**"]
    window: { type: tumbling, size: 1s }
    aggregates: [count, min, max, mean]
uplink: { url: "mqtt://127.0.0.1:${fleet.port}", maxRate: 0 }
storage: { path: ./bench.db, ackAfterCommit: ${ackAfterCommit} }
http: { host: 127.0.0.1, port: ${httpPort} }
log: { level: warn }
`);
  const agent = spawn(process.execPath, ['dist/cli/main.js', 'run', '--config', join(dir, 'bench.yaml')], { stdio: 'inherit' });
  for (let i = 0; ; i++) {
    try {
      await fetch(`http://127.0.0.1:${httpPort}/healthz`);
      break;
    } catch {
      if (i > 100) throw new Error('agent did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const clients = await Promise.all(Array.from({ length: publishers }, (_, k) => mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, { clientId: `bench-q1-${k}` })));
  const latencies: number[] = [];
  let acked = 0;
  let measuring = false;
  let running = true;
  const runs = clients.map(async (c, k) => {
    let n = 0;
    // A window of `inflight` outstanding messages: one more goes out as each PUBACK comes back.
    await new Promise<void>((done) => {
      let open = 0;
      const next = () => {
        while (running && open < inflight) {
          open++;
          const t = performance.now();
          c.publish(`sensors/q1/p${k}/s${n % 10}`, `{"value":${n++ % 97},"ts":${Date.now()}}`, { qos: 1 }, () => {
            open--;
            if (measuring) {
              acked++;
              latencies.push(performance.now() - t);
            }
            if (running) next();
            else if (open === 0) done();
          });
        }
      };
      next();
    });
  });
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  const counted = acked;
  running = false;
  await Promise.all(runs);
  await Promise.all(clients.map((c) => c.endAsync()));
  const exited = new Promise((r) => agent.once('exit', r));
  agent.kill('SIGTERM');
  await exited;
  await fleet.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN) * 10) / 10;
  return { publishers, inflight, ackAfterCommit, acked: counted, ratePerS: Math.round(counted / elapsed), latencyMedianMs: q(0.5), latencyP99Ms: q(0.99) };
}

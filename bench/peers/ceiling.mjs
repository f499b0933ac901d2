// Hand-written "ceiling" peer for Outpost's peers benchmark: the leanest reasonable Node agent.
// Embedded aedes broker (sensors publish JSON {"value":n,"ts":ms} to sensors/<id>), 1 s tumbling
// windows per sensor by ARRIVAL time (epoch-aligned: [k*W, (k+1)*W)), count/min/max/mean/stddev
// (Welford; sample stddev, n-1, 0 for one reading: as Outpost), one summary per sensor per window
// published upstream. No storage. Env: MQTT_HOST (127.0.0.1), MQTT_PORT (1883), UPSTREAM_URL or
// UPSTREAM_HOST/UPSTREAM_PORT (127.0.0.1:1884), UPSTREAM_QOS (1), WINDOW_MS (1000),
// SUMMARY_PREFIX (outpost/bench/summary/). Stops on SIGTERM/SIGINT after flushing open windows.
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';

const env = process.env;
const W = Number(env.WINDOW_MS ?? 1000);
const QOS = Number(env.UPSTREAM_QOS ?? 1);
const PREFIX = env.SUMMARY_PREFIX ?? 'outpost/bench/summary/';
const upstreamUrl = env.UPSTREAM_URL ?? `mqtt://${env.UPSTREAM_HOST ?? '127.0.0.1'}:${env.UPSTREAM_PORT ?? 1884}`;

const upstream = mqtt.connect(upstreamUrl, { clientId: `ceiling-${process.pid}`, clean: true, keepalive: 60, reconnectPeriod: 1000 });
upstream.on('error', (err) => console.error('upstream:', err.message));

/** sensor id -> the open window: { start, count, min, max, mean, m2 } */
const open = new Map();
let dropped = 0;

function emit(sensor, w) {
  const s = {
    sensor, start: w.start, end: w.start + W, count: w.count, min: w.min, max: w.max,
    mean: w.mean, stddev: w.count > 1 ? Math.sqrt(w.m2 / (w.count - 1)) : 0,
  };
  upstream.publish(PREFIX + sensor, JSON.stringify(s), { qos: QOS });
}

function add(sensor, value, now) {
  const start = now - (now % W);
  let w = open.get(sensor);
  if (w !== undefined && w.start !== start) { emit(sensor, w); w = undefined; } // rolled over
  if (w === undefined) { w = { start, count: 0, min: value, max: value, mean: 0, m2: 0 }; open.set(sensor, w); }
  w.count++;
  if (value < w.min) w.min = value;
  if (value > w.max) w.max = value;
  const d = value - w.mean;
  w.mean += d / w.count;
  w.m2 += d * (value - w.mean);
}

/** Closes every window whose end has passed (all of them when `all`). */
function closeDue(all = false) {
  const now = Date.now();
  for (const [sensor, w] of open) {
    if (all || w.start + W <= now) { emit(sensor, w); open.delete(sensor); }
  }
}

let timer;
(function tick() {
  closeDue();
  timer = setTimeout(tick, W - (Date.now() % W) + 1); // just past the next boundary
})();

const broker = await Aedes.createBroker();
await new Promise((resolve) => broker.subscribe('sensors/#', (packet, cb) => {
  let v;
  try { v = JSON.parse(packet.payload).value; } catch { v = undefined; }
  if (typeof v === 'number' && Number.isFinite(v) && packet.topic.length > 8) add(packet.topic.slice(8), v, Date.now());
  else dropped++;
  cb();
}, resolve));

const server = createServer(broker.handle);
server.listen(Number(env.MQTT_PORT ?? 1883), env.MQTT_HOST ?? '127.0.0.1');
server.on('error', (err) => { console.error('broker:', err.message); process.exit(1); });

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  clearTimeout(timer);
  server.close();
  broker.close(() => {
    closeDue(true); // partial windows go out too
    if (dropped > 0) console.error(`ceiling: ${dropped} unparseable readings dropped`);
    upstream.end(false, {}, () => process.exit(0)); // waits for in-flight QoS 1 acks
    setTimeout(() => process.exit(0), 3000).unref();
  });
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

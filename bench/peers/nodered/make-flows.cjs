// Writes the Node-RED flow of the peers benchmark (node make-flows.cjs <out.json>): mqtt in
// (sensors/#, JSON) -> a function node keeping 1 s windows per sensor -> mqtt out, with the input
// broker inside Node-RED (node-red-contrib-aedes). Ports come from the environment (${...}).
const fs = require('fs');
const initialize = `// One window per sensor, by arrival time, epoch-aligned: [k*W, (k+1)*W).
const W = Number(env.get('WINDOW_MS') || 1000);
const PREFIX = env.get('SUMMARY_PREFIX') || 'outpost/bench/summary/';
const state = { W, open: new Map() };
state.summary = function (w) {
    return { topic: PREFIX + w.sensor, payload: {
        sensor: w.sensor, start: w.start, end: w.start + W, count: w.count, min: w.min, max: w.max,
        mean: w.mean, stddev: w.count > 1 ? Math.sqrt(w.m2 / (w.count - 1)) : 0 } };
};
context.set('state', state); // memory context store: the object itself, not a copy
// Closes every window whose end has passed, just after each boundary (this is also what
// flushes the last partial windows once the input stops).
function tick() {
    const now = Date.now();
    const out = [];
    for (const [sensor, w] of state.open) {
        if (w.start + W <= now) { out.push(state.summary(w)); state.open.delete(sensor); }
    }
    if (out.length > 0) node.send([out], false);
    setTimeout(tick, W - (Date.now() % W) + 1);
}
setTimeout(tick, W - (Date.now() % W) + 1);`;

const func = `// msg.payload is already an object (mqtt in parses JSON); sensor id = topic minus "sensors/".
const p = msg.payload;
const v = p !== null && typeof p === 'object' ? p.value : undefined;
if (typeof v !== 'number' || !Number.isFinite(v) || msg.topic.length <= 8) return null;
const state = context.get('state');
const now = Date.now();
const start = now - (now % state.W);
const sensor = msg.topic.slice(8);
let w = state.open.get(sensor);
let out = null;
if (w !== undefined && w.start !== start) { out = state.summary(w); w = undefined; } // rolled over before the timer
if (w === undefined) { w = { sensor, start, count: 0, min: v, max: v, mean: 0, m2: 0 }; state.open.set(sensor, w); }
w.count++;
if (v < w.min) w.min = v;
if (v > w.max) w.max = v;
const d = v - w.mean;
w.mean += d / w.count;
w.m2 += d * (v - w.mean);
return out;`;

const flows = [
  { id: 'tab1', type: 'tab', label: 'outpost peers bench', disabled: false, info: '' },
  // Input broker inside the Node-RED process (node-red-contrib-aedes, aedes 0.46). It listens on
  // all interfaces (the node has no bind-host option).
  { id: 'aedes1', type: 'aedes broker', z: 'tab1', name: 'sensor broker', mqtt_port: '${MQTT_PORT}',
    mqtt_ws_bind: 'port', mqtt_ws_port: '', mqtt_ws_path: '', cert: '', key: '', certname: '', keyname: '',
    persistence_bind: 'memory', dburl: '', usetls: false, x: 120, y: 40, wires: [[], []] },
  { id: 'brokerIn', type: 'mqtt-broker', name: 'local sensors', broker: '127.0.0.1', port: '${MQTT_PORT}',
    clientid: '', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true,
    autoUnsubscribe: true, birthTopic: '', birthQos: '0', birthPayload: '', birthMsg: {},
    closeTopic: '', closeQos: '0', closePayload: '', closeMsg: {}, willTopic: '', willQos: '0', willPayload: '', willMsg: {},
    userProps: '', sessionExpiry: '' },
  { id: 'brokerUp', type: 'mqtt-broker', name: 'upstream', broker: '${UPSTREAM_HOST}', port: '${UPSTREAM_PORT}',
    clientid: '', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true,
    autoUnsubscribe: true, birthTopic: '', birthQos: '0', birthPayload: '', birthMsg: {},
    closeTopic: '', closeQos: '0', closePayload: '', closeMsg: {}, willTopic: '', willQos: '0', willPayload: '', willMsg: {},
    userProps: '', sessionExpiry: '' },
  { id: 'in1', type: 'mqtt in', z: 'tab1', name: 'sensors', topic: 'sensors/#', qos: '0', datatype: 'json',
    broker: 'brokerIn', nl: false, rap: true, rh: 0, inputs: 0, x: 100, y: 120, wires: [['win1']] },
  { id: 'win1', type: 'function', z: 'tab1', name: '1 s windows', func, outputs: 1, timeout: 0, noerr: 0,
    initialize, finalize: '', libs: [], x: 300, y: 120, wires: [['out1']] },
  { id: 'out1', type: 'mqtt out', z: 'tab1', name: 'summaries', topic: '', qos: '${UPSTREAM_QOS}', retain: 'false',
    respTopic: '', contentType: '', userProps: '', correl: '', expiry: '', broker: 'brokerUp', x: 500, y: 120, wires: [] },
];
fs.writeFileSync(process.argv[2] || __dirname + '/flows.json', JSON.stringify(flows, null, 4) + '\n');

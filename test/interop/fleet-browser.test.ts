// The dashboard in a real browser (Debian's chromium, headless, driven by puppeteer-core): it
// lists the devices, shows a new summary on the device page without a reload (server-sent
// events), acknowledges an anomaly, and takes the picture committed as docs/fleet-dashboard.png.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { baseYaml, tempDir } from '../helpers/agent-config.js';
import { runAgent, runFleet, type Cleanups } from '../helpers/running.js';
import { connectPublisher } from '../helpers/publisher.js';
import { waitFor } from '../helpers/wait.js';
import { startFleetService } from '../../src/fleet/fleet-service.js';
import { fleetConfigSchema } from '../../src/fleet/fleet-config.js';
import { silentLogger } from '../../src/ops/logger.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import mqtt from 'mqtt';

const cleanups: Cleanups = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

describe('the fleet dashboard in a browser', () => {
  it('shows the devices, a new summary without reload, and acknowledges an anomaly', async () => {
    if (!CHROMIUM) throw new Error('chromium is not installed: apt-get install chromium (.ci/run does this)');
    const broker = await runFleet(cleanups); // an MQTT broker on a real port, standing in for the fleet broker
    const fleet = await startFleetService(fleetConfigSchema.parse({ broker: { url: broker.url, clientId: 'fleet-browser' }, store: { path: join(tempDir(), 'fleet.db') }, http: { port: 0 } }), silentLogger());
    cleanups.push(() => fleet.stop());
    const agents = await Promise.all(
      ['greenhouse-01', 'greenhouse-02'].map((id) => runAgent(cleanups, baseYaml({ fleetUrl: broker.url, windowSize: '1s', detectors: '[ { type: threshold, max: 45 } ]' }).replace('device: { id: test-01 }', `device: { id: ${id} }`))),
    );
    const pubs = await Promise.all(agents.map((a) => connectPublisher(a.brokerPort!)));
    for (const p of pubs) cleanups.push(() => p.endAsync());
    const publish = async (i: number, sensor: string, value: number) => pubs[i]!.publishAsync(`sensors/${sensor}`, String(value), { qos: 1 });
    for (let k = 0; k < 3; k++) {
      await publish(0, 'greenhouse/temp', 21 + k);
      await publish(1, 'greenhouse/temp', 19 + k);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await publish(0, 'greenhouse/temp', 60); // an anomaly
    await waitFor('both devices and the anomaly in the read model', async () => {
      const r = (await (await fetch(`http://127.0.0.1:${fleet.httpPort}/api/anomalies?state=open`)).json()) as unknown[];
      const d = (await (await fetch(`http://127.0.0.1:${fleet.httpPort}/api/devices`)).json()) as unknown[];
      return r.length === 1 && d.length === 2;
    }, 15_000);

    const browser: Browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 900 });
    const base = `http://127.0.0.1:${fleet.httpPort}`;
    await page.goto(`${base}/`, { waitUntil: 'domcontentloaded' }); // the events stream never lets the network idle
    await page.waitForSelector('tr[data-device="greenhouse-02"]');
    const devices = await page.$$eval('#devices tbody tr', (rows) => rows.map((r) => r.getAttribute('data-device')));
    expect(devices).toEqual(['greenhouse-01', 'greenhouse-02']);

    // The device page: a sensor that did not exist yet appears without a reload.
    await page.click('a[href="#/device/greenhouse-01"]');
    await page.waitForSelector('.sensor[data-sensor="greenhouse/temp"] canvas');
    const before = await page.$$eval('.sensor', (s) => s.length);
    await publish(0, 'greenhouse/humidity', 35);
    await new Promise((r) => setTimeout(r, 1200));
    await publish(0, 'greenhouse/humidity', 36); // closes the first window
    await page.waitForSelector('.sensor[data-sensor="greenhouse/humidity"]', { timeout: 10_000 });
    expect(await page.$$eval('.sensor', (s) => s.length)).toBe(before + 1);
    expect(await page.evaluate('performance.getEntriesByType("navigation").length')).toBe(1); // no reload

    // Acknowledge from the page.
    await page.waitForSelector('button.ack');
    await page.screenshot({ path: 'docs/fleet-dashboard.png', fullPage: true });
    await page.click('button.ack');
    await waitFor('the anomaly acknowledged', async () => {
      const r = (await (await fetch(`${base}/api/anomalies?state=acknowledged`)).json()) as Array<{ ackedBy: string }>;
      return r.length === 1 && r[0]!.ackedBy.startsWith('dashboard');
    });
    await page.waitForFunction('!document.querySelector("button.ack")', { timeout: 5_000 });
  });

  it('backfills a gap with its button: the replay runs on the device and the gap goes away', async () => {
    if (!CHROMIUM) throw new Error('chromium is not installed: apt-get install chromium (.ci/run does this)');
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const agent = await runAgent(cleanups, baseYaml({ fleetUrl: broker.url, windowSize: '1s' }));
    const pub = await connectPublisher(agent.brokerPort!);
    cleanups.push(() => pub.endAsync());
    const T0 = Math.floor((Date.now() - 600_000) / 10_000) * 10_000;
    const reading = (i: number) => pub.publishAsync('sensors/hall/temp', JSON.stringify({ value: 20 + (i % 5), ts: T0 + i * 1000 }), { qos: 1 });
    const dir = tempDir();
    const open = async () => {
      const f = await startFleetService(fleetConfigSchema.parse({ broker: { url: broker.url, clientId: 'fleet-backfill' }, store: { path: join(dir, 'fleet.db') }, http: { port: 0 } }), silentLogger());
      cleanups.push(() => f.stop());
      return f;
    };
    let fleet = await open();
    for (let i = 0; i < 4; i++) await reading(i);
    await waitFor('the device in the fleet', async () => ((await (await fetch(`http://127.0.0.1:${fleet.httpPort}/api/devices`)).json()) as unknown[]).length === 1);
    // The fleet away with its broker session: what the device sends meanwhile is a gap.
    await fleet.stop();
    await (await mqtt.connectAsync(broker.url, { clientId: 'fleet-backfill', clean: true, protocolVersion: 4 })).endAsync();
    for (let i = 4; i < 8; i++) await reading(i);
    await waitFor('sent upstream', async () => (await agent.health()).backlog.rows === 0);
    fleet = await open();
    for (let i = 8; i < 10; i++) await reading(i);
    const base = `http://127.0.0.1:${fleet.httpPort}`;
    await waitFor('a gap in the API', async () => ((await (await fetch(`${base}/api/devices`)).json()) as Array<{ gaps: { missing: number } }>)[0]!.gaps.missing > 0);

    const browser: Browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    await page.goto(`${base}/#/device/test-01`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('button.backfill');
    await page.click('button.backfill');
    await page.waitForFunction('document.getElementById("command-status")?.textContent.includes("replay: done")', { timeout: 20_000 });
    await waitFor('the gap closed in the API', async () => ((await (await fetch(`${base}/api/devices`)).json()) as Array<{ gaps: { missing: number } }>)[0]!.gaps.missing === 0);
    await page.goto(`${base}/#/commands`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('table.commands td.state-done');
    expect(await page.$eval('table.commands tbody tr', (r) => r.textContent)).toMatch(/replay.*dashboard.*done/);
  });
});

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
});

// The fleet dashboard: plain ES modules, no build step. Hash routes: #/ (devices), #/device/<id>,
// #/anomalies, #/deadletters, #/commands (the audit). Live through /api/events (server-sent events): the current view
// is fetched again when something it shows changed.
import uPlot from '/uplot.js';
import { commandsUi } from './commands.js';

const main = document.getElementById('main');
let token = localStorage.getItem('outpost-fleet-token') || '';
// With http.auth: the session cookie (HttpOnly) goes by itself; its CSRF token goes with writes.
let csrf = sessionStorage.getItem('outpost-fleet-csrf') || '';

function loginForm() {
  return new Promise((resolve) => {
    main.innerHTML = `<form id="login" class="card"><h3>Log in</h3><p><input name="username" placeholder="user" autocomplete="username"></p><p><input name="password" type="password" placeholder="password" autocomplete="current-password"></p><p><button>Log in</button> <span class="meta" id="login-error"></span></p></form>`;
    document.getElementById('login').addEventListener('submit', async (e) => {
      e.preventDefault();
      const f = new FormData(e.target);
      const res = await fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: f.get('username'), password: f.get('password') }) });
      if (!res.ok) {
        document.getElementById('login-error').textContent = 'wrong username or password';
        return;
      }
      csrf = (await res.json()).csrf;
      sessionStorage.setItem('outpost-fleet-csrf', csrf);
      resolve();
    });
  });
}

async function api(path, init = {}) {
  const headers = { ...(init.headers || {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...(csrf && init.method === 'POST' ? { 'x-csrf-token': csrf } : {}) };
  const res = await fetch(path, { ...init, headers });
  if (res.status === 401) {
    const { login } = await res.json();
    if (login === 'users') await loginForm();
    else {
      const given = prompt('This fleet service needs its http.token');
      if (given === null) throw new Error('no token given');
      token = given;
      localStorage.setItem('outpost-fleet-token', token);
    }
    return api(path, init);
  }
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const ago = (iso) => {
  if (!iso) return '–';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  return s < 90 ? `${s} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
};
const enc = encodeURIComponent;
/** Detectors still warming up (not yet protecting their sensors), from the device's health. */
const learning = (h) => {
  const l = h && h.learning;
  if (!l || l.learning === 0) return '';
  return ` · <span class="stale" title="${esc(l.least.map((x) => `${x.sensor} ${x.detector} ${Math.round(x.progress * 100)}%`).join(', '))}">${l.learning} of ${l.detectors} detectors still learning</span>`;
};
const commands = commandsUi({ api, esc, enc, main });

async function devicesView() {
  const devices = await api('/api/devices');
  main.innerHTML = `<h2>Devices</h2><table id="devices"><thead><tr><th>Device</th><th>Status</th><th>Last seen</th><th>Open anomalies</th><th>Backlog</th><th>Seq gaps</th></tr></thead><tbody>${devices
    .map((d) => `<tr data-device="${esc(d.device)}"><td><a href="#/device/${enc(d.device)}">${esc(d.device)}</a></td><td class="${d.status}">${d.status}</td><td>${ago(d.lastSeen)}</td><td>${d.openAnomalies}</td><td>${d.backlog ? `${d.backlog.rows} rows${d.backlog.oldestAgeS ? `, ${d.backlog.oldestAgeS} s old` : ''}` : '–'}</td><td class="${d.gaps.missing ? 'gap' : ''}">${d.gaps.missing ? `${d.gaps.missing} missing` : 'none'}</td></tr>`)
    .join('')}</tbody></table>${devices.length === 0 ? '<p class="meta">No device has reported yet.</p>' : ''}`;
}

function chart(el, points, anomalies = []) {
  // One time axis for the windows (mean line, min/max band) and the sensor's anomalies (red points).
  const byX = new Map();
  for (const p of points) byX.set(Date.parse(p.start) / 1000, { p });
  for (const a of anomalies) {
    const x = Date.parse(a.ts) / 1000;
    byX.set(x, { ...(byX.get(x) || {}), a });
  }
  const xs = [...byX.keys()].sort((x, y) => x - y);
  const col = (f) => xs.map((x) => f(byX.get(x)) ?? null);
  const data = [xs, col((r) => r.p?.min), col((r) => r.p?.mean), col((r) => r.p?.max), col((r) => (typeof r.a?.message?.value === 'number' ? r.a.message.value : undefined))];
  const width = Math.max(280, el.clientWidth - 10);
  return new uPlot(
    {
      width, height: 180,
      // One window alone would span years: give it ten minutes of room.
      scales: { x: { time: true, range: () => (xs.length > 1 ? [xs[0], xs[xs.length - 1]] : [(xs[0] ?? Date.now() / 1000) - 600, (xs[0] ?? Date.now() / 1000) + 60]) } },
      series: [
        {},
        { label: 'min', stroke: '#9fb3c8', spanGaps: true },
        { label: 'mean', stroke: '#2463eb', width: 2, spanGaps: true },
        { label: 'max', stroke: '#9fb3c8', spanGaps: true },
        { label: 'anomaly', stroke: '#d64545', width: 0, points: { show: true, size: 9, fill: '#d64545' } },
      ],
      bands: [{ series: [3, 1], fill: 'rgba(36,99,235,0.10)' }],
      axes: [{}, { size: 50 }],
    },
    data,
    el,
  );
}

async function deviceView(id) {
  const d = await api(`/api/devices/${enc(id)}`);
  const alerts = await api(`/api/anomalies?device=${enc(id)}`);
  main.innerHTML = `<h2>${esc(d.device)} <span class="${d.status}">${d.status}</span></h2>
    <p class="meta">last seen ${ago(d.lastSeen)} · backlog ${d.backlog ? d.backlog.rows : '–'} rows · seq gaps ${d.gaps.missing}${d.gaps.ranges.length ? ` (${d.gaps.ranges.map((r) => r.join('–')).join(', ')})` : ''}${learning(d.health)}</p>
    <div id="sensors">${d.sensors
      .map((s, i) => `<div class="card sensor" data-sensor="${esc(s.sensor)}"><h3>${esc(s.sensor)} ${s.stale ? '<span class="stale">stale</span>' : ''}</h3><p class="meta">latest mean <b>${s.lastSummary.mean ?? '–'}</b> (min ${s.lastSummary.min ?? '–'}, max ${s.lastSummary.max ?? '–'}, n=${s.lastSummary.count}) · window ending ${ago(s.lastSummary.window.end)}</p><div id="chart-${i}"></div></div>`)
      .join('')}</div>
    <h3>Anomalies and events</h3>${alertsTable(alerts)}
    ${await commands.devicePanel(d)}`;
  const to = new Date().toISOString();
  const from = new Date(Date.now() - 6 * 3600_000).toISOString();
  await Promise.all(
    d.sensors.map(async (s, i) =>
      chart(
        document.getElementById(`chart-${i}`),
        await api(`/api/devices/${enc(id)}/sensors/${enc(s.sensor)}/summaries?from=${from}&to=${to}&points=360`),
        alerts.filter((a) => a.kind === 'anomaly' && a.subject === s.sensor && a.ts >= from),
      ),
    ),
  );
}

function alertsTable(alerts) {
  if (alerts.length === 0) return '<p class="meta">None.</p>';
  return `<table class="alerts"><thead><tr><th>Time</th><th>Device</th><th>What</th><th>State</th><th></th></tr></thead><tbody>${alerts
    .map((a) => {
      const m = a.message;
      const what =
        a.kind === 'anomaly'
          ? `<span class="sev-${esc(m.severity)}">${esc(m.severity)}</span> ${esc(a.subject)}: ${esc(m.message)}`
          : a.kind === 'rule'
            ? `<span class="sev-${esc(m.severity)}">${esc(m.severity)}</span> rule ${esc(a.subject)}${m.message ? `: ${esc(m.message)}` : ''} (${Object.entries(m.values ?? {})
                .map(([k, v]) => `${esc(k)} = ${esc(v)}`)
                .join(', ')})`
            : a.kind === 'stale'
              ? `${esc(a.subject)} silent for ${m.silentForS} s`
              : `${esc(a.subject)} offline`;
      return `<tr data-id="${esc(a.id)}"><td>${esc(a.ts.slice(0, 19).replace('T', ' '))}</td><td>${esc(a.device)}</td><td>${what}</td><td>${a.state}${a.ackedBy ? ` by ${esc(a.ackedBy)}` : ''}</td><td>${a.state === 'open' ? `<button class="ack" data-id="${esc(a.id)}">Acknowledge</button>` : ''}</td></tr>`;
    })
    .join('')}</tbody></table>`;
}

async function anomaliesView() {
  main.innerHTML = `<h2>Anomalies and events</h2>${alertsTable(await api('/api/anomalies'))}`;
}

async function deadLettersView() {
  const d = await api('/api/deadletters');
  main.innerHTML = `<h2>Dead letters (${d.total})</h2><table><thead><tr><th>Received</th><th>Topic</th><th>Reason</th><th>Detail</th></tr></thead><tbody>${d.latest.map((x) => `<tr><td>${esc(x.receivedAt)}</td><td>${esc(x.topic)}</td><td>${esc(x.reason)}</td><td>${esc(x.detail)}</td></tr>`).join('')}</tbody></table>`;
}

document.addEventListener('click', async (e) => {
  const b = e.target.closest('button.ack');
  if (!b) return;
  b.disabled = true;
  await api(`/api/anomalies/${enc(b.dataset.id)}/ack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ by: 'dashboard' }) });
  render();
});

let rendering = false;
let again = false;
async function render() {
  if (rendering) {
    again = true; // a change arrived while drawing: draw once more after
    return;
  }
  rendering = true;
  try {
    const h = location.hash.slice(1) || '/';
    if (h.startsWith('/device/')) await deviceView(decodeURIComponent(h.slice(8)));
    else if (h === '/anomalies') await anomaliesView();
    else if (h === '/deadletters') await deadLettersView();
    else if (h === '/commands') await commands.auditView();
    else await devicesView();
  } catch (err) {
    main.innerHTML = `<p>Could not load: ${esc(err.message)}</p>`;
  } finally {
    rendering = false;
    if (again) {
      again = false;
      render();
    }
  }
}

let pending;
function live() {
  const es = new EventSource(`/api/events${token ? `?token=${enc(token)}` : ''}`);
  const dot = document.getElementById('live');
  es.onopen = () => dot.classList.add('on');
  es.onerror = () => dot.classList.remove('on');
  // At most one redraw per half second, however many changes arrive (a busy fleet sends many).
  es.onmessage = () => {
    pending ??= setTimeout(() => {
      pending = undefined;
      // Not while someone edits a config or types a command: the redraw would wipe it.
      if (document.getElementById('config-text') || document.activeElement?.closest?.('form.command')) return;
      render();
    }, 500);
  };
}

window.addEventListener('hashchange', render);
render().then(live);

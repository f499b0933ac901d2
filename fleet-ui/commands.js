// Commands in the dashboard: the device page's command panel (quick actions, any command with
// JSON args, "apply config" with a diff), backfill buttons on gaps, and the audit page.
// Every command goes through POST /api/devices/{device}/commands and is followed until final.

const FINAL = ['done', 'failed', 'rejected', 'expired', 'timed-out'];

export function commandsUi({ api, esc, enc, main }) {
  const send = (device, body) => api(`/api/devices/${enc(device)}/commands`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, by: 'dashboard' }) });
  async function follow(device, id, timeoutMs = 60_000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const [c] = await api(`/api/commands?id=${enc(id)}&device=${enc(device)}`);
      if ((c && FINAL.includes(c.state)) || Date.now() > end) return c;
      await new Promise((r) => setTimeout(r, 400));
    }
  }
  const outcome = (c) => (c.error ? esc(c.error) : c.result ? `<code>${esc(JSON.stringify(c.result).slice(0, 200))}</code>` : '');
  const table = (cmds, withDevice) =>
    cmds.length === 0
      ? '<p class="meta">None yet.</p>'
      : `<table class="commands"><thead><tr><th>Sent</th>${withDevice ? '<th>Device</th>' : ''}<th>Command</th><th>By</th><th>State</th><th>Outcome</th></tr></thead><tbody>${cmds
          .map((c) => `<tr data-command="${esc(c.id)}"><td>${esc((c.issuedAt ?? c.updatedAt ?? '').slice(0, 19).replace('T', ' '))}</td>${withDevice ? `<td>${esc(c.device)}</td>` : ''}<td>${esc(c.name)} <code>${esc(JSON.stringify(c.args ?? {}).slice(0, 80))}</code></td><td>${esc(c.issuedBy ?? '(not from this fleet)')}</td><td class="state-${esc(c.state)}">${esc(c.state)}</td><td>${outcome(c)}</td></tr>`)
          .join('')}</tbody></table>`;

  /** The panel under a device's page. */
  async function devicePanel(d) {
    const cmds = await api(`/api/commands?device=${enc(d.device)}&limit=20`);
    const gaps = (d.gapSpans ?? [])
      .map((g) => `<li>seqs ${g.first}–${g.last} ${g.from && g.to ? `(${esc(g.from.slice(0, 19))} → ${esc(g.to.slice(0, 19))}) <button class="backfill" data-device="${esc(d.device)}" data-first="${g.first}" data-last="${g.last}" data-from="${esc(g.from)}" data-to="${esc(g.to)}">Backfill this gap</button>` : '(no time around it yet)'}</li>`)
      .join('');
    return `${gaps ? `<h3>Gaps</h3><ul class="gaps">${gaps}</ul>` : ''}
      <h3>Commands</h3>
      <p class="actions" data-device="${esc(d.device)}">
        <button class="quick" data-name="ping">Ping</button>
        <button class="quick" data-name="flush">Flush windows</button>
        <button class="quick" data-name="alarm.ack">Acknowledge alarm outputs</button>
        <button class="config-edit">Apply config…</button>
      </p>
      <form class="command" data-device="${esc(d.device)}"><input name="name" placeholder="command, e.g. detector.reset" required> <input name="args" placeholder='args as JSON, e.g. {"sensors":"pump1/*"}'> <button>Send</button></form>
      <div id="config-editor"></div>
      <p id="command-status" class="meta"></p>
      ${table(cmds, false)}`;
  }

  const status = (text) => {
    const el = document.getElementById('command-status');
    if (el) el.innerHTML = text;
  };
  async function run(device, body) {
    status(`sending ${esc(body.name)}…`);
    try {
      const c = await send(device, body);
      status(`${esc(body.name)}: ${esc(c.state)}, waiting for the device…`);
      const f = await follow(device, c.id);
      status(`${esc(body.name)}: <b class="state-${esc(f.state)}">${esc(f.state)}</b> ${outcome(f)}`);
      return f;
    } catch (err) {
      status(`${esc(body.name)}: ${esc(err.message)}`);
    }
  }

  /** A line diff (longest common subsequence): what config.apply would change. */
  function diff(a, b) {
    const x = a.split('\n');
    const y = b.split('\n');
    const n = x.length;
    const m = y.length;
    const L = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
    const out = [];
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && x[i] === y[j]) {
        out.push(`<span>  ${esc(x[i++])}</span>`);
        j++;
      } else if (j < m && (i >= n || L[i][j + 1] >= L[i + 1][j])) out.push(`<ins>+ ${esc(y[j++])}</ins>`);
      else out.push(`<del>- ${esc(x[i++])}</del>`);
    }
    return out.join('\n');
  }

  async function editConfig(device) {
    const box = document.getElementById('config-editor');
    box.innerHTML = '<p class="meta">asking the device for its config…</p>';
    const got = await run(device, { name: 'config.get' });
    if (!got || got.state !== 'done' || !got.result.yaml) return void (box.innerHTML = '<p class="meta">the device did not send its config file.</p>');
    const current = got.result.yaml;
    box.innerHTML = `<textarea id="config-text" rows="20" spellcheck="false">${esc(current)}</textarea><p><button id="config-diff">Show changes</button> rollback after <input id="config-rollback" value="60s" size="5"></p><pre id="config-changes" class="diff"></pre>`;
    document.getElementById('config-diff').onclick = () => {
      const next = document.getElementById('config-text').value;
      document.getElementById('config-changes').innerHTML = `${diff(current, next)}\n\n<button id="config-apply">Apply these changes</button>`;
      document.getElementById('config-apply').onclick = () => run(device, { name: 'config.apply', args: { yaml: next, rollbackAfter: document.getElementById('config-rollback').value } });
    };
  }

  document.addEventListener('click', async (e) => {
    const t = e.target;
    if (t.matches('button.backfill')) {
      t.disabled = true;
      const d = t.dataset;
      await run(d.device, { name: 'replay', args: { from: d.from, to: d.to }, closesGap: [Number(d.first), Number(d.last)] });
    } else if (t.matches('button.quick')) {
      await run(t.closest('.actions').dataset.device, { name: t.dataset.name });
    } else if (t.matches('button.config-edit')) {
      await editConfig(t.closest('.actions').dataset.device);
    }
  });
  document.addEventListener('submit', async (e) => {
    if (!e.target.matches('form.command')) return;
    e.preventDefault();
    const f = e.target;
    let args = {};
    try {
      args = f.args.value.trim() ? JSON.parse(f.args.value) : {};
    } catch {
      return status('args: not JSON');
    }
    await run(f.dataset.device, { name: f.name.value.trim(), args });
  });

  return {
    devicePanel,
    async auditView() {
      main.innerHTML = `<h2>Commands: who sent what, when, with what outcome</h2>${table(await api('/api/commands?limit=500'), true)}`;
    },
  };
}

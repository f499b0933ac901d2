// config.get's redaction and config.apply's way back: literal secrets and URL credentials are
// hidden (references are not: they are no secret), and an edited text that still carries the
// hidden values gets the current ones back, at the same path only.
import { describe, expect, it } from 'vitest';
import { REDACTED, redactConfigText, redactConfigValue, unredactConfigText } from '../../src/config/redact-config.js';

const FILE = `device: { id: d1 }
uplink:
  url: "mqtts://dev:S3cret@broker.example:8883"
  username: dev
  password: "hunter2"  # literal
broker:
  auth: { users: [ { username: node1, password: "\${env:NODE1_PW}" }, { username: node2, password: plain2 } ] }
`;

describe('config redaction', () => {
  it('hides literal secrets and URL credentials, keeps references and comments', () => {
    const shown = redactConfigText(FILE);
    expect(shown).not.toMatch(/hunter2|S3cret|plain2/);
    expect(shown).toContain('${env:NODE1_PW}');
    expect(shown).toContain('mqtts://***@broker.example:8883');
    expect(shown).toContain('# literal');
    expect(shown.match(new RegExp(REDACTED.replace(/[[\]]/g, '\\$&'), 'g'))).toHaveLength(2);
  });

  it('puts the hidden values back where an edit left them, and only there', () => {
    const edited = redactConfigText(FILE).replace('device: { id: d1 }', 'device: { id: d2 }');
    const back = unredactConfigText(edited, FILE);
    expect(back).toContain('id: d2');
    expect(back).toContain('hunter2');
    expect(back).toContain('plain2');
    expect(back).toContain('mqtts://dev:S3cret@broker.example:8883');
    // A changed URL keeps what the sender wrote: credentials are not carried to another host.
    const moved = unredactConfigText(redactConfigText(FILE).replace('broker.example', 'evil.example'), FILE);
    expect(moved).toContain('mqtts://***@evil.example:8883');
    expect(moved).not.toContain('S3cret');
    // A REDACTED under a key the current file does not have stays as written.
    expect(unredactConfigText(`${FILE}extra: { password: "${REDACTED}" }\n`, FILE)).toContain(`password: "${REDACTED}"`);
  });

  it('hides every secret in the effective config', () => {
    expect(redactConfigValue({ uplink: { url: 'mqtt://a:b@h', password: 'x', token: '' }, http: { port: 1 } })).toEqual({ uplink: { url: 'mqtt://***@h', password: REDACTED, token: '' }, http: { port: 1 } });
  });
});

// Request checks for the agent's HTTP endpoint, pure (headers in, a refusal out):
// - Host: an IP literal, "localhost" or a name in http.allowedHosts. A DNS-rebinding page reaches
//   the agent under its own host name, so a name the agent does not know is refused.
// - Write actions: a bearer token (http.token, or one generated at start and kept beside the
//   database for the CLI), a JSON content type (a cross-site form cannot send one without a
//   CORS preflight, which the agent never grants) and a bounded body.
import { timingSafeEqual, createHash } from 'node:crypto';
import { isIP } from 'node:net';

export interface Refusal {
  status: 400 | 401 | 403 | 413 | 415 | 421;
  message: string;
}

/** The host part of a Host header: "[::1]:9464" -> "::1", "pi.local:9464" -> "pi.local". */
export function hostOf(header: string | undefined): string {
  if (!header) return '';
  if (header.startsWith('[')) return header.slice(1, header.indexOf(']') > 0 ? header.indexOf(']') : undefined);
  const colon = header.lastIndexOf(':');
  return (colon > 0 ? header.slice(0, colon) : header).toLowerCase();
}

/**
 * `allowed`: http.allowedHosts and this machine's own names (its hostname, and hostname.local
 * for mDNS). A request without Host (HTTP/1.0 tools) cannot come from a rebinding page: browsers
 * always send one.
 */
export function checkHost(header: string | undefined, allowed: readonly string[]): Refusal | undefined {
  if (header === undefined) return undefined;
  const host = hostOf(header);
  if (host === 'localhost' || isIP(host) !== 0 || allowed.includes(host)) return undefined;
  return { status: 421, message: `host ${JSON.stringify(host.slice(0, 100))} is not this agent's: use its IP address, localhost, or add the name to http.allowedHosts` };
}

/** Equal-time comparison of a presented bearer token with the expected one. */
export function checkToken(authorization: string | undefined, token: string): Refusal | undefined {
  const given = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? '';
  const digest = (s: string) => createHash('sha256').update(s).digest();
  if (given !== '' && timingSafeEqual(digest(given), digest(token))) return undefined;
  return { status: 401, message: 'write actions need "Authorization: Bearer <http.token>" (the outpost CLI sends it)' };
}

export function checkJsonRequest(contentType: string | undefined, contentLength: string | undefined, maxBytes: number): Refusal | undefined {
  if (!/^application\/json\s*(;|$)/i.test(contentType ?? '')) return { status: 415, message: 'send the body as Content-Type: application/json' };
  if (contentLength !== undefined && Number(contentLength) > maxBytes) return { status: 413, message: `body over ${maxBytes} bytes` };
  return undefined;
}

/**
 * The URL of a path on a local HTTP endpoint (the agent's, or the fleet service's for `outpost
 * cmd`): a wildcard listen address is reached on loopback, an IPv6 address in brackets.
 */
export function agentUrl(http: { host: string; port: number }, path: string): string {
  const host = http.host === '0.0.0.0' || http.host === '::' ? '127.0.0.1' : http.host.includes(':') ? `[${http.host}]` : http.host;
  return `http://${host}:${http.port}${path}`;
}

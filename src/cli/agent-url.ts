/** The URL of a path on the running agent's HTTP endpoint: a wildcard listen address is reached on loopback. */
export function agentUrl(http: { host: string; port: number }, path: string): string {
  const host = http.host === '0.0.0.0' || http.host === '::' ? '127.0.0.1' : http.host;
  return `http://${host}:${http.port}${path}`;
}

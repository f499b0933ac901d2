/** A URL fit for logs and output: credentials in it (user:password@) are masked. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * A URL fit for logs and output: everything between "//" and the last "@" (user:password) is
 * masked, whatever characters the password holds ("@", "/", ":", "#"). Taking the last "@"
 * rather than parsing errs on the side of hiding: a password with "/" or "#" in it would make
 * a URL parser end the authority early and print the rest of the password as a path.
 */
export function redactUrl(url: string): string {
  const scheme = url.indexOf('//');
  if (scheme < 0) return url;
  const at = url.lastIndexOf('@');
  return at > scheme ? `${url.slice(0, scheme + 2)}***@${url.slice(at + 1)}` : url;
}

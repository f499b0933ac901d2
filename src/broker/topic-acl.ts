/** Whether subscribing to `sub` stays inside the ACL filter `acl` (e.g. "sensors/#" covers "sensors/a/+"). */
export function filterCovers(acl: string, sub: string): boolean {
  if (acl === '#') return true;
  const a = acl.split('/');
  const s = sub.split('/');
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '#') return true;
    if (i >= s.length) return false;
    if (s[i] === '#') return false;
    if (a[i] !== '+' && a[i] !== s[i]) return false;
  }
  return a.length === s.length;
}

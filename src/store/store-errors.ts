// What a failed SQLite call means for the operator: one short phrase for health and logs.
export type StoreProblem = 'disk-full' | 'read-only' | 'io-error' | 'corrupt' | 'other';

export function classifyStoreError(err: unknown): StoreProblem {
  const e = err as { code?: string; message?: string };
  const text = `${e.code ?? ''} ${e.message ?? ''}`;
  if (/SQLITE_FULL|ENOSPC|disk is full/i.test(text)) return 'disk-full';
  if (/SQLITE_READONLY|EROFS|read-only|readonly/i.test(text)) return 'read-only';
  if (/SQLITE_CORRUPT|SQLITE_NOTADB|malformed|not a database/i.test(text)) return 'corrupt';
  if (/SQLITE_IOERR|SQLITE_CANTOPEN|EIO/i.test(text)) return 'io-error';
  return 'other';
}

export const STORE_PROBLEM_ADVICE: Record<StoreProblem, string> = {
  'disk-full': 'the file system is full: free space on it (Outpost resumes buffering by itself), or lower storage.maxBytes',
  'read-only': 'the file system is read-only (an SD card remounted read-only after errors?): check `dmesg`, fsck the card, reboot',
  'io-error': 'the storage reports I/O errors: the SD card may be failing',
  corrupt: 'the database file is damaged: restart Outpost, which sets the file aside and salvages what it can',
  other: 'see the error',
};

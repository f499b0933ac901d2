// The Numenta Anomaly Benchmark corpus as data: 58 series (`timestamp,value`), their labelled
// anomaly windows mapped to row indexes, and official per-row results of published detectors.
// Reads the original layout from a NAB directory; each CSV may also be gzipped (`.csv.gz`,
// as in this repository's copy under nab/).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';

export interface NabFile {
  /** "<category>/<name>.csv", as in the labels. */
  name: string;
  /** Epoch ms, read as UTC (NAB timestamps carry no zone). */
  ts: Float64Array;
  values: Float64Array;
  /** Labelled windows as inclusive row ranges [l, r]. */
  windows: Array<[number, number]>;
}

export function readCsv(path: string): string[][] {
  const gz = existsSync(`${path}.gz`);
  const text = gz ? gunzipSync(readFileSync(`${path}.gz`)).toString('utf8') : readFileSync(path, 'utf8');
  return text
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => l.split(','));
}

const toMs = (t: string) => Date.parse(`${t.trim().slice(0, 19).replace(' ', 'T')}Z`);

/** Every file of the corpus, in name order, with its windows (from labels/<labels>). */
export function loadCorpus(dir: string, labelsFile = 'combined_windows.json'): NabFile[] {
  const labels = JSON.parse(readFileSync(join(dir, 'labels', labelsFile), 'utf8')) as Record<string, Array<[string, string]>>;
  const files: NabFile[] = [];
  for (const category of readdirSync(join(dir, 'data')).sort()) {
    const folder = join(dir, 'data', category);
    if (!existsSync(folder) || category.includes('.')) continue;
    const names = [...new Set(readdirSync(folder).filter((f) => /\.csv(\.gz)?$/.test(f)).map((f) => f.replace(/\.gz$/, '')))].sort();
    for (const file of names) {
      const rows = readCsv(join(folder, file));
      const ts = new Float64Array(rows.map((r) => toMs(r[0]!)));
      const values = new Float64Array(rows.map((r) => Number(r[1])));
      const name = `${category}/${file}`;
      files.push({ name, ts, values, windows: (labels[name] ?? []).map(([a, b]) => [firstRow(ts, toMs(a), name), firstRow(ts, toMs(b), name)]) });
    }
  }
  return files;
}

/** The first row carrying timestamp `t` (a file may repeat one, or step back once). */
function firstRow(ts: Float64Array, t: number, name: string): number {
  const i = ts.indexOf(t);
  if (i < 0) throw new Error(`${name}: label timestamp ${new Date(t).toISOString()} is not a row`);
  return i;
}

/** Official per-row scores of a published detector (results/<detector>/<category>/<detector>_<name>). */
export function loadOfficialScores(dir: string, detector: string, files: readonly NabFile[]): Float64Array[] {
  return files.map((f) => {
    const [category, name] = f.name.split('/');
    const rows = readCsv(join(dir, 'results', detector, category!, `${detector}_${name}`));
    if (rows.length !== f.values.length) throw new Error(`${detector} ${f.name}: ${rows.length} scores for ${f.values.length} rows`);
    return new Float64Array(rows.map((r) => Number(r[r.length - 1])));
  });
}

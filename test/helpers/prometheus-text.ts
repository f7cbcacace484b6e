// A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: every line must be a
// HELP, a TYPE or a sample; names, label names and escaped label values must be well-formed; a family's TYPE
// comes once and before its samples; a histogram's series end in _bucket (with le), _sum or _count; no series
// appears twice. Any violation throws with the line.
import { get } from 'node:http';

export interface Scrape {
  /** TYPE of each family. */
  types: Map<string, string>;
  /** Series key (name plus sorted labels) -> value. */
  samples: Map<string, number>;
  /** The value of one series; undefined when absent. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Every series of a metric name, with its labels. */
  series(name: string): { labels: Record<string, string>; value: number }[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function key(name: string, labels: Record<string, string>): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `${name}{${parts.join(',')}}`;
}

/** A value as Prometheus reads it (Go's ParseFloat: NaN and Inf in any case; prom-client writes "Nan"). */
function parseValue(s: string, line: string): number {
  if (/^\+?inf(inity)?$/i.test(s)) return Infinity;
  if (/^-inf(inity)?$/i.test(s)) return -Infinity;
  if (/^nan$/i.test(s)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`bad value "${s}" in: ${line}`);
  return Number(s);
}

/** Labels inside {...}; returns them and the index after the closing brace. */
function parseLabels(line: string, start: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start;
  while (line[i] !== '}') {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(i));
    if (!m || !LABEL.test(m[1]!)) throw new Error(`bad label at ${i} in: ${line}`);
    i += m[0].length;
    let value = '';
    for (;;) {
      const c = line[i];
      if (c === undefined) throw new Error(`unterminated label value in: ${line}`);
      if (c === '"') break;
      if (c === '\\') {
        const n = line[i + 1];
        if (n === 'n') value += '\n';
        else if (n === '\\' || n === '"') value += n;
        else throw new Error(`bad escape in: ${line}`);
        i += 2;
        continue;
      }
      value += c;
      i++;
    }
    i++; // closing quote
    if (m[1]! in labels) throw new Error(`label ${m[1]} twice in: ${line}`);
    labels[m[1]!] = value;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`expected , or } at ${i} in: ${line}`);
  }
  return { labels, end: i + 1 };
}

function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const t = types.get(base);
      if (t === 'histogram' || (t === 'summary' && suffix !== '_bucket')) return base;
    }
  }
  return undefined;
}

export function parsePrometheusText(text: string): Scrape {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  const byName = new Map<string, { labels: Record<string, string>; value: number }[]>();
  const seenSamples = new Set<string>();
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) {
        if (/^# (HELP|TYPE)/.test(line)) throw new Error(`bad comment: ${line}`);
        continue; // another comment
      }
      if (!NAME.test(m[2]!)) throw new Error(`bad metric name in: ${line}`);
      if (m[1] === 'TYPE') {
        if (!TYPES.has(m[3]!)) throw new Error(`bad type in: ${line}`);
        if (types.has(m[2]!)) throw new Error(`TYPE twice: ${line}`);
        if (seenSamples.has(m[2]!)) throw new Error(`TYPE after samples: ${line}`);
        types.set(m[2]!, m[3]!);
      }
      continue;
    }
    const nm = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (!nm) throw new Error(`bad sample: ${line}`);
    const name = nm[1]!;
    let i = name.length;
    let labels: Record<string, string> = {};
    if (line[i] === '{') ({ labels, end: i } = parseLabels(line, i + 1));
    const rest = line.slice(i);
    const vm = /^ (\S+)( -?\d+)?$/.exec(rest);
    if (!vm) throw new Error(`bad value part in: ${line}`);
    const value = parseValue(vm[1]!, line);
    const family = familyOf(name, types);
    if (family === undefined) throw new Error(`sample without a TYPE for its family: ${line}`);
    seenSamples.add(family);
    const t = types.get(family)!;
    if (t === 'histogram' && name.endsWith('_bucket') && !('le' in labels)) throw new Error(`bucket without le: ${line}`);
    if (t === 'histogram' && name === family) throw new Error(`histogram sample without _bucket/_sum/_count: ${line}`);
    const k = key(name, labels);
    if (samples.has(k)) throw new Error(`series twice: ${line}`);
    samples.set(k, value);
    const list = byName.get(name) ?? [];
    list.push({ labels, value });
    byName.set(name, list);
  }
  return {
    types,
    samples,
    value: (name, labels = {}) => samples.get(key(name, labels)),
    series: (name) => byName.get(name) ?? [],
  };
}

/** GET /metrics of a server whose metricsAddress is 127.0.0.1:`port` (no token), parsed strictly. */
export async function scrapeLocalMetrics(port: number): Promise<Scrape> {
  const body = await new Promise<string>((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d.toString()));
      res.on('end', () => resolve(b));
    }).on('error', reject);
  });
  return parsePrometheusText(body);
}

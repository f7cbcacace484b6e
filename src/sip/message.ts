// SIP messages (RFC 3261 section 7 and the grammar of section 25): parse one from bytes, write one to bytes.
// Strangers send these, so the parser has caps on everything (size, header count, line length, body) and
// says what is wrong in a SipParseError, which carries the headers read when they are enough (Via, From,
// To, Call-ID, CSeq) to answer 400 rather than drop it. Header names are kept in one form: lower
// case, compact forms expanded (v -> via, i -> call-id ...); they are written back in their usual spelling.
// A header that may repeat with comma-separated values (Via, Route, Contact ...) is split into one value each.

/** A UDP datagram is at most this; a TCP message too (a phone's INVITE with SDP is 1-3 KB). */
export const MAX_MESSAGE_BYTES = 65_535;
export const MAX_HEADERS = 100;
export const MAX_HEADER_LINE = 8192;
export const MAX_BODY_BYTES = 32_768;

export class SipParseError extends Error {
  /** The headers read, when they are enough to answer 400 (those a response copies are there); else null. */
  readonly headers: SipHeaders | null;
  /** A response was being parsed (never answered). */
  readonly response: boolean;
  constructor(message: string, headers: SipHeaders | null = null, response = false) {
    super(message);
    this.name = 'SipParseError';
    this.headers = headers !== null && replyable(headers) ? headers : null;
    this.response = response;
  }

  get canReply(): boolean {
    return this.headers !== null && !this.response;
  }
}

const COMPACT: Record<string, string> = {
  v: 'via',
  f: 'from',
  t: 'to',
  i: 'call-id',
  m: 'contact',
  l: 'content-length',
  c: 'content-type',
  k: 'supported',
  s: 'subject',
  e: 'content-encoding',
  o: 'event',
  r: 'refer-to',
  u: 'allow-events',
  x: 'session-expires',
};
/** Headers whose comma-separated values are separate entries (RFC 3261 7.3.1). */
const LIST_HEADERS = new Set(['via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require', 'proxy-require', 'unsupported', 'accept', 'allow-events']);
const SPELLING: Record<string, string> = { 'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate', 'mime-version': 'MIME-Version', 'min-se': 'Min-SE' };
/** Names the parser must find before a 400 can be sent back. */
const REPLY_NEEDS = ['via', 'from', 'to', 'call-id', 'cseq'] as const;

/** The headers a response copies are there, not empty, and the CSeq reads (so the 400 is a valid response). */
function replyable(h: SipHeaders): boolean {
  return REPLY_NEEDS.every((n) => (h.get(n) ?? '') !== '') && /^\d{1,10}\s+\S+$/.test(h.get('cseq')!);
}

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/** The headers of one message, in order; names in lower case. */
export class SipHeaders {
  readonly entries: [name: string, value: string][] = [];

  static normalise(name: string): string {
    const n = name.toLowerCase();
    return COMPACT[n] ?? n;
  }

  get(name: string): string | undefined {
    const n = SipHeaders.normalise(name);
    for (const [k, v] of this.entries) if (k === n) return v;
    return undefined;
  }

  getAll(name: string): string[] {
    const n = SipHeaders.normalise(name);
    const out: string[] = [];
    for (const [k, v] of this.entries) if (k === n) out.push(v);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  add(name: string, value: string): this {
    this.entries.push([SipHeaders.normalise(name), value]);
    return this;
  }

  /** Replaces every value of the header by this one (at the place of the first). */
  set(name: string, value: string): this {
    const n = SipHeaders.normalise(name);
    const i = this.entries.findIndex(([k]) => k === n);
    this.remove(n);
    if (i < 0) this.entries.push([n, value]);
    else this.entries.splice(Math.min(i, this.entries.length), 0, [n, value]);
    return this;
  }

  remove(name: string): this {
    const n = SipHeaders.normalise(name);
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i]![0] === n) this.entries.splice(i, 1);
    return this;
  }
}

export interface SipRequest {
  kind: 'request';
  method: string;
  uri: string;
  headers: SipHeaders;
  body: Buffer;
}

export interface SipResponse {
  kind: 'response';
  status: number;
  reason: string;
  headers: SipHeaders;
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

/** Splits a header value at commas outside quotes and <...> (a display name or URI may hold commas). */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let angle = 0;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '<') angle++;
    else if (c === '>' && angle > 0) angle--;
    else if (c === ',' && angle === 0) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((v) => v.length > 0);
}

/** Where the header block ends (the index of the empty line's first byte) in buf, -1 when not there yet. */
export function headerEnd(buf: Buffer, from = 0): number {
  const crlf = buf.indexOf('\r\n\r\n', from, 'latin1');
  const lf = buf.indexOf('\n\n', from, 'latin1');
  if (crlf < 0) return lf;
  if (lf < 0) return crlf;
  return Math.min(crlf, lf);
}

/**
 * Parses one message. `stream`: it came over TCP/TLS, so Content-Length is required and the body is exactly
 * that long (the framer cut it); over UDP a missing Content-Length means the rest of the datagram.
 */
export function parseMessage(buf: Buffer, stream = false): SipMessage {
  if (buf.length > MAX_MESSAGE_BYTES) throw new SipParseError(`message larger than ${MAX_MESSAGE_BYTES} bytes`);
  let offset = 0;
  // RFC 3261 7.5: CRLFs before the start line are ignored
  while (offset < buf.length && (buf[offset] === 13 || buf[offset] === 10)) offset++;
  const end = headerEnd(buf, offset);
  if (end < 0) throw new SipParseError('no empty line after the headers');
  const head = buf.toString('latin1', offset, end);
  const bodyStart = end + (buf[end] === 13 ? 4 : 2);
  const rawLines = head.split(/\r?\n/);
  // header folding (obsolete, still legal): a line starting with space or tab continues the previous one
  const lines: string[] = [];
  for (const line of rawLines) {
    if (line.length > MAX_HEADER_LINE) throw new SipParseError('header line too long');
    if ((line.startsWith(' ') || line.startsWith('\t')) && lines.length > 1) lines[lines.length - 1] += ' ' + line.trim();
    else lines.push(line);
  }
  const start = lines[0] ?? '';
  const isResponse = start.startsWith('SIP/');
  const headers = new SipHeaders();
  let malformedHeader: string | null = null;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!TOKEN.test(name)) {
      malformedHeader ??= `malformed header line ${i}`;
      continue;
    }
    if (headers.entries.length >= MAX_HEADERS) throw new SipParseError(`more than ${MAX_HEADERS} headers`, headers, isResponse);
    const n = SipHeaders.normalise(name);
    const value = line.slice(colon + 1).trim();
    // control characters (a bare CR, NUL ...) are not SIP text: refused, never passed on
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) {
      malformedHeader ??= `control character in header ${n}`;
      continue;
    }
    if (LIST_HEADERS.has(n)) for (const v of splitList(value)) headers.entries.push([n, v]);
    else headers.entries.push([n, value]);
  }
  const fail = (why: string) => new SipParseError(why, headers, isResponse);
  if (malformedHeader !== null) throw fail(malformedHeader);
  for (const single of ['from', 'to', 'call-id', 'cseq', 'content-length', 'max-forwards']) {
    if (headers.getAll(single).length > 1) throw new SipParseError(`more than one ${single} header`);
  }

  let body: Buffer;
  const cl = headers.get('content-length');
  if (cl !== undefined) {
    if (!/^\d{1,6}$/.test(cl)) throw fail('bad Content-Length');
    const n = Number(cl);
    if (n > MAX_BODY_BYTES) throw fail('body too large');
    if (bodyStart + n > buf.length) throw fail('body shorter than Content-Length');
    body = buf.subarray(bodyStart, bodyStart + n);
  } else {
    if (stream) throw fail('no Content-Length on a stream transport');
    body = buf.subarray(Math.min(bodyStart, buf.length));
    if (body.length > MAX_BODY_BYTES) throw fail('body too large');
  }

  const response = /^SIP\/2\.0 ([1-6]\d\d)(?: (.*))?$/.exec(start);
  if (isResponse && !response) throw fail('malformed status line');
  if (response) {
    if (!parseCSeqValue(headers.get('cseq')) || !headers.get('call-id') || !headers.get('via')) throw fail('a response without Via, Call-ID or CSeq');
    return { kind: 'response', status: Number(response[1]), reason: response[2] ?? '', headers, body };
  }
  const request = /^([A-Za-z0-9\-.!%*_+`'~]+) (\S+) SIP\/2\.0$/.exec(start);
  if (!request) throw fail(/SIP\/\d/.test(start) && !/SIP\/2\.0/.test(start) ? 'unsupported SIP version' : 'malformed start line');
  const cseq = /^(\d{1,10})\s+(\S+)$/.exec(headers.get('cseq') ?? '');
  if (!cseq || Number(cseq[1]) > 0x7fffffff || cseq[2] !== request[1]) throw fail('CSeq missing or not matching the request');
  for (const h of REPLY_NEEDS) if (!headers.has(h)) throw fail(`no ${h} header`);
  if (request[2]!.length > 2048) throw fail('request URI too long');
  return { kind: 'request', method: request[1]!, uri: request[2]!, headers, body };
}

function parseCSeqValue(v: string | undefined): boolean {
  return v !== undefined && /^\d{1,10}\s+\S+$/.test(v);
}

function spelling(name: string): string {
  return SPELLING[name] ?? name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

/** Writes a message; Content-Length is set from the body. */
export function serializeMessage(m: SipMessage): Buffer {
  const start = m.kind === 'request' ? `${m.method} ${m.uri} SIP/2.0` : `SIP/2.0 ${m.status} ${m.reason}`;
  const lines = [start];
  for (const [name, value] of m.headers.entries) {
    if (name === 'content-length') continue;
    // no header may smuggle a line break into the message
    lines.push(`${spelling(name)}: ${value.replace(/[\r\n]+/g, ' ')}`);
  }
  lines.push(`Content-Length: ${m.body.length}`, '', '');
  return Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), m.body]);
}

const REASONS: Record<number, string> = {
  100: 'Trying',
  180: 'Ringing',
  183: 'Session Progress',
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  491: 'Request Pending',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'Version Not Supported',
  603: 'Decline',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status < 300 ? 'OK' : 'Error');
}

/**
 * A response to `req` (RFC 3261 8.2.6.2): Via, From, Call-ID and CSeq copied, To copied and given `toTag`
 * when it has none (every response but 100 to a request outside a dialog).
 */
export function responseTo(req: Pick<SipRequest, 'headers'>, status: number, toTag?: string, reason = reasonPhrase(status)): SipResponse {
  const h = new SipHeaders();
  for (const v of req.headers.getAll('via')) h.add('via', v);
  const to = req.headers.get('to') ?? '';
  h.add('from', req.headers.get('from') ?? '');
  h.add('to', toTag !== undefined && status !== 100 && !/;\s*tag=/i.test(to) ? `${to};tag=${toTag}` : to);
  h.add('call-id', req.headers.get('call-id') ?? '');
  h.add('cseq', req.headers.get('cseq') ?? '');
  return { kind: 'response', status, reason, headers: h, body: Buffer.alloc(0) };
}

// HTTP handlers: the built web app (dist/web) over HTTPS with a single-page-app fallback, /healthz, and the
// plain-HTTP port that only redirects to HTTPS (to one of this server's own names, never to any Host a request
// names), except the ACME HTTP-01 challenges it answers while a certificate is being obtained (acme.ts). Source maps (*.map) are served only when config.serveSourceMaps is on.
import { createReadStream, statSync, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { unescape as lenientUnescape } from 'node:querystring';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.ts';
import type { HostNames } from './host-names.ts';

const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/** <repo>/dist/web, relative to this file (src/signal/http.ts). */
export const DEFAULT_WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/web');

/**
 * The page may connect only to its own origin ('self', which covers wss: to the same host and port in CSP 3
 * browsers), may not set a <base> and may send forms only to itself. `connect-src` also names the page's own
 * wss:// origin explicitly, from the request's Host when it is a well-formed host[:port], for browsers older
 * than CSP 3. `frameAncestors`: the origins that may embed the page (config.embedAllowedOrigins, checked
 * there); none: no page may frame it.
 */
export function contentSecurityPolicy(hostHeader?: string, frameAncestors: readonly string[] = []): string {
  const host = hostHeader !== undefined && hostWithoutPort(hostHeader) !== null ? hostHeader.trim().toLowerCase() : undefined;
  return (
    // WebAssembly (noise suppression, background blur) compiles from the app's own files: 'wasm-unsafe-eval' allows
    // that and no other eval
    `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'${host ? ` wss://${host}` : ''}; img-src 'self' data: blob:; ` +
    "media-src 'self' blob: mediastream:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; " +
    `form-action 'self'; frame-ancestors ${frameAncestors.length > 0 ? frameAncestors.join(' ') : "'none'"}`
  );
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.wav': 'audio/wav',
  '.webm': 'video/webm',
  '.mp4': 'video/mp4',
};

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export function setSecurityHeaders(res: ServerResponse, req?: IncomingMessage, frameAncestors: readonly string[] = []): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(req?.headers.host, frameAncestors));
  // for browsers without CSP frame-ancestors; with embedding allowed, the CSP alone says by whom
  if (frameAncestors.length === 0) res.setHeader('X-Frame-Options', 'DENY');
  // No Strict-Transport-Security: self-signed installs reached by IP address must stay reachable.
}

export function sendText(res: ServerResponse, req: IncomingMessage, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  const buf = Buffer.from(body);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': buf.length, 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : buf);
}

/**
 * The decoded URL path split into segments, or null when it must be refused: not origin-form, bad
 * percent-encoding, NUL or other control characters, backslashes, or a `..` segment.
 */
export function safePathSegments(rawUrl: string | undefined): string[] | null {
  if (!rawUrl || !rawUrl.startsWith('/')) return null;
  const rawPath = rawUrl.split(/[?#]/, 1)[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(decoded)) return null;
  const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) return null;
  return segments;
}

/**
 * A path safePathSegments refused only because it is not valid percent-encoding or holds a control character (NUL):
 * a link to a room the app itself names as not valid (`/a%`, `/x%00y`), answered with the app's page (never a file)
 * as other refused room names are: one segment only. A backslash, a `.` or `..` (read leniently: a stray `%` kept,
 * bytes that are not UTF-8 as U+FFFD) or a deeper path (/assets/..., /recordings/...) stays a 400.
 */
export function isRefusedRoomLink(rawUrl: string | undefined): boolean {
  if (!rawUrl || !rawUrl.startsWith('/')) return false;
  const decoded = lenientUnescape(rawUrl.split(/[?#]/, 1)[0]!);
  if (decoded.includes('\\')) return false;
  const segments = decoded.split('/').filter((s) => s !== '');
  // a room link is one segment: anything deeper (/assets/..., /recordings/...) stays a 400
  return segments.length === 1 && segments[0] !== '.' && segments[0] !== '..';
}

function statFile(file: string): Stats | undefined {
  try {
    const st = statSync(file);
    return st.isFile() ? st : undefined;
  } catch {
    return undefined;
  }
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tertulia: web app not built</title></head>
<body><h1>The web app is not built</h1>
<p>This server has no <code>dist/web</code>. Run <code>./tertulia start</code>, which builds it
(or <code>npm run build:web</code>), then reload this page.</p></body></html>
`;

/**
 * The HTTPS request handler (WebSocket upgrades on /ws are handled elsewhere). `/external_api.js` (Jitsi's IFrame
 * API, built into dist/web) is an ordinary file of the app here. `serveSourceMaps`: serve *.map
 * files and point browsers at them (a `SourceMap` header on scripts and styles; the build leaves no comment in
 * the files); off, a *.map path is a 404.
 */
export function createStaticHandler(opts: {
  webRoot: string;
  log: Logger;
  serveSourceMaps?: boolean;
  /** Origins whose pages may frame the app (config.embedAllowedOrigins). */
  embedAllowedOrigins?: readonly string[];
}): (req: IncomingMessage, res: ServerResponse) => void {
  const webRoot = path.resolve(opts.webRoot);
  const log = opts.log;
  const serveSourceMaps = opts.serveSourceMaps ?? false;
  const frameAncestors = opts.embedAllowedOrigins ?? [];
  return (req, res) => {
    try {
      setSecurityHeaders(res, req, frameAncestors);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        sendText(res, req, 405, 'method not allowed\n');
        return;
      }
      let segments = safePathSegments(req.url);
      if (!segments) {
        if (!isRefusedRoomLink(req.url)) {
          sendText(res, req, 400, 'bad request path\n');
          return;
        }
        // the app's page (index.html, as for "/"), which says why the room name is not valid
        segments = [];
      }
      if (segments.length === 1 && segments[0] === 'healthz') {
        sendText(res, req, 200, JSON.stringify({ ok: true }), 'application/json; charset=utf-8');
        return;
      }
      const isAsset = segments[0] === 'assets';
      if (!serveSourceMaps && segments.length > 0 && segments[segments.length - 1]!.toLowerCase().endsWith('.map')) {
        sendText(res, req, 404, 'not found\n');
        return;
      }
      let file: string | undefined;
      let st: Stats | undefined;
      if (segments.length > 0) {
        const candidate = path.join(webRoot, ...segments);
        if (candidate.startsWith(webRoot + path.sep)) {
          st = statFile(candidate);
          if (st) file = candidate;
        }
      }
      if (!file) {
        if (isAsset) {
          sendText(res, req, 404, 'not found\n');
          return;
        }
        // Single-page app: every other path (/, /<Room>) is the app's index.html.
        file = path.join(webRoot, 'index.html');
        st = statFile(file);
        if (!st) {
          sendText(res, req, 503, NOT_BUILT_PAGE, 'text/html; charset=utf-8');
          return;
        }
      }
      const headers: Record<string, string | number> = {
        'Content-Type': contentTypeFor(file),
        'Content-Length': st!.size,
        'Cache-Control': isAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
        'Last-Modified': st!.mtime.toUTCString(),
      };
      if (serveSourceMaps && /\.(m?js|css)$/i.test(file) && statFile(`${file}.map`)) headers.SourceMap = `${path.basename(file)}.map`;
      if (req.method === 'HEAD') {
        res.writeHead(200, headers);
        res.end();
        return;
      }
      const stream = createReadStream(file);
      stream.once('open', () => {
        res.writeHead(200, headers);
        stream.pipe(res);
      });
      stream.once('error', (e) => {
        log.warn({ err: e.message }, 'static file read failed');
        if (!res.headersSent) sendText(res, req, 500, 'internal error\n');
        else res.destroy();
      });
      res.once('close', () => stream.destroy());
    } catch (e) {
      log.error({ err: (e as Error).message }, 'http handler failed');
      if (!res.headersSent) sendText(res, req, 500, 'internal error\n');
      else res.destroy();
    }
  };
}

/** host[:port] from a Host header, without the port; null when the header is not a plausible host. */
export function hostWithoutPort(hostHeader: string | undefined): string | null {
  if (!hostHeader) return null;
  const h = hostHeader.trim();
  const v6 = /^(\[[0-9A-Fa-f:.]+\])(?::\d+)?$/.exec(h);
  if (v6) return v6[1]!;
  const m = /^([A-Za-z0-9.\-_]+)(?::\d+)?$/.exec(h);
  return m ? m[1]! : null;
}

/**
 * The plain-HTTP handler: a 301 to the same path on the HTTPS port, at the request's host when that is one of
 * this server's names, else at the canonical one (a forged or malformed Host is not echoed).
 */
export function createRedirectHandler(opts: {
  httpsPort: () => number;
  hosts: HostNames;
  /** The key authorization of an open ACME HTTP-01 challenge (acme.ts), answered here instead of a redirect. */
  acmeChallenge?: (token: string) => string | undefined;
}): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    setSecurityHeaders(res);
    if (opts.acmeChallenge && req.url?.startsWith(ACME_CHALLENGE_PREFIX) && (req.method === 'GET' || req.method === 'HEAD')) {
      const token = req.url.slice(ACME_CHALLENGE_PREFIX.length);
      // a token is base64url (RFC 8555 8.1); anything else is not one of ours
      const answer = /^[A-Za-z0-9_-]{1,256}$/.test(token) ? opts.acmeChallenge(token) : undefined;
      if (answer !== undefined) sendText(res, req, 200, answer, 'application/octet-stream');
      else sendText(res, req, 404, 'no such challenge\n');
      return;
    }
    const asked = hostWithoutPort(req.headers.host);
    const host = asked !== null && opts.hosts.known(asked) ? asked.toLowerCase() : opts.hosts.canonical;
    const pathPart = req.url && req.url.startsWith('/') ? req.url : '/';
    const location = `https://${host}:${opts.httpsPort()}${pathPart}`;
    try {
      res.writeHead(301, { Location: location, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : `Moved to ${location}\n`);
    } catch {
      // a path Node refuses to put in a header: answer without echoing it
      if (!res.headersSent) sendText(res, req, 400, 'bad request path\n');
      else res.destroy();
    }
  };
}

// Requests to the admin HTTP API (/api/v1) of a test server over HTTPS (its self-signed certificate accepted).
import https from 'node:https';

export interface AdminReply {
  status: number;
  headers: Record<string, unknown>;
  body: any;
}

/**
 * One request to 127.0.0.1:`port`. `token` null sends no Authorization header; `body` a string is sent as is,
 * else as JSON; `localAddress` connects from another loopback address (another client address for rate limits).
 */
export function adminRequest(
  port: number,
  method: string,
  path: string,
  opts: { token: string | null; body?: unknown; contentType?: string; localAddress?: string },
): Promise<AdminReply> {
  const payload = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const headers: Record<string, string> = {};
  if (opts.token !== null) headers.Authorization = `Bearer ${opts.token}`;
  if (payload !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, method, path, headers, rejectUnauthorized: false, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

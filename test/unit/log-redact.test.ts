// The logger hides secrets wherever a careless log call puts them: at the top level or one level down, under
// the names the configuration and the protocol use (password, jwt, session, natsPassword, jwtSecret, …).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.ts';

test('secrets never reach a log line', () => {
  let text = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  const log = createLogger('info', sink);
  const secrets = ['pw-top', 'jwt-top', 'sess-top', 'nats-pw', 'nats-tok', 'jwt-secret', 'pw-nested', 'sess-nested', 'jwt-nested', 'tok-top', 'rtmp://h/app/stream-key-1', 'stream-key-2'];
  log.info({ password: 'pw-top', jwt: 'jwt-top', session: 'sess-top', token: 'tok-top' }, 'top level');
  log.info({ config: { natsPassword: 'nats-pw', natsToken: 'nats-tok', jwtSecret: 'jwt-secret', httpsPort: 8443 } }, 'a config');
  log.info({ msg: { type: 'join', password: 'pw-nested', session: 'sess-nested', jwt: 'jwt-nested', room: 'Sala' } }, 'a message');
  log.info({ req: { rtmpUrl: 'rtmp://h/app/stream-key-1', streamKey: 'stream-key-2' } }, 'a live stream');
  for (const s of secrets) assert.ok(!text.includes(s), `${s} was logged: ${text}`);
  assert.match(text, /"httpsPort":8443/);
  assert.match(text, /"room":"Sala"/);
  assert.match(text, /\[secret\]/);
});

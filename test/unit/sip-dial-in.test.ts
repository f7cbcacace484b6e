// Which room an INVITE is for (X-Room-Name, else the request URI's user part; a dialled number: the PIN menu),
// who is calling, and the name the meeting shows for a caller (the trunk's name, or the number's last four digits).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callerOf, dialInTarget } from '../../src/sip/dial-in.ts';
import { parseMessage, type SipRequest } from '../../src/sip/message.ts';
import { phoneDisplayName } from '../../src/protocol/phone-messages.ts';

function invite(uri: string, extra: string[] = [], from = '"Ana Ruiz" <sip:+34600111234@pbx.example>;tag=1'): SipRequest {
  const text = [
    `INVITE ${uri} SIP/2.0`,
    'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1',
    `From: ${from}`,
    'To: <sip:gw@10.0.0.2>',
    'Call-ID: a@b',
    'CSeq: 1 INVITE',
    'Max-Forwards: 70',
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return parseMessage(Buffer.from(text)) as SipRequest;
}

test('the room: X-Room-Name first, else the URI user part; a number or nothing goes to the PIN menu', () => {
  assert.deepEqual(dialInTarget(invite('sip:Llamada@10.0.0.2')), { room: 'Llamada' });
  // room names as people type them (spaces allowed); a "/" is not
  assert.deepEqual(dialInTarget(invite('sip:Reuni%C3%B3n%20x@10.0.0.2')), { room: 'Reunión x' });
  assert.deepEqual(dialInTarget(invite('sip:a%2Fb@10.0.0.2')).hasOwnProperty('invalid'), true);
  assert.deepEqual(dialInTarget(invite('sip:Reuni%C3%B3n@10.0.0.2')), { room: 'Reunión' });
  assert.deepEqual(dialInTarget(invite('sip:+34910000000@10.0.0.2', ['X-Room-Name: equipo.semanal'])), { room: 'equipo.semanal' });
  assert.deepEqual(dialInTarget(invite('sip:+34910000000@10.0.0.2')), { menu: true });
  assert.deepEqual(dialInTarget(invite('sip:10.0.0.2')), { menu: true });
  const bad = dialInTarget(invite('sip:gw@10.0.0.2', ['X-Room-Name: x#y']));
  assert.ok('invalid' in bad && /no such meeting/.test(bad.invalid));
});

test('a dialled number has a digit: punctuation alone is checked as a room name (".." refused, "-" a room)', () => {
  for (const number of ['+34910000000', '555-0100', '(555) 0100', '+1.555.0100', '1']) {
    assert.deepEqual(dialInTarget(invite(`sip:${encodeURIComponent(number)}@10.0.0.2`)), { menu: true }, number);
  }
  for (const dots of ['..', '.', '%20', '%20%20']) {
    const target = dialInTarget(invite(`sip:${dots}@10.0.0.2`));
    assert.ok('invalid' in target && /no such meeting/.test(target.invalid), `${dots}: ${JSON.stringify(target)}`);
  }
  // a valid room name, as a browser may open it
  assert.deepEqual(dialInTarget(invite('sip:-@10.0.0.2')), { room: '-' });
  assert.deepEqual(dialInTarget(invite('sip:()@10.0.0.2')), { room: '()' });
  assert.deepEqual(dialInTarget(invite('sip:+@10.0.0.2')), { room: '+' });
});

test('the caller: From display name and number; the name shown masks the number', () => {
  const c = callerOf(invite('sip:x@y'));
  assert.deepEqual(c, { callerId: '+34600111234', callerName: 'Ana Ruiz' });
  assert.equal(phoneDisplayName(c.callerId, c.callerName), 'Ana Ruiz');
  assert.equal(phoneDisplayName('+34600111234', undefined), 'Phone …1234');
  // a trunk that puts the number in the display name: masked all the same
  assert.equal(phoneDisplayName('+34600111234', '+34 600 111 234'), 'Phone …1234');
  assert.equal(phoneDisplayName(undefined, undefined), 'Phone');
  assert.equal(phoneDisplayName('anonymous', undefined), 'Phone');
  // invisible and markup characters out
  assert.equal(phoneDisplayName('1', '\u202eAna <b>'), 'Ana b');
  assert.deepEqual(callerOf(invite('sip:x@y', [], '<sip:anonymous@anonymous.invalid>;tag=2')), { callerId: 'anonymous' });
});

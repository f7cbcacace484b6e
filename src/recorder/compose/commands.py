# The composer's commands, checked: each parser takes the decoded JSON object and returns plain values, or
# raises ValueError with what is wrong (answered as an error event; the recording goes on unchanged).
import base64
import json
import socket

MAX_LINE = 1 << 20
MAX_PARTICIPANTS = 1000
MAX_SOURCES = 16


def parse_line(line):
    """The command's name and its object."""
    if len(line) > MAX_LINE:
        raise ValueError('command too long')
    msg = json.loads(line)
    if not isinstance(msg, dict) or not isinstance(msg.get('cmd'), str):
        raise ValueError('a command is a JSON object with "cmd"')
    return msg['cmd'][:32], msg


def _key(value, what):
    key = base64.b64decode(str(value or ''), validate=True)
    if len(key) != 30:
        raise ValueError(f'{what} is 30 bytes (SRTP master key and salt)')
    return key


def parse_crypto(msg):
    """(key to decrypt with, key to encrypt our RTCP with or None, (bridge address, video RTCP port) or None)."""
    key = _key(msg.get('key'), 'key')
    bridge = msg.get('bridge')
    if bridge is None:
        return key, None, None
    port = bridge.get('videoRtcpPort') if isinstance(bridge, dict) else None
    address = bridge.get('address') if isinstance(bridge, dict) else None
    if not isinstance(port, int) or not 0 < port < 65536 or not isinstance(address, str):
        raise ValueError('bridge is {address, videoRtcpPort}')
    socket.inet_aton(address)  # an IPv4 address, or OSError (a ValueError's sibling: reported the same)
    return key, _key(msg.get('sendKey'), 'sendKey'), (address, port)


def parse_participants(msg):
    """([(id, name)] in order, {ssrc: (id, 'camera'|'screen'|'audio')}, the speaker's id or None)."""
    participants = msg.get('participants')
    if not isinstance(participants, list) or len(participants) > MAX_PARTICIPANTS:
        raise ValueError(f'participants: a list of at most {MAX_PARTICIPANTS}')
    people, owners = [], {}
    for p in participants:
        if not isinstance(p, dict) or not isinstance(p.get('id'), str) or not isinstance(p.get('name', ''), str):
            raise ValueError('a participant is {id, name, sources}')
        sources = p.get('sources', [])
        if not isinstance(sources, list) or len(sources) > MAX_SOURCES:
            raise ValueError('sources: a list')
        people.append((p['id'], p.get('name', '')))
        for src in sources:
            ssrc = src.get('ssrc') if isinstance(src, dict) else None
            if not isinstance(ssrc, int) or isinstance(ssrc, bool) or not 0 <= ssrc <= 0xFFFFFFFF:
                raise ValueError('a source has an ssrc')
            kind = 'audio' if src.get('kind') == 'audio' else 'screen' if src.get('role') == 'screen' else 'camera'
            owners[ssrc] = (p['id'], kind)
    speaker = msg.get('speaker')
    if speaker is not None and not isinstance(speaker, str):
        raise ValueError('speaker: a participant id')
    return people, owners, speaker


LAYOUTS = ('grid', 'speaker')


def parse_layout(msg):
    if msg.get('layout') not in LAYOUTS:
        raise ValueError('layouts: grid, speaker')
    return msg['layout']


MAX_URL = 2048


def parse_stream(msg):
    """The RTMP(S) address to push the live stream to (checked by the recorder first; checked again here)."""
    from urllib.parse import urlsplit

    url = msg.get('url')
    if not isinstance(url, str) or not 0 < len(url) <= MAX_URL or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise ValueError('url: an rtmp:// or rtmps:// address')
    parts = urlsplit(url)
    if parts.scheme not in ('rtmp', 'rtmps') or not parts.hostname:
        raise ValueError('url: an rtmp:// or rtmps:// address')
    return url

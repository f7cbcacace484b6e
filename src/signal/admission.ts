// Who gets in: every `join` passes here before it reaches the room. Decides the person's identity (open,
// a signed-in account, or a JWT), their role, then the room's lock (password) and lobby. Also answers
// `login` (accounts mode). Refusals are `error` replies with a code and a message a person can read.
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import { moderatedAtJoin } from './av-moderation.ts';
import { MAX_DISPLAY_NAME, stripInvisible } from '../protocol/display-name.ts';
import { roomKey, type ClientMessage, type ErrorCode } from '../protocol/signal-messages.ts';
import { FailureLimiter } from './auth/failure-limiter.ts';
import { LOGIN_SESSION_SECONDS, LoginSessions } from './auth/login-sessions.ts';
import type { TokenVerifier } from './auth/jwt.ts';
import type { CheckResult, UserStore } from './auth/users.ts';
import type { Knock, Lobby } from './lobby.ts';
import { moderatorsOf, policyOf, roomStateFor } from './room-policy.ts';
import { peopleIn, type JoinGrant, type Room, type Rooms, type Session } from './rooms.ts';
import { rateLimitKey } from './client-address.ts';
import type { ResumeRecord } from './room-state.ts';
import type { StoredPolicy } from '../protocol/signal-fanout-messages.ts';

type JoinMessage = Extract<ClientMessage, { type: 'join' }>;

/** Failed sign-ins: per username, and per address (many usernames from one place). */
export const LOGIN_LIMIT_PER_USER = { maxFailures: 5, windowMs: 15 * 60_000 };
export const LOGIN_LIMIT_PER_ADDRESS = { maxFailures: 20, windowMs: 15 * 60_000 };
/** Wrong room passwords per address and room. */
export const ROOM_PASSWORD_LIMIT = { maxFailures: 5, windowMs: 60_000 };

export interface AdmissionOptions {
  config: Pick<Config, 'authMode' | 'allowGuests'> & Partial<Pick<Config, 'adminAccounts'>>;
  rooms: Rooms;
  lobby: Lobby;
  log: Logger;
  users?: UserStore;
  tokens?: TokenVerifier;
}

/** True when `username` is named in adminAccounts (usernames are case-insensitive). */
export function isAdminAccount(adminAccounts: readonly string[], username: string): boolean {
  const key = username.trim().normalize('NFC').toLowerCase();
  return adminAccounts.some((a) => a.trim().normalize('NFC').toLowerCase() === key);
}

/** Who a join is (its grant), why it is refused, or a guest who must wait for the host to start the meeting. */
type Identity = JoinGrant | { error: ErrorCode; message: string } | { hostWait: true };

export class Admission {
  private opts: AdmissionOptions;
  private readonly log: Logger;
  readonly loginSessions = new LoginSessions();
  private readonly loginPerUser = new FailureLimiter(LOGIN_LIMIT_PER_USER);
  private readonly loginPerAddress = new FailureLimiter(LOGIN_LIMIT_PER_ADDRESS);
  private readonly roomPassword = new FailureLimiter(ROOM_PASSWORD_LIMIT);
  /** Sessions whose join or login is being checked (a second one meanwhile is refused). */
  private readonly busy = new WeakSet<Session>();
  /** Sessions whose socket closed (a join still being checked for them is dropped). */
  private readonly gone = new WeakSet<Session>();
  /** Called after every successful join (straight in, or admitted from the lobby). */
  onJoined: (session: Session) => void = () => {};

  /** Reloaded access settings (SIGHUP): joins and sign-ins from now on follow them. */
  reconfigure(change: Pick<AdmissionOptions, 'config' | 'users' | 'tokens'>): void {
    this.opts = { ...this.opts, ...change };
  }

  constructor(opts: AdmissionOptions) {
    this.opts = opts;
    this.log = opts.log;
  }

  private refuse(session: Session, code: ErrorCode, message: string): void {
    session.send({ type: 'error', code, message });
  }

  async login(session: Session, username: string, password: string): Promise<void> {
    const { users } = this.opts;
    // other modes: only an admin signs in (for the /recordings page)
    const adminsOnly = this.opts.config.authMode !== 'accounts';
    const admins = this.opts.config.adminAccounts ?? [];
    if (!users || (adminsOnly && admins.length === 0)) {
      this.refuse(session, 'no-accounts', 'this server has no accounts to sign in with');
      return;
    }
    if (this.busy.has(session)) {
      this.refuse(session, 'bad-message', 'a sign-in or join is already in progress');
      return;
    }
    const address = rateLimitKey(session.remoteAddress);
    const userKey = username.trim().normalize('NFC').toLowerCase();
    const now = Date.now();
    const wait = Math.max(this.loginPerUser.retryAfterSeconds(userKey, now), this.loginPerAddress.retryAfterSeconds(address, now));
    if (wait > 0) {
      this.log.warn({ address }, 'sign-in refused: too many failed attempts');
      this.refuse(session, 'rate-limited', `too many failed sign-in attempts; try again in ${wait} s`);
      return;
    }
    // Counted as failed before the (asynchronous) check and forgiven if right: attempts sent at once must not all
    // pass the limits while none of them has been counted yet.
    this.loginPerUser.fail(userKey, now);
    this.loginPerAddress.fail(address, now);
    this.busy.add(session);
    let result: CheckResult;
    try {
      result = await users.check(username, password);
    } finally {
      this.busy.delete(session);
    }
    // an account that is not an admin's, where only admins sign in: refused as a wrong password is, so that nobody
    // learns from the answer which names are admins
    if (result.ok && adminsOnly && !isAdminAccount(admins, result.username)) result = { ok: false, busy: false };
    if (!result.ok && result.busy) {
      this.loginPerUser.forgive(userKey, now);
      this.loginPerAddress.forgive(address, now);
      this.log.warn({ address }, 'sign-in refused: too many sign-ins being checked');
      this.refuse(session, 'rate-limited', 'the server is busy checking other sign-ins; try again in a few seconds');
      return;
    }
    if (!result.ok) {
      this.log.info({ address }, 'sign-in failed');
      this.refuse(session, 'login-failed', 'wrong username or password');
      return;
    }
    this.loginPerUser.clear(userKey);
    this.loginPerAddress.forgive(address, now);
    this.log.info({ address, user: result.username }, 'signed in');
    session.send({
      type: 'login-ok',
      username: result.username,
      session: this.loginSessions.create(result.username, result.stamp),
      expiresInSeconds: LOGIN_SESSION_SECONDS,
    });
  }

  /** Checks a join and, when it may proceed, joins (or puts it in the lobby). Never throws. */
  async join(session: Session, msg: JoinMessage): Promise<void> {
    if (session.member) {
      this.refuse(session, 'already-joined', `already in room "${session.member.room.name}"; leave first`);
      return;
    }
    const knock = this.opts.lobby.knockOf(session);
    if (knock && !this.busy.has(session) && msg.password !== undefined && roomKey(msg.room) === knock.room.key) {
      this.passwordFromLobby(session, msg, knock);
      return;
    }
    if (this.busy.has(session) || knock) {
      this.refuse(session, 'already-joined', 'this connection is already joining (or waiting in the lobby)');
      return;
    }
    this.busy.add(session);
    let identity: Identity;
    let resumed: JoinGrant | undefined;
    try {
      resumed = await this.resumed(msg);
      identity = resumed ?? (await this.identify(session, msg));
    } finally {
      this.busy.delete(session);
    }
    if (resumed) {
      // admitted before (lock, lobby and password passed then): straight back in, as the same participant
      if (session.member || this.gone.has(session)) return;
      this.enter(session, msg, resumed);
      return;
    }
    if ('hostWait' in identity) {
      session.send({ type: 'host-wait', room: msg.room, signIn: this.opts.config.authMode === 'accounts' });
      return;
    }
    if ('error' in identity) {
      this.refuse(session, identity.error, identity.message);
      return;
    }
    // a room this instance has just taken over: its stored lock and lobby first
    const known = this.opts.rooms.rooms.get(roomKey(msg.room));
    if (known) await this.opts.rooms.policyLoaded(known);
    // a room whose people all dropped keeps its lock and lobby for them to come back (ROOM_RETURN_GRACE_MS): a
    // newcomer meanwhile meets them as if the meeting went on
    const kept = peopleIn(known) > 0 ? undefined : await this.opts.rooms.keptPolicy(roomKey(msg.room));
    if (session.member || this.gone.has(session)) return;
    if (kept && !this.keptPolicyPassed(session, msg, identity, kept)) return;
    this.admit(session, msg, identity);
  }

  /**
   * The kept lock and lobby of a room nobody is in (its people dropped and may come back): hosts pass (signed in,
   * or a token that says moderator: not one that is moderator only for coming first); the room password passes the
   * lock and the lobby, and is asked for when there is one; a lobby alone cannot be passed (nobody is in to let
   * anyone in) until a moderator is back or the grace ends. False when refused (the refusal sent).
   */
  private keptPolicyPassed(session: Session, msg: JoinMessage, grant: JoinGrant, kept: StoredPolicy): boolean {
    if (grant.authenticated && grant.role === 'moderator' && !grant.firstComer) return true;
    const key = roomKey(msg.room);
    if (kept.password !== undefined) {
      if (msg.password !== undefined) return this.passwordRight(session, key, kept.password, msg.password);
      this.refuse(session, 'password-required', 'this meeting is locked with a password');
      return false;
    }
    if (kept.lobby) {
      this.log.info({ room: key, address: session.remoteAddress }, 'refused: the lobby is on and nobody is in the meeting');
      this.refuse(session, 'lobby-closed', 'the lobby is on and nobody is in the meeting to let you in; try again later');
      return false;
    }
    return true;
  }

  /** A reconnect with a resume token of this room: who it was (role, signed in or not), else undefined. */
  private async resumed(msg: JoinMessage): Promise<JoinGrant | undefined> {
    const state = this.opts.rooms.state;
    if (msg.resume === undefined || !state) return undefined;
    const record = await state.resume(msg.resume);
    if (!record || record.room !== roomKey(msg.room)) {
      this.log.info({ room: roomKey(msg.room) }, 'resume token unknown or expired: joining as a new participant');
      return undefined;
    }
    // the credentials it came in with must still hold: an account removed (or its password changed), a token
    // expired since: no resume, the join is checked as a new one (and refused or let in as a guest)
    const lapsed = await this.credentialsLapsed(record, msg);
    if (lapsed) {
      state.forget(msg.resume);
      this.log.info({ room: record.room, participant: record.participantId, reason: lapsed }, 'resume refused: its credentials no longer hold');
      return undefined;
    }
    const grant: JoinGrant = { role: record.role, authenticated: record.authenticated, resumeId: record.participantId, resumedWith: msg.resume };
    if (record.account) grant.account = record.account;
    return grant;
  }

  /** Why a resumed participant's sign-in or token no longer holds, or undefined when it does (or it had none). */
  private async credentialsLapsed(record: ResumeRecord, msg: JoinMessage): Promise<string | undefined> {
    if (!record.authenticated) return undefined;
    const { config, users, tokens } = this.opts;
    if (record.account) {
      if (!users) return 'accounts are off';
      return users.stamp(record.account.username) === record.account.stamp ? undefined : 'the password was changed or the account removed';
    }
    if (config.authMode === 'token') {
      if (msg.jwt === undefined || !tokens) return 'no token';
      const r = await tokens.verify(msg.jwt, msg.room);
      return r.ok ? undefined : r.reason;
    }
    return undefined;
  }

  /** Who is this, and may they start or enter this room at all (before lock and lobby)? */
  private async identify(session: Session, msg: JoinMessage): Promise<Identity> {
    const { config, users, tokens, rooms } = this.opts;
    // phone callers alone have not started a meeting: the first person to come moderates it
    const started = () => peopleIn(rooms.rooms.get(roomKey(msg.room))) > 0;
    if (config.authMode === 'open') return started() ? { role: 'participant', authenticated: false } : { role: 'moderator', authenticated: false, firstComer: true };

    if (config.authMode === 'token' && msg.jwt !== undefined && tokens) {
      const r = await tokens.verify(msg.jwt, msg.room);
      if (!r.ok) {
        this.log.info({ address: session.remoteAddress, reason: r.reason }, 'token refused');
        return { error: 'bad-token', message: r.reason };
      }
      // the token's moderator claim decides; without one, the first in the room moderates (as in an open room)
      const moderator = r.identity.moderator ?? !started();
      const grant: JoinGrant = { role: moderator ? 'moderator' : 'participant', authenticated: true };
      if (r.identity.moderator === undefined && moderator) grant.firstComer = true;
      const name = r.identity.name ? stripInvisible(r.identity.name).trim().slice(0, MAX_DISPLAY_NAME) : '';
      if (name) grant.displayName = name;
      this.log.info({ address: session.remoteAddress, user: r.identity.id, role: grant.role }, 'token accepted');
      return grant;
    }
    if (config.authMode === 'accounts' && msg.session !== undefined) {
      const signedIn = this.loginSessions.get(msg.session);
      if (!signedIn || !users) return { error: 'auth-required', message: 'your sign-in has expired; sign in again' };
      // the users file, now: `tertulia users passwd/remove` (another process) ends the account's sessions
      if (users.stamp(signedIn.username) !== signedIn.stamp) {
        this.loginSessions.revoke(msg.session);
        this.log.info({ address: session.remoteAddress, user: signedIn.username }, 'sign-in session ended: password changed or user removed');
        return { error: 'auth-required', message: 'your sign-in has ended (the password was changed or the account removed); sign in again' };
      }
      return { role: 'moderator', authenticated: true, account: { username: signedIn.username, stamp: signedIn.stamp } };
    }
    // a guest: no account or token
    const token = config.authMode === 'token';
    const what = token ? 'an access token in the meeting link' : 'signing in';
    const code: ErrorCode = token ? 'token-required' : 'auth-required';
    if (!config.allowGuests) return { error: code, message: `this server requires ${what} to join meetings` };
    // a guest before the host: told to wait (the page asks again), as Jitsi's "waiting for the host"
    if (!started()) return { hostWait: true };
    return { role: 'participant', authenticated: false };
  }

  /** The room's lock and lobby; hosts (signed in or token moderators) pass both. */
  private admit(session: Session, msg: JoinMessage, grant: JoinGrant): void {
    const room = this.opts.rooms.rooms.get(roomKey(msg.room));
    const host = grant.authenticated && grant.role === 'moderator';
    // a main room whose people are all in breakout rooms is still their meeting: its lock and lobby hold
    if (room && (room.members.size > 0 || peopleIn(room) > 0) && !host) {
      const policy = policyOf(room);
      let passwordOk = false;
      if (policy.password !== undefined && msg.password !== undefined) {
        if (!this.passwordRight(session, room.key, policy.password, msg.password)) return;
        passwordOk = true;
      }
      if (policy.lobby && !passwordOk) {
        if (!this.opts.lobby.knock(room, session, msg, grant)) this.refuse(session, 'room-full', 'too many people are waiting in the lobby');
        return;
      }
      if (policy.password !== undefined && !passwordOk) {
        this.refuse(session, 'password-required', 'this meeting is locked with a password');
        return;
      }
    }
    this.enter(session, msg, grant);
  }

  /**
   * True when `password` is `expected`, the password of room `roomKey`; else the refusal (wrong, or too many wrong
   * ones lately from this address for this room) is sent.
   */
  private passwordRight(session: Session, roomKey: string, expected: string | undefined, password: string): boolean {
    const key = `${rateLimitKey(session.remoteAddress)}|${roomKey}`;
    const wait = this.roomPassword.retryAfterSeconds(key);
    if (wait > 0) {
      this.refuse(session, 'rate-limited', `too many wrong passwords; try again in ${wait} s`);
      return false;
    }
    if (expected === undefined) {
      // unlocked meanwhile: nothing to guess, no strike
      this.refuse(session, 'wrong-password', 'this meeting has no password (any more): wait for a moderator');
      return false;
    }
    if (password !== expected) {
      this.roomPassword.fail(key);
      this.log.info({ room: roomKey, address: session.remoteAddress }, 'wrong room password');
      this.refuse(session, 'wrong-password', 'the room password is wrong');
      return false;
    }
    return true;
  }

  /**
   * Someone waiting in the lobby typed the room password ("Join with password"): the right one takes them from the
   * lobby into the room, as it would have at their first join; a wrong one is refused and they keep waiting.
   */
  private passwordFromLobby(session: Session, msg: JoinMessage, knock: Knock): void {
    if (!this.passwordRight(session, knock.room.key, policyOf(knock.room).password, msg.password!)) return;
    if (!this.opts.lobby.take(knock.room, knock.id)) return;
    this.log.info({ room: knock.room.key, knock: knock.id }, 'left the lobby with the room password');
    // as they knocked (the name moderators saw), with the password
    this.enter(session, { ...knock.msg, password: msg.password }, knock.grant);
  }

  /** Joins the room and tells the new member the room's settings (and moderators the lobby). */
  enter(session: Session, msg: JoinMessage, grant: JoinGrant): void {
    // "The first in the room moderates" was decided before an await: two joins racing into an empty room
    // must not both win, so it is checked again now that the room is about to change.
    const now = this.opts.rooms.rooms.get(roomKey(msg.room));
    if (grant.firstComer && peopleIn(now) > 0) grant = { ...grant, role: 'participant', firstComer: false };
    // While a moderator has turned self-unmuting off, a participant joins muted (and, after "Stop everyone's
    // video", with the camera off): otherwise leaving and joining again (or opening a second connection) would
    // undo a moderator's mute.
    const room = this.opts.rooms.rooms.get(roomKey(msg.room));
    const locked = room !== undefined && (room.members.size > 0 || peopleIn(room) > 0) && grant.role !== 'moderator' && !policyOf(room).selfUnmuteAllowed;
    // audio/video moderation: whoever is not a moderator starts with a moderated kind off
    const forceMute = !msg.audioMuted && (locked || moderatedAtJoin(room, grant.role, 'audio'));
    const forceCameraOff = !msg.videoMuted && ((locked && policyOf(room).camerasStopped === true) || moderatedAtJoin(room, grant.role, 'video'));
    this.opts.rooms.join(session, { ...msg, audioMuted: msg.audioMuted || forceMute, videoMuted: msg.videoMuted || forceCameraOff }, grant);
    const member = session.member;
    if (!member) return; // refused by the room (full)
    const by = moderatorsOf(member.room)[0]?.displayName ?? '';
    if (forceMute) session.send({ type: 'force-muted', by, atJoin: true });
    if (forceCameraOff) {
      member.videoForceMuted = true;
      session.send({ type: 'force-muted', by, kind: 'video', atJoin: true });
    }
    session.send(roomStateFor(member.room, member.role));
    if (member.role === 'moderator') this.opts.lobby.sendList(member.room, session);
    this.onJoined(session);
  }

  /** True while a join or sign-in of `session` is being checked, or it waits in a lobby. */
  isWaiting(session: Session): boolean {
    return this.busy.has(session) || this.opts.lobby.isWaiting(session);
  }

  /** The socket closed: a pending join is dropped, a lobby knock withdrawn. */
  forget(session: Session): void {
    this.gone.add(session);
    this.opts.lobby.cancel(session);
  }
}

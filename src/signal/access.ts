// Access control for signal, built from the configuration: the access mode (open, accounts, token), the
// users database, the token verifier, the lobby and moderation. ws.ts hands it `join`, `login`, `mute` and
// every moderator message.
import type { Config } from '../config/config.ts';
import type { Logger } from '../log.ts';
import type { AccessClientMessage } from '../protocol/access-messages.ts';
import type { ClientMessage, MediaKind } from '../protocol/signal-messages.ts';
import { Admission, isAdminAccount } from './admission.ts';
import { loadPublicKeys, TokenVerifier } from './auth/jwt.ts';
import { UserStore, usersDbPath } from './auth/users.ts';
import { Lobby } from './lobby.ts';
import { Moderation } from './moderation.ts';
import type { Recordings } from './recording.ts';
import type { PhoneInvites } from './phone-invites.ts';
import type { Rooms, Session } from './rooms.ts';

type JoinMessage = Extract<ClientMessage, { type: 'join' }>;

export class AccessConfigError extends Error {}

/** The token verifier's settings in token mode (checked: a bad setting throws), else undefined. */
function tokenSettings(config: Config): ConstructorParameters<typeof TokenVerifier>[0] | undefined {
  if (config.authMode !== 'token') return undefined;
  if (!config.jwtAppId) throw new AccessConfigError('authMode "token" needs jwtAppId (the issuer your tokens carry in "iss")');
  if (!config.jwtSecret && config.jwtPublicKeys.length === 0) {
    throw new AccessConfigError('authMode "token" needs jwtSecret (HS256) or jwtPublicKeys (RS256/ES256 PEM files)');
  }
  return {
    appId: config.jwtAppId,
    acceptedIssuers: config.jwtAcceptedIssuers,
    audiences: config.jwtAudience,
    secret: config.jwtSecret,
    publicKeys: loadPublicKeys(config.jwtPublicKeys),
  };
}

/** The users database when accounts are used (admins sign in with one in any mode): the open one, or opened now. */
function openUsers(config: Config, open: UserStore | undefined): UserStore | undefined {
  if (config.authMode !== 'accounts' && config.adminAccounts.length === 0) return open;
  if (open) return open;
  try {
    return new UserStore(usersDbPath(config.dataDir));
  } catch (e) {
    throw new AccessConfigError(`cannot open the users database ${usersDbPath(config.dataDir)}: ${(e as Error).message}`);
  }
}

export class Access {
  readonly admission: Admission;
  readonly moderation: Moderation;
  /** The token verifier (token mode at start; a reload updates its keys in place). */
  tokens: TokenVerifier | undefined;
  private users: UserStore | undefined;
  private readonly log: Logger;
  private adminAccounts: readonly string[];
  private readonly recordings: Recordings | undefined;

  /** Who waits to be let in, per room (its list shared between signal instances through the room state). */
  readonly lobby: Lobby;

  constructor(opts: { config: Config; rooms: Rooms; log: Logger; recordings?: Recordings; phoneInvites?: PhoneInvites }) {
    const { config, rooms, log } = opts;
    this.log = log;
    this.adminAccounts = config.adminAccounts;
    this.recordings = opts.recordings;
    const settings = tokenSettings(config);
    const tokens = settings ? new TokenVerifier(settings) : undefined;
    this.users = openUsers(config, undefined);
    const lobby = new Lobby(log, rooms.state?.items);
    this.lobby = lobby;
    this.tokens = tokens;
    this.admission = new Admission({ config, rooms, lobby, log, users: this.users, tokens });
    this.moderation = new Moderation({ rooms, lobby, admission: this.admission, log, autoModerator: config.authMode === 'open', recordings: opts.recordings, phoneInvites: opts.phoneInvites });
    rooms.onLeft = (room, member) => this.moderation.afterLeave(room, member);
    log.info({ authMode: config.authMode, allowGuests: config.allowGuests }, 'access mode');
  }

  /**
   * Reloaded access settings (SIGHUP): the mode, guests, JWT issuers and keys, admin accounts. Checked first: a
   * bad setting throws AccessConfigError and changes nothing. Who is in a meeting stays in; joins from now on
   * follow the new settings.
   */
  reconfigure(config: Config): void {
    const settings = tokenSettings(config);
    const users = openUsers(config, this.users);
    if (settings) {
      if (this.tokens) this.tokens.update(settings);
      else this.tokens = new TokenVerifier(settings);
    }
    this.users = users;
    this.adminAccounts = config.adminAccounts;
    this.admission.reconfigure({ config, users, tokens: settings ? this.tokens : undefined });
    this.moderation.autoModerator = config.authMode === 'open';
    this.log.info({ authMode: config.authMode, allowGuests: config.allowGuests }, 'access mode');
  }

  /** Called after every successful join (straight in, or admitted from the lobby). */
  set onJoined(f: (session: Session) => void) {
    this.admission.onJoined = (session) => {
      if (session.member) this.moderation.avModeration.afterJoin(session.member);
      f(session);
    };
  }

  join(session: Session, msg: JoinMessage): void {
    this.run(this.admission.join(session, msg), session);
  }

  handle(session: Session, msg: AccessClientMessage): void {
    if (msg.type === 'login') this.run(this.admission.login(session, msg.username, msg.password), session);
    else if (msg.type === 'admin-list-recordings' || msg.type === 'admin-delete-recording') this.run(this.adminRecordings(session, msg), session);
    else this.moderation.handle(session, msg);
  }

  /** Every room's recordings, for a signed-in account named in adminAccounts (its password unchanged since). */
  private async adminRecordings(session: Session, msg: Extract<AccessClientMessage, { type: 'admin-list-recordings' | 'admin-delete-recording' }>): Promise<void> {
    const signedIn = this.admission.loginSessions.get(msg.session);
    const admin = signedIn && this.users?.stamp(signedIn.username) === signedIn.stamp && isAdminAccount(this.adminAccounts, signedIn.username) ? signedIn.username : undefined;
    if (!admin) {
      this.log.warn({ action: msg.type }, 'admin request refused');
      session.send({ type: 'error', code: 'not-admin', message: 'sign in with an account named in adminAccounts' });
      return;
    }
    if (!this.recordings) {
      session.send({ type: 'error', code: 'recording-unavailable', message: 'recording is not available on this server' });
      return;
    }
    if (msg.type === 'admin-list-recordings') await this.recordings.library.listTo(session, undefined);
    else await this.recordings.library.deleteFor(session, msg.recordingId, undefined, `admin ${admin}`);
  }

  mute(session: Session, kind: MediaKind, muted: boolean): void {
    this.moderation.selfMute(session, kind, muted);
  }

  /** True while `session` waits in a lobby or its join or sign-in is being checked (it is not idle). */
  waiting(session: Session): boolean {
    return this.admission.isWaiting(session);
  }

  /** The socket closed. */
  closed(session: Session): void {
    this.admission.forget(session);
  }

  close(): void {
    this.users?.close();
  }

  private run(p: Promise<void>, session: Session): void {
    p.catch((e: unknown) => {
      this.log.error({ err: (e as Error)?.message }, 'access check failed');
      session.send({ type: 'error', code: 'internal', message: 'internal error' });
    });
  }
}

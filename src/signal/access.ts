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

export class Access {
  readonly admission: Admission;
  readonly moderation: Moderation;
  private readonly users: UserStore | undefined;
  private readonly log: Logger;
  private readonly adminAccounts: readonly string[];
  private readonly recordings: Recordings | undefined;

  constructor(opts: { config: Config; rooms: Rooms; log: Logger; recordings?: Recordings; phoneInvites?: PhoneInvites }) {
    const { config, rooms, log } = opts;
    this.log = log;
    this.adminAccounts = config.adminAccounts;
    this.recordings = opts.recordings;
    let tokens: TokenVerifier | undefined;
    if (config.authMode === 'token') {
      if (!config.jwtAppId) throw new AccessConfigError('authMode "token" needs jwtAppId (the issuer your tokens carry in "iss")');
      if (!config.jwtSecret && config.jwtPublicKeys.length === 0) {
        throw new AccessConfigError('authMode "token" needs jwtSecret (HS256) or jwtPublicKeys (RS256/ES256 PEM files)');
      }
      tokens = new TokenVerifier({
        appId: config.jwtAppId,
        acceptedIssuers: config.jwtAcceptedIssuers,
        audiences: config.jwtAudience,
        secret: config.jwtSecret,
        publicKeys: loadPublicKeys(config.jwtPublicKeys),
      });
    }
    // admins sign in with an account in any mode (the /recordings page)
    if (config.authMode === 'accounts' || config.adminAccounts.length > 0) {
      try {
        this.users = new UserStore(usersDbPath(config.dataDir));
      } catch (e) {
        throw new AccessConfigError(`cannot open the users database ${usersDbPath(config.dataDir)}: ${(e as Error).message}`);
      }
    }
    const lobby = new Lobby(log);
    this.admission = new Admission({ config, rooms, lobby, log, users: this.users, tokens });
    this.moderation = new Moderation({ rooms, lobby, admission: this.admission, log, autoModerator: config.authMode === 'open', recordings: opts.recordings, phoneInvites: opts.phoneInvites });
    rooms.onLeft = (room) => this.moderation.afterLeave(room);
    log.info({ authMode: config.authMode, allowGuests: config.allowGuests }, 'access mode');
  }

  /** Called after every successful join (straight in, or admitted from the lobby). */
  set onJoined(f: (session: Session) => void) {
    this.admission.onJoined = f;
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

/**
 * Authentication: X.509 client certificates verified against the cluster CA, and bearer tokens
 * (a static admin token now; service account tokens later). Anonymous requests are refused
 * (401) except for the few public endpoints (/version, /healthz, /livez, /readyz).
 */
import type { TLSSocket } from 'node:tls';
import { timingSafeEqual } from 'node:crypto';
import type { UserInfo } from '../admission/admission.js';

export interface Authenticator {
  /** A user, null when this authenticator has no opinion, or throws for a bad credential. */
  authenticate(req: { headers: Record<string, string | string[] | undefined>; socket: unknown }): UserInfo | null | Promise<UserInfo | null>;
}

export class ClientCertAuthenticator implements Authenticator {
  /** The certificate is fixed for a connection: verify and parse it once per connection. */
  private byConnection = new WeakMap<object, UserInfo | null>();

  authenticate(req: { socket: unknown; stream?: { session?: object } }): UserInfo | null {
    const conn = (req.stream?.session ?? req.socket) as object | undefined;
    if (conn && typeof conn === 'object') {
      const hit = this.byConnection.get(conn);
      if (hit !== undefined) return hit;
      const u = this.fromSocket(req.socket);
      this.byConnection.set(conn, u);
      return u;
    }
    return this.fromSocket(req.socket);
  }

  private fromSocket(socket: unknown): UserInfo | null {
    const sock = socket as TLSSocket | undefined;
    if (!sock || typeof sock.getPeerCertificate !== 'function' || !sock.authorized) return null;
    const cert = sock.getPeerCertificate();
    if (!cert || !cert.subject) return null;
    const cn = cert.subject.CN;
    const o = cert.subject.O as unknown;
    const groups = Array.isArray(o) ? (o as string[]) : o ? [String(o)] : [];
    if (!cn) return null;
    return { username: Array.isArray(cn) ? cn[0] : cn, groups: [...groups, 'system:authenticated'] };
  }
}

export class StaticTokenAuthenticator implements Authenticator {
  private tokens = new Map<string, UserInfo>();
  add(token: string, user: UserInfo): void { this.tokens.set(token, user); }
  authenticate(req: { headers: Record<string, string | string[] | undefined> }): UserInfo | null {
    const h = req.headers['authorization'];
    const v = Array.isArray(h) ? h[0] : h;
    if (!v || !/^bearer /i.test(v)) return null;
    const token = v.slice(7).trim();
    for (const [t, u] of this.tokens) {
      const a = Buffer.from(t), b = Buffer.from(token);
      if (a.length === b.length && timingSafeEqual(a, b)) return { ...u, groups: [...u.groups, 'system:authenticated'] };
    }
    return null;
  }
}

export class AuthenticatorChain implements Authenticator {
  constructor(private chain: Authenticator[]) {}
  async authenticate(req: { headers: Record<string, string | string[] | undefined>; socket: unknown }): Promise<UserInfo | null> {
    for (const a of this.chain) {
      const u = await a.authenticate(req);
      if (u) return u;
    }
    return null;
  }
}

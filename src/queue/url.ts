/**
 * `--redis URL`: redis://[[user]:password@]host[:port][/db] or rediss://... (TLS), checked in full before any
 * connection, so a typo is one line and exit 2 rather than a client retrying for ever. The password never appears in
 * a message or in `shown`.
 */
import { isIP } from 'node:net';
import { fail, quote } from '../errors.ts';

export interface RedisTarget {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  tls: boolean;
  /** the URL as messages and progress show it: the password replaced by *** */
  shown: string;
}

const HOST = /^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^\[[0-9A-Fa-f:.]+\]$/;

export function parseRedisUrl(text: string, where = '--redis'): RedisTarget {
  const t = text.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(t);
  if (!scheme) fail(`${where}: ${quote(t)} is not a URL (expected redis://[:password@]host[:port][/db] or rediss://...)`);
  const proto = scheme[1].toLowerCase();
  if (proto !== 'redis' && proto !== 'rediss') fail(`${where}: scheme '${printableScheme(proto)}' (expected redis:// or rediss:// for TLS)`);
  let u: URL;
  try {
    u = new URL(t);
  } catch {
    fail(`${where}: not a valid URL (expected ${proto}://[:password@]host[:port][/db])`);
  }
  const host = u.hostname;
  if (!host) fail(`${where}: no host (expected ${proto}://[:password@]host[:port][/db])`);
  if (!HOST.test(host) && !IPV6.test(host)) fail(`${where}: host ${quote(host)} is not a host name or address`);
  const port = u.port === '' ? 6379 : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`${where}: port ${quote(u.port)} (expected 1 to 65535)`);
  const path = u.pathname.replace(/^\//, '');
  if (!/^\d{0,2}$/.test(path)) fail(`${where}: database ${quote(path)} (expected a number from 0 to 15 after the host, or nothing)`);
  const db = path === '' ? 0 : Number(path);
  if (db > 15) fail(`${where}: database ${db} (expected 0 to 15)`);
  if (u.search || u.hash) fail(`${where}: the URL takes no ?query or #fragment`);
  const username = u.username ? decode(u.username, where, 'user name') : undefined;
  const password = u.password ? decode(u.password, where, 'password') : undefined;
  if (username && !password) fail(`${where}: a user name without a password (expected ${proto}://user:password@host)`);
  const auth = password ? `${username ?? ''}:***@` : '';
  return { host, port, db, tls: proto === 'rediss', shown: `${proto}://${auth}${host}:${port}${db ? `/${db}` : ''}`, ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

function decode(s: string, where: string, what: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    // the value itself is never quoted: it may be (part of) a secret
    fail(`${where}: the ${what} has a bad %-escape`);
  }
}

const printableScheme = (s: string): string => s.slice(0, 20).replace(/[^a-z0-9+.-]/gi, '?');

/** The ioredis options for a target (BullMQ's workers need maxRetriesPerRequest null: they block on the queue). */
export function connectionOptions(t: RedisTarget, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const host = t.host.replace(/^\[|\]$/g, '');
  return {
    host,
    port: t.port,
    db: t.db,
    ...(t.username ? { username: t.username } : {}),
    ...(t.password ? { password: t.password } : {}),
    // TLS with the system's certificate authorities (NODE_EXTRA_CA_CERTS adds one), the host name verified
    ...(t.tls ? { tls: isIP(host) ? {} : { servername: host } } : {}),
    maxRetriesPerRequest: null,
    ...extra,
  };
}

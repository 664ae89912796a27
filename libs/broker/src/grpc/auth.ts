/**
 * Optional authentication of RocketMQ 5 gRPC calls (off when no AuthOptions are given), as the
 * official clients sign them (PROTOCOL.md §0):
 *
 *   authorization: MQv2-HMAC-SHA1 Credential=<AK>, SignedHeaders=x-mq-date-time, Signature=<HEX>
 *   x-mq-date-time: yyyyMMdd'T'HHmmss'Z' (UTC)
 *
 * with HEX = upper(hex(HMAC-SHA1(secret, date-time))). Beyond RocketMQ (which has no freshness
 * check, so a captured header replays forever), a date-time more than `maxClockSkewMs` (15 min)
 * away from the broker's clock is refused. Signatures are compared in constant time, and an unknown
 * access key costs the same HMAC as a known one, so timing tells nothing about either.
 *
 * Authorization: each user may list the topics it may publish to and the groups it may consume with
 * (undefined = everything). An entry `*` allows everything, an entry ending in `*` allows the names
 * starting with what precedes it. Names are the broker's (with a namespace: `<namespace>%<name>`).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type Metadata } from '@grpc/grpc-js';
import { type Clock } from '../core/clock.js';
import { UnauthorizedError } from './errors.js';

export interface AuthUser {
  accessKey: string;
  secretKey: string;
  /** Topics this user may publish to; undefined = all; `*` wildcard. */
  topics?: readonly string[];
  /** Groups this user may consume with; undefined = all; `*` wildcard. */
  groups?: readonly string[];
}

export interface AuthOptions {
  users: readonly AuthUser[];
  /** How far `x-mq-date-time` may be from the broker's clock. Default 15 min. */
  maxClockSkewMs?: number;
}

export const DEFAULT_MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export const AUTHORIZATION_HEADER = 'authorization';
export const DATE_TIME_HEADER = 'x-mq-date-time';
const AUTHORIZATION_SCHEME = 'MQv2-HMAC-SHA1';
/** Longest header value looked at; the real ones are ~130 characters. */
const MAX_HEADER_CHARS = 1024;
const DATE_TIME_PATTERN = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
/** What an unknown access key is checked against, so that it costs the same as a known one. */
const DUMMY_SECRET = 'rocketnest-unknown-access-key';

/** The HMAC-SHA1 signature a client sends for `dateTime`: upper-case hex. */
export function signDateTime(secretKey: string, dateTime: string): string {
  return createHmac('sha1', secretKey).update(dateTime).digest('hex').toUpperCase();
}

/** `yyyyMMdd'T'HHmmss'Z'` of an epoch-ms time, as the clients write it. */
export function formatDateTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
}

/** Epoch ms of a `yyyyMMdd'T'HHmmss'Z'` string, or undefined when it is not a real UTC time. */
export function parseDateTime(text: string): number | undefined {
  const m = DATE_TIME_PATTERN.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 20250231 over to March: a round trip catches impossible dates.
  return formatDateTime(ms) === text ? ms : undefined;
}

interface ParsedAuthorization {
  readonly accessKey: string;
  readonly signature: string;
}

/**
 * Parses the header as the Java proxy does: drop up to the first space, split on `,`, trim, split at
 * `=`; `Credential` may carry `/`-separated scope after the access key.
 */
export function parseAuthorization(header: string): ParsedAuthorization | undefined {
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space) !== AUTHORIZATION_SCHEME) return undefined;
  const fields = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const accessKey = fields.get('Credential')?.split('/')[0] ?? '';
  const signature = fields.get('Signature') ?? '';
  if (accessKey === '' || signature === '') return undefined;
  return { accessKey, signature };
}

/** Whether `name` is in an allow list (undefined = everything). */
export function isAllowed(list: readonly string[] | undefined, name: string): boolean {
  if (list === undefined) return true;
  for (const entry of list) {
    if (entry === '*' || entry === name) return true;
    if (entry.endsWith('*') && name.startsWith(entry.slice(0, -1))) return true;
  }
  return false;
}

export class Authenticator {
  readonly #users = new Map<string, AuthUser>();
  readonly #maxSkewMs: number;
  readonly #clock: Clock;

  /** @throws RangeError for users without keys, a duplicate access key or a bad skew */
  constructor(options: AuthOptions, clock: Clock) {
    if (typeof options !== 'object' || options === null || !Array.isArray(options.users)) {
      throw new RangeError('auth options need a list of users');
    }
    for (const user of options.users) {
      if (typeof user?.accessKey !== 'string' || user.accessKey === '' || /[\s,=/]/.test(user.accessKey)) {
        throw new RangeError('every auth user needs an access key without spaces, commas, "=" or "/"');
      }
      if (typeof user.secretKey !== 'string' || user.secretKey === '') {
        throw new RangeError(`auth user ${JSON.stringify(user.accessKey)} needs a secret key`);
      }
      for (const list of [user.topics, user.groups]) {
        if (list !== undefined && (!Array.isArray(list) || !list.every((e) => typeof e === 'string'))) {
          throw new RangeError(`auth user ${JSON.stringify(user.accessKey)}: allow lists must be strings`);
        }
      }
      if (this.#users.has(user.accessKey)) {
        throw new RangeError(`auth user ${JSON.stringify(user.accessKey)} is listed twice`);
      }
      this.#users.set(user.accessKey, user);
    }
    const skew = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
    if (typeof skew !== 'number' || !Number.isFinite(skew) || skew < 0) {
      throw new RangeError('maxClockSkewMs must be a finite number ≥ 0');
    }
    this.#maxSkewMs = skew;
    this.#clock = clock;
  }

  /**
   * The user a call's metadata proves to be.
   * @throws UnauthorizedError (40100): no or malformed `authorization`, no, malformed or stale
   *   `x-mq-date-time`, unknown access key, wrong signature
   */
  authenticate(metadata: Metadata): AuthUser {
    const header = firstString(metadata, AUTHORIZATION_HEADER);
    if (header === undefined) throw new UnauthorizedError('no authorization header');
    const parsed = parseAuthorization(header);
    if (!parsed) throw new UnauthorizedError(`the authorization header is not ${AUTHORIZATION_SCHEME}`);
    const dateTime = firstString(metadata, DATE_TIME_HEADER);
    if (dateTime === undefined) throw new UnauthorizedError(`no ${DATE_TIME_HEADER} header`);
    const signedAt = parseDateTime(dateTime);
    if (signedAt === undefined) {
      throw new UnauthorizedError(`${DATE_TIME_HEADER} is not a yyyyMMdd'T'HHmmss'Z' time`);
    }

    const user = this.#users.get(parsed.accessKey);
    const expected = Buffer.from(signDateTime(user?.secretKey ?? DUMMY_SECRET, dateTime), 'latin1');
    const given = Buffer.from(parsed.signature.toUpperCase(), 'latin1');
    // timingSafeEqual needs equal lengths; the length of a SHA-1 hex signature is no secret.
    const matches = given.length === expected.length && timingSafeEqual(given, expected);
    if (!user || !matches) throw new UnauthorizedError('unknown access key or wrong signature');

    const skew = Math.abs(this.#clock.now() - signedAt);
    if (skew > this.#maxSkewMs) {
      throw new UnauthorizedError(
        `${DATE_TIME_HEADER} is ${Math.round(skew / 1000)} s away from the broker's clock`,
      );
    }
    return user;
  }
}

/** The first value of a header as a string (bounded), or undefined. */
export function firstString(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : value.toString('latin1');
  return text.slice(0, MAX_HEADER_CHARS);
}

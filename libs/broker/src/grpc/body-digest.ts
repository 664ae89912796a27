/**
 * `body_digest` of the protocol (`Digest{type, checksum}`), computed the way Java's
 * `GrpcConverter`/`MessageView` do: MD5 and SHA-1 as upper-case hex, CRC-32 as the unsigned decimal
 * value of IEEE CRC-32. The broker checks a producer's digest; deliveries carry the CRC-32 the
 * commit log stored (message-view.ts); a consumer checks what it receives.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { DigestType } from './proto-types.js';

/** The digest of `body` with algorithm `type`; undefined for an algorithm the protocol does not define. */
export function bodyDigestOf(type: number, body: Uint8Array): string | undefined {
  switch (type) {
    case DigestType.MD5:
      return createHash('md5').update(body).digest('hex').toUpperCase();
    case DigestType.SHA1:
      return createHash('sha1').update(body).digest('hex').toUpperCase();
    case DigestType.CRC32:
      return String(crc32(body) >>> 0);
    default:
      return undefined;
  }
}

export function digestTypeName(type: number): string {
  return DIGEST_TYPE_NAMES[type] ?? `digest type ${type}`;
}

const DIGEST_TYPE_NAMES: Record<number, string> = {
  [DigestType.CRC32]: 'CRC32',
  [DigestType.MD5]: 'MD5',
  [DigestType.SHA1]: 'SHA1',
};

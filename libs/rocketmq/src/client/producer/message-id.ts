/**
 * Message ids as the official RocketMQ 5 clients make them (`MessageIdCodec`, 34 upper-case hex
 * characters, 17 bytes): version `01`, the lower 6 bytes of a MAC address, the lower 2 bytes of the
 * process id, seconds since 2021-01-01T00:00:00Z (lower 4 bytes), and a 4-byte sequence that wraps.
 * Unique per process as long as fewer than 2^32 ids are made per second; the MAC (or, without a
 * usable network interface, a hash of the host name) and the pid separate processes.
 */
import { createHash } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';

/** 2021-01-01T00:00:00Z in seconds: the epoch of the time field. */
const EPOCH_2021_SECONDS = Date.UTC(2021, 0, 1) / 1000;
const VERSION = 0x01;

/** The 6 bytes of the first real MAC address, else of a hash of the host name. */
export function machineBytes(): Buffer {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (!a.internal && a.mac && a.mac !== '00:00:00:00:00:00')
        return Buffer.from(a.mac.replaceAll(':', ''), 'hex');
    }
  }
  return createHash('sha1').update(hostname()).digest().subarray(0, 6);
}

let prefix: string | undefined;
let sequence = 0;

/** A fresh message id: `01` + MAC(6 B) + pid(2 B) + seconds since 2021 (4 B) + sequence (4 B). */
export function createMessageId(now: number = Date.now()): string {
  if (prefix === undefined) {
    const head = Buffer.alloc(9);
    head.writeUInt8(VERSION, 0);
    machineBytes().copy(head, 1, 0, 6);
    head.writeUInt16BE(process.pid & 0xffff, 7);
    prefix = head.toString('hex').toUpperCase();
  }
  const seconds = (Math.floor(now / 1000) - EPOCH_2021_SECONDS) >>> 0;
  const seq = sequence;
  sequence = (sequence + 1) >>> 0;
  return prefix + hex8(seconds) + hex8(seq);
}

function hex8(value: number): string {
  return value.toString(16).toUpperCase().padStart(8, '0');
}

/** The fields of an id made by `createMessageId` (or the official clients). */
export function decodeMessageId(id: string): {
  version: number;
  machine: string;
  pid: number;
  secondsSince2021: number;
  sequence: number;
} {
  if (!/^[0-9A-F]{34}$/.test(id))
    throw new RangeError(`${JSON.stringify(id)} is not a 34-hex-digit message id`);
  const bytes = Buffer.from(id, 'hex');
  return {
    version: bytes.readUInt8(0),
    machine: bytes.subarray(1, 7).toString('hex').toUpperCase(),
    pid: bytes.readUInt16BE(7),
    secondsSince2021: bytes.readUInt32BE(9),
    sequence: bytes.readUInt32BE(13),
  };
}

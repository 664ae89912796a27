import { payloadHashOf } from './payload-hash.js';

describe('payloadHashOf', () => {
  it('hashes equal objects equally whatever their key order, and different ones differently', () => {
    expect(payloadHashOf({ a: 1, b: { c: [1, 2], d: 'x' } })).toEqual(
      payloadHashOf({ b: { d: 'x', c: [1, 2] }, a: 1 }),
    );
    expect(payloadHashOf({ a: 1 })).not.toEqual(payloadHashOf({ a: 2 }));
    expect(payloadHashOf([1, 2])).not.toEqual(payloadHashOf([2, 1]));
  });

  it('hashes bytes and strings as they are (a string and its UTF-8 bytes agree)', () => {
    expect(payloadHashOf('héllo')).toEqual(payloadHashOf(Buffer.from('héllo', 'utf8')));
    expect(payloadHashOf(new Uint8Array([1, 2, 3]))).toHaveLength(32);
  });

  it('is plain SHA-256 (hashes stored by earlier versions stay comparable)', () => {
    expect(payloadHashOf('abc')?.toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('has no hash for undefined, and survives bigints', () => {
    expect(payloadHashOf(undefined)).toBeNull();
    expect(payloadHashOf({ n: 10n })).toEqual(payloadHashOf({ n: '10' }));
  });
});

import { StatusCode } from '../status-code.js';
import { checkNamespace, unwrapName, wrapName } from './namespace.js';

describe('namespaces', () => {
  it('wraps names as <namespace>%<name>, keeping retry and DLQ prefixes in front', () => {
    expect(wrapName('ns', 'orders')).toBe('ns%orders');
    expect(wrapName('ns', '%DLQ%group')).toBe('%DLQ%ns%group');
    expect(wrapName('ns', '%RETRY%group_orders')).toBe('%RETRY%ns%group_orders');
  });

  it('leaves names alone without a namespace, when empty, or when already wrapped', () => {
    expect(wrapName('', 'orders')).toBe('orders');
    expect(wrapName('ns', '')).toBe('');
    expect(wrapName('ns', 'ns%orders')).toBe('ns%orders');
  });

  it('unwraps what it wrapped, and only its own namespace', () => {
    for (const name of ['orders', '%DLQ%group', '%RETRY%group_orders']) {
      expect(unwrapName('ns', wrapName('ns', name))).toBe(name);
    }
    expect(unwrapName('ns', 'other%orders')).toBe('other%orders');
    expect(unwrapName('', 'ns%orders')).toBe('ns%orders');
  });

  it.each(['a%b', 'a b', 'x'.repeat(65), 'ns.1'])('refuses the namespace %j with BAD_REQUEST', (ns) => {
    expect(() => checkNamespace(ns)).toThrow(expect.objectContaining({ code: StatusCode.BAD_REQUEST }));
  });

  it('accepts empty (none) and ordinary namespaces', () => {
    expect(checkNamespace('')).toBe('');
    expect(checkNamespace('tenant_1-prod')).toBe('tenant_1-prod');
  });
});

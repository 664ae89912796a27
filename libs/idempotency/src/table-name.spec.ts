import { IdempotencyUsageError } from './errors.js';
import { parseTableName } from './table-name.js';

describe('parseTableName', () => {
  it('quotes a table and a schema-qualified table', () => {
    expect(parseTableName('mq_idempotency')).toEqual({
      name: 'mq_idempotency',
      schema: undefined,
      table: 'mq_idempotency',
      quoted: '"mq_idempotency"',
    });
    expect(parseTableName('billing.keys').quoted).toBe('"billing"."keys"');
  });

  it.each(['', 'a.b.c', 'Upper', 'drop table x;--', '"quoted"', '1abc', 'a'.repeat(64), 'a-b'])(
    'refuses %j (it is spliced into SQL)',
    (name) => {
      expect(() => parseTableName(name)).toThrow(IdempotencyUsageError);
    },
  );
});

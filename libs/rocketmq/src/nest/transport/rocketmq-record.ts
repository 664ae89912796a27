/**
 * A payload with message options, for `RocketMQClientProxy.emit/send` (whose signature has no room
 * for options), as Nest's `RmqRecord` does for RabbitMQ:
 *
 * ```ts
 * client.emit('orders:created', new RocketMQRecord(order, { keys: [order.id], properties: { tenant } }));
 * ```
 */
export interface RocketMQRecordOptions {
  /** Business keys (the broker indexes them). */
  readonly keys?: readonly string[];
  /** User properties (SQL92 filters see them; the handler reads them from `RocketMQContext`). */
  readonly properties?: Readonly<Record<string, string>>;
}

export class RocketMQRecord<TData = unknown> {
  constructor(
    readonly data: TData,
    readonly options: RocketMQRecordOptions = {},
  ) {}
}

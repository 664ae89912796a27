/**
 * What the interceptor needs from a message context, structurally: `RocketMQContext` of
 * `@rocketnest/rocketmq` has it, and so can any other transport's context, without this library
 * depending on either at runtime.
 */
export interface IdempotentMessageContext {
  getTopic(): string;
  getMessageId(): string;
  getGroup(): string;
  /** When present, the raw body is what the payload hash covers (else the decoded payload). */
  getMessage?(): { readonly body?: Uint8Array } | undefined;
}

/** Whether `value` has the three getters the default key and the group come from. */
export function isIdempotentMessageContext(value: unknown): value is IdempotentMessageContext {
  if (typeof value !== 'object' || value === null) return false;
  const ctx = value as Record<string, unknown>;
  return (
    typeof ctx.getTopic === 'function' &&
    typeof ctx.getMessageId === 'function' &&
    typeof ctx.getGroup === 'function'
  );
}

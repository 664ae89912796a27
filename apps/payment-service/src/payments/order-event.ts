import { type OrderCreatedEvent } from '../../../shared/src/events.js';

/** An order-created body this service cannot use (retried, then dead-lettered like any failure). */
export class MalformedOrderEventError extends Error {
  constructor(body: unknown) {
    super(`not an order-created event: ${JSON.stringify(body)?.slice(0, 200)}`);
    this.name = 'MalformedOrderEventError';
  }
}

/** The event, checked enough to charge it. @throws MalformedOrderEventError */
export function checkOrderCreated(value: unknown): OrderCreatedEvent {
  const e = value as Partial<OrderCreatedEvent> | null;
  if (
    e === null ||
    typeof e !== 'object' ||
    typeof e.orderId !== 'string' ||
    typeof e.userId !== 'string' ||
    typeof e.amount !== 'number' ||
    !Number.isFinite(e.amount)
  ) {
    throw new MalformedOrderEventError(value);
  }
  return e as OrderCreatedEvent;
}

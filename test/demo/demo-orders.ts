/** The orders the load demo fires: mostly ordinary, some declined (over the limit), a few poison. */

export interface DemoOrder {
  readonly userId: string;
  readonly items: ReadonlyArray<{ sku: string; qty: number; price: number }>;
  readonly amount: number;
}

export interface OrderMix {
  /** Fraction of orders whose userId is `poison` (→ retries → DLQ → FAILED). */
  readonly poisonRate: number;
  /** Fraction of orders above the payment service's decline limit (→ FAILED). */
  readonly declineRate: number;
  /** The decline limit the payment service runs with (PAYMENT_DECLINE_ABOVE). */
  readonly declineAbove: number;
}

const SKUS = ['book', 'pen', 'lamp', 'mug', 'desk'];

/** Order `i` of the burst (deterministic in its kind, random in its items). */
export function demoOrder(i: number, mix: OrderMix, random: () => number = Math.random): DemoOrder {
  const roll = random();
  if (roll < mix.poisonRate) return single(`poison`, 'book', 1, 9.99);
  if (roll < mix.poisonRate + mix.declineRate) {
    return single(`user-${i % 100}`, 'yacht', 1, Math.min(100_000, Math.ceil(mix.declineAbove) + 1));
  }
  const count = 1 + Math.floor(random() * 3);
  const items = Array.from({ length: count }, (_, k) => ({
    sku: SKUS[(i + k) % SKUS.length]!,
    qty: 1 + Math.floor(random() * 3),
    price: Math.round((1 + random() * 50) * 100) / 100,
  }));
  const cents = items.reduce((sum, item) => sum + item.qty * Math.round(item.price * 100), 0);
  return { userId: `user-${i % 100}`, items, amount: cents / 100 };
}

function single(userId: string, sku: string, qty: number, price: number): DemoOrder {
  return { userId, items: [{ sku, qty, price }], amount: Math.round(qty * price * 100) / 100 };
}

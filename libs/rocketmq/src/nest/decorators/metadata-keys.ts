/** Reflect-metadata keys of the Nest layer's method decorators. */
export const ROCKET_LISTENER_METADATA = 'rocketnest:listener';
export const ROCKET_ORDERLY_METADATA = 'rocketnest:orderly';
export const ROCKET_TRANSACTION_CHECKER_METADATA = 'rocketnest:transaction-checker';

/** Appends `value` to the list kept under `key` on a method (several decorators of one kind per method). */
export function appendMethodMetadata<T>(key: string, value: T, method: object): void {
  const existing = (Reflect.getMetadata(key, method) as T[] | undefined) ?? [];
  Reflect.defineMetadata(key, [...existing, value], method);
}

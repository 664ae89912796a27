/**
 * The idempotent handler's transaction, for any provider below it:
 *
 * ```ts
 * @Injectable()
 * export class OrdersRepository {
 *   constructor(private readonly idem: IdempotencyContext) {}
 *   save(order: Order) { return this.idem.manager.insert(OrderRow, order); }   // commits with the key
 * }
 * ```
 *
 * A singleton: it reads the AsyncLocalStorage scope of the message being handled, so concurrent
 * messages each see their own transaction.
 */
import { createParamDecorator, Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';
import { currentIdempotencyScope, type IdempotencyScope } from '../core/idempotency-scope.js';
import { IdempotencyUsageError } from '../errors.js';

@Injectable()
export class IdempotencyContext {
  /** Whether the caller runs inside an idempotent handler. */
  get active(): boolean {
    return currentIdempotencyScope() !== undefined;
  }

  /** The scope of the current idempotent handler. @throws IdempotencyUsageError outside one */
  get scope(): IdempotencyScope {
    const scope = currentIdempotencyScope();
    if (scope === undefined) {
      throw new IdempotencyUsageError('IdempotencyContext is only available inside an @Idempotent() handler');
    }
    return scope;
  }

  /**
   * The transaction's EntityManager (transaction mode). @throws IdempotencyUsageError outside an
   * idempotent handler or in lease mode (there is no transaction to join)
   */
  get manager(): EntityManager {
    return managerOf(this.scope);
  }

  /** The key of the message being handled. */
  get key(): string {
    return this.scope.key;
  }
}

/** `@IdempotentManager() manager: EntityManager`: the handler's transaction as a parameter. */
export const IdempotentManager = createParamDecorator((_data: unknown): EntityManager => {
  const scope = currentIdempotencyScope();
  if (scope === undefined) {
    throw new IdempotencyUsageError('@IdempotentManager() needs the handler to be @Idempotent()');
  }
  return managerOf(scope);
});

function managerOf(scope: IdempotencyScope): EntityManager {
  if (scope.manager === undefined) {
    throw new IdempotencyUsageError(
      `key ${scope.group}/${scope.key} runs in ${scope.mode} mode: there is no transaction to join`,
    );
  }
  return scope.manager;
}

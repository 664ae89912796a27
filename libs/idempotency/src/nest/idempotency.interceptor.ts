/**
 * The interceptor behind `@Idempotent()`. It runs in Nest's microservice pipeline (after guards,
 * around pipes and the handler), reads the payload and the message context from
 * `context.switchToRpc()`, and hands the rest of the chain to `runIdempotent` as the handler, so
 * that the handler runs inside the claim's transaction and its AsyncLocalStorage scope.
 *
 * Answers: processed → the handler's value; duplicate → `undefined` without running it (the
 * transport acknowledges); anything thrown → the transport retries (`retryable: false` errors
 * can only end in the DLQ).
 */
import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { lastValueFrom, Observable } from 'rxjs';
import { IdempotencyStore } from '../core/idempotency-store.js';
import { payloadHashOf } from '../core/payload-hash.js';
import { runIdempotent } from '../core/run-idempotent.js';
import { IdempotencyUsageError } from '../errors.js';
import { IDEMPOTENT_METADATA } from './idempotency.tokens.js';
import { type IdempotentOptions } from './idempotent.decorator.js';
import { isIdempotentMessageContext, type IdempotentMessageContext } from './idempotent-message-context.js';

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  /** Options per handler method, read from its metadata once (the lookup is paid per message otherwise). */
  readonly #options = new WeakMap<object, IdempotentOptions>();

  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(IdempotencyStore) private readonly store: IdempotencyStore,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const options = this.#optionsOf(context.getHandler());
    if (context.getType() !== 'rpc') {
      throw new IdempotencyUsageError(
        `@Idempotent() applies to message handlers (rpc context), not to a ${context.getType()} handler`,
      );
    }
    const rpc = context.switchToRpc();
    const payload = rpc.getData<unknown>();
    const message = rpc.getContext<unknown>();
    if (!isIdempotentMessageContext(message)) {
      throw new IdempotencyUsageError(
        `@Idempotent() on ${context.getClass().name}.${context.getHandler().name} needs a message context with getTopic(), getMessageId() and getGroup()`,
      );
    }
    const key = options.key
      ? options.key(payload, message)
      : `${message.getTopic()}:${message.getMessageId()}`;
    const run = runIdempotent(
      this.store,
      {
        group: message.getGroup(),
        key,
        payloadHash: hashOf(options, payload, message),
        mode: options.mode,
        ttlMs: options.ttl,
        leaseMs: options.lease,
        onPayloadMismatch: options.onPayloadMismatch,
      },
      // Called inside the claim's scope: Nest binds the rest of the chain to the async context
      // `handle()` is called in, so the handler (and its pipes) see the scope.
      () => lastValueFrom(next.handle(), { defaultValue: undefined }),
    );
    // One value then complete, straight from the promise: what `from(run).pipe(map(…))` does,
    // without its two extra subscribers per message.
    return new Observable((subscriber) => {
      run.then(
        (result) => {
          subscriber.next(result.status === 'processed' ? result.value : undefined);
          subscriber.complete();
        },
        (err: unknown) => subscriber.error(err),
      );
    });
  }

  #optionsOf(handler: object): IdempotentOptions {
    let options = this.#options.get(handler);
    if (options === undefined) {
      options =
        this.reflector.get<IdempotentOptions | undefined>(IDEMPOTENT_METADATA, handler as () => unknown) ??
        {};
      this.#options.set(handler, options);
    }
    return options;
  }
}

function hashOf(
  options: IdempotentOptions,
  payload: unknown,
  message: IdempotentMessageContext,
): Buffer | null {
  if (options.payloadHash === false) return null;
  if (options.payloadHash) return payloadHashOf(options.payloadHash(payload, message));
  const body = message.getMessage?.()?.body;
  return payloadHashOf(body instanceof Uint8Array ? body : payload);
}

/**
 * The module's state as an observable: `connecting` while the connection (and the embedded broker)
 * start, `connected` once listeners run, `draining` while shutdown waits for running handlers,
 * `closed` after, and `error` when starting failed. A readiness probe flips to "not ready" as soon
 * as draining begins, so a load balancer stops sending work before the consumers stop.
 */
import { Injectable } from '@nestjs/common';
import { BehaviorSubject, type Observable } from 'rxjs';

export type RocketMQStatus = 'connecting' | 'connected' | 'draining' | 'closed' | 'error';

/** The status with what caused it (the error of an `error` status). */
export interface RocketMQStatusEvent {
  readonly status: RocketMQStatus;
  /** Epoch ms of the change. */
  readonly at: number;
  readonly error?: Error;
}

@Injectable()
export class RocketMQHealth {
  readonly #subject = new BehaviorSubject<RocketMQStatusEvent>({ status: 'connecting', at: Date.now() });

  /** Every change, starting with the current status (a BehaviorSubject: late subscribers get it). */
  get status$(): Observable<RocketMQStatusEvent> {
    return this.#subject.asObservable();
  }

  get status(): RocketMQStatus {
    return this.#subject.value.status;
  }

  /** The last error, while the status is `error`. */
  get error(): Error | undefined {
    return this.#subject.value.error;
  }

  /** @internal the module moves the status; applications read it. */
  set(status: RocketMQStatus, error?: Error): void {
    if (this.#subject.value.status === status && error === undefined) return;
    this.#subject.next({ status, at: Date.now(), ...(error === undefined ? {} : { error }) });
    if (status === 'closed') this.#subject.complete();
  }
}

/**
 * An exception filter that keeps the cause of a failure visible. Nest 12's default RPC filter turns
 * every error that is not an `RpcException` into `{ status: 'error', message: 'Internal server
 * error' }` and does not log HttpExceptions at all, so a `ValidationPipe` refusal or a guard's
 * ForbiddenException would reach the transport's log (and a requester) as "Internal server error".
 * This filter rethrows `{ message, name, status? }` instead (an HttpException's status and its
 * messages, ValidationPipe's list joined), which the transport logs for a message it does not
 * acknowledge and sends to the requester of a `@MessagePattern`:
 *
 * ```ts
 * app.useGlobalFilters(new RocketMQExceptionFilter());   // or @UseFilters(RocketMQExceptionFilter)
 * ```
 *
 * It tells the requester what went wrong, messages of unexpected errors included: leave it out (or
 * put your own first) where those must stay private.
 */
import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import { remoteErrorBodyOf } from '../request-reply/reply-envelope.js';
import { type RemoteErrorBody } from '../request-reply/reply-errors.js';

@Catch()
export class RocketMQExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    const error = exception instanceof RpcException ? exception.getError() : exception;
    const body: RemoteErrorBody = remoteErrorBodyOf(error);
    return throwError(() => body);
  }
}

/**
 * Per-call metadata, as the official Java client sends it (`Signature.sign`), fresh for every call
 * (the Telemetry stream sends it once, when it opens):
 *
 *   x-mq-language        HTTP (see below)
 *   x-mq-protocol        v2
 *   x-mq-client-version  our version
 *   x-mq-date-time       yyyyMMdd'T'HHmmss'Z', UTC
 *   x-mq-request-id      a random UUID
 *   x-mq-client-id       host@pid@index@time36
 *   x-mq-namespace       the namespace (sent even when empty, as Java does)
 *   x-mq-session-token   with temporary credentials only
 *   authorization        MQv2-HMAC-SHA1 Credential=<AK>, SignedHeaders=x-mq-date-time, Signature=<HEX>
 *
 * Why `x-mq-language: HTTP`: Apache's proxy turns the header into its remoting `LanguageCode` with
 * Java's `Enum.valueOf` when it registers a producer or consumer (`ClientActivity.registerProducer`,
 * `registerConsumer`, `notifyClientTermination`), so a name outside that enum (JAVA, CPP, DOTNET,
 * PYTHON, DELPHI, ERLANG, RUBY, OTHER, HTTP, GO, PHP, OMS; RUST only in recent releases; NODE_JS in
 * none) makes every Settings frame fail with a gRPC INTERNAL error. HTTP is in every release and is
 * what the official Node client sends, so a proxy treats us like it. The Settings user agent, a proto
 * enum the proxy does not convert, says NODE_JS.
 */
import { randomUUID } from 'node:crypto';
import { Metadata } from '@grpc/grpc-js';
import {
  AUTHORIZATION_HEADER,
  DATE_TIME_HEADER,
  formatDateTime,
  signDateTime,
} from '@rocketnest/broker/grpc/auth.js';
import { type SessionCredentials } from './options.js';
import { CLIENT_VERSION } from './version.js';

export const CLIENT_ID_HEADER = 'x-mq-client-id';
export const REQUEST_ID_HEADER = 'x-mq-request-id';
export const LANGUAGE_HEADER = 'x-mq-language';
export const CLIENT_VERSION_HEADER = 'x-mq-client-version';
export const PROTOCOL_HEADER = 'x-mq-protocol';
export const NAMESPACE_HEADER = 'x-mq-namespace';
export const SESSION_TOKEN_HEADER = 'x-mq-session-token';

/** See the header comment: accepted by every Apache RocketMQ 5 proxy. */
export const LANGUAGE = 'HTTP';
export const PROTOCOL_VERSION = 'v2';
const AUTHORIZATION_SCHEME = 'MQv2-HMAC-SHA1';

export interface MetadataSource {
  readonly clientId: string;
  readonly namespace: string;
  readonly credentials: SessionCredentials | undefined;
}

/** The `authorization` header value for `dateTime`. */
export function authorizationOf(credentials: SessionCredentials, dateTime: string): string {
  const signature = signDateTime(credentials.secretKey, dateTime);
  return (
    `${AUTHORIZATION_SCHEME} Credential=${credentials.accessKey}, ` +
    `SignedHeaders=${DATE_TIME_HEADER}, Signature=${signature}`
  );
}

/** Fresh metadata for one call, and its request id. */
export function callMetadata(
  source: MetadataSource,
  now: number = Date.now(),
): { metadata: Metadata; requestId: string } {
  const metadata = new Metadata();
  const requestId = randomUUID();
  const dateTime = formatDateTime(now);
  metadata.set(LANGUAGE_HEADER, LANGUAGE);
  metadata.set(PROTOCOL_HEADER, PROTOCOL_VERSION);
  metadata.set(CLIENT_VERSION_HEADER, CLIENT_VERSION);
  metadata.set(DATE_TIME_HEADER, dateTime);
  metadata.set(REQUEST_ID_HEADER, requestId);
  metadata.set(CLIENT_ID_HEADER, source.clientId);
  metadata.set(NAMESPACE_HEADER, source.namespace);
  const credentials = source.credentials;
  if (credentials) {
    if (credentials.securityToken) metadata.set(SESSION_TOKEN_HEADER, credentials.securityToken);
    metadata.set(AUTHORIZATION_HEADER, authorizationOf(credentials, dateTime));
  }
  return { metadata, requestId };
}

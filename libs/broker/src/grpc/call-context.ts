/**
 * What the gRPC layer knows about one call from its metadata (PROTOCOL.md §0): the client id, the
 * namespace, the authenticated user, the peer. Handlers ask it for the broker's names of the
 * resources in a request (namespace applied) and to check the user's allow lists.
 */
import { type Metadata } from '@grpc/grpc-js';
import { isBlank } from '../core/validation.js';
import { isAllowed, firstString, type AuthUser } from './auth.js';
import { ClientIdRequiredError, ForbiddenError } from './errors.js';
import { checkNamespace, unwrapName, wrapName } from './namespace.js';
import { type Resource } from './proto-types.js';

/** The parts of any grpc-js server call a context is built from. */
export interface CallLike {
  readonly metadata: Metadata;
  getPeer(): string;
}

export const CLIENT_ID_HEADER = 'x-mq-client-id';
export const NAMESPACE_HEADER = 'x-mq-namespace';
export const LANGUAGE_HEADER = 'x-mq-language';
export const CLIENT_VERSION_HEADER = 'x-mq-client-version';
export const REQUEST_ID_HEADER = 'x-mq-request-id';

/** Longest client id accepted as one; clients send `host@pid@idx@base36ms`. */
export const CLIENT_ID_MAX_LENGTH = 256;

export interface CallContextFields {
  readonly clientId?: string | undefined;
  readonly namespace?: string | undefined;
  readonly language?: string | undefined;
  readonly clientVersion?: string | undefined;
  readonly requestId?: string | undefined;
  /** The authenticated user; undefined when authentication is off. */
  readonly user?: AuthUser | undefined;
  /** `ip:port` of the caller, as grpc-js reports it (`[v6]:port` for IPv6). */
  readonly peer: string;
}

export class CallContext {
  readonly clientId: string | undefined;
  /** '' when the call has no namespace. */
  readonly namespace: string;
  readonly language: string | undefined;
  readonly clientVersion: string | undefined;
  readonly requestId: string | undefined;
  readonly user: AuthUser | undefined;
  readonly peer: string;

  constructor(fields: CallContextFields) {
    this.clientId = fields.clientId;
    this.namespace = fields.namespace ?? '';
    this.language = fields.language;
    this.clientVersion = fields.clientVersion;
    this.requestId = fields.requestId;
    this.user = fields.user;
    this.peer = fields.peer;
  }

  /**
   * Reads the metadata of `call`. `x-mq-language` is not checked (the Node client sends `HTTP`).
   * @throws BadRequestError for a malformed `x-mq-namespace`
   */
  static fromCall(call: CallLike, user?: AuthUser): CallContext {
    const clientId = firstString(call.metadata, CLIENT_ID_HEADER);
    return new CallContext({
      clientId:
        clientId === undefined || isBlank(clientId) || clientId.length > CLIENT_ID_MAX_LENGTH
          ? undefined
          : clientId,
      namespace: checkNamespace(firstString(call.metadata, NAMESPACE_HEADER) ?? ''),
      language: firstString(call.metadata, LANGUAGE_HEADER),
      clientVersion: firstString(call.metadata, CLIENT_VERSION_HEADER),
      requestId: firstString(call.metadata, REQUEST_ID_HEADER),
      user,
      peer: peerOf(call),
    });
  }

  /** @throws ClientIdRequiredError (40017) when the call has no usable `x-mq-client-id` */
  requireClientId(): string {
    if (this.clientId === undefined) throw new ClientIdRequiredError();
    return this.clientId;
  }

  /** The namespace that applies to `resource`: its own, else the call's. */
  namespaceOf(resource: Resource | null | undefined): string {
    const own = typeof resource?.resource_namespace === 'string' ? resource.resource_namespace : '';
    return own === '' ? this.namespace : checkNamespace(own);
  }

  /**
   * The broker's name of a topic or group resource (namespace applied). A missing resource or name is
   * '' so that the core's validation answers with the right code (ILLEGAL_TOPIC, …).
   */
  nameOf(resource: Resource | null | undefined): string {
    const name = typeof resource?.name === 'string' ? resource.name : '';
    return wrapName(this.namespaceOf(resource), name);
  }

  /** A resource for a client to read: the broker's name without this call's namespace. */
  publicResource(brokerName: string): Resource {
    return { resource_namespace: this.namespace, name: unwrapName(this.namespace, brokerName) };
  }

  /** @throws ForbiddenError (40300) when the user may not publish to `topic` (broker name) */
  authorizeTopic(topic: string): void {
    if (this.user && !isAllowed(this.user.topics, topic)) {
      throw new ForbiddenError(this.user.accessKey, 'topic', topic);
    }
  }

  /** @throws ForbiddenError (40300) when the user may not consume with `group` (broker name) */
  authorizeGroup(group: string): void {
    if (this.user && !isAllowed(this.user.groups, group)) {
      throw new ForbiddenError(this.user.accessKey, 'group', group);
    }
  }
}

/** `ip:port` of the caller without grpc-js's `ipv4:` / `ipv6:` scheme prefixes, if any. */
function peerOf(call: CallLike): string {
  let peer = '';
  try {
    peer = call.getPeer();
  } catch {
    // A call whose socket is already gone has no peer; nothing depends on it.
  }
  return peer.replace(/^ipv[46]:/, '');
}

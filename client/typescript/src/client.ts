// The connection: a gRPC transport over HTTP/2 with two interceptors, one
// that sends the bearer token and one that gives every mutating request a
// request id. The clients are Connect's generated-service clients, unchanged.

import { randomUUID } from "node:crypto";
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport, type GrpcTransportOptions } from "@connectrpc/connect-node";
import { NegotiationService } from "./gen/parley/v1/negotiation_service_pb.js";
import { AdminService } from "./gen/parley/v1/admin_service_pb.js";
import { AuditService } from "./gen/parley/v1/audit_service_pb.js";

/** Options of createParleyClient. */
export interface ParleyClientOptions {
  /**
   * Where the server listens: "host:port" (plaintext gRPC over HTTP/2, for
   * loopback) or a URL, "http://host:port" or "https://host:port" (TLS).
   */
  address: string;
  /** A participant's or the administrator's bearer token. */
  token: string;
  /**
   * Fill an empty request_id of every mutating request with a new UUID
   * (default true).
   */
  requestIds?: boolean;
  /** More interceptors, run inside the token and request-id ones. */
  interceptors?: Interceptor[];
  /** Any other option of Connect's gRPC transport (TLS options, timeouts…). */
  transport?: Partial<Omit<GrpcTransportOptions, "baseUrl" | "interceptors">>;
}

/** A connection to a Parley server: one transport, a client per service. */
export interface ParleyClient {
  /** NegotiationService: the document, amendments, votes, sign-offs, log. */
  negotiation: Client<typeof NegotiationService>;
  /** AdminService: participants' tokens (administrator only). */
  admin: Client<typeof AdminService>;
  /** AuditService: signed checkpoints and Merkle proofs of the audit log. */
  audit: Client<typeof AuditService>;
  /** The transport, for creating clients of other services. */
  transport: Transport;
}

/** A new request id: a random UUID. */
export function newRequestId(): string {
  return randomUUID();
}

/** An interceptor that sends `authorization: Bearer <token>` on every call. */
export function bearerToken(token: string): Interceptor {
  const value = `Bearer ${token}`;
  return (next) => (req) => {
    req.header.set("authorization", value);
    return next(req);
  };
}

/**
 * An interceptor that fills an empty `request_id` field with a new UUID. Every
 * mutating request of Parley has that field, and only those do.
 *
 * The id is written into the request message itself. A message built with
 * `create(Schema, …)` therefore keeps its id, and sending the same message
 * again is a safe retry: the server returns the first reply and changes
 * nothing. A plain object is copied into a new message by Connect first, so
 * each call with a plain object gets a new id; pass `requestId` yourself when
 * you mean to retry.
 */
export function requestIds(): Interceptor {
  return (next) => (req) => {
    if (!req.stream && req.method.input.field.requestId !== undefined) {
      const msg = req.message as { requestId?: unknown };
      if (msg.requestId === "") msg.requestId = newRequestId();
    }
    return next(req);
  };
}

/** The base URL of an address given as "host:port" or as a URL. */
export function baseUrlOf(address: string): string {
  return /^https?:\/\//.test(address) ? address.replace(/\/+$/, "") : `http://${address}`;
}

/**
 * Connects to a Parley server over gRPC (HTTP/2). Nothing is sent until the
 * first call. Example:
 *
 *     const parley = createParleyClient({ address: "127.0.0.1:50051", token });
 *     const { negotiation } = await parley.negotiation.getNegotiation({ name });
 */
export function createParleyClient(options: ParleyClientOptions): ParleyClient {
  const interceptors: Interceptor[] = [bearerToken(options.token)];
  if (options.requestIds ?? true) interceptors.push(requestIds());
  interceptors.push(...(options.interceptors ?? []));
  const transport = createGrpcTransport({
    ...options.transport,
    baseUrl: baseUrlOf(options.address),
    interceptors,
  });
  return {
    negotiation: createClient(NegotiationService, transport),
    admin: createClient(AdminService, transport),
    audit: createClient(AuditService, transport),
    transport,
  };
}

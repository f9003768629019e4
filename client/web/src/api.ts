// The board's connection to parleyd: Connect over fetch to the same origin,
// the bearer token on every call, a fresh request id for every mutation, and
// the server's own words when a call is refused.
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { NegotiationService } from "./gen/parley/v1/negotiation_service_pb.js";
import { AuditService } from "./gen/parley/v1/audit_service_pb.js";
import { ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";

export type Api = {
  neg: Client<typeof NegotiationService>;
  audit: Client<typeof AuditService>;
};

// connectApi returns clients that send `token` in the authorization header,
// the only place it travels: never in a URL, a cookie or a log.
export function connectApi(token: string): Api {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", "Bearer " + token);
    return next(req);
  };
  const transport = createConnectTransport({
    baseUrl: new URL(".", document.baseURI).href.replace(/\/$/, ""),
    useBinaryFormat: true,
    interceptors: [auth],
  });
  return { neg: createClient(NegotiationService, transport), audit: createClient(AuditService, transport) };
}

// newRequestId returns a random UUID. crypto.randomUUID exists only in secure
// contexts; getRandomValues everywhere, so the board also works over plain
// HTTP on a private network.
export function newRequestId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// Refusal is what the board shows when a call fails: the server's message,
// its stable reason, and the details it gave with it (ErrorInfo metadata,
// e.g. a REBASE_CONFLICT's conflicts).
export type Refusal = { message: string; reason: string; code: string; details: Record<string, string> };

export function refusal(err: unknown): Refusal {
  const ce = ConnectError.from(err);
  const info = ce.findDetails(ErrorInfoSchema)[0];
  let message = ce.rawMessage;
  if (ce.code === Code.Unavailable || ce.code === Code.Unknown) {
    message = message || "The server cannot be reached.";
  }
  return { message: message || Code[ce.code], reason: info?.reason ?? "", code: Code[ce.code], details: info?.metadata ?? {} };
}

export function isCode(err: unknown, code: Code): boolean {
  return err instanceof ConnectError && err.code === code;
}

export { Code };

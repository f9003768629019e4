// Words for what the board shows: states, kinds, events, ranges of numbers.
import { AmendmentKind, AmendmentState, VoteChoice, type Amendment } from "./gen/parley/v1/negotiation_pb.js";
import type { Event } from "./gen/parley/v1/event_pb.js";
import type { Timestamp } from "@bufbuild/protobuf/wkt";

export function kindName(k: AmendmentKind): string {
  return AmendmentKind[k] ?? "?";
}

export function stateName(s: AmendmentState): string {
  return AmendmentState[s] ?? "?";
}

export function choiceName(c: VoteChoice): string {
  return { [VoteChoice.APPROVE]: "approve", [VoteChoice.REJECT]: "reject", [VoteChoice.ABSTAIN]: "abstain" }[c as 1 | 2 | 3] ?? "?";
}

export function shortId(name: string): string {
  const id = name.slice(name.lastIndexOf("/") + 1);
  return id.slice(0, 8);
}

export function lastSegment(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}

// describeAmendment says what an amendment does, as `parley status` does.
export function describeAmendment(a: Amendment): string {
  if (a.parts.length > 0) return `package deal: ${a.parts.map(describePart).join(" + ")}`;
  return describePart(a);
}

// describePart says what one change does: a single amendment, or one part
// of a package deal.
export function describePart(a: { kind: AmendmentKind; point: string; pointNumber: number }): string {
  switch (a.kind) {
    case AmendmentKind.REPLACE:
      return `replace point ${a.pointNumber || "(gone)"}`;
    case AmendmentKind.DELETE:
      return `delete point ${a.pointNumber || "(gone)"}`;
    case AmendmentKind.INSERT:
      return a.point === "" ? "insert a point at the start" : `insert a point after ${a.pointNumber || "(gone)"}`;
    default:
      return "?";
  }
}

export function timeText(t: Timestamp | undefined): string {
  if (!t) return "";
  const d = new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6));
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

// numberRanges writes 1,2,3,5 as "1–3, 5".
export function numberRanges(ns: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ns.length; ) {
    let j = i;
    while (j + 1 < ns.length && ns[j + 1] === ns[j] + 1) j++;
    out.push(j === i ? `${ns[i]}` : j === i + 1 ? `${ns[i]}, ${ns[j]}` : `${ns[i]}–${ns[j]}`);
    i = j + 1;
  }
  return out.join(", ");
}

export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function firstLine(text: string, width: number): string {
  const line = text.split("\n")[0];
  return line.length > width ? line.slice(0, width - 1) + "…" : line;
}

// memberText names a participant's member, or the participant alone for its
// default member.
export function memberText(participant: string, member: string): string {
  return member === "" || member === participant ? participant : `member ${member} of ${participant}`;
}

// describeEvent says in a few words what an event of the log records.
export function describeEvent(e: Event, pointNumber: (pointId: string) => string): string {
  const p = e.payload;
  switch (p.case) {
    case "negotiationCreated":
      return `created “${p.value.title}”`;
    case "pointAdded":
      return `added a point to the initial text`;
    case "amendmentProposed": {
      const change = (c: { kind: AmendmentKind; pointId: string }) =>
        `${kindName(c.kind).toLowerCase()} ${c.pointId ? "of point " + pointNumber(c.pointId) : "at the start"}`;
      const what = p.value.parts.length > 0 ? `a package deal: ${p.value.parts.map(change).join(" + ")}` : change(p.value);
      return `proposed ${what} (amendment ${p.value.amendmentId.slice(0, 8)}${p.value.counterTo ? ", countering " + p.value.counterTo.slice(0, 8) : ""}${p.value.rebasedFrom ? ", re-proposing " + p.value.rebasedFrom.slice(0, 8) : ""})`;
    }
    case "voteCast":
      return `voted ${choiceName(p.value.choice)} on amendment ${p.value.amendmentId.slice(0, 8)}${p.value.reason ? ": “" + p.value.reason + "”" : ""}`;
    case "votingClosed":
      return `closed voting on amendment ${p.value.amendmentId.slice(0, 8)}: ${p.value.tally?.passed ? "passed" : "failed"}`;
    case "amendmentApplied":
      if (p.value.parts.length > 0) {
        return `applied package deal ${p.value.amendmentId.slice(0, 8)}, all at once, to points ${p.value.parts.map((x) => pointNumber(x.pointId)).join(", ")}`;
      }
      return `applied amendment ${p.value.amendmentId.slice(0, 8)} to point ${pointNumber(p.value.pointId)}${p.value.revision ? " (revision " + p.value.revision + ")" : ""}`;
    case "amendmentRejected":
      return `rejected amendment ${p.value.amendmentId.slice(0, 8)}: “${p.value.reason}”`;
    case "amendmentWithdrawn":
      return `withdrew amendment ${p.value.amendmentId.slice(0, 8)}`;
    case "amendmentStaled":
      return `amendment ${p.value.amendmentId.slice(0, 8)} went stale`;
    case "pointSignedOff":
      return `signed off point ${pointNumber(p.value.pointId)} at revision ${p.value.revision}`;
    case "signOffRevoked":
      return `revoked the sign-off of point ${pointNumber(p.value.pointId)}`;
    case "documentAccepted":
      return `accepted the document ${p.value.documentSha256.slice(0, 12)}…`;
    case "negotiationConcluded":
      return `CONCLUDED: every delegation accepted ${p.value.documentSha256.slice(0, 12)}…`;
    case "commentPosted":
      return `commented${p.value.parentId ? " (a reply)" : ""} on ${p.value.pointId ? "point " + pointNumber(p.value.pointId) : "amendment " + p.value.amendmentId.slice(0, 8)}: “${firstLine(p.value.text, 60)}”`;
    case "commentRetracted":
      return `retracted comment ${p.value.commentId.slice(0, 8)}`;
    case "credentialIssued":
      return `issued a token to ${memberText(p.value.participant, p.value.member)}`;
    case "credentialRevoked":
      return `revoked the token of ${memberText(p.value.participant, p.value.member)}`;
    case "participantAdded":
      return `added ${p.value.participant?.displayName || p.value.participant?.id} as a participant`;
    case "participantRemoved":
      return `removed ${p.value.participant} from the negotiation`;
    case "negotiationRenamed":
      return `renamed the negotiation “${p.value.title}”`;
    case "decisionRuleChanged":
      return `changed the decision rule for amendments proposed from now on`;
    case "negotiationSuspended":
      return `suspended the negotiation${p.value.reason ? ": “" + p.value.reason + "”" : ""}`;
    case "negotiationResumed":
      return `resumed the negotiation`;
    case "negotiationAbandoned":
      return `ABANDONED the negotiation: “${p.value.reason}”`;
    case "votingDeadlineSet":
      return `set the voting deadline of amendment ${p.value.amendmentId.slice(0, 8)} to ${timeText(p.value.votingDeadline)}`;
    case "memberAdded":
      return `added ${memberText(p.value.participant, p.value.member)} (${p.value.displayName})${p.value.head ? " as a head" : ""}`;
    case "memberRemoved":
      return `removed ${memberText(p.value.participant, p.value.member)}`;
    case "acceptanceWithdrawn":
      return `WITHDREW its acceptance of ${p.value.documentSha256.slice(0, 12)}…`;
    default:
      return "an event this board does not know";
  }
}

// timeLeft says how long until a time, as "2 h 5 min", or "due" once it passed.
export function timeLeft(t: Timestamp | undefined, now: number = Date.now()): string {
  if (!t) return "";
  const ms = Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6) - now;
  if (ms <= 0) return "due";
  const min = Math.ceil(ms / 60000);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  return h < 48 ? `${h} h ${min % 60} min` : `${Math.floor(h / 24)} days ${h % 24} h`;
}

// Reading verifier keys and checking signed notes as docs/audit.md defines
// them, with keys and notes made here the way parleyd makes them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, createHash, sign } from "node:crypto";
import { parseVerifierKey, toBase64, verifyNote } from "../src/checkpoint.js";

function makeKey(name: string) {
  for (;;) {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32);
    const data = Buffer.concat([Buffer.from([1]), raw]);
    const hash = createHash("sha256").update(Buffer.concat([Buffer.from(name + "\n"), data])).digest().subarray(0, 4);
    const text = `${name}+${hash.toString("hex")}+${data.toString("base64")}`;
    // Half the keys have a "+" in their base64: keep one that does, the case
    // that once broke the board.
    if (text.split("+").length > 3) return { text, hash, privateKey };
  }
}

function note(origin: string, size: number, root: Uint8Array, key: ReturnType<typeof makeKey>, name = "parley") {
  const body = `${origin}\n${size}\n${toBase64(root)}\n`;
  const sig = sign(null, Buffer.from(body), key.privateKey);
  return `${body}\n\u2014 ${name} ${Buffer.concat([key.hash, sig]).toString("base64")}\n`;
}

const root = new Uint8Array(32).fill(9);

test("a note signed by the key verifies, and states its checkpoint", async () => {
  const k = makeKey("parley");
  const key = await parseVerifierKey(k.text);
  const cp = await verifyNote(note("negotiations/n1", 42, root, k), key);
  assert.equal(cp.origin, "negotiations/n1");
  assert.equal(cp.size, 42);
  assert.deepEqual(cp.root, root);
});

test("a note signed by another key, or changed, is refused", async () => {
  const k = makeKey("parley");
  const other = makeKey("parley");
  const key = await parseVerifierKey(k.text);
  await assert.rejects(verifyNote(note("negotiations/n1", 42, root, other), key));
  const good = note("negotiations/n1", 42, root, k);
  await assert.rejects(verifyNote(good.replace("\n42\n", "\n43\n"), key));
  await assert.rejects(verifyNote(note("negotiations/n1", 42, root, k, "someone"), key));
  await assert.rejects(verifyNote(good.slice(0, good.indexOf("\n\n")), key));
});

test("a verifier key whose hash does not match its key is refused", async () => {
  const k = makeKey("parley");
  const [name, hash, data] = [k.text.slice(0, k.text.indexOf("+")), "00000000", k.text.slice(k.text.indexOf("+", 7) + 1)];
  await assert.rejects(parseVerifierKey(`${name}+${hash}+${data}`));
  await assert.rejects(parseVerifierKey("parley"));
});

// The board's RFC 6962 code against a reference written from the RFC's
// definitions (MTH and SUBPROOF, RFC 6962 section 2.1): every pair of sizes
// up to 70, each proof accepted, and every corrupted one refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { leafHash, nodeHash, rootOf, verifyConsistency } from "../src/merkle.js";

const largestPowerOfTwoBelow = (n: number) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};

// mth is MTH(D[lo:hi]) of the leaves below, remembered.
const memo = new Map<string, Promise<Uint8Array>>();
function mth(lo: number, hi: number): Promise<Uint8Array> {
  const key = `${lo}:${hi}`;
  let h = memo.get(key);
  if (!h) {
    h = (async () => {
      if (hi === lo) return new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array()));
      if (hi - lo === 1) return leaves[lo];
      const k = largestPowerOfTwoBelow(hi - lo);
      return nodeHash(await mth(lo, lo + k), await mth(lo + k, hi));
    })();
    memo.set(key, h);
  }
  return h;
}

// subproof is SUBPROOF(m, D[lo:hi], b) of RFC 6962, section 2.1.2.
async function subproof(m: number, lo: number, hi: number, complete: boolean): Promise<Uint8Array[]> {
  const n = hi - lo;
  if (m === n) return complete ? [] : [await mth(lo, hi)];
  const k = largestPowerOfTwoBelow(n);
  if (m <= k) return [...(await subproof(m, lo, lo + k, complete)), await mth(lo + k, hi)];
  return [...(await subproof(m - k, lo + k, hi, false)), await mth(lo, lo + k)];
}

const leaves = await Promise.all(Array.from({ length: 70 }, (_, i) => leafHash(new TextEncoder().encode(`event ${i + 1}`))));

test("rootOf folds leaves as MTH does", async () => {
  for (let n = 0; n <= leaves.length; n++) {
    assert.deepEqual(await rootOf(leaves.slice(0, n)), await mth(0, n), `size ${n}`);
  }
});

test("verifyConsistency accepts every proof and refuses every corruption", async () => {
  for (let n = 1; n <= leaves.length; n++) {
    const second = await mth(0, n);
    for (let m = 1; m <= n; m++) {
      const first = await mth(0, m);
      const proof = m === n ? [] : await subproof(m, 0, n, true);
      assert.ok(await verifyConsistency(m, n, first, second, proof), `OK ${m}→${n}`);
      if (m === n) continue;
      for (let i = 0; i < proof.length; i++) {
        const bad = proof.map((h) => h.slice());
        bad[i][0] ^= 1;
        assert.ok(!(await verifyConsistency(m, n, first, second, bad)), `corrupted hash ${i} ${m}→${n}`);
      }
      assert.ok(!(await verifyConsistency(m, n, second, second, proof)), `wrong first root ${m}→${n}`);
      assert.ok(!(await verifyConsistency(m, n, first, first, proof)), `wrong second root ${m}→${n}`);
      assert.ok(!(await verifyConsistency(m, n, first, second, proof.slice(0, -1))), `short proof ${m}→${n}`);
      assert.ok(!(await verifyConsistency(m, n, first, second, [...proof, proof[0]])), `long proof ${m}→${n}`);
    }
  }
});

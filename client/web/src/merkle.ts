// RFC 6962 Merkle tree hashes and consistency proofs, as docs/audit.md
// defines them, with WebCrypto's SHA-256.

async function sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  let n = 0;
  for (const p of parts) n += p.length;
  const buf = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    buf.set(p, off);
    off += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

const leafPrefix = new Uint8Array([0]);
const nodePrefix = new Uint8Array([1]);

export function leafHash(leaf: Uint8Array): Promise<Uint8Array> {
  return sha256(leafPrefix, leaf);
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  return sha256(nodePrefix, left, right);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// rootOf folds leaf hashes into the tree's root, keeping a stack of perfect
// subtrees as it goes (the compact range), so memory stays O(log n).
export async function rootOf(leafHashes: Uint8Array[]): Promise<Uint8Array> {
  if (leafHashes.length === 0) return sha256();
  const stack: { size: number; hash: Uint8Array }[] = [];
  for (const h of leafHashes) {
    let cur = { size: 1, hash: h };
    while (stack.length > 0 && stack[stack.length - 1].size === cur.size) {
      const left = stack.pop()!;
      cur = { size: left.size * 2, hash: await nodeHash(left.hash, cur.hash) };
    }
    stack.push(cur);
  }
  let hash = stack[stack.length - 1].hash;
  for (let i = stack.length - 2; i >= 0; i--) hash = await nodeHash(stack[i].hash, hash);
  return hash;
}

const isOdd = (x: number) => x % 2 === 1;
const half = (x: number) => Math.floor(x / 2);

function isPowerOfTwo(n: number): boolean {
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
}

// verifyConsistency checks an RFC 6962 consistency proof between the tree of
// `first` leaves with root `firstRoot` and the tree of `second` leaves with
// root `secondRoot` (RFC 9162, section 2.1.4.2).
export async function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: Uint8Array[],
): Promise<boolean> {
  if (first < 1 || second < first) return false;
  if (first === second) return proof.length === 0 && equalBytes(firstRoot, secondRoot);
  let path = proof;
  if (isPowerOfTwo(first)) path = [firstRoot, ...proof];
  if (path.length === 0) return false;
  let fn = first - 1;
  let sn = second - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(fr, firstRoot) && equalBytes(sr, secondRoot);
}

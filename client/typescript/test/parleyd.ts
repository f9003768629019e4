// Runs the real parleyd for the tests: the binary named by $PARLEYD, or one
// built with `go build` from the repository this package sits in.

import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";

/** The repository's root: the nearest folder above this file with a go.mod. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "go.mod"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("no go.mod above the test: set PARLEYD to a parleyd binary");
    dir = up;
  }
  return dir;
}

let built: string | undefined;

/** The parleyd binary: $PARLEYD, or built once into a temporary folder. */
export function parleydBinary(): string {
  const fromEnv = process.env.PARLEYD;
  if (fromEnv) return fromEnv;
  if (built === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "parleyd-bin-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, "parleyd");
    execFileSync("go", ["build", "-o", out, "./cmd/parleyd"], { cwd: repoRoot(), stdio: "inherit" });
    built = out;
  }
  return built;
}

/** A running parleyd with a temporary data folder. */
export class Parleyd {
  readonly dataDir = mkdtempSync(join(tmpdir(), "parleyd-data-"));
  readonly adminToken = `prl_ts-admin-${randomBytes(16).toString("hex")}`;
  address = "";
  private proc: ChildProcess | undefined;
  private stderr = "";

  /** extraArgs are passed to parleyd after --listen and --data. */
  constructor(readonly extraArgs: string[] = []) {}

  /** What parleyd has logged since it last started. */
  get log(): string {
    return this.stderr;
  }

  /** Starts parleyd on a free loopback port, or on the same one as before. */
  async start(): Promise<void> {
    const listen = this.address || "127.0.0.1:0";
    const proc = spawn(parleydBinary(), ["--listen", listen, "--data", this.dataDir, ...this.extraArgs], {
      env: { ...process.env, PARLEY_ADMIN_TOKEN: this.adminToken },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.proc = proc;
    this.stderr = "";
    proc.stderr!.on("data", (b: Buffer) => (this.stderr += b.toString()));
    const lines = createInterface({ input: proc.stdout! });
    this.address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`parleyd did not start in 30s:\n${this.stderr}`)), 30_000);
      proc.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`parleyd exited with ${code} before serving:\n${this.stderr}`));
      });
      lines.on("line", (line) => {
        const m = /^parleyd: serving on (\S+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
  }

  /** Kills the process at once, as a crash would. */
  async kill(): Promise<void> {
    await this.signal("SIGKILL");
  }

  /** Stops it gracefully. */
  async stop(): Promise<void> {
    await this.signal("SIGTERM");
  }

  /** Stops it and removes its data folder. */
  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const proc = this.proc;
    if (proc === undefined) return;
    this.proc = undefined;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill(sig);
    const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(timer);
  }
}

import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors';

/** What the lock file says about the process that holds the data directory. */
export interface LockHolder {
  pid: number;
  /** The holder's command line (e.g. `marquee serve`). */
  command: string;
  startedAt: string;
  /** The holder's PostgreSQL socket, when it lets other commands connect through it (a server does). */
  url: string | null;
}

export const LOCK_FILE = 'marquee.lock';

/**
 * The exclusive lock on an embedded data directory: `<dataDir>/marquee.lock`, created with
 * O_EXCL, holding the owner's pid, command and (for a server) its PostgreSQL socket. Two
 * processes opening one PGlite directory would each run their own PostgreSQL on the same files
 * (lost writes, duplicate ids), so the second one is refused, or, for a command while a server
 * holds the directory, pointed at the server's socket. A lock whose pid is gone (kill -9) is
 * stale and taken over.
 */
export class DataDirLock {
  private constructor(
    readonly file: string,
    private holder: LockHolder,
  ) {}

  /** The lock's holder when another live process holds it; undefined when none does. */
  static holderOf(dataDir: string): LockHolder | undefined {
    const h = readHolder(path.join(dataDir, LOCK_FILE));
    return h && h.pid !== process.pid && pidAlive(h.pid) ? h : undefined;
  }

  /** Takes the lock, or returns the live process that holds it. */
  static acquire(dataDir: string, command: string): DataDirLock | LockHolder {
    fs.mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, LOCK_FILE);
    const mine: LockHolder = { pid: process.pid, command, startedAt: new Date().toISOString(), url: null };
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        fs.writeFileSync(file, JSON.stringify(mine), { flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const text = readText(file);
        const holder = text === undefined ? undefined : parseHolder(text);
        if (holder && pidAlive(holder.pid) && holder.pid !== process.pid) return holder;
        // Stale (its process is gone) or unreadable half-written: remove it, unless it changed meanwhile.
        if (text === undefined || (holder && readText(file) === text) || (!holder && Date.now() - mtime(file) > 2000)) {
          fs.rmSync(file, { force: true });
        } else {
          sleep(50);
        }
        continue;
      }
      // Two processes that found the same stale lock may both have removed and re-created it:
      // only the one whose content is there now owns it.
      sleep(20);
      const now = readHolder(file);
      if (now?.pid === process.pid) return new DataDirLock(file, mine);
      if (now && pidAlive(now.pid)) return now;
    }
    throw new AppError('SERVICE_UNAVAILABLE', `could not take the lock ${file}: it keeps changing`, 'DATA_DIR_LOCKED');
  }

  /** Publishes the socket that other commands may connect through. */
  publish(url: string): void {
    this.holder = { ...this.holder, url };
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.holder));
    fs.renameSync(tmp, this.file);
  }

  release(): void {
    if (readHolder(this.file)?.pid === process.pid) fs.rmSync(this.file, { force: true });
  }
}

/** The error for a data directory another process holds. */
export function lockedError(dataDir: string, holder: LockHolder, hint: string): AppError {
  return new AppError(
    'SERVICE_UNAVAILABLE',
    `the data directory ${path.resolve(dataDir)} is in use by pid ${holder.pid} (${holder.command}, since ${holder.startedAt}); ${hint}`,
    'DATA_DIR_LOCKED',
    { pid: holder.pid, command: holder.command },
  );
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function mtime(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as LockHolder;
    return Number.isInteger(h.pid) && h.pid > 0 ? h : undefined;
  } catch {
    return undefined;
  }
}

function readHolder(file: string): LockHolder | undefined {
  const text = readText(file);
  return text === undefined ? undefined : parseHolder(text);
}

export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (killed, not yet reaped by its parent) holds nothing.
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

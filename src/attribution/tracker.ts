/**
 * The fd tables of a traced process tree, kept from a streamed strace log
 * (line by line; nothing of the log is kept). Bounded memory: per process
 * only the fds open now (each with the call that made it, its arguments,
 * the reload it was made in and its call site), the fd numbers the trace
 * touched, and per call site a few counters; a process's table goes when it
 * exits. Threads are mapped to their process (CLONE_THREAD clones; for a
 * thread seen before its clone, `tgidOf`, which reads /proc/TID/status in a
 * live run), forks copy the table (records keep their creator), an exec
 * drops close-on-exec fds.
 *
 * Reloads: a delivery of the reload signal (`--- SIGHUP {…si_pid=P…} ---`)
 * sent by repro (`senderPid`; any sender when undefined) counts for the
 * process that got it; the trace's reload is the most any process got, so a
 * master that forwards HUP to its workers does not count twice.
 *
 * At the end of a run, `pin(survivors)` names the fds still open at the last
 * sample; each is matched (pid, fd and what `-y` printed) with its record
 * then, or when the record is removed later (teardown closes everything), or
 * at `finish()`; what never matches gets a reason.
 */
import { ARRAY_OF_FDS, CLONES, DUP_TO, RETURNS_FD } from './syscalls.js';
import { shownStack, type FrameOrigin, type WorkerPool } from './stack.js';
import { decoration, displayArgs, type Frame, fdList, NO_PID, parseStraceLine, returnNumber, splitArgs } from './strace-line.js';

/** A call site: the call and the frames that made it (interned; a few counters). */
export interface Site {
  syscall: string;
  frames: Frame[];
  origin: FrameOrigin;
  folded: number;
  /** Set when the call ran on a runtime's worker pool, for code on another thread. */
  pool?: WorkerPool;
  /** fds this site created, and of those, closed again (in the trace). */
  creates: number;
  closes: number;
  firstReload: number;
}

/** How an fd came to be, as far as the trace saw. */
export interface FdRecord {
  syscall: string;
  /** Arguments as shown (`-y` decorations dropped, bounded). */
  args: string;
  /** What `-y` printed for the fd (`/etc/hostname`, `pipe:[123]`), matched against the survivor's identity. */
  target?: string;
  site: Site;
  /** The trace's reload when it was made (0: before the first signal). */
  reload: number;
  /** Process (tgid) that made it, and its command then. */
  creatorPid: number;
  command: string;
  cloexec: boolean;
  /** `scm-rights`: received from another process through recvmsg. */
  received: boolean;
  /** Set when the fd reached its process by fork: the parent's pid. */
  inheritedFrom?: number;
}

/** A surviving fd: its identity from /proc and the reload it was first seen after. */
export interface Survivor {
  pid: number;
  fd: number;
  kind: string;
  object: string;
  reload: number;
}

/** Why a survivor has no creating call. */
export type UnattributedReason = 'inherited' | 'io-uring' | 'before-tracing' | 'untraced-call';

export interface Resolution {
  survivor: Survivor;
  record?: FdRecord;
  reason?: UnattributedReason;
  /** The process's command as the trace knew it. */
  command?: string;
}

interface Table {
  fds: Map<number, FdRecord>;
  /** fd numbers a traced call created or closed (so an fd without a record was not there from the start). */
  touched: Set<number>;
  users: number;
}

interface Proc {
  tgid: number;
  command: string;
  table: Table;
  /** Traced since its first instruction (the started program, or forked from a process that was). */
  fromStart: boolean;
  ioUring: boolean;
  threads: Set<number>;
  reloadSignals: number;
  /** Seen before the clone line that made it, and not known from /proc: its process is not known yet. */
  unclaimed?: boolean;
}

interface Pending {
  tid: number;
  kind: 'call' | 'signal';
  name: string;
  args: string;
  ret: string;
  senderPid?: number;
  frames: Frame[];
}

export interface TrackerOptions {
  /** The reload signal (`SIGHUP`). */
  signal: string;
  /** Only deliveries sent by this pid count as reloads (repro's own); any sender when undefined. */
  senderPid?: number;
  /** The tgid of a thread seen before its clone line (live: /proc/TID/status); undefined when unknown. */
  tgidOf?: (tid: number) => number | undefined;
}

/** At most this many call sites are kept apart; more share one per call. */
export const MAX_SITES = 4096;
const MAX_FRAMES_PER_CALL = 64;
const RECENTLY_CLOSED = 1024;
/** Tables of threads gone before their clone line came, kept for it (at most this many). */
const MAX_UNCLAIMED = 256;

export interface TrackerStats {
  lines: number;
  processes: number;
  openFds: number;
  peakOpenFds: number;
  sites: number;
}

export class FdTracker {
  readonly #options: TrackerOptions;
  readonly #threads = new Map<number, Proc>();
  readonly #sites = new Map<string, Site>();
  readonly #unfinished = new Map<number, { name: string; args: string }>();
  #pending: Pending | undefined;
  #reload = 0;
  #lines = 0;
  #openFds = 0;
  #peakOpenFds = 0;
  #sawFirst = false;
  #pinned: Map<string, Resolution> | undefined;
  #ptraceUse: string | undefined;
  /** Facts of processes that held pinned fds and are gone. */
  readonly #goneFacts = new Map<number, { command: string; fromStart: boolean; ioUring: boolean; touched: Set<number> }>();
  readonly #recentlyClosed: { key: string; record: FdRecord }[] = [];
  /**
   * A thread that made fds and exited before its parent's clone line was
   * read (strace -f prints a new thread's calls before the parent's
   * `<... clone3 resumed>`, and a short thread is gone from /proc by then):
   * its table waits here for that line, which names its process.
   */
  readonly #unclaimed = new Map<number, Proc>();

  constructor(options: TrackerOptions) {
    this.#options = options;
  }

  /**
   * The first ptrace call of the traced tree (`pid 12: ptrace(PTRACE_TRACEME) = -1 EPERM …`): a process has one
   * tracer and strace is every traced process's, so a program that traces is not running as it would.
   * Noted as the line is read, not when its stack ends: a program that waits for the stop it asked for prints nothing after it.
   */
  get ptraceUse(): string | undefined {
    return this.#ptraceUse;
  }

  #notePtrace(tid: number, args: string, ret: string): void {
    this.#ptraceUse ??= `pid ${this.#proc(tid).tgid} called ptrace(${displayArgs(args)}) = ${ret.trim()}`;
  }

  /** The reload the trace is in: the most reload signals any process got. */
  get reload(): number {
    return this.#reload;
  }

  /** Feeds one line of strace output (without its newline). */
  line(text: string): void {
    this.#lines++;
    const parsed = parseStraceLine(text);
    if (parsed.type === 'frame') {
      if (this.#pending && this.#pending.frames.length < MAX_FRAMES_PER_CALL) this.#pending.frames.push(parsed.frame);
      return;
    }
    this.flush();
    switch (parsed.type) {
      case 'call':
        if (parsed.name === 'ptrace') this.#notePtrace(parsed.tid, parsed.args, parsed.ret);
        this.#pending = { tid: parsed.tid, kind: 'call', name: parsed.name, args: parsed.args, ret: parsed.ret, frames: [] };
        return;
      case 'unfinished':
        this.#unfinished.set(parsed.tid, { name: parsed.name, args: parsed.args });
        return;
      case 'resumed': {
        const first = this.#unfinished.get(parsed.tid);
        this.#unfinished.delete(parsed.tid);
        const whole = first && first.name === parsed.name ? `${first.args}${parsed.rest}` : parsed.rest;
        const m = /\)\s+= (?=[-?\d])/g;
        let last: RegExpExecArray | undefined;
        for (let hit = m.exec(whole); hit; hit = m.exec(whole)) last = hit;
        if (!last) return;
        if (parsed.name === 'ptrace') this.#notePtrace(parsed.tid, whole.slice(0, last.index), whole.slice(last.index + last[0].length));
        this.#pending = { tid: parsed.tid, kind: 'call', name: parsed.name, args: whole.slice(0, last.index), ret: whole.slice(last.index + last[0].length), frames: [] };
        return;
      }
      case 'signal':
        this.#pending = { tid: parsed.tid, kind: 'signal', name: parsed.signal, args: '', ret: '', senderPid: parsed.senderPid, frames: [] };
        return;
      case 'exit':
        this.#unfinished.delete(parsed.tid);
        this.#threadExited(parsed.tid);
        return;
      default:
        return;
    }
  }

  /** Applies the last line read (its stack lines may still have been coming). Call before reading the state. */
  flush(): void {
    const event = this.#pending;
    if (!event) return;
    this.#pending = undefined;
    if (event.kind === 'signal') this.#signal(event);
    else this.#call(event);
  }

  stats(): TrackerStats {
    const procs = new Set(this.#threads.values());
    return { lines: this.#lines, processes: procs.size, openFds: this.#openFds, peakOpenFds: this.#peakOpenFds, sites: this.#sites.size };
  }

  /** The fds a process (tgid) holds now, by number, as the trace saw them. */
  openFds(pid: number): ReadonlyMap<number, FdRecord> {
    this.flush();
    return this.#procByTgid(pid)?.table.fds ?? new Map();
  }

  /** The command of a process (tgid) as the trace knows it. */
  commandOf(pid: number): string | undefined {
    return this.#procByTgid(pid)?.command;
  }

  /** Names the survivors (at the last sample); each is matched with its record now, when that record is removed, or at finish(). */
  pin(survivors: readonly Survivor[]): void {
    this.flush();
    this.#pinned = new Map();
    for (const s of survivors) {
      const key = `${s.pid}:${s.fd}`;
      const resolution: Resolution = { survivor: s };
      this.#pinned.set(key, resolution);
      const record = this.#procByTgid(s.pid)?.table.fds.get(s.fd);
      if (record && matches(record, s.object)) resolution.record = record;
      else {
        const closed = this.#recentlyClosed.findLast((c) => c.key === key && matches(c.record, s.object));
        if (closed) resolution.record = closed.record;
      }
    }
  }

  /** Every pinned survivor with its record or the reason it has none. */
  finish(): Resolution[] {
    this.flush();
    const out: Resolution[] = [];
    for (const r of this.#pinned?.values() ?? []) {
      const proc = this.#procByTgid(r.survivor.pid);
      if (!r.record) {
        const record = proc?.table.fds.get(r.survivor.fd);
        if (record && matches(record, r.survivor.object)) r.record = record;
      }
      const facts = proc ?? this.#goneFacts.get(r.survivor.pid);
      const touched = proc ? proc.table.touched : this.#goneFacts.get(r.survivor.pid)?.touched;
      if (facts) r.command = facts.command;
      if (!r.record) {
        if (!facts) r.reason = 'before-tracing';
        else if (facts.ioUring) r.reason = 'io-uring';
        else if (!facts.fromStart) r.reason = 'before-tracing';
        else r.reason = touched?.has(r.survivor.fd) ? 'untraced-call' : 'inherited';
      }
      out.push(r);
    }
    return out;
  }

  #procByTgid(tgid: number): Proc | undefined {
    const p = this.#threads.get(tgid);
    return p && p.tgid === tgid ? p : [...new Set(this.#threads.values())].find((q) => q.tgid === tgid);
  }

  #newProc(tid: number, fromStart: boolean, command = ''): Proc {
    const proc: Proc = { tgid: tid, command, table: { fds: new Map(), touched: new Set(), users: 1 }, fromStart, ioUring: false, threads: new Set([tid]), reloadSignals: 0 };
    this.#threads.set(tid, proc);
    return proc;
  }

  #proc(tid: number): Proc {
    const known = this.#threads.get(tid);
    if (known) return known;
    // The first process of the trace is the started program: traced from its first instruction.
    if (!this.#sawFirst) {
      this.#sawFirst = true;
      return this.#newProc(tid, true);
    }
    const tgid = tid === NO_PID ? undefined : this.#options.tgidOf?.(tid);
    if (tgid !== undefined && tgid !== tid) {
      const leader = this.#procByTgid(tgid);
      if (leader) {
        leader.threads.add(tid);
        this.#threads.set(tid, leader);
        return leader;
      }
    }
    const proc = this.#newProc(tid, false);
    if (tgid === undefined) proc.unclaimed = true;
    return proc;
  }

  #signal(event: Pending): void {
    if (event.name !== this.#options.signal) return;
    if (this.#options.senderPid !== undefined && event.senderPid !== this.#options.senderPid) return;
    const proc = this.#proc(event.tid);
    proc.reloadSignals++;
    if (proc.reloadSignals > this.#reload) this.#reload = proc.reloadSignals;
  }

  #site(syscall: string, frames: Frame[]): Site {
    const shown = shownStack(frames);
    // The pool is part of the site: an open on Tokio's blocking pool and one at start-up both show no program frame.
    const key = `${syscall}${shown.pool ? ` [${shown.pool}]` : ''}\n${shown.frames.map((f) => `${f.object}(${f.symbol})`).join('\n')}`;
    let site = this.#sites.get(key);
    if (!site) {
      const overflow = this.#sites.size >= MAX_SITES;
      const useKey = overflow ? `${syscall}\n…` : key;
      site = this.#sites.get(useKey);
      if (!site) {
        site = overflow
          ? { syscall, frames: [], origin: 'none', folded: frames.length, creates: 0, closes: 0, firstReload: this.#reload }
          : { syscall, frames: shown.frames, origin: shown.origin, folded: shown.folded, ...(shown.pool ? { pool: shown.pool } : {}), creates: 0, closes: 0, firstReload: this.#reload };
        this.#sites.set(useKey, site);
      }
    }
    return site;
  }

  #create(proc: Proc, fd: number, event: Pending, target: string | undefined, cloexec: boolean, received = false): void {
    const site = this.#site(event.name, event.frames);
    site.creates++;
    this.#remove(proc, fd);
    proc.table.touched.add(fd);
    proc.table.fds.set(fd, {
      syscall: event.name,
      // recvmsg's message header is long: its socket, the SCM_RIGHTS it carried and its flags say enough.
      args: received ? `${Number.parseInt(event.args, 10)}, {…, cmsg_type=SCM_RIGHTS, …}, ${splitArgs(event.args).at(-1) ?? ''}` : displayArgs(event.args),
      ...(target !== undefined ? { target } : {}),
      site,
      reload: this.#reload,
      creatorPid: proc.tgid,
      command: proc.command,
      cloexec,
      received,
    });
    this.#openFds++;
    if (this.#openFds > this.#peakOpenFds) this.#peakOpenFds = this.#openFds;
  }

  #remove(proc: Proc, fd: number): void {
    const record = proc.table.fds.get(fd);
    proc.table.touched.add(fd);
    if (!record) return;
    proc.table.fds.delete(fd);
    this.#openFds--;
    record.site.closes++;
    const key = `${proc.tgid}:${fd}`;
    const pinned = this.#pinned?.get(key);
    if (pinned) {
      if (!pinned.record && matches(record, pinned.survivor.object)) pinned.record = record;
    } else if (!this.#pinned) {
      this.#recentlyClosed.push({ key, record });
      if (this.#recentlyClosed.length > RECENTLY_CLOSED) this.#recentlyClosed.shift();
    }
  }

  #call(event: Pending): void {
    const proc = this.#proc(event.tid);
    const ret = returnNumber(event.ret);
    const name = event.name;
    if (ret === undefined || ret < 0) {
      return;
    }
    const plainArgs = displayArgs(event.args, Infinity);
    if (CLONES.has(name)) return this.#clone(proc, event, ret);
    if (name === 'execve' || name === 'execveat') return this.#exec(proc, event);
    if (name === 'close') {
      const fd = Number.parseInt(event.args, 10);
      if (Number.isFinite(fd)) this.#remove(proc, fd);
      return;
    }
    if (name === 'close_range') return this.#closeRange(proc, splitArgs(plainArgs));
    if (RETURNS_FD.has(name)) {
      if (name === 'io_uring_setup') proc.ioUring = true;
      this.#create(proc, ret, event, decoration(event.ret), /_CLOEXEC\b/.test(plainArgs) || name === 'pidfd_open' || name === 'io_uring_setup');
      return;
    }
    if (name in ARRAY_OF_FDS) {
      const array = splitArgs(event.args)[ARRAY_OF_FDS[name] as number] ?? '';
      for (const f of fdList(array)) this.#create(proc, f.fd, event, f.target, /_CLOEXEC\b/.test(plainArgs));
      return;
    }
    if (DUP_TO.has(name)) {
      const old = Number.parseInt(event.args, 10);
      if (old !== ret) this.#create(proc, ret, event, decoration(event.ret), name === 'dup3' && /O_CLOEXEC/.test(plainArgs));
      return;
    }
    if (name === 'fcntl') {
      const [fdText, cmd, arg] = splitArgs(plainArgs);
      if (cmd === 'F_DUPFD' || cmd === 'F_DUPFD_CLOEXEC') this.#create(proc, ret, event, decoration(event.ret), cmd === 'F_DUPFD_CLOEXEC');
      else if (cmd === 'F_SETFD') {
        const record = proc.table.fds.get(Number(fdText));
        if (record) record.cloexec = /FD_CLOEXEC/.test(arg ?? '');
      }
      return;
    }
    if ((name === 'recvmsg' || name === 'recvmmsg') && event.args.includes('SCM_RIGHTS')) {
      const re = /cmsg_type=SCM_RIGHTS, cmsg_data=(\[[^\]]*(?:\][^\],}]*)*\])/g;
      for (let m = re.exec(event.args); m; m = re.exec(event.args)) {
        for (const f of fdList(m[1] as string)) this.#create(proc, f.fd, event, f.target, /MSG_CMSG_CLOEXEC/.test(plainArgs), true);
      }
    }
  }

  #closeRange(proc: Proc, args: string[]): void {
    const bound = (text: string | undefined) => (text === undefined ? NaN : /^(?:~0U|-1|UINT_MAX|4294967295)$/.test(text) ? Infinity : Number(text));
    const first = bound(args[0]);
    const last = bound(args[1]);
    if (!Number.isFinite(first)) return;
    const cloexecOnly = /CLOSE_RANGE_CLOEXEC/.test(args[2] ?? '');
    for (const fd of [...proc.table.fds.keys()]) {
      if (fd < first || fd > last) continue;
      if (cloexecOnly) (proc.table.fds.get(fd) as FdRecord).cloexec = true;
      else this.#remove(proc, fd);
    }
  }

  #clone(parent: Proc, event: Pending, childTid: number): void {
    const flags = event.args;
    const gone = this.#unclaimed.get(childTid);
    this.#unclaimed.delete(childTid);
    if (gone) return this.#claimGone(gone, parent, /CLONE_THREAD/.test(flags));
    const existing = this.#threads.get(childTid);
    if (existing) existing.unclaimed = false;
    if (/CLONE_THREAD/.test(flags)) {
      if (existing && existing !== parent) this.#mergeInto(existing, parent);
      parent.threads.add(childTid);
      this.#threads.set(childTid, parent);
      return;
    }
    const child = existing ?? this.#newProc(childTid, parent.fromStart, parent.command);
    child.fromStart = parent.fromStart;
    child.command ||= parent.command;
    if (/CLONE_FILES/.test(flags)) {
      // Shares the parent's table (rare without CLONE_THREAD): what the child recorded so far joins it.
      for (const [fd, record] of child.table.fds) if (!parent.table.fds.has(fd)) parent.table.fds.set(fd, record);
      child.table = parent.table;
      parent.table.users++;
      return;
    }
    // A copy of the parent's table; what the child already did (seen before this line) wins.
    for (const [fd, record] of parent.table.fds) {
      if (child.table.fds.has(fd) || child.table.touched.has(fd)) continue;
      child.table.fds.set(fd, { ...record, inheritedFrom: record.inheritedFrom ?? parent.tgid });
      this.#openFds++;
    }
    for (const fd of parent.table.touched) child.table.touched.add(fd);
    child.ioUring ||= parent.ioUring;
    if (this.#openFds > this.#peakOpenFds) this.#peakOpenFds = this.#openFds;
  }

  /** The clone line of a thread or process that is gone came: a thread's fds are its process's; a process's closed with it. */
  #claimGone(gone: Proc, parent: Proc, thread: boolean): void {
    if (thread) {
      gone.threads.clear();
      this.#mergeInto(gone, parent);
      return;
    }
    for (const fd of [...gone.table.fds.keys()]) this.#remove(gone, fd);
  }

  /** A thread seen before its CLONE_THREAD line had a process of its own: move what it recorded into its real process. */
  #mergeInto(from: Proc, into: Proc): void {
    for (const [fd, record] of from.table.fds) {
      if (into.table.fds.has(fd)) this.#openFds--;
      into.table.fds.set(fd, { ...record, creatorPid: into.tgid });
    }
    for (const fd of from.table.touched) into.table.touched.add(fd);
    for (const tid of from.threads) {
      into.threads.add(tid);
      this.#threads.set(tid, into);
    }
  }

  #keepUnclaimed(tid: number, proc: Proc): void {
    this.#unclaimed.set(tid, proc);
    if (this.#unclaimed.size <= MAX_UNCLAIMED) return;
    const [oldestTid, oldest] = this.#unclaimed.entries().next().value as [number, Proc];
    this.#unclaimed.delete(oldestTid);
    for (const fd of [...oldest.table.fds.keys()]) this.#remove(oldest, fd);
  }

  #exec(proc: Proc, event: Pending): void {
    const argv = /^"(?:[^"\\]|\\.)*", \[(.*?)\](?:\.\.\.)?,/.exec(event.name === 'execveat' ? event.args.replace(/^[^,]*, /, '') : event.args)?.[1];
    if (argv !== undefined) proc.command = [...argv.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]).join(' ');
    for (const [fd, record] of [...proc.table.fds]) if (record.cloexec) this.#remove(proc, fd);
    // A new image: what it holds from before came from its launcher, as far as the fds without a record go.
    proc.ioUring = false;
  }

  #threadExited(tid: number): void {
    const proc = this.#threads.get(tid);
    if (!proc) return;
    this.#threads.delete(tid);
    proc.threads.delete(tid);
    if (proc.threads.size > 0) return;
    if (proc.unclaimed) {
      this.#keepUnclaimed(tid, proc);
      return;
    }
    if (this.#pinned && [...this.#pinned.values()].some((r) => r.survivor.pid === proc.tgid)) {
      this.#goneFacts.set(proc.tgid, { command: proc.command, fromStart: proc.fromStart, ioUring: proc.ioUring, touched: proc.table.touched });
    }
    if (--proc.table.users > 0) return;
    for (const fd of [...proc.table.fds.keys()]) this.#remove(proc, fd);
  }
}

/** Whether a record made the fd a survivor's identity names (`-y` printed the same object), or cannot tell (no `-y`). */
/** The survivor is the object the record opened: same target, or (files) a path either way, since a file renamed or deleted since its open keeps its fd. */
function matches(record: FdRecord, object: string): boolean {
  return record.target === undefined || object.startsWith(record.target) || (record.target.startsWith('/') && object.startsWith('/'));
}

// The room's local accounts: names, generated passwords, creation with a marker, and removal of only what this room created.
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, KitError, ToolMissingError } from '../../lib/core/errors.js';
import { writeAtomic } from './hub.js';

/** One account this room created; `uid` and the GECOS marker prove it is still that account. */
export interface RoomAccount {
  readonly name: string;
  readonly uid: number;
  readonly home: string;
  readonly role: 'learner' | 'admin';
}

/** <room>/hub/accounts.json: the only list remove-accounts acts on. */
export interface Manifest {
  readonly room: string;
  /** Written into each account's GECOS field by useradd -c. */
  readonly marker: string;
  accounts: RoomAccount[];
}

/** A passwd line, as getent prints it. */
export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gecos: string;
  readonly home: string;
}

const NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** learner01 … learnerN (at least two digits, so the names sort in order). */
export function learnerNames(prefix: string, count: number): string[] {
  const width = Math.max(2, String(count).length);
  const names = Array.from(
    { length: count },
    (_, i) => `${prefix}${String(i + 1).padStart(width, '0')}`,
  );
  for (const n of names) checkName('--prefix', n);
  return names;
}

export function checkName(option: string, name: string): string {
  if (!NAME.test(name))
    throw new ConfigError(
      option,
      `"${name}" is not a usable account name: expected a lowercase letter or _, then up to 31 of a-z, 0-9, _ or -`,
    );
  return name;
}

// No 0/o, 1/l/i: passwords are read off a printed slip.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** 12 characters from a 31-letter alphabet: about 59 bits, plenty for a one-day room behind a login delay. */
export function generatePassword(length = 12): string {
  return Array.from({ length }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
}

export function newManifest(): Manifest {
  const room = randomBytes(4).toString('hex');
  return { room, marker: `mnist-notebooks room ${room}`, accounts: [] };
}

export function readManifest(file: string): Manifest | undefined {
  if (!fs.existsSync(file)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new KitError('room-manifest', `${file} is not readable JSON: ${(err as Error).message}`);
  }
  const m = value as Partial<Manifest>;
  if (typeof m.room !== 'string' || typeof m.marker !== 'string' || !Array.isArray(m.accounts))
    throw new KitError('room-manifest', `${file}: expected {"room", "marker", "accounts": [...]}`);
  return m as Manifest;
}

export function writeManifest(file: string, m: Manifest): void {
  writeAtomic(file, JSON.stringify(m, null, 2) + '\n', 0o600);
}

function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new ToolMissingError(
        cmd,
        `${cmd} not found: the room needs the shadow utilities (apt-get install passwd)`,
      );
    throw r.error;
  }
  if (r.status !== 0)
    throw new KitError(
      'room-account',
      `${cmd} ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim()}`,
    );
  return r.stdout;
}

/** The passwd entry for `name`, or undefined when there is no such account. */
export function passwdEntry(name: string): PasswdEntry | undefined {
  const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const f = r.stdout.trim().split(':');
  return { name: f[0], uid: Number(f[2]), gecos: f[4], home: f[5] };
}

/**
 * Why `entry` (what the system has now) must not be touched as the room's `account`, or undefined when it
 * is the same account this room created: same name, same uid, this room's marker, same home.
 */
export function notOurs(
  account: RoomAccount,
  entry: PasswdEntry,
  marker: string,
): string | undefined {
  if (entry.gecos !== marker) return `its comment is "${entry.gecos}", not this room's "${marker}"`;
  if (entry.uid !== account.uid) return `its uid is ${entry.uid}, not ${account.uid} as created`;
  if (path.resolve(entry.home) !== path.resolve(account.home))
    return `its home is ${entry.home}, not ${account.home} as created`;
  return undefined;
}

/**
 * Creates `name` with home `home` (mode 0700: no learner reads another's files), no login shell (the hub
 * is the only way in), the room's marker as comment, and `password`. An existing account of that name
 * that this room did not create is refused, never reused.
 */
export function createAccount(
  name: string,
  home: string,
  role: RoomAccount['role'],
  password: string,
  manifest: Manifest,
): RoomAccount {
  const existing = passwdEntry(name);
  if (existing)
    throw new KitError(
      'room-account-exists',
      `account ${name} already exists and is not one this room created (comment "${existing.gecos}"); choose another --prefix or --admin`,
    );
  fs.mkdirSync(path.dirname(home), { recursive: true });
  run('useradd', [
    '--create-home',
    '--home-dir',
    home,
    '--comment',
    manifest.marker,
    '--shell',
    '/usr/sbin/nologin',
    '--user-group',
    name,
  ]);
  const entry = passwdEntry(name);
  if (!entry)
    throw new KitError('room-account', `useradd ${name} succeeded but getent cannot find it`);
  const account: RoomAccount = { name, uid: entry.uid, home, role };
  manifest.accounts.push(account);
  fs.chmodSync(home, 0o700);
  setPassword(name, password);
  return account;
}

/** chpasswd hashes the password into /etc/shadow; the room keeps no other hash. */
export function setPassword(name: string, password: string): void {
  run('chpasswd', [], `${name}:${password}\n`);
}

/** Hands everything under the home to its owner (-h: the node_modules link itself, not the kit it points to). */
export function chownHome(account: RoomAccount): void {
  run('chown', ['-hR', `${account.name}:${account.name}`, account.home]);
}

/** Removes an account this room created and its home; refuses (throws) one it did not create. */
export function removeAccount(account: RoomAccount, marker: string): 'removed' | 'already-gone' {
  const entry = passwdEntry(account.name);
  if (!entry) {
    return 'already-gone';
  }
  const why = notOurs(account, entry, marker);
  if (why)
    throw new KitError('room-not-ours', `refusing to remove account ${account.name}: ${why}`);
  run('userdel', ['--remove', account.name]);
  // userdel leaves a home it judged not to be the account's own; this one was, by uid and path.
  fs.rmSync(account.home, { recursive: true, force: true });
  return 'removed';
}

import { plainToInstance, Transform } from 'class-transformer';
import { parseExpression } from 'cron-parser';
import { isIP } from 'node:net';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

/**
 * true/1/yes and false/0/no, any case, spaces around ignored; anything else stays as written, which @IsBoolean then
 * refuses, naming the setting: `UPLOADS_SEALED_ONLY=on` read as false served unencrypted files it was set to refuse.
 */
const toBool = ({ value }: { value: unknown }) => {
  if (value === undefined || typeof value === 'boolean') return value;
  const word = String(value).trim().toLowerCase();
  if (['true', '1', 'yes'].includes(word)) return true;
  if (['false', '0', 'no'].includes(word)) return false;
  return value;
};
const BOOLEAN_WORDS = ({ property }: { property: string }) => `${property} must be true or false (also 1/0, yes/no)`;
const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

/**
 * Every setting Sprout reads, with its default. `.env.example` documents each one.
 * Validated once at boot; a bad value stops the process with the variable's name.
 */
export class EnvSchema {
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: 'development' | 'test' | 'production' = 'development';

  @IsIn(['all', 'api', 'worker'])
  APP_ROLE: 'all' | 'api' | 'worker' = 'all';

  @Transform(toInt) @IsInt() @Min(0) @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  // With its scheme (a bare host made every emailed link relative, which mail clients do not open), and no query or
  // fragment (links are built by appending a path).
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true }, { message: 'APP_PUBLIC_URL must be an http:// or https:// URL' })
  @Matches(/^[^?#]*$/, { message: 'APP_PUBLIC_URL must not have a query string or fragment (paths are appended to it)' })
  APP_PUBLIC_URL = 'http://localhost:3000';

  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/sprout';

  /**
   * The tables' owner, for migrations only (and creating the database): set, DATABASE_URL's role is given row rights
   * and nothing more, so the service cannot switch off the append-only triggers of the ledger and the audit trail.
   */
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_OWNER_URL must be a postgres:// URL' }) @IsOptional()
  DATABASE_OWNER_URL?: string;

  @Transform(toInt) @IsInt() @Min(1) @Max(200)
  DATABASE_POOL_SIZE = 10;

  /**
   * The worker's own connections (outbox relay, sends, digest), apart from DATABASE_POOL_SIZE's: with APP_ROLE=all a
   * burst of emails cannot take the connections requests wait for, nor a burst of requests hold up the emails.
   */
  @Transform(toInt) @IsInt() @Min(1) @Max(200)
  WORKER_DATABASE_POOL_SIZE = 6;

  @Transform(toInt) @IsInt() @Min(100) @Max(120000)
  DATABASE_ACQUIRE_TIMEOUT_MS = 20000;

  @Transform(toBool) @IsBoolean({ message: BOOLEAN_WORDS }) @IsOptional()
  DATABASE_AUTO_CREATE?: boolean;

  @Transform(toBool) @IsBoolean({ message: BOOLEAN_WORDS })
  MIGRATIONS_RUN = true;

  @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must be a redis:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @IsString() @Matches(/^[A-Za-z0-9:_-]+$/)
  QUEUE_PREFIX = 'sprout';

  @Transform(toBool) @IsBoolean({ message: BOOLEAN_WORDS })
  REDIS_ALLOW_EVICTION = false;

  @Transform(emptyToUndefined) @IsOptional() @IsString() @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters' })
  JWT_SECRET?: string;

  // Empty would turn the token's issuer or audience check off (the verifier skips an empty expectation).
  @IsString() @IsNotEmpty()
  JWT_ISSUER = 'sprout';

  @IsString() @IsNotEmpty()
  JWT_AUDIENCE = 'sprout-api';

  @Transform(toInt) @IsInt() @Min(30) @Max(3600)
  ACCESS_TOKEN_TTL_SECONDS = 900;

  @Transform(toInt) @IsInt() @Min(1) @Max(365)
  REFRESH_TOKEN_TTL_DAYS = 30;

  @Transform(emptyToUndefined) @IsOptional() @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'DATA_ENCRYPTION_KEY must be 32 bytes in base64' })
  DATA_ENCRYPTION_KEY?: string;

  @Transform(emptyToUndefined) @IsOptional() @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'DATA_HASH_KEY must be 32 bytes in base64' })
  DATA_HASH_KEY?: string;

  @Transform(emptyToUndefined) @IsOptional() @IsEmail()
  ADMIN_EMAIL?: string;

  @Transform(emptyToUndefined) @IsOptional() @IsString() @MinLength(10, { message: 'ADMIN_PASSWORD must be at least 10 characters' })
  @MaxLength(256)
  ADMIN_PASSWORD?: string;

  @Transform(emptyToUndefined) @IsOptional() @Matches(/^smtps?:\/\/.+/, { message: 'SMTP_URL must be an smtp:// or smtps:// URL' })
  SMTP_URL?: string;

  // An address, alone or as `Name <address>`: a name alone went out as the empty sender `MAIL FROM:<>`.
  @Matches(/^(?:[^<>]*<[^<>\s@]+@[^<>\s@]+>|[^<>\s@]+@[^<>\s@]+)$/, { message: 'MAIL_FROM must be an address, or Name <address>' })
  MAIL_FROM = 'Sprout <no-reply@sprout.local>';

  /**
   * How families and staff reach the fund office (e.g. "021-6438 0000, help@fund.example.org"): every email's footer
   * gives it where it tells them to contact the office, since replies to the emails are not read.
   */
  @Transform(emptyToUndefined) @IsOptional() @IsString() @MaxLength(200)
  @Matches(/^[^\x00-\x1f\x7f]+$/, { message: 'FUND_CONTACT must be one line without control characters' })
  @Matches(/\S/, { message: 'FUND_CONTACT must not be blank' })
  FUND_CONTACT?: string;

  @IsString()
  MAIL_DIR = 'var/mail';

  @IsString()
  TEMPLATES_DIR = 'templates';

  @Transform(toInt) @IsInt() @Min(1000) @Max(30000)
  SMTP_TIMEOUT_MS = 20000;

  /**
   * SMTP connections kept open and reused by each worker process (nodemailer pool); 0 = a new connection for every
   * message. Sends beyond this many wait for a free connection.
   */
  @Transform(toInt) @IsInt() @Min(0) @Max(100)
  SMTP_POOL_CONNECTIONS = 16;

  /** Messages sent over one pooled connection before it is closed and a new one opened. */
  @Transform(toInt) @IsInt() @Min(1) @Max(100000)
  SMTP_POOL_MAX_MESSAGES = 100;

  /** Email jobs one worker process runs at once (each waits mostly on PostgreSQL and SMTP round trips). */
  @Transform(toInt) @IsInt() @Min(1) @Max(100)
  NOTIFY_CONCURRENCY = 16;

  /**
   * Tries per email before its row is dead. With NOTIFY_BACKOFF_MS the defaults keep trying for ~2 hours (the queue's
   * spec sums Bull's waits): an SMTP provider's outage or rate limit of an hour loses no email to `dead`. Six tries
   * 5 s apart gave up after under 5 minutes.
   */
  @Transform(toInt) @IsInt() @Min(1) @Max(50)
  NOTIFY_MAX_ATTEMPTS = 8;

  /** The first retry's delay; Bull doubles it each time (30 s, 1.5 min, 3.5 min, … (2^k − 1)·this). */
  @Transform(toInt) @IsInt() @Min(10) @Max(600000)
  NOTIFY_BACKOFF_MS = 30000;

  @Transform(toInt) @IsInt() @Min(10) @Max(60000)
  OUTBOX_POLL_MS = 1000;

  /**
   * Days after which a sent or dead email's contents (names, amounts, reasons) are emptied; the row itself stays.
   * At least a week, so that a dead email can be looked into and retried.
   */
  @Transform(toInt) @IsInt() @Min(7) @Max(36500)
  OUTBOX_RETENTION_DAYS = 90;

  @Transform(toInt) @IsInt() @Min(1) @Max(86400)
  OUTBOX_STUCK_AFTER_SECONDS = 600;

  /**
   * Days an Idempotency-Key and the answer it replays are kept; a retry with the key after that is a new request.
   * At least a day, so that a client retrying a timed-out request always gets the first answer.
   */
  @Transform(toInt) @IsInt() @Min(1) @Max(36500)
  IDEMPOTENCY_KEY_RETENTION_DAYS = 30;

  /**
   * How often the worker signs the audit chain's head (audit_anchors). Events written since the latest anchor can be
   * rewritten by whoever can write the database without /audit/verify seeing it; more than twice this (and a quarter
   * of an hour) without an anchor, verify says so.
   */
  @Transform(toInt) @IsInt() @Min(1) @Max(1440)
  AUDIT_ANCHOR_MINUTES = 60;

  /** Bull lock on an active email job; renewed at half this while the worker lives. Keep it above 3 × SMTP_TIMEOUT_MS. */
  @Transform(toInt) @IsInt() @Min(1000) @Max(600000)
  QUEUE_LOCK_DURATION_MS = 60000;

  @Transform(toInt) @IsInt() @Min(500) @Max(600000)
  QUEUE_STALLED_INTERVAL_MS = 30000;

  @Transform(toInt) @IsInt() @Min(0) @Max(20)
  QUEUE_MAX_STALLED_COUNT = 2;

  @IsString() @Matches(/^\S+( \S+){4,5}$/, { message: 'REVIEWER_DIGEST_CRON must be a cron expression' })
  REVIEWER_DIGEST_CRON = '0 8 * * *';

  @IsString()
  REVIEWER_DIGEST_TZ = 'Asia/Shanghai';

  @Transform(toInt) @IsInt() @Min(1) @Max(365)
  REVIEWER_DIGEST_WAITING_DAYS = 3;

  @IsString()
  CORS_ORIGINS = '';

  /**
   * Which hops of X-Forwarded-For to believe: the number of proxies in front of Sprout, or their addresses/CIDRs
   * (trustProxySetting). Never `true`: trusting every hop makes the client's own left-most entry its address.
   */
  @Transform(emptyToUndefined) @IsOptional() @IsString()
  TRUST_PROXY?: string;

  /**
   * Longest a client may take to send a whole request, body included (0: no limit). Past it the connection is closed
   * and an upload in progress fails, its partial file removed; without a limit, a client that stalled mid-upload held
   * both until it went away. An hour lets a 256 MiB statement through a link of 0.6 Mbit/s.
   */
  @Transform(toInt) @IsInt() @Min(0) @Max(24 * 3600 * 1000)
  HTTP_REQUEST_TIMEOUT_MS = 3_600_000;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  LOGIN_MAX_FAILURES_PER_ACCOUNT = 5;

  @Transform(toInt) @IsInt() @Min(1) @Max(100000)
  LOGIN_MAX_ATTEMPTS_PER_ADDRESS = 30;

  @Transform(toInt) @IsInt() @Min(10) @Max(86400)
  LOGIN_WINDOW_SECONDS = 900;

  /** Verification emails, and apart password-reset emails, one account is sent in 24 hours before they slow to one an hour. */
  @Transform(toInt) @IsInt() @Min(1) @Max(1000)
  ACCOUNT_EMAILS_PER_DAY = 10;

  @IsString()
  UPLOAD_DIR = 'var/uploads';

  /**
   * Refuse to serve a stored document that is not encrypted. Files stored by releases before encryption are served as
   * they are until `npm run documents:seal` has run; after that, one that is not sealed was put there by someone else.
   */
  @Transform(toBool) @IsBoolean({ message: BOOLEAN_WORDS })
  UPLOADS_SEALED_ONLY = false;

  @Transform(toInt) @IsInt() @Min(1024) @Max(104857600)
  UPLOAD_MAX_BYTES = 10 * 1024 * 1024;

  /**
   * One application's documents not yet submitted to reviewers, together (before it: up to 50 × 10 MiB per application).
   * Submitted ones do not count, as the family cannot remove them: each round of a reviewer's questions has the whole
   * budget for its answers. Not a per-account quota.
   */
  @Transform(toInt) @IsInt() @Min(1024) @Max(10 * 1024 * 1024 * 1024)
  UPLOAD_MAX_TOTAL_BYTES = 100 * 1024 * 1024;

  /**
   * Applications an account may hold that were never submitted (409 too-many-drafts past it). Drafts and their uploads
   * need only a registration, not a verified email: without a limit one account could fill the upload disk, draft by
   * draft, for every family. A family applying for its children needs a few.
   */
  @Transform(toInt) @IsInt() @Min(1) @Max(1_000_000)
  MAX_OPEN_DRAFTS_PER_ACCOUNT = 10;

  /** Fen. An approval of at least this much needs a second, different reviewer confirming the same amount (four-eyes). */
  @Transform(toInt) @IsInt() @Min(1) @Max(1_000_000_000_000)
  SECOND_APPROVAL_THRESHOLD = 5_000_000;

  /**
   * Largest bank statement file accepted by POST /reconciliation/statements (bytes; streamed, never held whole).
   * 256 MiB: a camt.053 entry takes 550–1,000 bytes, so STATEMENT_MAX_ENTRIES (250,000) entries fit; 50 MiB refused a
   * real 200,000-entry end-of-day statement (109 MiB).
   */
  @Transform(toInt) @IsInt() @Min(1024) @Max(1024 * 1024 * 1024)
  STATEMENT_MAX_BYTES = 256 * 1024 * 1024;

  /**
   * Where an uploaded bank statement is copied (private files, removed after the import) before its transaction
   * opens, so the transaction never waits on the client's upload.
   */
  @IsString()
  STATEMENT_SPOOL_DIR = 'var/statement-spool';

  /** Most entries one statement may hold; past it the import is refused (413) and nothing is stored. */
  @Transform(toInt) @IsInt() @Min(1) @Max(10_000_000)
  STATEMENT_MAX_ENTRIES = 250_000;

  @IsString()
  DEV_SECRETS_FILE = 'var/dev-secrets.json';
}

export type Env = EnvSchema;

export class ConfigValidationError extends Error {}

/** Parses and checks the environment; throws one error naming every bad variable. */
export function validateEnv(raw: Record<string, string | undefined>): Env {
  const known = Object.keys(new EnvSchema());
  const input: Record<string, string> = {};
  // An empty value is an unset one, as .env.example writes the settings it leaves to their defaults (a boolean read
  // '' as false: DATABASE_AUTO_CREATE= turned database creation off in a copied .env).
  for (const key of known) {
    if (raw[key] !== undefined && raw[key] !== '') input[key] = raw[key] as string;
  }
  const env = plainToInstance(EnvSchema, input, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false });
  const problems = errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join('; ')}`);
  problems.push(...digestScheduleProblems(env));
  if (env.DATA_ENCRYPTION_KEY && env.DATA_ENCRYPTION_KEY === env.DATA_HASH_KEY) problems.push('DATA_HASH_KEY: must differ from DATA_ENCRYPTION_KEY');
  problems.push(...ownerUrlProblems(env));

  problems.push(...trustProxyProblems(env.TRUST_PROXY));
  if (env.NODE_ENV === 'production') {
    for (const key of ['JWT_SECRET', 'DATA_ENCRYPTION_KEY', 'DATA_HASH_KEY', 'SMTP_URL'] as const) {
      if (!env[key]) problems.push(`${key}: required when NODE_ENV=production`);
    }
    if (!env.FUND_CONTACT) problems.push('FUND_CONTACT: required when NODE_ENV=production (emails tell families to contact the fund office)');
    // Their defaults suit a developer's machine only: every link in every email would point at localhost, and a
    // real relay refuses a sender at sprout.local (each email then retried for two hours and lost).
    for (const key of ['APP_PUBLIC_URL', 'MAIL_FROM'] as const) {
      // Empty is unset: a .env copied from .env.example leaves them empty.
      if (input[key] === undefined || input[key] === '') problems.push(`${key}: required when NODE_ENV=production (the default is for development: ${new EnvSchema()[key]})`);
    }
  }
  if (problems.length) {
    throw new ConfigValidationError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  if (env.DATABASE_AUTO_CREATE === undefined) env.DATABASE_AUTO_CREATE = env.NODE_ENV !== 'production';
  return env;
}

/** The owner's URL must lead to the database the service uses: migrations run elsewhere would leave it unmigrated. */
export function ownerUrlProblems(env: Pick<Env, 'DATABASE_URL' | 'DATABASE_OWNER_URL'>): string[] {
  if (!env.DATABASE_OWNER_URL) return [];
  try {
    const [runtime, owner] = [env.DATABASE_URL, env.DATABASE_OWNER_URL].map((url) => new URL(url));
    if (!owner.username) return ['DATABASE_OWNER_URL: must name its user (the role owning the tables)'];
    if (!runtime.username) return ['DATABASE_URL: must name its user when DATABASE_OWNER_URL is set (the role given row rights)'];
    if (databaseOf(runtime) !== databaseOf(owner)) {
      return [`DATABASE_OWNER_URL: must name the database DATABASE_URL names ("${databaseOf(runtime)}"), not "${databaseOf(owner)}"`];
    }
  } catch {
    return []; // a URL that does not parse is named by its own check
  }
  return [];
}

function databaseOf(url: URL): string {
  return decodeURIComponent(url.pathname.slice(1));
}

/**
 * The digest's zone and schedule, read as Bull reads them (cron-parser): a zone or a field it refuses passed the
 * pattern checks, and the digest then silently never ran.
 */
function digestScheduleProblems(env: Pick<Env, 'REVIEWER_DIGEST_CRON' | 'REVIEWER_DIGEST_TZ'>): string[] {
  try {
    new Intl.DateTimeFormat('en', { timeZone: env.REVIEWER_DIGEST_TZ });
  } catch {
    return [`REVIEWER_DIGEST_TZ: "${env.REVIEWER_DIGEST_TZ}" is not an IANA time zone (e.g. Asia/Shanghai)`];
  }
  try {
    parseExpression(env.REVIEWER_DIGEST_CRON, { tz: env.REVIEWER_DIGEST_TZ });
  } catch (error) {
    return [`REVIEWER_DIGEST_CRON: "${env.REVIEWER_DIGEST_CRON}" is not a cron schedule (${(error as Error).message})`];
  }
  return [];
}

/** proxy-addr's names for address ranges, which Fastify's trustProxy takes beside addresses and CIDRs. */
const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * TRUST_PROXY as Fastify's `trustProxy` takes it: false (X-Forwarded-For ignored), a hop count, or the proxies'
 * addresses, CIDRs and named ranges. Call it on a validated environment (validateEnv refuses anything else).
 */
export function trustProxySetting(value: string | undefined): false | number | string[] {
  if (value === undefined || isOff(value)) return false;
  if (isHopCount(value)) return Number(value);
  return proxyEntries(value);
}

const proxyEntries = (value: string) => value.split(',').map((entry) => entry.trim());

function trustProxyProblems(value: string | undefined): string[] {
  if (value === undefined || isOff(value) || isHopCount(value)) return [];
  // With true, Fastify trusts every hop and request.ip is the left-most X-Forwarded-For entry, which a reverse proxy
  // passes on as the client wrote it: every per-address limit (sign-in, registration, reset) would count what the client chose.
  if (['true', 'yes', 'on'].includes(value.trim().toLowerCase())) {
    return [
      `TRUST_PROXY: "${value}" would trust every hop of X-Forwarded-For, so a client could choose the address its attempts are counted under; ` +
        "give the hop count (how many proxies are in front of Sprout, e.g. 1) or the proxies' addresses or CIDRs",
    ];
  }
  const wrong = proxyEntries(value).filter((entry) => !isTrustedProxyEntry(entry));
  if (!wrong.length) return [];
  return [`TRUST_PROXY: ${wrong.map((e) => `"${e}"`).join(', ')} is not a hop count, an IP address, a CIDR or one of ${NAMED_RANGES.join(', ')}`];
}

const isOff = (value: string) => value.trim().toLowerCase() === 'false';
const isHopCount = (value: string) => /^\s*\d+\s*$/.test(value);

/** Ones then zeros, at least one one (255.255.0.0 yes; 0.0.0.0 and 255.0.255.0 no), as proxy-addr requires. */
function isNetmask(mask: string): boolean {
  const bits = mask.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const hostBits = 2 ** 32 - 1 - bits;
  return bits !== 0 && (hostBits & (hostBits + 1)) === 0;
}

function isTrustedProxyEntry(entry: string): boolean {
  if (NAMED_RANGES.includes(entry)) return true;
  const [address, mask, ...rest] = entry.split('/');
  const family = isIP(address);
  if (!family || rest.length) return false;
  if (mask === undefined) return true;
  // An IPv4 network may be written with its netmask (10.0.0.0/255.0.0.0), as Fastify's proxy-addr reads it; a prefix
  // of 0 (every address) it refuses, with a crash at start-up instead of this message.
  if (family === 4 && isIP(mask) === 4) return isNetmask(mask);
  return /^\d{1,3}$/.test(mask) && Number(mask) >= 1 && Number(mask) <= (family === 4 ? 32 : 128);
}

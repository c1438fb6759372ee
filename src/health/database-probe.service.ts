import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from 'src/config/app-config';

/**
 * A dedicated PostgreSQL connection for health checks. Borrowing from the request pool made readiness report the
 * database "down" whenever every pooled connection was busy (a long statement import, a burst of approvals): the
 * probe queued behind them and timed out while the database was answering. A connection of its own answers the
 * question asked — does PostgreSQL answer — and is opened again after any failure.
 */
@Injectable()
export class DatabaseProbeService implements OnModuleDestroy {
  private connection: Promise<Client> | null = null;

  constructor(private readonly config: AppConfig) {}

  /** Connecting and asking together take at most `timeoutMs`; any failure closes the connection for the next ping. */
  async ping(timeoutMs = 2000): Promise<boolean> {
    const connection = (this.connection ??= this.connect(timeoutMs));
    const answered = connection
      .then((client) => client.query<{ ok: number }>('SELECT 1 AS ok'))
      .then(({ rows }) => rows[0]?.ok === 1)
      .catch(() => false);
    const up = await Promise.race([answered, sleep(timeoutMs).then(() => false)]);
    if (!up) void this.forget(connection);
    return up;
  }

  async onModuleDestroy(): Promise<void> {
    if (this.connection) await this.forget(this.connection);
  }

  private connect(timeoutMs: number): Promise<Client> {
    const client = new Client({
      connectionString: this.config.env.DATABASE_URL,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      application_name: 'sprout-probe',
    });
    const connection = client.connect().then(() => client);
    client.on('error', () => void this.forget(connection)); // a dropped connection: the next ping opens a new one
    return connection;
  }

  private forget(connection: Promise<Client>): Promise<void> {
    if (this.connection === connection) this.connection = null;
    return connection.then((client) => client.end()).catch(() => undefined);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

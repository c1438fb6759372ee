import { Injectable, OnModuleInit } from '@nestjs/common';
import { Algorithm, hash, verify } from '@node-rs/argon2';

// OWASP's argon2id minimum (19 MiB, t=2, p=1), as DESIGN.md asks. Runs on libuv's pool, off the event loop.
const OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

@Injectable()
export class PasswordService implements OnModuleInit {
  /** Verified against when the email is unknown, so both failures cost the same time. */
  private dummyHash: Promise<string> | undefined;

  /** Hashed in the background from start-up: readiness does not wait for argon2 (tens of ms of CPU). */
  onModuleInit(): void {
    this.dummy().catch(() => undefined); // a failure surfaces in verify(), not as an unhandled rejection
  }

  hash(password: string): Promise<string> {
    return hash(password, OPTIONS);
  }

  async verify(passwordHash: string | null | undefined, password: string): Promise<boolean> {
    if (!passwordHash) {
      await this.dummy()
        .then((dummy) => verify(dummy, password))
        .catch(() => false);
      return false;
    }
    return verify(passwordHash, password).catch(() => false);
  }

  private dummy(): Promise<string> {
    return (this.dummyHash ??= hash('sprout-timing-equaliser', OPTIONS));
  }
}

import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { weakPasswordReason } from 'src/common/validation/new-password';
import { AppConfig } from 'src/config/app-config';
import { ConfigValidationError } from 'src/config/env.schema';
import { ADMIN_WHO_CAN_SIGN_IN, UsersService } from 'src/users/users.service';

/** Creates the first administrator from ADMIN_EMAIL/ADMIN_PASSWORD when no active admin exists. */
@Injectable()
export class AdminBootstrapService {
  private readonly logger = new Logger(AdminBootstrapService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly config: AppConfig,
  ) {}

  async ensureAdmin(): Promise<void> {
    if (await this.activeAdminExists()) return;
    const { ADMIN_EMAIL, ADMIN_PASSWORD } = this.config.env;
    if (!ADMIN_EMAIL || !ADMIN_PASSWORD) {
      this.logger.warn('No administrator exists: set ADMIN_EMAIL and ADMIN_PASSWORD to create the first one at start-up.');
      return;
    }
    // The rules every password meets (it was created unchecked), checked only when it is used: a deployment that
    // keeps ADMIN_PASSWORD set after its first start is not refused for it at every start.
    const weak = weakPasswordReason(ADMIN_PASSWORD);
    if (weak) throw new ConfigValidationError(`Invalid configuration:\n  - ADMIN_PASSWORD: ${weak.replace(/^password /, '')} (no administrator was created)`);
    try {
      await this.users.create({ email: ADMIN_EMAIL.trim().toLowerCase(), fullName: 'Administrator', role: 'admin', password: ADMIN_PASSWORD }, null);
      this.logger.warn('No administrator could sign in: created one from ADMIN_EMAIL.');
    } catch (error) {
      // Two replicas starting together: the other one created it.
      if ((error as { status?: number }).status !== 409) throw error;
      if (!(await this.activeAdminExists())) {
        this.logger.error('No active administrator exists, and ADMIN_EMAIL belongs to an existing account: enable that account or name another address.');
      }
    }
  }

  private async activeAdminExists(): Promise<boolean> {
    const [{ exists }] = (await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM users WHERE ${ADMIN_WHO_CAN_SIGN_IN}) AS exists`,
    )) as { exists: boolean }[];
    return exists;
  }
}

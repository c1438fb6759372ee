import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AccountEmailHasher } from 'src/auth/account-email-hasher';
import { AuthController } from 'src/auth/auth.controller';
import { AuthGuard } from 'src/auth/auth.guard';
import { AuthService } from 'src/auth/auth.service';
import { LoginThrottleService } from 'src/auth/login-throttle.service';
import { OneTimeTokenService } from 'src/auth/one-time-token.service';
import { PasswordService } from 'src/auth/password.service';
import { TokenService } from 'src/auth/token.service';
import { PreparedQueries } from 'src/database/prepared-queries';

@Module({
  controllers: [AuthController],
  providers: [
    AuthService,
    AccountEmailHasher,
    PasswordService,
    TokenService,
    OneTimeTokenService,
    LoginThrottleService,
    PreparedQueries,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [PasswordService, TokenService, OneTimeTokenService],
})
export class AuthModule {}

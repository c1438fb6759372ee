import { Module } from '@nestjs/common';
import { AuthModule } from 'src/auth/auth.module';
import { ReviewModule } from 'src/review/review.module';
import { AdminBootstrapService } from 'src/users/admin-bootstrap.service';
import { UsersController } from 'src/users/users.controller';
import { UsersService } from 'src/users/users.service';

@Module({
  imports: [AuthModule, ReviewModule],
  controllers: [UsersController],
  providers: [UsersService, AdminBootstrapService],
  exports: [UsersService, AdminBootstrapService],
})
export class UsersModule {}

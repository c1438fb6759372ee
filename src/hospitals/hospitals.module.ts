import { Module } from '@nestjs/common';
import { HospitalsController } from 'src/hospitals/hospitals.controller';
import { HospitalsService } from 'src/hospitals/hospitals.service';

@Module({ controllers: [HospitalsController], providers: [HospitalsService], exports: [HospitalsService] })
export class HospitalsModule {}

import { Module } from '@nestjs/common';
import { AssessmentController } from 'src/assessment/assessment.controller';
import { AssessmentService } from 'src/assessment/assessment.service';

@Module({ controllers: [AssessmentController], providers: [AssessmentService], exports: [AssessmentService] })
export class AssessmentModule {}

import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser, Roles } from 'src/common/auth/access.decorators';
import { AuthUser } from 'src/common/auth/roles';
import { PageQueryDto } from 'src/common/pagination/pagination';
import { ProblemDto } from 'src/common/problem/problem.dto';
import { CreateHospitalDto, HospitalDto, HospitalPageDto, HospitalViewDto, UpdatedHospitalDto, UpdateHospitalDto } from 'src/hospitals/dto/hospital.dto';
import { HospitalsService } from 'src/hospitals/hospitals.service';
import { ParseIdPipe } from 'src/common/validation/parse-id.pipe';

@ApiTags('hospitals')
@Controller('hospitals')
@ApiBadRequestResponse({ description: 'Invalid input', type: ProblemDto })
export class HospitalsController {
  constructor(private readonly hospitals: HospitalsService) {}

  @Post()
  @Roles('admin')
  @ApiOperation({ summary: 'Register a treating hospital and its receiving bank account' })
  @ApiCreatedResponse({ type: HospitalDto })
  @ApiConflictResponse({ description: 'Code already used', type: ProblemDto })
  create(@Body() dto: CreateHospitalDto, @CurrentUser() actor: AuthUser): Promise<HospitalDto> {
    return this.hospitals.create(dto, actor);
  }

  @Get()
  @Authenticated()
  @ApiOperation({ summary: 'List hospitals by code (the bank account only for those whose work needs it)' })
  @ApiOkResponse({ type: HospitalPageDto })
  list(@Query() query: PageQueryDto, @CurrentUser() reader: AuthUser): Promise<HospitalPageDto> {
    return this.hospitals.list(query, reader);
  }

  @Get(':id')
  @Authenticated()
  @ApiOperation({ summary: 'One hospital (the bank account only for those whose work needs it)' })
  @ApiOkResponse({ type: HospitalViewDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  get(@Param('id', ParseIdPipe) id: string, @CurrentUser() reader: AuthUser): Promise<HospitalViewDto> {
    return this.hospitals.get(id, reader);
  }

  @Patch(':id')
  @Roles('admin')
  @ApiOperation({
    summary: 'Correct a hospital or its bank account',
    description: 'Scheduled tranches keep the account they were scheduled with; the answer counts those now on another account than the hospital\'s.',
  })
  @ApiOkResponse({ type: UpdatedHospitalDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  @ApiConflictResponse({ description: 'Code already used', type: ProblemDto })
  update(@Param('id', ParseIdPipe) id: string, @Body() dto: UpdateHospitalDto, @CurrentUser() actor: AuthUser): Promise<UpdatedHospitalDto> {
    return this.hospitals.update(id, dto, actor);
  }
}

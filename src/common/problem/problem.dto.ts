import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ example: 'patient.nationalId' }) field: string;
  @ApiProperty({ example: 'must be a valid national id' }) message: string;
}

/** RFC 9457 problem details, as every error response is shaped. */
export class ProblemDto {
  @ApiProperty({ example: 'https://sprout.example.org/problems/validation-failed' }) type: string;
  @ApiProperty({ example: 'Invalid input' }) title: string;
  @ApiProperty({ type: 'integer', example: 400 }) status: number;
  @ApiProperty({ example: 'The request has invalid fields.' }) detail: string;
  @ApiPropertyOptional({ type: [FieldErrorDto] }) errors?: FieldErrorDto[];
}

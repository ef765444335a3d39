import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsOptional, IsString, MaxLength } from 'class-validator';
import { WEBHOOK_EVENT_TYPES } from '../webhook-events';

/** POST /admin/webhooks. The URL's scheme and destination, and the event names, are checked by the service. */
export class CreateWebhookDto {
  @ApiProperty({ example: 'https://billing.example.com/tollgate-events' })
  @IsString({ message: 'url must be an http:// or https:// URL' })
  @MaxLength(2000)
  url!: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true, example: ['invoice.ready', 'charge.failed'] })
  @IsArray({ message: 'events must be a non-empty array of event types' })
  @ArrayNotEmpty({ message: 'events must name at least one event type' })
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length * 4)
  @IsString({ each: true, message: 'events must hold event type names' })
  events!: string[];

  @ApiPropertyOptional({ description: "Only this tenant's events (default: every tenant's)", format: 'uuid' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  tenant_id?: string;
}

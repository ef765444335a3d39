import { Body, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery } from '@nestjs/swagger';
import { AdminController } from '../admin/admin-controller';
import { CreateWebhookDto } from './dto/create-webhook.dto';
import { WebhooksService } from './webhooks.service';

@AdminController('admin/webhooks', 'webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({ summary: 'Create a webhook endpoint; the answer holds its signing secret (whsec_...), shown only here' })
  create(@Body() dto: CreateWebhookDto) {
    return this.webhooks.create(dto);
  }

  @Get()
  @ApiOperation({ summary: 'List the webhook endpoints (without their secrets)' })
  list() {
    return this.webhooks.list();
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Remove a webhook endpoint and its deliveries' })
  remove(@Param('id') id: string) {
    return this.webhooks.remove(id);
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: "An endpoint's deliveries, newest first, with every attempt" })
  @ApiQuery({ name: 'limit', required: false, description: '1..100, default 20' })
  @ApiQuery({ name: 'after', required: false, description: 'the last delivery id of the previous page' })
  deliveries(@Param('id') id: string, @Query('limit') limit?: string, @Query('after') after?: string) {
    return this.webhooks.deliveries(id, { limit, after });
  }
}

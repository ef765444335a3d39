/** An error in the OpenAI shape: {"error": {message, type, param, code}}. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const invalidValue = (param: string | null, message: string) =>
  new ApiError(400, message, 'invalid_request_error', 'invalid_value', param);

export const notFound = (message: string, param: string | null = null) =>
  new ApiError(404, message, 'invalid_request_error', 'not_found', param);

export const invalidApiKey = (message = 'Incorrect API key provided.') =>
  new ApiError(401, message, 'invalid_request_error', 'invalid_api_key');

export const serviceUnavailable = (message: string) =>
  new ApiError(503, message, 'server_error', 'service_unavailable');

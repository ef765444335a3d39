import { ValidationError, ValidationPipe } from '@nestjs/common';
import { DomainError, invalidValue, unknownParameter } from './errors';

/** `input[0].content` from the nested ValidationError chain. */
function paramPath(path: string[]): string {
  return path.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function firstLeaf(error: ValidationError, path: string[] = []): { error: ValidationError; path: string[] } {
  const here = [...path, error.property];
  if (error.constraints && Object.keys(error.constraints).length) return { error, path: here };
  const child = error.children?.[0];
  return child ? firstLeaf(child, here) : { error, path: here };
}

/** Turns the first class-validator failure into an OpenAI-shaped 400 naming the field. */
export function validationErrorToApiError(errors: ValidationError[]): DomainError {
  const { error, path } = firstLeaf(errors[0]);
  const param = paramPath(path);
  const constraints = error.constraints ?? {};
  if (constraints.whitelistValidation) {
    return unknownParameter(param);
  }
  const message = Object.values(constraints)[0] ?? `Invalid value for '${param}'.`;
  return invalidValue(param, message.replace(/^\S+/, (first) => (first === error.property ? `'${param}'` : first)));
}

export const apiValidationPipe = () =>
  new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    stopAtFirstError: true,
    exceptionFactory: validationErrorToApiError,
  });
